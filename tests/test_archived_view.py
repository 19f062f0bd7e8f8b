"""View as archived: a version rendered from the archive alone, its requisites as of that capture, nothing
live, no script; checked in-process with Datasette's client and in headless Chromium (every request logged)."""

import asyncio
import os
import sqlite3
from urllib.parse import quote, urlsplit

import pytest
from datasette.app import Datasette

from tests.cdp import CHROMIUM, Browser, net_log_requests, read_net_log
from tests.conftest import FAST, run_cli
from tests.test_serve_browser import serving
from wwc_archive.archive import Archive, Extracted, FetchRecord
from wwc_archive.demo_site import DemoServer, DemoSite, theme
from wwc_archive.reports.datasette.archived_view import rewrite_html

HOSTILE = """<!DOCTYPE html><html><head><title>Hostile</title>
<base href="http://evil.test/"><meta http-equiv="refresh" content="0; url=http://evil.test/refresh">
<link rel="stylesheet" href="http://evil.test/style.css"><link rel="preconnect" href="http://evil.test">
<script>fetch('/beacon/script')</script><script src="http://evil.test/x.js"></script>
<style>@import "http://evil.test/import.css"; body{background:url(http://evil.test/bg.png)}</style></head>
<body onload="fetch('/beacon/onload')"><p>archived words</p>
<img src="http://evil.test/pixel.png" onerror="fetch('/beacon/onerror')"><img src="/missing.png">
<iframe src="http://evil.test/frame"></iframe><object data="http://evil.test/o.swf"></object>
<svg><image href="http://evil.test/svg.png"/><script>fetch('/beacon/svg')</script></svg>
<form action="http://evil.test/post"><input type="image" src="http://evil.test/btn.png"></form>
<a href="javascript:fetch('/beacon/js')">js</a><a href="http://evil.test/away">away</a>
<div style="background:url('http://evil.test/div.png')">x</div><video poster="http://evil.test/p.png"></video>
</body></html>"""
HOSTILE_URL = "http://evil.test/page"


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    """The demo hub crawled once, and a hostile page archived beside it."""
    site = DemoSite(n_articles=4, per_page=3, seed=2)
    path = str(tmp_path_factory.mktemp("view") / "archive.db")
    with DemoServer(site) as server:
        run_cli("crawl", "--db", path, "--start-url", server.url + site.hub_path, *FAST, check=True)
        live = server.url
    archive = Archive(path)
    run_id = archive.start_run(["what-works-cities"])
    writer = archive.writer(run_id)
    writer.add(FetchRecord(url=HOSTILE_URL, program="what-works-cities", role="page",
                           fetched_at="2030-01-15T03:00:00Z", outcome="ok", http_status=200,
                           headers={"content-type": "text/html"}, body=HOSTILE.encode(), content_type="text/html",
                           extracted=Extracted(title="Hostile", text="archived words")))
    writer.flush()
    archive.finish_run(run_id, "complete")
    archive.close()
    conn = sqlite3.connect(path)
    ids = dict(conn.execute("select p.url, s.id from snapshots s join pages p on p.id = s.page_id "
                            "where s.body_id is not null").fetchall())
    return {"path": path, "live": live, "hub": ids[live + site.hub_path], "hostile": ids[HOSTILE_URL],
            "site": site}


def get(path, url):
    async def run():
        return await Datasette([path]).client.get(url)
    return asyncio.run(run())


def test_the_version_page_links_to_the_view(archived):
    assert f'/-/wwc/view/{archived["hub"]}"' in get(archived["path"], f'/-/wwc/snapshot/{archived["hub"]}').text


def test_the_framed_page_is_sandboxed_and_under_a_strict_policy(archived):
    frame = get(archived["path"], f'/-/wwc/view/{archived["hub"]}')
    assert 'sandbox="allow-top-navigation-by-user-activation"' in frame.text and "script-src 'none'" in \
        frame.headers["content-security-policy"]
    page = get(archived["path"], f'/-/wwc/view/{archived["hub"]}/page')
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'none'" in policy and "http" not in policy.replace(
        "http://localhost", "")
    assert archived["live"] not in page.text.replace(quote(archived["live"], safe=""), ""), "no live URL left"


def test_requisites_are_served_from_the_archive_and_missing_ones_are_404s(archived):
    view = f'/-/wwc/view/{archived["hub"]}/asset?url='
    font = get(archived["path"], view + quote(archived["live"] + theme.FONT_PATH, safe=""))
    assert font.status_code == 200 and font.content == theme.font()
    css = get(archived["path"], view + quote(archived["live"] + "/sites/default/files/css/x.css", safe=""))
    assert css.status_code == 404
    from wwc_archive.demo_site.pages import CSS_HREF

    sheet = get(archived["path"], view + quote(archived["live"] + CSS_HREF + "?v=abc", safe=""))
    assert sheet.status_code == 200 and f"/-/wwc/view/{archived['hub']}/asset?url=" in sheet.text
    assert "url(/themes" not in sheet.text


@pytest.mark.parametrize("needle", ["<script", "onload", "onerror", "http-equiv", "<iframe", "<object", "<base",
                                    "evil.test/style.css", "javascript:", "<form"])
def test_hostile_markup_is_removed(needle):
    assert needle not in rewrite_html(HOSTILE, HOSTILE_URL, 7)


def test_in_chromium_nothing_outside_the_server_is_requested_and_no_script_runs(archived, tmp_path):
    assert os.path.exists(CHROMIUM), "needs Debian's chromium: apt-get install chromium"
    log = tmp_path / "net.json"
    with serving(archived["path"]) as base:
        browser = Browser(tmp_path / "profile", f"--log-net-log={log}", "--window-size=1200,3000",
                          "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
        try:
            hub = browser.open(f"{base}/-/wwc/view/{archived['hub']}", settle=1)
            rendered = browser.evaluate(hub, """(async () => {
                const doc = document.querySelector("iframe");
                return {title: document.title, frame: doc.getAttribute("sandbox")};
            })()""")
            browser.open(f"{base}/-/wwc/view/{archived['hostile']}", settle=1.5)
        finally:
            browser.close()
    requests = net_log_requests(read_net_log(log))
    urls = [url for url, _ in requests]
    server = urlsplit(base).netloc
    assert not any(urlsplit(url).hostname == "evil.test" for url in urls), "asked the live web"
    # What the pages asked for: their initiator is the server's origin, or "null" for the sandboxed frame
    # (the browser's own requests, its clock and account checks, name none of these).
    by_pages = [(url, initiator) for url, initiator in requests if initiator in ("null", base)]
    assert by_pages and all(urlsplit(url).netloc == server for url, _ in by_pages), \
        [url for url, _ in by_pages if urlsplit(url).netloc != server]
    assert not any("/beacon/" in u for u in urls), "a script or an event handler ran"
    assert any(f"/-/wwc/view/{archived['hub']}/asset" in u and "datasmart-sans" in u for u in urls)
    assert rendered["frame"] == "allow-top-navigation-by-user-activation"
