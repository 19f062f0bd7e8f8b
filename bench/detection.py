"""Change detection's precision and recall on realistic site behaviour, noise and real edits.

    .venv/bin/python bench/detection.py [--quick] [--seed 0] [--only NAME ...] [--keep DIR]

Each scenario serves a fresh sample site (``DemoSite``) on 127.0.0.1 and crawls it
into a fresh archive with ``wwc-archive crawl`` child processes, one a night, as the
scheduler does. Night 0 is the baseline (every page "added", not scored). Then a
site behaviour is switched on and varies night by night (``site.next_night()``
before each crawl), real edits are made on some nights, and the site recovers
where that is part of the story. After each crawl the reported (url, change)
pairs, read from ``wwc-archive changes --format json``, are scored against the
pairs a human would call that night's real changes:

- reported and expected: a true positive;
- reported, not expected: a false alarm (a duplicate report is one too);
- expected, not reported (or reported as another kind): a miss.

Noise classes expect no change at all; real classes expect exactly their edits,
even on a night when some noise is on too. The ``mixed`` scenario runs every
behaviour at once, varying, over eight nights with real edits among them: the
closest thing to the live site. Every false alarm and miss is printed with its
scenario, night, kind and URL as it happens; then a table per class and the
overall figures; "failed" counts the nights whose crawl recorded no run (their
expected changes count as missed). Exits 1 on any false alarm, miss, failed
night, or failed or skipped scenario.

(*) The A/B classes flip between runs: the demo site draws the variant of a
request without the cookie at random (unseeded), and the archive keeps the
cookie its first page got, between runs too: a run sees A or B all the test long.

``--quick`` runs a reduced set (one noise class of each kind, two real edits;
about 30 seconds); the full run about two and a half minutes on two cores.
``--keep DIR`` keeps each scenario's archive as ``DIR/NAME.db`` for a look with
``wwc-archive changes --db DIR/NAME.db --run ID``.
"""

from __future__ import annotations

import argparse
import sys
import json
import os
import subprocess
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from wwc_archive.demo_site import DemoServer, DemoSite
from wwc_archive.demo_site.content import PDF_PATH

#: tests/conftest.py's FAST: politeness off for a site on this machine.
FAST = (
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=16",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "RETRY_TIMES=1",
    "-s", "DOWNLOAD_TIMEOUT=3",
)
CRAWL_TIMEOUT = 180
CHANGES_TIMEOUT = 60

#: Every scored class, in table order: (kind, what its nights do). A noise kind says what
#: sort of noise: blocks that come and go, values that tick, the same text rendered
#: otherwise, an outage; noise expects no change at all, a real class exactly its edits.
CLASSES = {
    "widgets-drupal": ("noise:blocks", "'Most read' and 'Related articles' in articles, Drupal views classes"),
    "widgets-plain": ("noise:blocks", "the same blocks, meaningless classes ('Most read' the same on every page)"),
    "counters": ("noise:values", "views/comments/shares counters in the article node, ticking"),
    "relative-dates": ("noise:values", "'3 days ago' in teasers, bylines and people pages, a day older each night"),
    "ab-test": ("noise:values", "a headline A/B test, a random variant per request without its cookie (*)"),
    "date-format": ("noise:render", "the date template switches from 'March 3, 2026' to 'Mar 3, 2026'"),
    "unicode-nfd-nbsp": ("noise:render", "the same text as decomposed Unicode with no-break spaces, then back"),
    "curly-quotes": ("noise:render", "a typography filter: straight quotes curled, -- and ... as dashes and ellipses"),
    "maintenance": ("noise:outage", "every page answers 200 'Site under maintenance' for a night, then recovers"),
    "figure-edit": ("real", "'$1.2 million' corrected to '$1.3 million' in an article, on a counters night"),
    "date-correction": ("real", "'March 3, 2026' corrected to 'March 10, 2026', on a relative-dates night"),
    "title-accent": ("real", "an accent added to a name in a title, on a decomposed-Unicode night"),
    "summary-edit": ("real", "a teaser summary edited on the hub only"),
    "pin": ("real", "a story pinned first on the hub"),
    "moved-301": ("real", "an article moved, its old address answering 301"),
    "pdf-same-size": ("real", "the PDF replaced at the same URL by other bytes of the same size"),
    "soft-404-removal": ("real", "an article unpublished while missing pages answer 200 'Page not found'"),
    "ab-winner": ("real", "the A/B test ends and variant B becomes the title (*)"),
    "mixed": ("mixed", "every behaviour on and varying for eight nights, with real edits"),
}


