"""Page requisites: found in pages and stylesheets, captured once by digest, re-validated, within the limits,
exported to WARC/WACZ and replayed by pywb with the page's styling and images."""

import os
import sqlite3

import pytest
from wwc_archive.crawler.requisites import css_requisites, page_requisites

from tests.cdp import CHROMIUM, Browser
from tests.conftest import FAST, run_cli
from tests.helpers import pywb_serving
from wwc_archive.demo_site import DemoServer, DemoSite, theme

PRIVATE = "/sites/default/files/private/secret.png"
BIG = "/themes/custom/datasmart/images/big.png"
OFFSITE = "/themes/custom/datasmart/images/offsite.png"
IMAGE_CAP = 20000

# Finding them ---------------------------------------------------------------------------

PAGE = """<html><head><base href="http://site.test/sub/">
<link rel="stylesheet" href="a.css?v=1"><link rel=icon href="/favicon.ico"><link rel="canonical" href="/x">
<link rel="preload" as="font" href="/f.woff2"><link rel="preconnect" href="https://cdn.test">
<script src="/js/app.js"></script><style>.x{background:url('bg.png')}</style></head>
<body><img src="i.jpg?itok=abc" srcset="i-2x.jpg 2x, i-3x.jpg 3x"><img src="data:image/png;base64,AA">
<picture><source srcset="p.webp 1x"></picture><div style="background-image:url(&quot;d.gif&quot;)"></div>
<a href="/page">not a requisite</a></body></html>"""


@pytest.mark.parametrize("url, kind", [
    ("http://site.test/sub/a.css?v=1", "stylesheet"),
    ("http://site.test/favicon.ico", "icon"),
    ("http://site.test/f.woff2", "font"),
    ("http://site.test/js/app.js", "script"),
    ("http://site.test/sub/bg.png", "image"),
    ("http://site.test/sub/i.jpg?itok=abc", "image"),
    ("http://site.test/sub/i-3x.jpg", "image"),
    ("http://site.test/sub/p.webp", "image"),
    ("http://site.test/sub/d.gif", "image"),
], ids=lambda value: value.rsplit("/", 1)[-1] if "/" in value else value)
def test_a_page_refers_to(url, kind):
    assert (url, kind) in [(r.url, r.kind) for r in page_requisites(PAGE, "http://site.test/sub/page")]


def test_links_canonical_preconnect_and_data_urls_are_not_requisites():
    urls = [r.url for r in page_requisites(PAGE, "http://site.test/sub/page")]
    assert not any(u.endswith(("/x", "/page")) or u.startswith(("data:", "https://cdn.test")) for u in urls)


def test_a_stylesheet_refers_to_imports_fonts_and_images():
    css = '@import "t.css"; @import url(print.css) print; /* url(no.png) */ ' \
          '@font-face{src:url("../f/x.woff2") format("woff2")} .a{background:url(data:x)} .b{background:url(b.svg)}'
    found = {(r.url, r.kind) for r in css_requisites(css, "http://s.test/css/main.css")}
    assert found == {("http://s.test/css/t.css", "stylesheet"), ("http://s.test/css/print.css", "stylesheet"),
                     ("http://s.test/f/x.woff2", "font"), ("http://s.test/css/b.svg", "image")}


