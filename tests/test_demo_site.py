"""Tests of the bundled fake Data-Smart City Solutions site (real server on 127.0.0.1)."""

import datetime as dt
import gzip
import http.client
import socket
import threading
import time
import unicodedata
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


# --- options: what a real site changes without an edit (DemoSite.handle, no server) ----------

def fetch(site, path, headers=None):
    """site.handle() without a server: the response and its parsed document (or None)."""
    resp = site.handle("GET", path, headers or {})
    ctype = dict(resp.headers).get("Content-Type", "")
    doc = lxml.html.document_fromstring(resp.body.decode("utf-8")) if ctype.startswith("text/html") else None
    return resp, doc


def node(doc):
    """The full article node."""
    return doc.xpath('//article[contains(@class, "node--view-mode-full")]')[0]


def block_links(doc, block_class):
    return node(doc).xpath(f'.//div[contains(@class, "{block_class}")]//li/a/@href')


def headline(doc):
    return doc.xpath('string(//h1[@class="page-title"])')


def dates(doc):
    """(datetime attribute, text) of every <time> in <main>."""
    return [(t.get("datetime"), t.text) for t in doc.xpath("//main//time")]


def test_widgets_drupal_blocks_per_night(site):
    site.widgets = "drupal"
    first, second = (site.article_path(a) for a in site.articles[:2])
    _, one = fetch(site, first)
    _, two = fetch(site, second)
    most_read = block_links(one, "block-views-blockmost-read-block-1")
    assert len(most_read) == 4 and most_read == block_links(two, "block-views-blockmost-read-block-1")
    related = block_links(one, "block-views-blockrelated-articles-block-1")
    assert len(related) == 3 and first not in related
    assert node(one).xpath('.//div[contains(@class, "block-views-blockmost-read-block-1")]/h2/text()') == ["Most read"]
    assert node(one).xpath('.//div[contains(@class, "block-views-blockrelated-articles-block-1")]/h2/text()') == [
        "Related articles"]
    assert block_links(fetch(site, first)[1], "block-views-blockrelated-articles-block-1") == related  # stable tonight
    site.next_night()
    _, tomorrow = fetch(site, first)
    assert block_links(tomorrow, "block-views-blockmost-read-block-1") != most_read
    assert block_links(tomorrow, "block-views-blockrelated-articles-block-1") != related
    # The body field is untouched: the blocks follow it inside the node.
    assert node(tomorrow).xpath('string(.//div[contains(@class, "field--name-body")])').strip() == "\n".join(
        site.articles[0].paragraphs)


def test_widgets_plain_boxes_carry_no_meaning(site):
    site.widgets = "drupal"
    path = site.article_path(site.articles[0])
    drupal_most_read = block_links(fetch(site, path)[1], "block-views-blockmost-read-block-1")
    site.widgets = "plain"
    resp, doc = fetch(site, path)
    assert b"views-element-container block block-views" not in resp.body
    assert node(doc).xpath('.//div[@class="box box-a"]/h3/text()') == ["Readers also viewed"]
    assert node(doc).xpath('.//div[@class="box box-b"]/h3/text()') == ["You might also like"]
    assert node(doc).xpath('.//div[@class="box box-a"]//a/@href') == drupal_most_read
    assert len(node(doc).xpath('.//div[@class="box box-b"]//a')) == 3
    with pytest.raises(ValueError):
        site.widgets = "fancy"


def test_counters_grow_per_request_and_night(site):
    site.counters = True
    path = site.article_path(site.articles[0])

    def stats():
        resp, doc = fetch(site, path)
        meta = node(doc).xpath('.//div[@class="node__meta"]/div[@class="node__stats"]')[0]
        numbers = [int(meta.xpath(f'string(span[@class="{c}"])').split()[0].replace(",", ""))
                   for c in ("statistics-counter", "comment-count", "share-count")]
        return resp, numbers

    r1, (views1, comments1, shares1) = stats()
    r2, (views2, comments2, shares2) = stats()
    assert views2 == views1 + 1 and (comments2, shares2) == (comments1, shares1)
    assert dict(r1.headers)["ETag"] != dict(r2.headers)["ETag"]
    assert fetch(site, path, {"If-None-Match": dict(r2.headers)["ETag"]})[0].status == 200
    assert fetch(site, path, {"If-Modified-Since": dict(r2.headers)["Last-Modified"]})[0].status == 200
    for _ in range(5):
        site.next_night()
    _, (views3, comments3, shares3) = stats()
    assert views3 > views2 + 1 and comments3 >= comments2 and shares3 > shares2