class ScenarioFailed(Exception):
    """A scenario cannot go on (a baseline that failed, a demo-site option missing)."""


@dataclass
class Tally:
    nights: int = 0
    true: int = 0
    false_alarms: int = 0
    missed: int = 0
    failed: int = 0  # nights whose crawl recorded no run to score

    def add(self, other: Tally) -> None:
        self.nights += other.nights
        self.failed += other.failed
        self.true += other.true
        self.false_alarms += other.false_alarms
        self.missed += other.missed

    @property
    def precision(self) -> float | None:
        reported = self.true + self.false_alarms
        return self.true / reported if reported else None

    @property
    def recall(self) -> float | None:
        expected = self.true + self.missed
        return self.true / expected if expected else None


@dataclass
class Problem:
    """One false alarm, miss or failed night, with what a developer needs to look it up."""

    what: str  # "false alarm", "missed", "error", "note"
    scenario: str
    night: int
    cls: str
    change: str = ""
    url: str = ""
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.scenario} night {self.night} [{self.cls}]"
        return "  ".join(x for x in (f"{self.what.upper():<11}", where, f"{self.change:<8}" if self.change else "",
                                     self.url, self.detail) if x)


@dataclass
class CrawlOutcome:
    changes: list[dict] = field(default_factory=list)
    run: dict = field(default_factory=dict)
    error: str | None = None  # no new run to score
    note: str | None = None  # a run to score, but the crawl did not end well


@dataclass
class ScenarioResult:
    name: str
    tallies: dict[str, Tally] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def total(self) -> Tally:
        total = Tally()
        for tally in self.tallies.values():
            total.add(tally)
        return total


# --- running the CLI ---------------------------------------------------------------------

