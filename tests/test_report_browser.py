"""Reports as people open them: hostile pages stay text, nothing loads from the network,
and headless Chromium shows the report without running any script."""

import re
import shutil
import subprocess
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.reports.delivery import deliver
from wwc_archive.reports.feed import atom_feed
from wwc_archive.reports.render import render_report
from wwc_archive.reports.settings import ReportSettings

SCRIPT = "<script>document.title='pwned'</script>"
IMAGE = "<img src=x onerror=\"document.title='pwned'\">"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def hostile_archive(site, crawl, db_path):
    """A real crawl of an article whose title and text came to contain markup (as text)."""
    crawl()
    article = site.articles[1]
    site.set_title(article.slug, f"Budget {SCRIPT} review")
    phrase = " ".join(article.paragraphs[0].split()[2:5])
    site.edit_article(article.slug, phrase, f"{IMAGE} and {SCRIPT}")
    crawl()
    db = Database(db_path)
    versions = [queries.content_text(db, content_id) or "" for (content_id,) in db.execute("select id from contents")]
    text = " ".join(version for version in versions if "onerror" in version)
    assert text and IMAGE in text and SCRIPT in text, "the crawl should keep the markup as text"
    return db_path


def no_live_markup(doc):
    """No script, no embedded resources, no event handlers, no javascript: links."""
    assert doc.xpath("//script | //img | //iframe | //object | //embed | //link | //style") == []
    for element in doc.iter(lxml.etree.Element):
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{element.tag} has {name}"
            assert not value.strip().lower().startswith("javascript:")


def no_remote_loads(html: str):
    """Only <a> links point at other documents: nothing a mail client or browser would fetch."""
    doc = lxml.html.fromstring(html)
    for element in doc.iter(lxml.etree.Element):
        for name in ("src", "srcset", "background", "poster", "data", "action", "formaction"):
            assert element.get(name) is None, f"<{element.tag} {name}=...>"
        if element.get("href") is not None:
            assert element.tag == "a", f"<{element.tag} href=...>"
        assert "url(" not in (element.get("style") or "")
        assert "@import" not in (element.get("style") or "")
    assert doc.xpath("//script | //link | //style | //img | //iframe") == []
    assert doc.xpath("//meta[@name='viewport']"), "phones need a viewport"


def test_hostile_page_yields_an_escaped_report(hostile_archive):
    db = Database(hostile_archive)
    html = render_report(db, fmt="html")
    doc = lxml.html.fromstring(html)
    no_live_markup(doc)
    assert doc.findtext(".//title").startswith("Run 2")
    inserted = " ".join(ins.text_content() for ins in doc.iter("ins"))
    assert IMAGE in inserted and SCRIPT in inserted  # shown, as text
    markdown = render_report(db, fmt="markdown")
    assert re.search(r"(?<!\\)<", markdown) is None  # every "<" is backslash-escaped
    assert "\\<script\\>document.title='pwned'\\</script\\>" in markdown
    feed = lxml.etree.fromstring(atom_feed(db))
    for content in feed.iter("{http://www.w3.org/2005/Atom}content"):
        no_live_markup(lxml.html.fromstring(content.text))


def test_reports_and_index_load_nothing_from_the_network(edited_archive, tmp_path):
    settings = ReportSettings.from_config({"reports_dir": str(tmp_path), "archive_url": "http://127.0.0.1:8001"})
    result = deliver(Database(edited_archive.path), "latest", settings)
    assert not result.sent
    for path in (result.files["html"], result.index):
        no_remote_loads(Path(path).read_text())
    links = lxml.html.fromstring(Path(result.files["html"]).read_text()).xpath("//a/@href")
    assert links and all(href.startswith("http://127.0.0.1:") for href in links)


def test_chromium_shows_the_report_and_runs_no_script(hostile_archive, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(render_report(Database(hostile_archive), fmt="html"), encoding="utf-8")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,844", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    doc = lxml.html.fromstring(dom)
    assert doc.findtext(".//title").startswith("Run 2 (")  # a script would have set it to "pwned"
    assert doc.xpath("//script | //img") == []
    assert doc.xpath("string(//h1)") == "What changed on the archived pages"
    inserted = " ".join(ins.text_content() for ins in doc.iter("ins"))
    assert SCRIPT in inserted and IMAGE in inserted
