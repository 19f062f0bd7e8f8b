"""Deterministic content for the demo site: people, articles, documents.

Everything here is pure data generation from a seeded ``random.Random``;
nothing knows about HTTP or HTML markup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import zipfile
from dataclasses import dataclass, field

NEWEST_DATE = dt.date(2026, 11, 20)
PDF_PATH = "/sites/default/files/2026-11/wwc-annual-report.pdf"
DOCX_PATH = "/sites/default/files/2026-11/wwc-certification-standard.docx"
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Person:
    """An author with a profile page at ``/people/<slug>``."""

    slug: str
    name: str
    bio: str
    role: str = "Contributor"


@dataclass
class Article:
    """One article node.  ``links`` are (href, anchor) pairs; the anchor text
    appears verbatim in a paragraph and is rendered as a link there."""

    slug: str
    id: int
    title: str
    author: str
    published: dt.date
    paragraphs: list[str]
    style: str = "slug"
    links: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "article"  # article | oversized | encoding | malformed
    status: int = 200  # 200 while published, else the status it answers
    image: int = 0
    modified: dt.datetime | None = None
    #: the teaser summary when an editor wrote one (None: derived from the first paragraph)
    summary_override: str | None = None

    def __post_init__(self):
        if self.modified is None:
            self.modified = dt.datetime.combine(
                self.published, dt.time(12), tzinfo=dt.timezone.utc)

    @property
    def text(self) -> str:
        """The visible body text, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)

    @property
    def summary(self) -> str:
        """Teaser summary: the editor's own, or the first paragraph cut at ~200 characters."""
        if self.summary_override is not None:
            return self.summary_override
        first = self.paragraphs[0] if self.paragraphs else ""
        if len(first) <= 200:
            return first
        return first[:200].rsplit(" ", 1)[0] + "…"

    def fingerprint(self) -> str:
        """Hash of everything that is visible in the article (for the ETag)."""
        h = hashlib.sha1()
        for part in (self.title, self.author, self.published.isoformat(),
                     *self.paragraphs, *(f"{a}|{b}" for a, b in self.links)):
            h.update(part.encode("utf-8") + b"\x00")
        if self.summary_override is not None:
            h.update(b"summary\x00" + self.summary_override.encode("utf-8"))
        return h.hexdigest()[:20]


def slugify(text: str) -> str:
    """Drupal pathauto-style slug: lowercase ASCII words joined by dashes."""
    text = text.lower().replace("’", "").replace("'", "")
    text = text.translate(str.maketrans("éèëêïîáàçöüñ", "eeeeiiaacoun"))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > 80:
        slug = slug[:81].rsplit("-", 1)[0]
    return slug or "item"


# --- word lists -------------------------------------------------------------

CITIES = [
    "Tulsa", "Louisville", "Kansas City", "Boston", "Scottsdale", "Chattanooga",
    "Austin", "Baltimore", "Denver", "Seattle", "Little Rock", "Syracuse",
    "Memphis", "Detroit", "San Antonio", "Arlington", "Charlotte", "Gilbert",
    "Long Beach", "Saint Paul", "Tacoma", "Cambridge", "Lexington", "Mesa",
]
PROGRAMS = [
    "open data portal", "311 service request system", "performance management program",
    "results-driven contracting initiative", "code enforcement dashboard",
    "pothole repair tracker", "vacant property inventory", "housing stability program",
    "police use-of-force dataset", "participatory budgeting process",
    "lead service line replacement program", "small business grant program",
    "workforce development pilot", "eviction prevention fund", "street tree inventory",
]
THINGS = [
    "administrative data", "resident surveys", "sensor readings", "permit records",
    "randomized evaluations", "geospatial analysis", "predictive models",
    "benchmarking data", "service-level agreements", "equity indicators",
    "call-center logs", "procurement data", "budget data", "inspection records",
]
GOALS = [
    "reduce response times", "target inspections", "improve procurement outcomes",
    "close the digital divide", "prevent evictions", "allocate street repairs fairly",
    "cut chronic absenteeism", "measure what matters", "engage residents earlier",
    "retire outdated contracts", "find hidden blight", "speed up permitting",
]
OUTCOMES = [
    "cut average wait times by a third", "saved millions of dollars",
    "doubled the share of repairs finished on schedule", "built trust with residents",
    "exposed gaps in service delivery", "changed how the council writes budgets",
    "helped staff focus on the highest-risk properties", "made progress visible to the public",
    "improved the quality of the underlying data", "shortened the procurement cycle",
]
ACTORS = [
    "the mayor's office", "a small analytics team", "department heads",
    "the city council", "frontline inspectors", "community organizations",
    "the chief data officer", "budget analysts", "neighborhood associations",
]
ADJ = ["modest", "ambitious", "practical", "cross-departmental", "low-cost",
       "iterative", "resident-centered", "evidence-based", "transparent"]