def run_cli(*args, timeout=CRAWL_TIMEOUT) -> subprocess.CompletedProcess:
    """``wwc-archive ARGS`` in a child process (Twisted's reactor runs once a process)."""
    return subprocess.run([sys.executable, "-m", "wwc_archive", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def crawl_once(db: str, start_url: str, previous_run: int) -> CrawlOutcome:
    """One crawl and the changes of the run it recorded (``error`` if it recorded none)."""
    try:
        crawl = run_cli("crawl", "--db", db, "--start-url", start_url, *FAST)
    except subprocess.TimeoutExpired:
        return CrawlOutcome(error=f"crawl still running after {CRAWL_TIMEOUT} s")
    try:
        shown = run_cli("changes", "--db", db, "--format", "json", timeout=CHANGES_TIMEOUT)
        data = json.loads(shown.stdout)
    except subprocess.TimeoutExpired:
        return CrawlOutcome(error=f"changes still running after {CHANGES_TIMEOUT} s")
    except json.JSONDecodeError:
        return CrawlOutcome(error=f"crawl exited {crawl.returncode} ({last_line(crawl.stderr)}); changes printed "
                                  f"no JSON, exit {shown.returncode}: {last_line(shown.stderr)}")
    data = data if isinstance(data, dict) else {}
    run = data.get("run") if isinstance(data.get("run"), dict) else {}
    if not isinstance(run.get("id"), int) or run["id"] <= previous_run:
        return CrawlOutcome(error=f"no new run recorded; crawl exited {crawl.returncode}: {last_line(crawl.stderr)}")
    changes = [c for c in data.get("changes") or [] if isinstance(c, dict)]
    note = None
    if crawl.returncode != 0 or run.get("status") != "complete":
        note = (f"crawl exited {crawl.returncode}, run {run['id']} {run.get('status')}"
                f"{' (' + run['note'] + ')' if run.get('note') else ''}: {last_line(crawl.stderr)}")
    return CrawlOutcome(changes=changes, run=run, note=note)


def brief(summary) -> str:
    text = json.dumps(summary, ensure_ascii=False) if summary is not None else ""
    return text if len(text) <= 240 else text[:237] + "..."


# --- a scenario's nights ----------------------------------------------------------------------

class Nights:
    """One scenario's site, server and archive: crawls night after night and scores each night."""

    def __init__(self, scenario: str, site: DemoSite, base_url: str, db: str, log: Callable[[str], None]):
        self.scenario = scenario
        self.site = site
        self.base = base_url
        self.db = db
        self.log = log
        self.night = 0
        self.last_run = 0
        self.tallies: dict[str, Tally] = {}
        self.problems: list[Problem] = []

    # URLs and the pairs expected

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def hub(self) -> str:
        return self.url(self.site.hub_path)

    def article_url(self, article) -> str:
        return self.url(self.site.article_path(article.slug))

    def person_url(self, person_slug: str) -> str:
        return self.url(f"/people/{person_slug}")

    def listed(self, article, kind: str = "changed") -> set[tuple[str, str]]:
        """The article as ``kind``, and the pages that list it by title: the hub, its author's page."""
        return {(self.article_url(article), kind), (self.hub, "changed"),
                (self.person_url(article.author), "changed")}

    # the site

    def articles(self) -> list:
        """The ordinary published articles, newest first (not the special test pages)."""
        return [a for a in self.site.published() if a.kind == "article"]

    def switch(self, **options) -> None:
        """Switch demo-site options; an option the site does not have stops the scenario."""
        for name, value in options.items():
            if not hasattr(self.site, name):
                raise ScenarioFailed(f"the demo site has no option {name!r}")
            setattr(self.site, name, value)

    def call(self, method: str, *args, **kwargs):
        helper = getattr(self.site, method, None)
        if helper is None:
            raise ScenarioFailed(f"the demo site has no {method}()")
        return helper(*args, **kwargs)

    def append(self, article, sentence: str) -> None:
        """A real edit: ``sentence`` added at the end of the article's last paragraph."""
        last = article.paragraphs[-1]
        self.site.edit_article(article.slug, last, last + " " + sentence)

    # crawling

    def baseline(self) -> None:
        """Night 0: every page is added; not scored."""
        outcome = crawl_once(self.db, self.hub, self.last_run)
        if outcome.error or outcome.note:
            raise ScenarioFailed(f"baseline crawl: {outcome.error or outcome.note}")
        self.last_run = outcome.run["id"]

    def crawl(self, cls: str, expected=()) -> None:
        """The next night: crawl, then score what was reported against ``expected`` (url, change) pairs."""
        if cls not in CLASSES:
            raise ValueError(f"unknown class {cls!r}")
        self.site.next_night()
        self.night += 1
        outcome = crawl_once(self.db, self.hub, self.last_run)
        tally = self.tallies.setdefault(cls, Tally())
        tally.nights += 1
        if outcome.error:
            tally.failed += 1
            self._report(Problem("error", self.scenario, self.night, cls, detail=outcome.error))
            for change_url in sorted(set(expected)):
                self._miss(tally, cls, change_url, "no run to read")
            return
        self.last_run = outcome.run["id"]
        if outcome.note:
            self._report(Problem("note", self.scenario, self.night, cls, detail=outcome.note))
        self._score(tally, cls, set(expected), outcome.changes)

    def _score(self, tally: Tally, cls: str, expected: set, changes: list[dict]) -> None:
        reported = Counter((c.get("url", ""), c.get("change", "")) for c in changes)
        summaries = {(c.get("url", ""), c.get("change", "")): c.get("summary") for c in changes}
        kinds_of = {}
        for url, change in reported:
            kinds_of.setdefault(url, []).append(change)
        for pair, count in sorted(reported.items()):
            url, change = pair
            extra = count
            if pair in expected:
                tally.true += 1
                extra -= 1
            for _ in range(extra):
                tally.false_alarms += 1
                detail = "reported again" if pair in expected else brief(summaries[pair])
                self._report(Problem("false alarm", self.scenario, self.night, cls, change, url, detail))
        for pair in sorted(expected - reported.keys()):
            other = kinds_of.get(pair[0])
            self._miss(tally, cls, pair, f"reported as {', '.join(other)}" if other else "")

    def _miss(self, tally: Tally, cls: str, pair: tuple[str, str], detail: str) -> None:
        tally.missed += 1
        url, change = pair
        self._report(Problem("missed", self.scenario, self.night, cls, change, url, detail))

    def _report(self, problem: Problem) -> None:
        self.problems.append(problem)
        self.log(f"  {problem}")


# --- the scenarios --------------------------------------------------------------------------

FIGURE_SENTENCE = "The council set aside $1.2 million for the program's second phase."
DATE_SENTENCE = "The council will vote on expanding it on March 3, 2026."


def widgets(flavour: str):
    def run(n: Nights, quick: bool) -> None:
        n.baseline()
        n.switch(widgets=flavour)
        for _ in range(1 if quick else 3):
            n.crawl(f"widgets-{flavour}")
    return run


def figure_edit_on_counters(n: Nights, quick: bool) -> None:
    article = n.articles()[1]
    n.append(article, FIGURE_SENTENCE)
    n.baseline()
    n.switch(counters=True)
    for _ in range(1 if quick else 2):
        n.crawl("counters")
    n.site.edit_article(article.slug, "$1.2 million", "$1.3 million")
    n.crawl("figure-edit", {(n.article_url(article), "changed")})


def date_correction_on_relative_dates(n: Nights, quick: bool) -> None:
    article = n.articles()[2]
    n.append(article, DATE_SENTENCE)
    n.switch(relative_dates=True)  # the site shows relative dates all along: each night they are a day older
    n.baseline()
    for _ in range(1 if quick else 2):
        n.crawl("relative-dates")
    n.site.edit_article(article.slug, "March 3, 2026", "March 10, 2026")
    n.crawl("date-correction", {(n.article_url(article), "changed")})


def date_format(n: Nights, quick: bool) -> None:
    n.baseline()
    n.switch(date_format="%b %-d, %Y")
    for _ in range(1 if quick else 2):
        n.crawl("date-format")


def accent_on_unicode_nfd(n: Nights, quick: bool) -> None:
    article = n.articles()[3]
    n.site.set_title(article.slug, "Q&A with Tomas Reyes: " + article.title)
    n.baseline()
    n.switch(unicode_form="NFD", nbsp=True)
    for _ in range(1 if quick else 2):
        n.crawl("unicode-nfd-nbsp")
    n.site.set_title(article.slug, article.title.replace("Tomas", "Tomás", 1))
    n.crawl("title-accent", n.listed(article))
    if not quick:
        n.switch(unicode_form="NFC", nbsp=False)
        n.crawl("unicode-nfd-nbsp")


def curly_quotes(n: Nights, quick: bool) -> None:
    n.call("quote_text", n.articles()[1].slug)  # a real edit, before the baseline
    n.baseline()
    n.switch(curly_quotes=True)
    for _ in range(1 if quick else 2):
        n.crawl("curly-quotes")


def ab_test_and_winner(n: Nights, quick: bool) -> None:
    article = n.articles()[2]
    n.baseline()
    n.switch(ab_test={article.slug: "Inside the Numbers: " + article.title})
    for _ in range(1 if quick else 3):
        n.crawl("ab-test")
    n.call("end_ab_test", article.slug, winner="B")
    n.crawl("ab-winner", n.listed(article))
    if not quick:
        n.crawl("ab-winner")  # the winner stays: nothing new


def maintenance(n: Nights, quick: bool) -> None:
    n.baseline()
    n.switch(maintenance=True)
    n.crawl("maintenance")
    n.switch(maintenance=False)
    n.crawl("maintenance")


def soft_404_removal(n: Nights, quick: bool) -> None:
    article = n.articles()[4]
    n.baseline()
    n.switch(soft_404=True)
    if not quick:
        n.crawl("soft-404-removal")  # soft 404s on, nothing missing yet
    n.site.unpublish(article.slug)
    n.crawl("soft-404-removal", n.listed(article, "removed"))
    if not quick:
        n.crawl("soft-404-removal")  # gone stays gone: not reported again


def summary_edit(n: Nights, quick: bool) -> None:
    article = n.articles()[3]
    n.baseline()
    n.call("set_summary", article.slug, "How one city turned a spreadsheet of complaints into a repair plan.")
    n.crawl("summary-edit", {(n.hub, "changed")})


def pin(n: Nights, quick: bool) -> None:
    article = n.articles()[6]  # on the hub's second page until pinned
    n.baseline()
    n.call("pin", article.slug)
    n.crawl("pin", {(n.hub, "changed")})


def moved_301(n: Nights, quick: bool) -> None:
    """What the archive reports today for a page moved with a 301: the new address added, the
    pages listing it (hub, author's page) changed, the old one silent (a 3xx is neither a change
    nor a removal; the README's table of changes)."""
    article = n.articles()[3]
    new_slug = article.slug + "-2026"
    n.baseline()
    n.call("move_article", article.slug, new_slug)
    moved = n.site.article(new_slug)
    n.crawl("moved-301", {(n.article_url(moved), "added"), (n.hub, "changed"),
                          (n.person_url(moved.author), "changed")})
    if not quick:
        n.crawl("moved-301")  # the old address keeps redirecting: nothing new


def same_size_pdf(site: DemoSite) -> bytes:
    """The annual report's PDF with "2026" in its text replaced by "2027": other bytes, same size."""
    _, old = site.documents[PDF_PATH]
    new = old.replace(b"Report 2026)", b"Report 2027)", 1)
    if new == old:
        raise ScenarioFailed(f"no 'Report 2026)' in {PDF_PATH} to replace")
    return new


def pdf_same_size(n: Nights, quick: bool) -> None:
    n.baseline()
    n.site.update_document(PDF_PATH, same_size_pdf(n.site))
    n.crawl("pdf-same-size", {(n.url(PDF_PATH), "changed")})


def mixed(n: Nights, quick: bool) -> None:
    """Eight nights with every behaviour on and varying, and real edits among them."""
    arts = n.articles()
    figure, quoted, tested, summarised, removed, accented, dated = arts[1:8]
    n.append(figure, FIGURE_SENTENCE)
    n.append(dated, DATE_SENTENCE)
    n.call("quote_text", quoted.slug)
    n.site.set_title(accented.slug, "Q&A with Renee Okafor: " + accented.title)
    n.switch(relative_dates=True)  # relative dates all along, a day older each night
    n.baseline()
    # 1: widgets, counters, soft 404s and an A/B test arrive; the PDF is replaced, same size
    n.switch(widgets="drupal", counters=True, soft_404=True,
             ab_test={tested.slug: "Inside the Numbers: " + tested.title})
    n.site.update_document(PDF_PATH, same_size_pdf(n.site))
    n.crawl("mixed", {(n.url(PDF_PATH), "changed")})
    # 2: a figure corrected
    n.site.edit_article(figure.slug, "$1.2 million", "$1.3 million")
    n.crawl("mixed", {(n.article_url(figure), "changed")})
    # 3: decomposed Unicode, no-break spaces, curly quotes; an article published
    n.switch(unicode_form="NFD", nbsp=True, curly_quotes=True)
    new = n.site.publish_article("Syracuse Maps Its Lead Service Lines",
                                 ["Syracuse mapped every lead service line in the city using permit records.",
                                  "Residents can look up their address before crews arrive."], author=figure.author)
    n.crawl("mixed", {(n.article_url(new), "added"), (n.hub, "changed"), (n.person_url(new.author), "changed")})
    # 4: a theme update (plain widget boxes); a date corrected, a summary edited
    n.switch(widgets="plain")
    n.site.edit_article(dated.slug, "March 3, 2026", "March 10, 2026")
    n.call("set_summary", summarised.slug, "A short summary, rewritten by the editors for the hub.")
    n.crawl("mixed", {(n.article_url(dated), "changed"), (n.hub, "changed")})
    # 5: the A/B test ends, B wins; composed Unicode and plain spaces again
    n.call("end_ab_test", tested.slug, winner="B")
    n.switch(unicode_form="NFC", nbsp=False)
    n.crawl("mixed", n.listed(tested))
    # 6: an article unpublished (a soft 404); an accent added to a name in a title
    n.site.unpublish(removed.slug)
    n.site.set_title(accented.slug, accented.title.replace("Renee", "Renée", 1))
    n.crawl("mixed", n.listed(removed, "removed") | n.listed(accented))
    # 7: maintenance; 8: recovery
    n.switch(maintenance=True)
    n.crawl("mixed")
    n.switch(maintenance=False)
    n.crawl("mixed")


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Nights, bool], None]
    needs: tuple[str, ...] = ()  # demo-site attributes it cannot run without
    quick: bool = False  # part of --quick (and of tests/test_signal.py)


