"""A researcher's paths through ``wwc-archive serve`` in headless Chromium, by clicking only.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe``
(NUL-separated JSON on file descriptors 3 and 4: no WebSocket library needed).
Clicks are real mouse events at an element's centre; the only URL given is the
start page's. Every request the pages make is recorded and must stay on the server.
"""

import json
import os
import subprocess
import threading
from urllib.parse import quote, urlsplit

import pytest

from test_serve_browser import CHROMIUM, serving


class Chromium:
    """One headless Chromium tab, spoken to over the DevTools pipe."""

    def __init__(self, profile):
        to_child, self._child_in = os.pipe()
        self._child_out, from_child = os.pipe()

        def fds():  # Chromium reads commands on fd 3 and writes answers on fd 4
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._next, self._answers, self.events = 0, {}, []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.call(f"{domain}.enable", session=True)

    def _read(self):
        buffer = b""
        while chunk := os.read(self._child_out, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append(message)
                self._cond.notify_all()

    def call(self, method, session=False, **params):
        with self._cond:
            self._next += 1
            number = self._next
        message = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._child_in, json.dumps(message).encode() + b"\0")
        with self._cond:
            assert self._cond.wait_for(lambda: number in self._answers, timeout=30), f"{method}: no answer"
            answer = self._answers.pop(number)
        assert "error" not in answer, (method, answer["error"])
        return answer["result"]

    def _loads(self) -> int:
        return sum(event["method"] == "Page.loadEventFired" for event in self.events)

    def _wait_for_load(self, before: int):
        with self._cond:
            assert self._cond.wait_for(lambda: self._loads() > before, timeout=30), "the page did not load"

    def open(self, url):
        before = self._loads()
        self.call("Page.navigate", session=True, url=url)
        self._wait_for_load(before)

    def js(self, expression):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def click(self, selector, navigates=True):
        """A left click at the centre of the first element ``selector`` matches."""
        box = self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e) return null; e.scrollIntoView({{block: "center"}});
            const r = e.getClientRects()[0] || e.getBoundingClientRect();  // a wrapped link: its first line
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
        assert box, f"nothing matches {selector} on {self.location()}"
        before = self._loads()
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)
        if navigates:
            self._wait_for_load(before)

    def type(self, text):
        self.call("Input.insertText", session=True, text=text)

    def location(self) -> str:
        return self.js("location.href")

    def text(self, selector) -> str:
        return self.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")

    def requested(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._child_in)


@pytest.fixture(scope="module")
def browsing(edited_archive_template, tmp_path_factory):
    assert os.path.exists(CHROMIUM), "needs Debian's chromium: apt-get install chromium"
    with serving(edited_archive_template.path) as base:
        browser = Chromium(tmp_path_factory.mktemp("chromium"))
        try:
            browser.open(base + "/")  # the one URL given: the start page
            yield browser, base, edited_archive_template
        finally:
            browser.close()


def path(browser) -> str:
    parts = urlsplit(browser.location())
    return parts.path + ("?" + parts.query if parts.query else "")


def test_a_researchers_paths_by_clicking_only(browsing):
    browser, base, archive = browsing
    assert browser.text("h1") == "What Works Cities archive"

    # Search a word, open a result's history.
    browser.click("#wwc-q", navigates=False)
    browser.type("Tulsa")
    browser.click("form[role=search] input[type=submit]")
    assert path(browser) == "/wwc-archive/search?q=Tulsa"
    browser.click("td.col-url a.wwc-history-link")
    assert path(browser).startswith("/-/wwc/page?url=") and browser.text("h1").startswith("History: ")

    # Back home by the site's link; compare the first and the latest version of the edited article.
    browser.click("nav a[href='/']")
    browser.click(f"table.wwc-pages a[href='/-/wwc/page?url={quote(archive.edited_url, safe='')}']")
    browser.click("table.wwc-history tbody tr:last-child input[name=old]", navigates=False)
    browser.click("table.wwc-history tbody tr:first-child input[name=new]", navigates=False)
    browser.click("form.wwc-compare input[type=submit]")
    assert path(browser).startswith("/-/wwc/diff/")
    assert archive.new_phrase in browser.js("[...document.querySelectorAll('.wwc-diff ins')].map(e => e.textContent).join(' ')")

    # The latest run's report, and back.
    browser.click("nav a[href='/']")
    browser.click("table.wwc-runs a.wwc-report-link")
    assert path(browser) == "/-/wwc/run/2/report"
    browser.click("nav.wwc-site-nav a[href='/']")
    assert path(browser) == "/"

    # A chart: a month's bar opens that month's changes.
    browser.click("svg.wwc-changes-chart a.wwc-bar rect")
    assert path(browser).startswith("/wwc-archive/changes_between?start_date=")
    assert browser.js("document.querySelectorAll('table.rows-and-columns tbody tr').length") > 0

    outside = [url for url in browser.requested() if not url.startswith((base + "/", "about:", "data:"))]
    assert outside == [], "every request stays on the server"