SENTENCES = [
    "In {city}, {actor} started with a {adj} question: could {thing} help {goal}?",
    "The {program} drew on {thing} and {thing2} collected over several years.",
    "Within eighteen months, the effort {outcome}.",
    "Officials say the hardest part was not the technology but getting {actor} to agree on definitions.",
    "{city} now publishes the results monthly, so {actor} can see what is working.",
    "A {adj} pilot let the team test whether {thing} could {goal} before scaling it citywide.",
    "Other cities in the What Works Cities network have borrowed the approach to {goal}.",
    "The lesson, according to {actor}, is that {thing} are only useful when they change decisions.",
    "Because the {program} was {adj} by design, it {outcome}.",
    "Staff in {city} paired {thing} with interviews of {actor} to understand the numbers.",
    "Critics worried the {program} would stall, yet it {outcome}.",
    "Leaders in {city} set targets, tracked {thing}, and met every week to {goal}.",
    "Residents noticed the difference: the {program} {outcome}.",
    "Not every experiment worked; an early attempt to {goal} with {thing} was shelved.",
    "Budget pressure pushed {actor} to ask which services actually delivered results.",
    "The team in {city} documented its methods so {actor} elsewhere could repeat them.",
]
TITLES = [
    "How {city} Used {Thing} to {Goal}",
    "{city}'s {Program}: Lessons for Other Cities",
    "Data-Driven Government in {city}: Inside the {Program}",
    "What {city} Learned When It Tried to {Goal}",
    "Five Ways {city} Put {Thing} to Work",
    "Can {Thing} Help Cities {Goal}? {city} Thinks So",
    "Building a {Adj} {Program} in {city}",
]
FIRST = ["Maria", "James", "Aisha", "Daniel", "Priya", "Samuel", "Elena", "Marcus",
         "Grace", "Tomás", "Naomi", "Victor", "Renée", "Kwame", "Julia", "Omar"]
LAST = ["Alvarez", "Chen", "Okafor", "Goldsmith", "Patel", "Brennan", "Nakamura",
        "Whitfield", "Moreno", "Kessler", "Abebe", "Lindqvist", "Castillo", "Reyes"]
ROLES = ["Senior Research Fellow", "Program Manager, Civic Analytics",
         "Writer and Researcher", "Director, Data-Smart City Solutions",
         "Research Assistant", "Former Chief Data Officer"]


_AN = re.compile(r"\b([Aa]) (?=[aeiou])")


def _cap(s: str) -> str:
    return " ".join(w if w[:1].isupper() or w in {"of", "and", "to"} else w.capitalize()
                    for w in s.split())


def make_person(rng: random.Random, taken: set[str]) -> Person:
    """A person with a unique slug."""
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if slugify(name) not in taken:
            break
    role = rng.choice(ROLES)
    city1, city2 = rng.sample(CITIES, 2)
    bio = (f"{name} writes for Data-Smart City Solutions about {rng.choice(THINGS)} and "
           f"the {rng.choice(PROGRAMS)}s of cities such as {city1} and {city2}. Before "
           f"joining the Ash Center, {name.split()[0]} worked in local government.")
    taken.add(slugify(name))
    return Person(slugify(name), name, bio, role)