SCENARIOS = {s.name: s for s in [
    Scenario("widgets-drupal", widgets("drupal"), ("widgets",), quick=True),
    Scenario("widgets-plain", widgets("plain"), ("widgets",)),
    Scenario("counters+figure-edit", figure_edit_on_counters, ("counters",)),
    Scenario("relative-dates+date-correction", date_correction_on_relative_dates, ("relative_dates",), quick=True),
    Scenario("date-format", date_format, ("date_format",)),
    Scenario("unicode-nfd-nbsp+title-accent", accent_on_unicode_nfd, ("unicode_form", "nbsp"), quick=True),
    Scenario("curly-quotes", curly_quotes, ("curly_quotes", "quote_text")),
    Scenario("ab-test+ab-winner", ab_test_and_winner, ("ab_test", "end_ab_test")),
    Scenario("maintenance", maintenance, ("maintenance",), quick=True),
    Scenario("soft-404-removal", soft_404_removal, ("soft_404",)),
    Scenario("summary-edit", summary_edit, ("set_summary",)),
    Scenario("pin", pin, ("pin",)),
    Scenario("moved-301", moved_301, ("move_article",)),
    Scenario("pdf-same-size", pdf_same_size),
    Scenario("mixed", mixed, ("widgets", "counters", "relative_dates", "soft_404", "ab_test", "end_ab_test",
                              "date_format", "unicode_form", "nbsp", "curly_quotes", "quote_text", "set_summary",
                              "maintenance")),
]}


