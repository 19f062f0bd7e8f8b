"""``DemoSite``: the fake site's state, scripted edits/failures, and request routing.

``DemoSite.handle()`` turns one request into a ``Response``; it knows nothing
about sockets (see ``server.py``).  All state changes hold one lock and take
effect on the next request.

Besides real edits, the site can switch on (all off by default) what real news
sites do that a change monitor must not report as an edit: view blocks that
change every night (``widgets``), counters (``counters``), relative dates,
another date format, NFD text, non-breaking spaces, curly quotes, an A/B
headline test, a maintenance page and soft 404s.  Everything "per night" is a
function of (seed, ``night``); ``next_night()`` moves to the next night.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import random
import threading
from dataclasses import dataclass, replace
from html import escape
from urllib.parse import parse_qs, unquote, urlsplit

from . import content, pages, theme
from .content import Article, Person, article_path
from .display import DATE_FORMAT, PLAIN, UNICODE_FORMS, Display

NO_CACHE = "must-revalidate, no-cache, private"
REVALIDATE = "max-age=0, public"
DRUPAL = [("X-Generator", "Drupal 10 (https://www.drupal.org)"), ("X-Drupal-Cache", "MISS"),
          ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"),
          ("Content-Language", "en")]
FAIL_MODES = {"503", "500", "timeout", "reset", "404", "410", "truncate", "redirect-loop", "oversized",
              "gzip-oversized"}
#: Modes that answer the page itself, damaged: conditional headers are ignored so there is a body.
BODY_MODES = {"truncate", "oversized", "gzip-oversized"}
GONE_STATUSES = {403, 404, 410}
AB_COOKIE = "ABTEST_variant"
AB_MAX_AGE = 2592000  # 30 days
#: paths the web server answers itself, also in maintenance mode
STATIC_PREFIXES = ("/sites/default/files/", "/core/", "/themes/")
MAINTENANCE_TEXT = ("Data-Smart City Solutions is currently under maintenance. We should be back "
                    "shortly. Thank you for your patience.")


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:20]


@dataclass
class Response:
    """What to send back: ``action`` is None, "reset" (drop the connection),
    "timeout" (sleep ``timeout_delay`` seconds first) or "truncate" (announce
    the whole body's Content-Length, send half of it and close)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    action: str | None = None


class DemoSite:
    """A fake Data-Smart City Solutions site with scriptable edits and failures."""

    hub_path = "/what-works-cities"

    def __init__(self, n_articles: int = 12, n_people: int = 4, per_page: int = 5,
                 seed: int = 0, noise: bool = True, special_pages: bool = True,
                 timeout_delay: float = 5.0, oversized_bytes: int = 3_500_000,
                 fault_bytes: int = 11 * 1024 * 1024):
        self.per_page = max(1, per_page)
        self.noise = noise
        self.timeout_delay = timeout_delay
        self.oversized_bytes = oversized_bytes
        #: size the "oversized" and "gzip-oversized" failure modes pad a page to
        self.fault_bytes = fault_bytes
        #: a "Show more" link on every hub page, however far: a pager without end
        self.endless_pager = False
        #: slugs of published articles left out of the hub's listing
        self.delisted: set[str] = set()
        self.robots_disallow = ["/user/", "/search", "/admin/"]
        self.extra_links: list[str] = []
        #: path -> absolute or relative URL answered with a 301 (a moved page)
        self.redirects: dict[str, str] = {}
        self.documents = content.make_documents()
        self.people, self.articles = content.generate(seed, n_articles, n_people, special_pages)
        self._people = {p.slug: p for p in self.people}
        self._rng = random.Random(seed + 1)
        self._noise_rng = random.Random()
        self._lock = threading.RLock()
        self._failures: dict[str, list] = {}  # path -> [mode, remaining or None]
        self._by_slug = {a.slug: a for a in self.articles}
        self._by_path = {article_path(a): a for a in self.articles}
        self._by_nid = {a.id: a for a in self.articles}
        self._revisions = {a.id: 0 for a in self.articles}
        self._fragments: dict[int, tuple] = {}
        self._listing: list[Article] | None = None
        self._doc_meta: dict[str, tuple[bytes, str, dt.datetime]] = {}
        self._oversized_fill: tuple[int, str] = (0, "")
        special = {a.kind: article_path(a) for a in self.articles if a.kind != "article"}
        self.encoding_path = special.get("encoding")
        self.malformed_path = special.get("malformed")
        self.oversized_path = special.get("oversized")
        # --- what changes between nights without an edit (all off by default) ---
        self.seed = seed
        #: the night number: every per-night choice is a function of (seed, night)
        self.night = 0
        #: the site's "today" (relative dates; the date new articles get)
        self.today = dt.date.today()
        self._widgets: str | None = None
        #: a "node__stats" line (views, comments, shares) in every article's byline
        self.counters = False
        #: dates read "3 days ago" (relative to ``today``) instead of ``date_format``
        self.relative_dates = False
        #: strftime template of rendered dates (``%-d``: no leading zero, on every platform)
        self.date_format = DATE_FORMAT
        self._unicode_form = "NFC"
        #: U+00A0 after sentence-ending punctuation and between a number and a word
        self.nbsp = False
        #: straight quotes, "--" and "..." rendered as ‘ ’ “ ”, — and …
        self.curly_quotes = False
        #: slug -> variant B title of an A/B headline test (cookie ``ABTEST_variant``)
        self.ab_test: dict[str, str] = {}
        #: the variant a visitor without the cookie gets ("A" or "B"); None: either, at random
        self.ab_default: str | None = None
        #: every page but static files answers 200 "Site under maintenance"
        self.maintenance = False
        #: every 404 answers 200 "Page not found"
        self.soft_404 = False
        #: slugs listed first on the hub (Drupal's "sticky at top of lists")
        self.pinned: set[str] = set()
        self._renamed: set[str] = set()  # slugs of renamed people
        self._views: dict[int, int] = {}  # article id -> requests counted by the view counter
        self._options: tuple | None = None  # the options last seen, and since when
        self._options_since: dt.datetime | None = None

    # --- options: what changes without an edit ----------------------------------------

    @property
    def widgets(self) -> str | None:
        """None, "drupal" (views blocks "Most read" and "Related articles" inside every
        article node) or "plain" (the same lists in boxes whose classes say nothing)."""
        return self._widgets

    @widgets.setter
    def widgets(self, style: str | None) -> None:
        if style is not None and style not in pages.WIDGET_STYLES:
            raise ValueError(f"widgets must be None or one of {list(pages.WIDGET_STYLES)}")
        self._widgets = style

    @property
    def unicode_form(self) -> str:
        """The Unicode form of titles, paragraphs, summaries and names ("NFC": as stored)."""
        return self._unicode_form

    @unicode_form.setter
    def unicode_form(self, form: str) -> None:
        if form not in UNICODE_FORMS:
            raise ValueError(f"unicode_form must be one of {list(UNICODE_FORMS)}")
        self._unicode_form = form

    def next_night(self) -> None:
        """The next night: ``night`` + 1 and ``today`` + 1 day (new widget lists, counters,
        relative dates)."""
        with self._lock:
            self.night += 1
            self.today += dt.timedelta(days=1)

    def display(self) -> Display:
        """The current display settings (dates and text)."""
        return Display(self.date_format, self.today if self.relative_dates else None,
                       self._unicode_form, self.nbsp, self.curly_quotes)

    # --- content queries ----------------------------------------------------------

    def article_path(self, article: Article | str) -> str:
        """URL path of an article (or of the article with that slug)."""
        return article_path(self.article(article) if isinstance(article, str) else article)

    def article(self, slug: str) -> Article:
        """The article with ``slug`` (KeyError if unknown)."""
        return self._by_slug[slug]

    def person(self, slug: str) -> Person:
        return self._people[slug]

    def published(self) -> list[Article]:
        """Published articles in hub order (newest first)."""
        with self._lock:
            if self._listing is None:
                live = [a for a in self.articles if a.status == 200]
                self._listing = sorted(live, key=lambda a: (a.published, a.id), reverse=True)
            return self._listing

    def hub_listing(self) -> list[Article]:
        """The published articles the hub lists (not the delisted ones): pinned ones
        first, then newest first."""
        with self._lock:
            listed = [a for a in self.published() if a.slug not in self.delisted]
            if self.pinned:
                listed.sort(key=lambda a: a.slug not in self.pinned)  # stable: dates stay in order
            return listed

    @property
    def hub_page_count(self) -> int:
        return max(1, -(-len(self.hub_listing()) // self.per_page))

    def etag(self, article: Article | str) -> str:
        """The ETag an article currently answers with (to a request that sees its real
        title; without the per-night and per-request parts of widgets and counters)."""
        with self._lock:
            a = self.article(article) if isinstance(article, str) else article
            return self._frag(a, self.display())[0]

    # --- scripted edits -------------------------------------------------------------

    def _touch(self, a: Article) -> None:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        a.modified = max(now, a.modified + dt.timedelta(seconds=1))
        self._revisions[a.id] += 1

    def edit_article(self, slug: str, old: str, new: str, count: int = 1) -> None:
        """Replace ``old`` by ``new`` in the body text (``count`` times, -1 = all)."""
        with self._lock:
            a = self.article(slug)
            if not old or not any(old in p for p in a.paragraphs):
                raise ValueError(f"{old!r} not in the text of {slug!r}")
            paras, left = [], count
            for p in a.paragraphs:
                if left and old in p:
                    n = p.count(old) if left < 0 else min(left, p.count(old))
                    p = p.replace(old, new, n)
                    left = left if left < 0 else left - n
                paras.append(p)
            a.paragraphs = paras
            self._touch(a)

    def set_title(self, slug: str, title: str) -> None:
        with self._lock:
            a = self.article(slug)
            a.title = title
            self._touch(a)

    def set_summary(self, slug: str, text: str | None) -> None:
        """Give an article an editor's teaser summary (hub, "Show more" pages and the
        meta description; the body is unchanged).  None: back to the first paragraph."""
        with self._lock:
            a = self.article(slug)
            a.summary_override = text
            self._touch(a)

    def quote_text(self, slug: str, sentence: str = content.QUOTE_SENTENCE) -> None:
        """Open the article's first paragraph with a quotation (straight quotes, an
        apostrophe, "--" and "..."): a real edit, for ``curly_quotes`` to act on."""
        with self._lock:
            a = self.article(slug)
            a.paragraphs = [f"{sentence} {a.paragraphs[0]}" if a.paragraphs else sentence,
                            *a.paragraphs[1:]]
            self._touch(a)

    def pin(self, slug: str) -> None:
        """Make an article sticky: listed first on the hub whatever its date."""
        with self._lock:
            a = self.article(slug)
            self.pinned.add(slug)
            self._touch(a)

    def unpin(self, slug: str) -> None:
        with self._lock:
            a = self.article(slug)
            self.pinned.discard(slug)
            self._touch(a)

    def rename_person(self, slug: str, name: str) -> None:
        """Rename a person (e.g. "Jose Ramirez" -> "José Ramírez"); their articles are
        touched (byline, meta author).  Body text that mentions the old name keeps it."""
        with self._lock:
            person = self.person(slug)
            person.name = name
            self._renamed.add(slug)
            for a in self.articles:
                if a.author == slug:
                    self._touch(a)

    #: the option to give a person an accented name (the same real edit as ``rename_person``)
    accented_name = rename_person

    def move_article(self, slug: str, new_slug: str) -> Article:
        """Give an article a new URL; its old path answers 301 to the new one."""
        with self._lock:
            a = self.article(slug)
            if new_slug in self._by_slug or new_slug in content.RESERVED or not new_slug:
                raise ValueError(f"slug {new_slug!r} is taken or reserved")
            old_path = article_path(a)
            del self._by_slug[slug], self._by_path[old_path]
            a.slug = new_slug
            new_path = article_path(a)
            self._by_slug[new_slug] = a
            self._by_path[new_path] = a
            self.redirects.pop(new_path, None)
            self.redirects[old_path] = new_path
            for keyed in (self.delisted, self.pinned):
                if slug in keyed:
                    keyed.discard(slug)
                    keyed.add(new_slug)
            if slug in self.ab_test:
                self.ab_test[new_slug] = self.ab_test.pop(slug)
            self._touch(a)
            return a

    def end_ab_test(self, slug: str, winner: str = "B") -> None:
        """End an A/B headline test: the winner's title is the title for everyone."""
        if winner not in ("A", "B"):
            raise ValueError('winner must be "A" or "B"')
        with self._lock:
            a = self.article(slug)
            variant_b = self.ab_test.pop(slug)
            if winner == "B":
                a.title = variant_b
            self._touch(a)

    def publish_article(self, title: str, paragraphs: list[str] | str,
                        author: str | None = None, style: str = "news") -> Article:
        """Publish a new article; it becomes the newest on the hub."""
        if style not in ("slug", "news"):
            raise ValueError(f"style must be 'slug' or 'news', not {style!r}")
        with self._lock:
            if author is None:
                author = self._rng.choice(self.people).slug
            self.person(author)
            paras = [paragraphs] if isinstance(paragraphs, str) else list(paragraphs)
            newest = max((a.published for a in self.articles), default=content.NEWEST_DATE)
            a = Article(content.unique_slug(title, set(self._by_slug)), max(self._by_nid, default=2000) + 1,
                        title, author, max(self.today, newest), paras, style,
                        image=self._rng.randint(100, 999))
            self.articles.append(a)
            self._by_slug[a.slug] = a
            self._by_path[article_path(a)] = a
            self._by_nid[a.id] = a
            self._revisions[a.id] = 0
            self._listing = None
            return a

    def unpublish(self, slug: str, status: int = 404) -> None:
        """The article answers ``status`` (403/404/410) and leaves the listings."""
        if status not in GONE_STATUSES:
            raise ValueError(f"status must be one of {sorted(GONE_STATUSES)}")
        with self._lock:
            self.article(slug).status = status
            self._listing = None

    def delist(self, slug: str) -> None:
        """Leave a published article out of the hub's listing (it still answers 200)."""
        with self._lock:
            self.article(slug)
            self.delisted.add(slug)

    def republish(self, slug: str) -> None:
        with self._lock:
            self.article(slug).status = 200
            self._listing = None

    def fail(self, path: str, mode: str | int, times: int | None = None) -> None:
        """Make requests of ``path`` fail with ``mode`` (forever, or ``times`` times)."""
        mode = str(mode)
        if mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {sorted(FAIL_MODES)}")
        if path.startswith(("http://", "https://")):
            path = urlsplit(path).path or "/"
        path = path.split("?", 1)[0]
        with self._lock:
            if times is not None and times <= 0:
                self._failures.pop(path, None)
            else:
                self._failures[path] = [mode, times]

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def update_document(self, path: str, data: bytes, content_type: str | None = None) -> None:
        """Replace (or add) a document's bytes."""
        with self._lock:
            old = self.documents.get(path)
            ctype = content_type or (old[0] if old else "application/octet-stream")
            self.documents[path] = (ctype, data)

    # --- request handling -----------------------------------------------------------------

    def handle(self, method: str, target: str, headers=None) -> Response:
        """Answer one request (``target`` is the path with query string)."""
        h = {k.lower(): v for k, v in (headers or {}).items()}
        path, _, query = target.partition("?")
        path = unquote(path) or "/"
        n = pages.Noise(self.noise, random.Random(self._noise_rng.getrandbits(64)))
        host = h.get("host", "127.0.0.1")
        with self._lock:
            variant = self._variant(h)
            if path in self.redirects and not self._in_maintenance(path):
                return Response(301, [("Location", self.redirects[path]), ("Content-Length", "0")])
            mode = self._take_failure(path)
            if mode == "reset":
                return Response(0, [], action="reset")
            if mode == "redirect-loop":
                return Response(301, [("Location", path), ("Content-Length", "0")])
            if mode in ("500", "503", "404", "410"):
                resp = self._error(n, int(mode), host, path)
            else:
                if mode in BODY_MODES:
                    h = {k: v for k, v in h.items() if not k.startswith("if-")}
                resp = self._route(n, path, query, h, host, variant)
        if variant is not None and (resp.status == 304 or any(
                k == "Content-Type" and v.startswith("text/html") for k, v in resp.headers)):
            resp.headers += [("Set-Cookie", f"{AB_COOKIE}={variant}; Path=/; Max-Age={AB_MAX_AGE}"),
                             ("Vary", "Cookie")]
        if mode == "timeout":
            resp.action = "timeout"
        elif mode == "truncate":
            resp.action = "truncate"
        elif mode in ("oversized", "gzip-oversized"):
            self._pad(resp, gzipped=mode == "gzip-oversized")
        return resp

    def _pad(self, resp: Response, gzipped: bool) -> None:
        """Pad a page with an HTML comment to ``fault_bytes``; gzip it if asked
        (small on the wire, over the size cap once decompressed)."""
        resp.body += b"<!--" + b" " * max(0, self.fault_bytes - len(resp.body)) + b"-->"
        if gzipped:
            resp.body = gzip.compress(resp.body, compresslevel=1)
            resp.headers.append(("Content-Encoding", "gzip"))

    def _variant(self, h: dict) -> str | None:
        """The A/B variant of this request: its cookie's, else A or B at random
        (None while no test runs)."""
        if not self.ab_test:
            return None
        for part in h.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == AB_COOKIE and value in ("A", "B"):
                return value
        if self.ab_default in ("A", "B"):
            return self.ab_default
        return "AB"[self._noise_rng.getrandbits(1)]

    def _title(self, a: Article, variant: str | None) -> str:
        """The headline ``variant`` sees."""
        return self.ab_test.get(a.slug, a.title) if variant == "B" else a.title

    def _in_maintenance(self, path: str) -> bool:
        """True when maintenance mode answers ``path`` (static files are still served)."""
        return self.maintenance and not (path == "/robots.txt" or path in self.documents
                                         or path.startswith(STATIC_PREFIXES))

    def _take_failure(self, path: str) -> str | None:
        entry = self._failures.get(path)
        if entry is None:
            return None
        mode, left = entry
        if left is not None:
            if left <= 1:
                del self._failures[path]
            else:
                entry[1] = left - 1
        return mode

    def _route(self, n: pages.Noise, path: str, query: str, h: dict, host: str,
               variant: str | None = None) -> Response:
        canonical = f"http://{host}{path}"
        if self._in_maintenance(path):
            return self._html(pages.simple_page(n, "Site under maintenance", [MAINTENANCE_TEXT], canonical,
                                                "maintenance-page path-system", "system/503"))
        a = self._by_path.get(path)
        if a is None and path.startswith("/node/") and path[6:].isdigit():
            nid = int(path[6:])
            if nid == pages.HUB_NID:
                path = self.hub_path
            a = self._by_nid.get(nid)
        if a is not None:
            if a.status == 404:
                return self._not_found(n, host, path)
            if a.status != 200:
                return self._error(n, a.status, host, path)
            return self._article(n, a, h, f"http://{host}{article_path(a)}", variant)
        if path == self.hub_path:
            return self._hub(n, query, f"http://{host}{self.hub_path}", variant)
        if path in self.documents:
            return self._document(path, h)
        if path.startswith("/people/") and path[8:] in self._people:
            return self._html(self._person(n, self._people[path[8:]], canonical, variant))
        if path == "/robots.txt":
            return self._plain(200, "text/plain; charset=UTF-8", self.robots_txt().encode())
        if path == "/":
            return self._html(pages.simple_page(n, "Data-Smart City Solutions", [
                "Data-Smart City Solutions highlights how local governments use data to improve services.",
                f'Start with <a href="{self.hub_path}">What Works Cities</a> or read '
                '<a href="/about">about us</a>.'], canonical, "path-frontpage", "node"))
        if path == "/about":
            return self._html(pages.simple_page(n, "About", [
                "Data-Smart City Solutions is a project of the Bloomberg Center for Cities at "
                "Harvard University that promotes data-driven innovation in local government.",
                "We publish case studies, interviews, and research on civic technology."], canonical))
        if path == "/search" or path == "/user/login":
            title = "Search" if path == "/search" else "Log in"
            return self._html(pages.simple_page(n, title, [f"{title} is not available in the demo."],
                                                canonical, "path-" + path.strip("/").split("/")[0]))
        if path.startswith(("/user/", "/admin")):
            return self._error(n, 403, host, path)
        static = theme.lookup(path)  # stylesheets, font, images, script: with validators, so 304s
        if static is not None:
            ctype, body = static
            return self._validated(h, theme.etag(body), email.utils.parsedate_to_datetime(theme.MODIFIED),
                                   lambda: self._plain(200, ctype, body, "max-age=31536000, public"))
        return self._not_found(n, host, path)

    # --- responses ---------------------------------------------------------------------

    @staticmethod
    def _plain(status: int, ctype: str, body: bytes, cache: str = NO_CACHE,
               extra: tuple = ()) -> Response:
        return Response(status, [("Content-Type", ctype), ("Cache-Control", cache), *extra], body)

    @staticmethod
    def _html(html: str, status: int = 200, cache: str = NO_CACHE, extra: tuple = (),
              charset: str = "UTF-8") -> Response:
        ctype = f"text/html; charset={charset}"
        body = html.encode(charset, "xmlcharrefreplace")
        hdrs = [("Content-Type", ctype), ("Cache-Control", cache), *extra, *DRUPAL]
        if cache == NO_CACHE:
            hdrs.append(("Expires", "Sun, 19 Nov 1978 05:00:00 GMT"))
        return Response(status, hdrs, body)

    def robots_txt(self) -> str:
        lines = ["#", "# robots.txt", "#", "User-agent: *"]
        lines += [f"Disallow: {p}" for p in self.robots_disallow]
        return "\n".join(lines) + "\n"

    def _error(self, n: pages.Noise, status: int, host: str, path: str) -> Response:
        if status == 500:
            return self._html("<!DOCTYPE html><html><head><title>Error | Data-Smart City Solutions"
                              "</title></head><body>The website encountered an unexpected error. "
                              "Try again later.</body></html>", 500)
        title, text = {
            403: ("Access denied", "You are not authorized to access this page."),
            404: ("Page not found", "The requested page could not be found."),
            410: ("Page removed", "This content has been permanently removed."),
            503: ("Site under maintenance", "Data-Smart City Solutions is currently under "
                  "maintenance. We should be back shortly. Thank you for your patience."),
        }[status]
        html = pages.simple_page(n, title, [text], f"http://{host}{path}", "path-system", "system/" + str(status))
        return self._html(html, status)

    def _not_found(self, n: pages.Noise, host: str, path: str) -> Response:
        """A 404, or with ``soft_404`` a 200 "Page not found" page naming the path."""
        if not self.soft_404:
            return self._error(n, 404, host, path)
        text = f'The requested page "{escape(path, quote=False)}" could not be found.'
        return self._html(pages.simple_page(n, "Page not found", [text], f"http://{host}{path}",
                                            "path-system", "system/404"))

    @staticmethod
    def _not_modified(h: dict, etag: str, modified: dt.datetime, use_ims: bool = True) -> bool:
        inm = h.get("if-none-match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        ims = h.get("if-modified-since")
        if ims and use_ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.timezone.utc)
            return modified <= since
        return False

    def _validated(self, h: dict, etag: str, modified: dt.datetime, make,
                   use_ims: bool = True) -> Response:
        """``make()``'s response with validators, or a 304.  ``use_ims=False``: only a
        matching ETag answers 304 (a page whose bytes vary without an edit)."""
        lm = email.utils.format_datetime(modified, usegmt=True)
        validators = (("ETag", etag), ("Last-Modified", lm))
        if self._not_modified(h, etag, modified, use_ims):
            return Response(304, [("Cache-Control", REVALIDATE), *validators])
        resp = make()
        resp.headers[2:2] = validators
        return resp

    def _frag(self, a: Article, shown: Display = PLAIN, title: str | None = None) -> tuple:
        """(etag, body html, teaser) cached per article revision and display settings;
        a headline under an A/B test has a slot of its own."""
        title = a.title if title is None else title
        person = self._people[a.author]
        sticky = a.slug in self.pinned
        key = (self._revisions[a.id], shown, title, person.name, sticky)
        slot = (a.id, title == a.title)
        cached = self._fragments.get(slot)
        if cached is None or cached[0] != key:
            fp = a.fingerprint()
            if a.kind == "oversized":
                fp = hashlib.sha1(f"{fp}{self.oversized_bytes}".encode()).hexdigest()[:20]
            # What the page shows beyond the article's own fields (none by default).
            salt = [repr(shown)] if shown != PLAIN else []
            if title != a.title:
                salt.append(title)
            if a.author in self._renamed:
                salt.append(person.name)
            if salt:
                fp = _digest(fp, *salt)
            view, byline = self._view(a, shown, title), self._person_view(person, shown)
            cached = (key, f'"{a.id}-{fp}"', pages.body_html(view),
                      pages.teaser(view, byline, article_path(a), shown, sticky))
            self._fragments[slot] = cached
        return cached[1:]

    @staticmethod
    def _view(a: Article, shown: Display, title: str) -> Article:
        """The article as rendered: ``title`` as headline, text rewritten by ``shown``."""
        if title == a.title and not shown.rewrites_text:
            return a
        t = shown.text
        return replace(a, title=t(title), paragraphs=[t(p) for p in a.paragraphs],
                       links=[(href, t(anchor)) for href, anchor in a.links],
                       summary_override=t(a.summary))

    @staticmethod
    def _person_view(p: Person, shown: Display) -> Person:
        if not shown.rewrites_text:
            return p
        return replace(p, name=shown.name(p.name), bio=shown.text(p.bio), role=shown.text(p.role))

    def _modified(self, a: Article) -> dt.datetime:
        """Last-Modified: the article's, or when the options that change how pages look
        last changed, if later (so If-Modified-Since cannot hide the change)."""
        options = (self.display(), self._widgets, self.counters, sorted(self.ab_test.items()))
        if self._options is None:
            self._options = options
        elif options != self._options:
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            since = self._options_since
            self._options_since = now if since is None else max(now, since + dt.timedelta(seconds=1))
            self._options = options
        since = self._options_since
        return a.modified if since is None else max(a.modified, since)

    def _widget_lists(self, a: Article, variant: str | None, shown: Display) -> tuple[list, list]:
        """(path, title) pairs: 4 "most read" articles per night, the same on every
        article, and 3 "related" ones per article and night."""
        pool = [x for x in self.published() if x.slug not in self.delisted]
        most = random.Random(f"{self.seed}/{self.night}/most-read").sample(pool, min(4, len(pool)))
        others = [x for x in pool if x is not a]
        related = random.Random(f"{self.seed}/{self.night}/related/{a.id}").sample(
            others, min(3, len(others)))
        return ([(article_path(x), shown.text(self._title(x, variant))) for x in most],
                [(article_path(x), shown.text(self._title(x, variant))) for x in related])

    def _count(self, a: Article) -> tuple[int, int, int]:
        """(views, comments, shares): views grow with every request, the others per night."""
        r = random.Random(f"{self.seed}/stats/{a.id}")
        views, views_nightly = r.randint(120, 4000), r.randint(15, 400)
        comments, comments_nightly = r.randint(0, 9), r.uniform(0.1, 2.5)
        shares, shares_nightly = r.randint(0, 60), r.uniform(0.5, 12.0)
        seen = self._views[a.id] = self._views.get(a.id, 0) + 1
        night = self.night
        return (views + views_nightly * night + seen, comments + int(comments_nightly * night),
                shares + int(shares_nightly * night))

    def _article(self, n: pages.Noise, a: Article, h: dict, canonical: str,
                 variant: str | None = None) -> Response:
        shown = self.display()
        title = self._title(a, variant)
        etag, body, _ = self._frag(a, shown, title)
        view = self._view(a, shown, title)
        person = self._person_view(self._people[a.author], shown)
        oversized = self.oversized_bytes if a.kind == "oversized" else 0
        lists, stats, varying = None, "", []  # varying: what else the ETag must cover
        if a.kind != "malformed":  # the legacy page has no views blocks nor statistics
            if self._widgets:
                lists = self._widget_lists(a, variant, shown)
                varying.append(repr(lists))
            if self.counters:
                stats = pages.stats_line(*self._count(a))
                varying.append(stats)
        if varying:
            etag = f'"{a.id}-{_digest(etag, *varying)}"'
        # Pages whose bytes vary without an edit answer 304 only to their own ETag.
        use_ims = not varying and shown == PLAIN and a.slug not in self.ab_test

        def make() -> Response:
            if a.kind == "malformed":
                return self._html(pages.malformed_page(n, view, person, canonical, shown), cache=REVALIDATE)
            extra = self._inventory(oversized) if oversized else ""
            if lists:
                extra += pages.widget_blocks(n, self._widgets, *lists)
            path = article_path(a)
            latest = [(article_path(x), shown.text(self._title(x, variant)))
                      for x in self.published()[:4] if x is not a][:3]
            dom_id = n.hex()
            html = pages.page(
                n, title=view.title, main=pages.article_main(n, view, person, body, path, extra, shown, stats),
                canonical=canonical, body_class="path-node page-node-type-article",
                head=pages.article_head(view, person, canonical), shortlink=f"/node/{a.id}",
                sidebar=pages.sidebar(n, latest, dom_id), view_dom_id=dom_id,
                charset="windows-1252" if a.kind == "encoding" else "utf-8",
                current=f"node\\/{a.id}")
            return self._html(html, cache=REVALIDATE,
                              charset="windows-1252" if a.kind == "encoding" else "UTF-8")

        return self._validated(h, etag, self._modified(a), make, use_ims)

    def _inventory(self, size: int) -> str:
        """A dataset table big enough to push the page past ``size`` bytes."""
        if self._oversized_fill[0] != size:
            rows, total, i = [], 0, 0
            while total < size:
                row = content.inventory_row(i)
                rows.append(row)
                total += len(row)
                i += 1
            table = ('\n<div class="field field--name-field-inventory"><h2>Appendix: dataset inventory</h2>\n'
                     "<table><thead><tr><th>City</th><th>Dataset</th><th>Program</th><th>Frequency</th>"
                     f"</tr></thead><tbody>\n{''.join(rows)}</tbody></table></div>")
            self._oversized_fill = (size, table)
        return self._oversized_fill[1]

    def _hub(self, n: pages.Noise, query: str, canonical: str, variant: str | None = None) -> Response:
        try:
            page_no = max(0, int(parse_qs(query).get("page", ["0"])[0]))
        except ValueError:
            page_no = 0
        listing = self.hub_listing()
        requested = page_no
        page_no = min(page_no, self.hub_page_count - 1)  # Drupal clamps to the last page
        start = page_no * self.per_page
        chunk = listing[start:start + self.per_page]
        shown = self.display()
        parts = "\x01".join(self._frag(a, shown, self._title(a, variant))[2] for a in chunk).split("\x00")
        rows = [parts[0]]
        for p in parts[1:]:
            rows += (n.token(8), p)
        teasers = "".join(rows).split("\x01") if chunk else []
        dom_id = n.hex()
        if self.endless_pager:
            main = pages.hub_main(n, teasers, requested, True, self.extra_links, dom_id)
        else:
            main = pages.hub_main(n, teasers, page_no, start + self.per_page < len(listing),
                                  self.extra_links, dom_id)
        html = pages.page(n, title=pages.HUB_TITLE, main=main, canonical=canonical,
                          body_class="path-node page-node-type-landing-page",
                          shortlink=f"/node/{pages.HUB_NID}", view_dom_id=dom_id,
                          current=f"node\\/{pages.HUB_NID}")
        return self._html(html)

    def _person(self, n: pages.Noise, p: Person, canonical: str, variant: str | None = None) -> str:
        shown = self.display()
        mine = [(article_path(a), shown.text(self._title(a, variant)), shown.date(a.published))
                for a in self.published() if a.author == p.slug]
        p = self._person_view(p, shown)
        return pages.page(n, title=p.name, main=pages.person_main(n, p, mine), canonical=canonical,
                          body_class="path-node page-node-type-person", current="node")

    def _document(self, path: str, h: dict) -> Response:
        ctype, data = self.documents[path]
        meta = self._doc_meta.get(path)
        if meta is None or meta[0] != data:
            digest = hashlib.sha1(data).hexdigest()[:16]
            modified = dt.datetime(2026, 11, 1, 9, tzinfo=dt.timezone.utc)
            if meta is not None:
                now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
                modified = max(now, meta[2] + dt.timedelta(seconds=1))
            meta = (data, f'"{len(data):x}-{digest}"', modified)
            self._doc_meta[path] = meta
        return self._validated(h, meta[1], meta[2], lambda: self._plain(
            200, ctype, data, "max-age=0, public", (("Accept-Ranges", "none"),)))