@pytest.mark.parametrize("days, text", [
    (0, "today"), (1, "yesterday"), (3, "3 days ago"), (6, "6 days ago"), (7, "1 week ago"),
    (20, "2 weeks ago"), (45, "1 month ago"), (200, "6 months ago"), (365, "1 year ago"), (800, "2 years ago"),
], ids=lambda v: str(v))
def test_relative_date_table(days, text):
    from wwc_archive.demo_site.display import relative_date
    assert relative_date(dt.date(2026, 1, 1), dt.date(2026, 1, 1) + dt.timedelta(days=days)) == text


def test_relative_dates_move_with_the_night(site):
    site.relative_dates = True
    a = site.hub_listing()[0]
    iso = f"{a.published.isoformat()}T12:00:00Z"
    site.today = a.published + dt.timedelta(days=3)
    path = site.article_path(a)
    r1, doc = fetch(site, path)
    assert dates(doc) == [(iso, "3 days ago")]
    assert fetch(site, path, {"If-None-Match": dict(r1.headers)["ETag"]})[0].status == 304  # same night
    site.next_night()
    r2, doc = fetch(site, path)
    assert dates(doc) == [(iso, "4 days ago")] and dict(r2.headers)["ETag"] != dict(r1.headers)["ETag"]
    assert fetch(site, path, {"If-None-Match": dict(r1.headers)["ETag"]})[0].status == 200
    assert dates(fetch(site, site.hub_path)[1])[0] == (iso, "4 days ago")
    _, person = fetch(site, f"/people/{a.author}")
    assert person.xpath('//ul[@class="person-articles"]/li[1]/span[@class="date"]/text()') == ["4 days ago"]


def test_date_format(site):
    a = site.hub_listing()[0]
    iso = f"{a.published.isoformat()}T12:00:00Z"
    path = site.article_path(a)
    r1, doc = fetch(site, path)
    assert dates(doc) == [(iso, f"{a.published:%B} {a.published.day}, {a.published.year}")]
    site.date_format = "%b %-d, %Y"
    r2, doc = fetch(site, path)
    assert dates(doc) == [(iso, f"{a.published:%b} {a.published.day}, {a.published.year}")]
    assert dict(r2.headers)["ETag"] != dict(r1.headers)["ETag"]
    assert fetch(site, path, {"If-Modified-Since": dict(r1.headers)["Last-Modified"]})[0].status == 200
    site.date_format = "%d %B %Y"
    assert dates(fetch(site, site.hub_path)[1])[0] == (iso, f"{a.published:%d %B %Y}")
    assert fetch(site, f"/people/{a.author}")[1].xpath('string(//span[@class="date"])') == f"{a.published:%d %B %Y}"


def test_nfd_and_nbsp_change_bytes_not_text(site):
    a = site.articles[0]
    site.rename_person(a.author, "José Ramírez")
    path = site.article_path(a)
    before = main_text(fetch(site, path)[0].body)
    hub_before = main_text(fetch(site, site.hub_path)[0].body)
    site.unicode_form, site.nbsp = "NFD", True
    resp, doc = fetch(site, path)
    byline = doc.xpath('string(//div[contains(@class, "field--name-field-author")]//a)')
    assert byline == unicodedata.normalize("NFD", "José Ramírez") != "José Ramírez"
    after = main_text(resp.body)
    assert "\u00a0" in after and after != before
    assert unicodedata.normalize("NFC", after).replace("\u00a0", " ") == before
    hub_after = main_text(fetch(site, site.hub_path)[0].body)
    assert unicodedata.normalize("NFC", hub_after).replace("\u00a0", " ") == hub_before
    with pytest.raises(ValueError):
        site.unicode_form = "NFX"