def make_title(rng: random.Random) -> str:
    return rng.choice(TITLES).format(
        city=rng.choice(CITIES), Thing=_cap(rng.choice(THINGS)),
        Goal=_cap(rng.choice(GOALS)), Program=_cap(rng.choice(PROGRAMS)),
        Adj=_cap(rng.choice(ADJ)))


def _sentence(rng: random.Random, template: str) -> str:
    c = rng.choice
    s = template.format(city=c(CITIES), actor=c(ACTORS), adj=c(ADJ), thing=c(THINGS),
                            thing2=c(THINGS), goal=c(GOALS), program=c(PROGRAMS),
                            outcome=c(OUTCOMES))
    s = _AN.sub(r"\1n ", s)
    return s[0].upper() + s[1:]


def make_paragraphs(rng: random.Random) -> list[str]:
    """Civic-data prose of 150-400 words (with links) in 3-6 paragraphs."""
    target = rng.randint(150, 340)  # leaves room for link sentences
    n_par = rng.randint(3, 6)
    paras, words, last = [], 0, -1
    for i in range(n_par):
        sents = []
        while len(sents) < 2 or (words < target * (i + 1) / n_par):
            k = (last + 1 + rng.randrange(len(SENTENCES) - 1)) % len(SENTENCES)
            s, last = _sentence(rng, SENTENCES[k]), k
            sents.append(s)
            words += len(s.split())
        paras.append(" ".join(sents))
    return paras


# --- special pages ------------------------------------------------------------

ENCODING_TITLE = "“Café Conversations”: What Naïve Questions Taught City Hall"
ENCODING_PARAGRAPHS = [
    "The city’s “Café Conversations” series began as a naïve experiment: invite "
    "residents to a café, serve coffee, and ask what data they wished City Hall had.",
    "Organizers budgeted €2,500 for the first season — a rounding error — and "
    "discovered that façade-improvement grants were the residents’ top concern…",
    "“We thought we knew the answer,” the program’s coordinator said. “We didn’t.”",
]
#: A sentence with straight quotes, apostrophes, "--" and "..." (for ``DemoSite.quote_text``).
QUOTE_SENTENCE = ('"We didn\'t know what we\'d find," one analyst said -- '
                  '"but the city\'s data... changed the conversation."')
MALFORMED_TITLE = "Legacy Import: Performance Dashboards Before Drupal"
MALFORMED_PARAGRAPHS = [
    "This article was migrated from the legacy content system without cleanup.",
    "Early performance dashboards were built by hand in spreadsheets every quarter.",
    "Several cities still keep those spreadsheets as the authoritative record.",
    "The markup of this page is broken, but the words remain readable.",
]
OVERSIZED_TITLE = "The Complete Municipal Dataset Inventory"
OVERSIZED_PARAGRAPHS = [
    "This page lists every dataset reported by participating cities.",
    "The inventory is very long; it is reproduced below in full.",
]


def inventory_row(i: int) -> str:
    """One HTML table row of the oversized page's dataset inventory."""
    return (f"<tr><td>{CITIES[i % len(CITIES)]}</td><td>{THINGS[i % len(THINGS)]} "
            f"#{i}</td><td>{PROGRAMS[i % len(PROGRAMS)]}</td><td>updated weekly</td></tr>\n")


# --- documents ------------------------------------------------------------------

def make_pdf(text: str) -> bytes:
    """A tiny but valid one-page PDF showing ``text`` (ASCII)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return bytes(out)


def make_docx(paragraphs: list[str]) -> bytes:
    """A minimal valid .docx (deterministic bytes)."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    files = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml":
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 11, 1, 9, 0, 0)), data)
    return buf.getvalue()


def make_jpeg() -> bytes:
    """A valid 1x1 mid-grey baseline JPEG (hand-assembled, 8-bit grey)."""
    dqt = b"\xff\xdb\x00\x43\x00" + bytes([1] * 64)
    sof = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, symbol 0
    dht = b"\xff\xc4\x00\x26" + b"\x00" + one_code + b"\x10" + one_code
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + dqt + sof + dht + sos + b"\x3f\xff\xd9"