# --- running and reporting ---------------------------------------------------------------------

def make_site(seed: int) -> DemoSite:
    """Ten articles, four a hub page, the special pages (windows-1252, broken markup, a dataset
    inventory). The inventory is 30 kB instead of the 3.5 MB of the size-cap tests: at that size
    each night its widgets or counters change adds about ten seconds to a crawl."""
    return DemoSite(n_articles=10, per_page=4, seed=seed, oversized_bytes=30_000)


def run_scenario(scenario: Scenario, seed: int, quick: bool, workdir, log: Callable[[str], None] = print
                 ) -> ScenarioResult:
    """Run one scenario into ``workdir/NAME.db`` (replaced if there); never raises for what the site or crawl does."""
    started = time.monotonic()
    result = ScenarioResult(scenario.name)
    site = make_site(seed)
    missing = [name for name in ("next_night", *scenario.needs) if not hasattr(site, name)]
    if missing:
        result.skipped = f"the demo site has no {', '.join(missing)}"
        return result
    db = Path(workdir) / f"{scenario.name}.db"
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    with DemoServer(site) as server:
        nights = Nights(scenario.name, site, server.url, str(db), log)
        try:
            scenario.run(nights, quick)
        except ScenarioFailed as exc:
            result.error = f"stopped at night {nights.night}: {exc}"
        except Exception as exc:  # a scenario that breaks is reported, and the others still run
            result.error = f"stopped at night {nights.night}: {type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
    result.tallies, result.problems = nights.tallies, nights.problems
    result.seconds = time.monotonic() - started
    return result