@pytest.mark.parametrize("straight, curly", [
    ("didn't", "didn’t"), ('"Yes," she said', "“Yes,” she said"), ("'quoted'", "‘quoted’"),
    ("Tulsa's plan", "Tulsa’s plan"), ("a -- b", "a — b"), ("wait...", "wait…"),
], ids=["apostrophe", "double", "single", "possessive", "dash", "ellipsis"])
def test_curl_table(straight, curly):
    from wwc_archive.demo_site.display import curl
    assert curl(straight) == curly


def test_curly_quotes_filter(site):
    a = site.hub_listing()[0]
    site.quote_text(a.slug)  # a real edit, crawled before the filter is switched on
    site.set_title(a.slug, "Tulsa's \"Open Data\" Push")
    path = site.article_path(a)
    straight = main_text(fetch(site, path)[0].body)
    assert "didn't" in straight and '"but' in straight
    site.curly_quotes = True
    resp, doc = fetch(site, path)
    assert headline(doc) == "Tulsa’s “Open Data” Push"
    body = node(doc).xpath('string(.//div[contains(@class, "field--name-body")])')
    assert "“We didn’t know what we’d find,” one analyst said — “but the city’s data… changed" in body
    assert "'" not in body and '"' not in body
    _, hub = fetch(site, site.hub_path)
    assert hub.xpath('string(//article[contains(@class, "node--view-mode-teaser")][1]//h3)') == headline(doc)
    summary = hub.xpath('string(//article[contains(@class, "node--view-mode-teaser")][1]'
                        '//div[contains(@class, "field--name-body")])')
    assert summary.startswith("“We didn’t know")


def test_ab_test_headline(site):
    a = site.hub_listing()[0]
    path = site.article_path(a)
    site.ab_test[a.slug] = "Variant B Headline"
    seen = {}
    for _ in range(40):
        resp, doc = fetch(site, path)
        cookie = dict(resp.headers)["Set-Cookie"]
        assert cookie in ("ABTEST_variant=A; Path=/; Max-Age=2592000", "ABTEST_variant=B; Path=/; Max-Age=2592000")
        seen.setdefault(cookie[15], set()).add((headline(doc), dict(resp.headers)["ETag"]))
    assert seen == {"A": {(a.title, site.etag(a))}, "B": {("Variant B Headline", next(iter(seen["B"]))[1])}}
    etag_a, etag_b = site.etag(a), next(iter(seen["B"]))[1]
    assert etag_a != etag_b
    for variant, title in (("A", a.title), ("B", "Variant B Headline")):
        cookie = {"Cookie": f"has_js=1; ABTEST_variant={variant}"}
        assert {headline(fetch(site, path, cookie)[1]) for _ in range(10)} == {title}
        _, hub = fetch(site, site.hub_path, cookie)
        assert hub.xpath('string(//article[contains(@class, "node--view-mode-teaser")][1]//h3)') == title
        _, person = fetch(site, f"/people/{a.author}", cookie)
        assert title in person.xpath('//ul[@class="person-articles"]//a/text()')
    # No 304 for the other variant; a 304 for one's own.
    assert fetch(site, path, {"Cookie": "ABTEST_variant=B", "If-None-Match": etag_a})[0].status == 200
    assert fetch(site, path, {"Cookie": "ABTEST_variant=B", "If-None-Match": etag_b})[0].status == 304
    resp, _ = fetch(site, "/no/such/page", {"Cookie": "ABTEST_variant=B"})
    assert resp.status == 404 and ("Set-Cookie", "ABTEST_variant=B; Path=/; Max-Age=2592000") in resp.headers
    site.end_ab_test(a.slug)
    resp, doc = fetch(site, path)
    assert headline(doc) == a.title == "Variant B Headline" and site.ab_test == {}
    assert "Set-Cookie" not in dict(resp.headers) and dict(resp.headers)["ETag"] not in (etag_a, etag_b)


def test_maintenance_answers_200(site):
    site.redirects["/old-path"] = site.hub_path
    site.maintenance = True
    for path in (site.article_path(site.articles[0]), site.hub_path, "/", "/old-path", "/no/such/page"):
        resp, doc = fetch(site, path)
        assert resp.status == 200 and headline(doc) == "Site under maintenance", path
        assert "under maintenance" in doc.xpath('string(//div[contains(@class, "field--name-body")]/p)')
    assert fetch(site, "/robots.txt")[0].body.startswith(b"#")
    assert dict(fetch(site, "/core/misc/drupal.js")[0].headers)["Content-Type"] == "application/javascript"
    assert dict(fetch(site, "/sites/default/files/styles/wide/public/x.jpg")[0].headers)["Content-Type"] == "image/jpeg"
    site.maintenance = False
    assert headline(fetch(site, site.article_path(site.articles[0]))[1]) == site.articles[0].title


