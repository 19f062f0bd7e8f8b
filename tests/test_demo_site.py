"""Tests of the bundled fake Data-Smart City Solutions site (real server on 127.0.0.1)."""

import gzip
import http.client
import socket
import threading
import time
import urllib.error
import urllib.request

import lxml.html
import pytest

from wwc_archive.demo_site import DemoServer, DemoSite


@pytest.fixture
def site():
    return DemoSite(n_articles=12, n_people=4, per_page=5, seed=0, timeout_delay=0.5,
                    oversized_bytes=3_200_000)


@pytest.fixture
def server(site):
    with DemoServer(site) as srv:
        yield srv


def get(server, path, headers=None):
    """(status, headers, body) without raising on HTTP errors."""
    req = urllib.request.Request(server.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def main_text(body, encoding="utf-8"):
    doc = lxml.html.document_fromstring(body.decode(encoding))
    return doc.xpath("//main")[0].text_content()


def teaser_links(body):
    doc = lxml.html.document_fromstring(body)
    return doc.xpath('//article[contains(@class, "node--view-mode-teaser")]//h3/a/@href')


def next_link(body):
    doc = lxml.html.document_fromstring(body)
    return doc.xpath('//ul[contains(@class, "js-pager__items")]//a[@rel="next"]/@href')


def test_hub_lists_newest_first_and_pages(site, server):
    seen, path = [], site.hub_path
    for page_no in range(10):
        status, headers, body = get(server, path)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=UTF-8"
        assert "ETag" not in headers and headers["X-Generator"].startswith("Drupal 10")
        seen += teaser_links(body)
        nxt = next_link(body)
        if not nxt:
            break
        assert nxt == [f"?page={page_no + 1}"]
        path = site.hub_path + nxt[0]
    listed = site.published()
    assert len(listed) == 15 and page_no == 2  # 12 articles + 3 special pages, 5 per page
    assert seen == [site.article_path(a) for a in listed]
    dates = [(a.published, a.id) for a in listed]
    assert dates == sorted(dates, reverse=True)
    assert {site.oversized_path, site.encoding_path, site.malformed_path} <= set(seen)
    assert any(p.startswith("/news/article/") for p in seen) and any(p.count("/") == 1 for p in seen)


def test_noise_changes_bytes_not_main_text(site, server):
    path = site.article_path(site.articles[0])
    bodies = [get(server, path)[2] for _ in range(3)]
    assert len(set(bodies)) == 3
    assert len({main_text(b) for b in bodies}) == 1
    hubs = [get(server, site.hub_path)[2] for _ in range(2)]
    assert hubs[0] != hubs[1] and main_text(hubs[0]) == main_text(hubs[1])
    assert b"js-view-dom-id-" in hubs[0] and b'name="form_build_id"' in hubs[0]


def test_noise_off_is_byte_identical(server):
    server.site.noise = False
    path = server.site.article_path(server.site.articles[1])
    assert get(server, path)[2] == get(server, path)[2]


def test_article_markup(site, server):
    a = site.articles[0]
    status, headers, body = get(server, site.article_path(a))
    doc = lxml.html.document_fromstring(body)
    assert doc.xpath('string(//h1[@class="page-title"])') == a.title
    assert doc.xpath('//meta[@property="og:title"]/@content') == [a.title]
    assert doc.xpath('//div[contains(@class,"field--name-field-author")]//a/@href') == [f"/people/{a.author}"]
    assert doc.xpath('//div[contains(@class,"field--name-field-date")]/time/@datetime') == [
        f"{a.published.isoformat()}T12:00:00Z"]
    body_div = doc.xpath('//div[contains(@class,"field--name-body")]')[0]
    assert body_div.text_content().strip() == "\n".join(a.paragraphs)
    links = body_div.xpath(".//a/@href")
    assert "/sites/default/files/2026-11/wwc-annual-report.pdf" in links
    status, headers, pdf = get(server, "/sites/default/files/2026-11/wwc-annual-report.pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and headers["ETag"]
    pdf_path = "/sites/default/files/2026-11/wwc-annual-report.pdf"
    assert get(server, pdf_path, {"If-None-Match": headers["ETag"]})[0] == 304
    site.update_document(pdf_path, pdf.replace(b"2026", b"2027"))
    status, h2, _ = get(server, pdf_path, {"If-None-Match": headers["ETag"]})
    assert status == 200 and h2["ETag"] != headers["ETag"]


def test_edit_changes_text_and_etag(site, server):
    a = site.articles[2]
    path = site.article_path(a)
    _, h1, b1 = get(server, path)
    phrase = a.paragraphs[1].split(".")[0]
    site.edit_article(a.slug, phrase, "The council rewrote the whole plan")
    _, h2, b2 = get(server, path)
    assert h1["ETag"] != h2["ETag"] and h1["Last-Modified"] != h2["Last-Modified"]
    assert "The council rewrote the whole plan" in main_text(b2)
    assert phrase not in main_text(b2)
    with pytest.raises(ValueError):
        site.edit_article(a.slug, "no such phrase anywhere", "x")
    with pytest.raises(KeyError):
        site.edit_article("no-such-article", "a", "b")
    site.set_title(a.slug, "A Brand New Title")
    _, h3, b3 = get(server, path)
    assert h3["ETag"] != h2["ETag"] and "A Brand New Title" in main_text(b3)


def test_conditional_requests(site, server):
    path = site.article_path(site.articles[3])
    _, h, _ = get(server, path)
    status, h304, body = get(server, path, {"If-None-Match": h["ETag"]})
    assert status == 304 and body == b"" and h304["ETag"] == h["ETag"]
    assert get(server, path, {"If-Modified-Since": h["Last-Modified"]})[0] == 304
    assert get(server, path, {"If-None-Match": '"stale"'})[0] == 200
    assert get(server, path, {"If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT"})[0] == 200
    site.edit_article(site.articles[3].slug, site.articles[3].paragraphs[0][:20], "Edited")
    assert get(server, path, {"If-None-Match": h["ETag"]})[0] == 200
    assert get(server, path, {"If-Modified-Since": h["Last-Modified"]})[0] == 200


def test_publish_and_unpublish(site, server):
    new = site.publish_article("Brand New Civic Data Story", ["Fresh text about open data."])
    _, _, hub = get(server, site.hub_path)
    assert teaser_links(hub)[0] == site.article_path(new) == f"/news/article/{new.slug}-{new.id}"
    assert get(server, site.article_path(new))[0] == 200
    gone, removed = site.articles[0], site.articles[1]
    site.unpublish(gone.slug)
    site.unpublish(removed.slug, status=410)
    assert get(server, site.article_path(gone))[0] == 404
    status, _, body = get(server, site.article_path(removed))
    assert status == 410 and b"<main" in body
    listed = []
    for page_no in range(site.hub_page_count):
        listed += teaser_links(get(server, f"{site.hub_path}?page={page_no}")[2])
    assert site.article_path(gone) not in listed and site.article_path(removed) not in listed
    assert len(listed) == 12 + 3 + 1 - 2


def test_fail_modes(site, server):
    path = site.article_path(site.articles[0])
    site.fail(path, "503", times=2)
    assert [get(server, path)[0] for _ in range(3)] == [503, 503, 200]
    site.fail(path, "404")
    assert [get(server, path)[0] for _ in range(2)] == [404, 404]
    site.fail(path, "500", times=1)
    assert get(server, path)[0] == 500
    site.clear_failures()
    assert get(server, path)[0] == 200
    with pytest.raises(ValueError):
        site.fail(path, "418")


def test_reset_and_timeout_modes(site, server):
    path = site.article_path(site.articles[1])
    site.fail(path, "reset", times=1)
    with pytest.raises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
        get(server, path)
    assert get(server, path)[0] == 200
    site.fail(path, "timeout", times=1)
    with pytest.raises((socket.timeout, TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(server.url + path, timeout=0.2)
    # The sleeping request does not block others: they are answered long before it wakes.
    start = time.monotonic()
    assert get(server, site.hub_path)[0] == 200
    assert time.monotonic() - start < site.timeout_delay / 2
    assert [r.status for r in server.requests if r.path == path][:2] == [0, 200]


def test_damaged_body_modes(site, server):
    path = site.article_path(site.articles[0])
    etag = site.etag(site.articles[0])
    site.fail(path, "truncate", times=1)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", path, headers={"If-None-Match": etag})  # no 304: the body is the fault
    response = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    connection.close()
    site.fail(path, "oversized", times=1)
    status, _, body = get(server, path)
    assert status == 200 and len(body) > site.fault_bytes and body.endswith(b"-->")
    site.fail(path, "gzip-oversized", times=1)
    raw = urllib.request.urlopen(urllib.request.Request(server.url + path, headers={"Accept-Encoding": "gzip"}))
    wire = raw.read()
    assert raw.headers["Content-Encoding"] == "gzip" and len(wire) < site.fault_bytes / 20
    assert len(gzip.decompress(wire)) > site.fault_bytes
    assert get(server, path)[0] == 200


def test_redirect_loop_mode(site, server):
    path = site.article_path(site.articles[0])
    site.fail(path, "redirect-loop")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 301 and response.getheader("Location") == path


def test_endless_pager_and_delisted_articles(site, server):
    site.endless_pager = True
    _, _, body = get(server, site.hub_path + "?page=500")
    assert next_link(body) == ["?page=501"]
    hidden = site.hub_listing()[0]
    site.delist(hidden.slug)
    site.endless_pager = False
    listed = []
    for page_no in range(site.hub_page_count):
        listed += teaser_links(get(server, f"{site.hub_path}?page={page_no}")[2])
    assert site.article_path(hidden) not in listed and len(listed) == len(site.published()) - 1
    assert get(server, site.article_path(hidden))[0] == 200


def test_robots_txt(site, server):
    site.robots_disallow.append("/private/")
    status, headers, body = get(server, "/robots.txt")
    lines = body.decode().splitlines()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "User-agent: *" in lines
    for prefix in ("/user/", "/search", "/admin/", "/private/"):
        assert f"Disallow: {prefix}" in lines


def test_cp1252_page(site, server):
    status, headers, body = get(server, site.encoding_path)
    assert headers["Content-Type"] == "text/html; charset=windows-1252"
    assert b'<meta charset="windows-1252">' in body
    assert "café".encode("cp1252") in body and b"\x93" in body and b"\x80" in body
    text = main_text(body, "cp1252")
    for word in ("“Café Conversations”", "naïve", "€2,500", "café"):
        assert word in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_malformed_page_is_readable(site, server):
    _, _, body = get(server, site.malformed_path)
    assert b"</body>" not in body and b"<span class=lead><p>" in body
    text = main_text(body)
    article = next(a for a in site.articles if a.kind == "malformed")
    for p in article.paragraphs:
        assert p in text


def test_oversized_page(site, server):
    status, headers, body = get(server, site.oversized_path)
    assert status == 200 and len(body) > 3_200_000 == site.oversized_bytes
    assert int(headers["Content-Length"]) == len(body)


def test_extra_links_on_hub(site, server):
    site.extra_links.append("http://127.0.0.1:9/elsewhere")
    _, _, body = get(server, site.hub_path)
    doc = lxml.html.document_fromstring(body)
    assert "http://127.0.0.1:9/elsewhere" in doc.xpath("//main//a/@href")


def test_requests_are_recorded_and_pages_exist(site, server):
    person = site.people[0]
    assert get(server, f"/people/{person.slug}?x=1")[0] == 200
    assert get(server, "/no/such/page")[0] == 404
    assert get(server, "/")[0] == 200 and get(server, "/about")[0] == 200
    recs = list(server.requests)
    assert [(r.path, r.method, r.status) for r in recs[:2]] == [
        (f"/people/{person.slug}?x=1", "GET", 200), ("/no/such/page", "GET", 404)]
    assert recs[0].headers["user-agent"].startswith("Python-urllib")
    assert "/search" not in server.requests.paths()


def test_keep_alive_and_threaded_clients(site, server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(3):
        conn.request("GET", site.hub_path)
        r = conn.getresponse()
        assert r.status == 200 and len(r.read()) == int(r.headers["Content-Length"])
    conn.request("HEAD", site.article_path(site.articles[0]))
    r = conn.getresponse()
    assert r.status == 200 and r.read() == b""
    conn.close()
    errors = []

    def worker():
        try:
            for a in site.articles[:6]:
                assert get(server, site.article_path(a))[0] == 200
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_determinism_and_options():
    a, b = DemoSite(n_articles=6, seed=3), DemoSite(n_articles=6, seed=3)
    assert [(x.title, x.paragraphs) for x in a.articles] == [(x.title, x.paragraphs) for x in b.articles]
    plain = DemoSite(n_articles=6, special_pages=False)
    assert len(plain.articles) == 6 and plain.oversized_path is None
    for art in a.articles:
        if art.kind == "article":
            assert 150 <= len(art.text.split()) <= 450
    assert "/sites/default/files/2026-11/wwc-annual-report.pdf" in a.documents
    assert any(p.endswith((".docx", ".xlsx")) for p in a.documents)