# Capturing them -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """The demo site crawled three nights: the first captures, the second re-validates every requisite
    (``requisites_max_age`` 0: all 304), the third (the default week) asks for none.

    Its imported stylesheet also refers to an image robots.txt forbids, one over the image cap and one on
    another host (``localhost``: the same server under another origin)."""
    site = DemoSite(n_articles=8, per_page=3, seed=1)
    site.robots_disallow.append("/sites/default/files/private/")
    path = str(tmp_path_factory.mktemp("requisites") / "archive.db")
    files = theme.files()
    saved = dict(files)
    with DemoServer(site) as server:
        port = server.url.rsplit(":", 1)[1]
        files[theme.TYPOGRAPHY_PATH] = ("text/css", theme.TYPOGRAPHY + (
            f".p1{{background:url({PRIVATE})}}.p2{{background:url({BIG})}}"
            f".p3{{background:url(http://localhost:{port}{OFFSITE})}}\n").encode())
        files[PRIVATE] = files[OFFSITE] = ("image/png", theme.png(4, 4, (0, 0, 0)))
        files[BIG] = ("image/png", os.urandom(IMAGE_CAP * 2))
        requests, sizes = [], []
        try:
            for extra in (("-s", "WWC_REQUISITES_MAX_AGE=0"), ("-s", "WWC_REQUISITES_MAX_AGE=0"), ()):
                before = len(server.requests)
                run_cli("crawl", "--db", path, "--start-url", server.url + site.hub_path, *FAST,
                        "-s", f"WWC_REQUISITES_MAX_IMAGE_BYTES={IMAGE_CAP}", *extra, check=True)
                requests.append(list(server.requests)[before:])
                with sqlite3.connect(path) as conn:
                    sizes.append(conn.execute("select count(*), coalesce(sum(length(data)), 0) from bodies "
                                              "where id in (select body_id from asset_captures)").fetchone())
            yield {"path": path, "site": site, "url": server.url, "requests": requests, "sizes": sizes,
                   "live": {p: files[p][1] for p in files}}
        finally:
            files.clear()
            files.update(saved)


def asset_paths(requests):
    return [r.path.split("?")[0] for r in requests if r.path.startswith(("/themes/", "/core/", "/sites/default/files/"))
            and not r.path.endswith((".pdf", ".docx"))]


def test_every_requisite_is_captured_once_by_digest_with_its_exact_bytes(nights):
    conn = sqlite3.connect(nights["path"])
    rows = conn.execute("select a.url, c.body_id, b.sha256, b.size from assets a join asset_captures c "
                        "on c.id = a.last_capture join bodies b on b.id = c.body_id").fetchall()
    urls = {url.removeprefix(nights["url"]) for url, *_ in rows}
    assert {theme.FONT_PATH, theme.BACKGROUND_PATH, theme.LOGO_PATH, theme.ICON_PATH, theme.TYPOGRAPHY_PATH,
            "/core/misc/drupal.js"} <= urls
    assert not any("?" in url for url in urls), "itok, v and t are dropped: one asset per image"
    jpegs = {body_id for url, body_id, *_ in rows if url.endswith(".jpg")}
    assert len([url for url, *_ in rows if url.endswith(".jpg")]) > 5 and len(jpegs) == 1, "same bytes, one body"
    from sqlite_utils import Database
    from wwc_archive.archive import queries

    db = Database(conn)
    font_body = next(body_id for url, body_id, *_ in rows if url.endswith(theme.FONT_PATH))
    assert queries.body_bytes(db, font_body) == theme.font()
    assert conn.execute("select count(*) from asset_captures").fetchone()[0] == len(rows)


def test_requisites_are_never_pages_or_changes(nights):
    conn = sqlite3.connect(nights["path"])
    assert not conn.execute("select count(*) from pages where url like '%/themes/%' or url like '%.jpg' "
                            "or url like '%.css' or url like '%.js'").fetchone()[0]
    runs = conn.execute("select pages_checked, added, changed from runs order by id").fetchall()
    assert runs[0][0] == runs[1][0] == runs[2][0] and runs[1][1:] == runs[2][1:] == (0, 0)


def test_a_second_night_revalidates_with_304s_and_stores_nothing(nights):
    second = [r for r in nights["requests"][1] if r.path.split("?")[0] in asset_paths(nights["requests"][1])]
    assert second and all(r.status == 304 for r in second if not r.path.startswith(BIG))
    assert all(r.headers.get("If-None-Match") for r in second if r.status == 304)
    assert nights["sizes"][0] == nights["sizes"][1] == nights["sizes"][2]
    conn = sqlite3.connect(nights["path"])
    assert conn.execute("select count(*) from asset_captures where run_id > 1").fetchone()[0] == 0


def test_within_requisites_max_age_nothing_is_asked_again(nights):
    assert asset_paths(nights["requests"][2]) == []


def test_robots_txt_the_image_cap_and_other_hosts_are_respected(nights):
    first = nights["requests"][0]
    assert PRIVATE not in asset_paths(first), "robots.txt forbids it"
    assert not any(r.path.startswith(OFFSITE) for r in first), "another host: off by default"
    conn = sqlite3.connect(nights["path"])
    big = conn.execute("select last_capture, last_error from assets where url like ?", [f"%{BIG}"]).fetchone()
    assert big[0] is None and "max size" in big[1], "over requisites_max_image_bytes: not stored"
    private = conn.execute("select last_capture, last_error from assets where url like ?",
                           [f"%{PRIVATE}"]).fetchone()
    assert private[0] is None and "robots.txt" in private[1]


# Exporting and replaying them ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pywb(nights, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    run_cli("export-warc", "--db", nights["path"], "--all", "--output", out / "demo", check=True)
    root = tmp_path_factory.mktemp("pywb")
    with pywb_serving(root, "--unpack-wacz", "wwc", out / "demo.wacz", config='framed_replay: false\n') as base:  # the page, not pywb's frame
        yield base


RENDERING = """(async () => {
  await document.fonts.ready;
  const body = getComputedStyle(document.body), h1 = document.querySelector("h1");
  const images = [...document.images].map(i => [i.getAttribute("class") || i.getAttribute("alt"), i.naturalWidth]);
  return {background: body.backgroundColor, image: body.backgroundImage !== "none", font: body.fontFamily,
          heading: h1 && getComputedStyle(h1).color, images: images, loaded: [...document.fonts]
          .filter(f => f.status === "loaded").map(f => f.family.replace(/"/g, ""))};
})()"""


def test_the_wacz_replays_in_pywb_styled_and_with_its_images(nights, pywb, tmp_path):
    assert os.path.exists(CHROMIUM), "needs Debian's chromium: apt-get install chromium"
    hub = nights["url"] + nights["site"].hub_path
    conn = sqlite3.connect(nights["path"])
    fetched = conn.execute("select max(fetched_at) from snapshots").fetchone()[0]
    timestamp = "".join(ch for ch in fetched if ch.isdigit())
    browser = Browser(tmp_path / "profile", "--window-size=1200,6000")
    try:
        # The live demo site, as the crawl saw it (the stylesheet's probes left out: none is drawn).
        with DemoServer(DemoSite(n_articles=8, per_page=3, seed=1)) as live:
            expected = browser.evaluate(browser.open(live.url + nights["site"].hub_path), RENDERING)
        replayed = browser.evaluate(browser.open(f"{pywb}/wwc/{timestamp}/{hub}"), RENDERING)
    finally:
        browser.close()
    assert expected["background"] == theme.BACKGROUND_COLOR and expected["image"]
    assert theme.FONT_FAMILY in expected["loaded"]
    for key in ("background", "image", "font", "heading", "loaded"):
        assert replayed[key] == expected[key], key
    assert [width for _, width in replayed["images"]] == [width for _, width in expected["images"]]
    assert all(width > 0 for _, width in replayed["images"]), "every image loaded from the archive"


def test_a_report_counts_the_assets_a_run_captured_apart_from_its_changes(nights):
    conn = sqlite3.connect(nights["path"])
    captured = conn.execute("select count(*) from asset_captures where run_id = 1").fetchone()[0]
    first = run_cli("report", "--db", nights["path"], "--run", "1", "--format", "text", check=True).stdout
    assert f"Requisites:     {captured} assets updated" in first
    for run in ("2", "3"):  # re-validated or not asked: nothing new, nothing said
        assert "assets updated" not in run_cli("report", "--db", nights["path"], "--run", run, check=True).stdout
    since = run_cli("report", "--db", nights["path"], "--since", "2000-01-01", "--format", "markdown",
                    check=True).stdout
    assert f"{captured} assets updated." in since


@pytest.mark.parametrize("status", ["500", "503"])
def test_an_asset_that_answers_an_error_is_a_failed_check_and_the_next_night_captures_it(site, server, crawl, db_path,
                                                                                         status):
    site.fail(theme.LOGO_PATH, status)  # every try, retries too
    first = crawl()
    assert "Traceback" not in first.stderr and "NameError" not in first.stderr
    logo = "select a.last_error, a.last_capture from assets a where a.url = ?"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute(logo, [server.url + theme.LOGO_PATH]).fetchone() == (f"HTTP {status}", None)
    site.clear_failures()
    crawl("-s", "WWC_REQUISITES_MAX_AGE=0")
    with sqlite3.connect(db_path) as conn:
        error, capture = conn.execute(logo, [server.url + theme.LOGO_PATH]).fetchone()
    assert error is None and capture is not None