def run_all(names, seed: int, quick: bool, workdir, log: Callable[[str], None] = print) -> list[ScenarioResult]:
    results = []
    for index, name in enumerate(SCENARIOS):
        if name not in names:
            continue
        result = run_scenario(SCENARIOS[name], seed + index, quick, workdir, log)
        log(scenario_line(result))
        results.append(result)
    return results


def scenario_line(result: ScenarioResult) -> str:
    if result.skipped:
        return f"{result.name:<32} skipped: {result.skipped}"
    total = result.total
    line = (f"{result.name:<32} {total.nights} night(s), {total.true} true, {total.false_alarms} false alarm(s), "
            f"{total.missed} missed{f', {total.failed} failed' if total.failed else ''}  ({result.seconds:.1f} s)")
    return line + (f"\n{'':<32} FAILED {result.error}" if result.error else "")


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(results: list[ScenarioResult]) -> str:
    """Per class (in CLASSES order) and in total: nights, true, false alarms, missed, precision, recall."""
    by_class: dict[str, Tally] = {}
    for result in results:
        for cls, tally in result.tallies.items():
            by_class.setdefault(cls, Tally()).add(tally)
    total = Tally()
    def row(name: str, kind: str, t: Tally) -> str:
        return (f"{name:<20} {kind:<12} {t.nights:>6} {t.true:>5} {t.false_alarms:>12} {t.missed:>6} "
                f"{ratio(t.precision):>9} {ratio(t.recall):>6} {t.failed:>6}")

    lines = [f"{'class':<20} {'kind':<12} {'nights':>6} {'true':>5} {'false-alarms':>12} {'missed':>6} "
             f"{'precision':>9} {'recall':>6} {'failed':>6}"]
    for cls, (kind, _) in CLASSES.items():
        if cls in by_class:
            total.add(by_class[cls])
            lines.append(row(cls, kind, by_class[cls]))
    lines.append(row("TOTAL", "", total))
    lines.append(f"overall: precision {ratio(total.precision)} recall {ratio(total.recall)}  "
                 f"({total.true} true, {total.false_alarms} false alarms, {total.missed} missed "
                 f"over {total.nights} nights; {total.failed} failed)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="classes:\n" + "\n".join(f"  {c:<18} {k:<12} {d}"
                                                                    for c, (k, d) in CLASSES.items()))
    parser.add_argument("--quick", action="store_true", help="a reduced set, fewer nights (about 30 s)")
    parser.add_argument("--seed", type=int, default=0, help="the first scenario's site seed (default 0)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(SCENARIOS),
                        help="run only these scenarios: " + ", ".join(SCENARIOS))
    parser.add_argument("--keep", metavar="DIR", help="keep each scenario's archive as DIR/NAME.db")
    args = parser.parse_args(argv)
    names = args.only or [name for name, s in SCENARIOS.items() if s.quick or not args.quick]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wwc-signal-") as scratch:
        workdir = args.keep or scratch
        os.makedirs(workdir, exist_ok=True)
        results = run_all(names, args.seed, args.quick, workdir, log=lambda line: print(line, flush=True))
    print()
    print(table(results))
    failed = [r for r in results if r.error or r.skipped]
    for result in failed:
        print(f"{result.name}: {result.error or 'skipped: ' + result.skipped}")
    print(f"{len(results)} scenario(s) in {time.monotonic() - started:.0f} s")
    bad = any(r.total.false_alarms or r.total.missed or r.total.failed for r in results)
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