def make_documents() -> dict[str, tuple[str, bytes]]:
    """The public files that articles link to."""
    return {
        PDF_PATH: (PDF_TYPE, make_pdf("What Works Cities Annual Report 2026")),
        DOCX_PATH: (DOCX_TYPE, make_docx([
            "What Works Cities Certification Standard",
            "Cities are assessed on data governance, performance analytics, "
            "evaluations, open data, and results-driven contracting."])),
    }


# --- the whole content set --------------------------------------------------------

def article_path(article: Article) -> str:
    """``/<slug>`` or ``/news/article/<slug>-<id>`` depending on the style."""
    if article.style == "news":
        return f"/news/article/{article.slug}-{article.id}"
    return f"/{article.slug}"


RESERVED = {"about", "search", "what-works-cities", "people", "user", "admin", "node",
            "news", "core", "sites", "themes", "robots-txt"}


def unique_slug(title: str, taken: set[str]) -> str:
    base = slugify(title)
    slug, k = base, 2
    while slug in taken or slug in RESERVED:
        slug, k = f"{base}-{k}", k + 1
    taken.add(slug)
    return slug


def generate(seed: int, n_articles: int, n_people: int,
             special_pages: bool) -> tuple[list[Person], list[Article]]:
    """People and articles (newest first), deterministic from ``seed``."""
    rng = random.Random(seed)
    taken: set[str] = set()
    people = [make_person(rng, taken) for _ in range(max(1, n_people))]
    slugs: set[str] = set()
    titles: list[str] = []
    seen: set[str] = set()
    for _ in range(n_articles):
        title = make_title(rng)
        for _retry in range(8):  # prefer distinct titles; duplicates get "-2" slugs
            if title not in seen:
                break
            title = make_title(rng)
        seen.add(title)
        titles.append(title)
    day = NEWEST_DATE
    articles = []
    for i, title in enumerate(titles):
        articles.append(Article(
            slug=unique_slug(title, slugs), id=2000 + n_articles - 1 - i, title=title,
            author=rng.choice(people).slug, published=day, paragraphs=make_paragraphs(rng),
            style="slug" if i % 2 == 0 else "news", image=rng.randint(100, 999)))
        day -= dt.timedelta(days=rng.randint(1, 6))
    for i, a in enumerate(articles):
        if i == 0:
            a.paragraphs[-1] += (" The full findings are in the 2026 annual report (PDF), and the"
                                 " certification standard (DOCX) lists the criteria.")
            a.links += [(PDF_PATH, "2026 annual report (PDF)"),
                        (DOCX_PATH, "certification standard (DOCX)")]
        if len(articles) > 1 and (i == 0 or rng.random() < 0.4):
            other = articles[(i + 1 + rng.randrange(len(articles) - 1)) % len(articles)]
            k = rng.randrange(len(a.paragraphs))
            a.paragraphs[k] += f" For a related case, see {other.title}."
            a.links.append((article_path(other), other.title))
        if i == 0 or rng.random() < 0.3:
            person = rng.choice(people)
            k = rng.randrange(len(a.paragraphs))
            a.paragraphs[k] += f" {person.name} has covered similar work."
            a.links.append((f"/people/{person.slug}", person.name))
    if special_pages:
        author = people[0].slug
        specs = [("encoding", ENCODING_TITLE, ENCODING_PARAGRAPHS, "slug"),
                 ("malformed", MALFORMED_TITLE, MALFORMED_PARAGRAPHS, "news"),
                 ("oversized", OVERSIZED_TITLE, OVERSIZED_PARAGRAPHS, "slug")]
        for k, (kind, title, paras, style) in enumerate(specs):
            day -= dt.timedelta(days=1)
            articles.append(Article(unique_slug(title, slugs), 1001 + k, title, author, day,
                                    list(paras), style, kind=kind, image=101 + k))
    return people, articles