def test_soft_404_answers_200_naming_the_path(site):
    gone, removed = site.articles[0], site.articles[1]
    site.unpublish(gone.slug)
    site.unpublish(removed.slug, 410)
    site.soft_404 = True
    for path in ("/no/such/page", site.article_path(gone)):
        resp, doc = fetch(site, path)
        assert resp.status == 200 and headline(doc) == "Page not found"
        assert doc.xpath('string(//main//p)') == f'The requested page "{path}" could not be found.'
    assert fetch(site, site.article_path(removed))[0].status == 410
    site.soft_404 = False
    assert fetch(site, "/no/such/page")[0].status == 404


def teasers(doc):
    return doc.xpath('//article[contains(@class, "node--view-mode-teaser")]')


def test_set_summary_changes_only_the_teaser(site):
    a = site.hub_listing()[0]
    path = site.article_path(a)
    r1, before = fetch(site, path)
    site.set_summary(a.slug, "An editor's own summary.")
    r2, after = fetch(site, path)
    body = './/div[contains(@class, "field--name-body")]'
    assert node(after).xpath(f"string({body})") == node(before).xpath(f"string({body})")
    assert dict(r1.headers)["ETag"] != dict(r2.headers)["ETag"]  # the node was saved
    first = teasers(fetch(site, site.hub_path)[1])[0]
    assert first.xpath(f"string({body})") == "An editor's own summary." == a.summary


def test_pin_lists_an_old_article_first(site):
    oldest = site.hub_listing()[-1]
    site.pin(oldest.slug)
    first = teasers(fetch(site, site.hub_path)[1])[0]
    assert first.get("about") == site.article_path(oldest) and "node--sticky" in first.get("class")
    assert site.hub_listing()[1:] == [a for a in site.published() if a is not oldest]
    site.unpin(oldest.slug)
    assert teasers(fetch(site, site.hub_path)[1])[0].get("about") == site.article_path(site.published()[0])


def test_rename_person_touches_their_articles(site):
    a = site.articles[0]
    path = site.article_path(a)
    etag = site.etag(a)
    site.rename_person(a.author, "José Ramírez")
    resp, doc = fetch(site, path)
    assert doc.xpath('string(//div[contains(@class, "field--name-field-author")]//a)') == "José Ramírez"
    assert dict(resp.headers)["ETag"] != etag
    assert headline(fetch(site, f"/people/{a.author}")[1]) == "José Ramírez"


def test_move_article_redirects_the_old_path(site):
    a = site.articles[0]
    old = site.article_path(a)
    site.move_article(a.slug, "a-new-home")
    new = site.article_path(a)
    assert new != old and new.endswith("a-new-home")
    resp = site.handle("GET", old, {})
    assert resp.status == 301 and dict(resp.headers)["Location"] == new
    resp, doc = fetch(site, new)
    assert resp.status == 200 and doc.xpath('//link[@rel="canonical"]/@href') == [f"http://127.0.0.1{new}"]
    assert new in [t.get("about") for t in teasers(fetch(site, site.hub_path)[1])]
    with pytest.raises(ValueError):
        site.move_article(site.articles[1].slug, "a-new-home")


def test_next_night_and_defaults(site):
    assert 0 <= (dt.date.today() - site.today).days <= 1  # constructed today (or just before midnight)
    assert (site.night, site.widgets, site.counters, site.relative_dates) == (0, None, False, False)
    assert (site.date_format, site.unicode_form, site.nbsp, site.curly_quotes, site.ab_test,
            site.maintenance, site.soft_404) == ("%B %-d, %Y", "NFC", False, False, {}, False, False)
    site.today = dt.date(2027, 3, 1)
    site.next_night()
    assert (site.night, site.today) == (1, dt.date(2027, 3, 2))
    assert site.publish_article("Tonight's Story", ["Text."]).published == dt.date(2027, 3, 2)
