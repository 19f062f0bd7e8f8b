"""The cookies a site sets to last, kept from night to night.

A site that assigns each visitor to a variant by cookie (a headline A/B test)
shows a visitor without the cookie a variant at random. Every crawl starting
without cookies would read a different headline each night. So the crawler
keeps, per origin, the cookies a site sets *to last* (with ``Max-Age`` or
``Expires``), sends them back on its requests, and hands them to the archive
at the end of the run to start the next one with: it stays in one bucket.
Session cookies (no expiry: logins, carts) are neither kept nor sent, and a
kept cookie is dropped when it expires or the site deletes it.
"""

import email.utils
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from wwc_archive.config import origin_of


class KeptCookies:
    """Cookies by origin and name: ``(value, path, expires)`` with ``expires`` in Unix seconds."""

    def __init__(self, rows=()):
        self._cookies: dict[tuple[str, str], tuple[str, str, float]] = {}
        #: Cookies chosen this run (:meth:`adopt`): answers still on the wire with the old value do not undo them.
        self._chosen: set[tuple[str, str]] = set()
        for row in rows:
            self._cookies[(row["origin"], row["name"])] = (row["value"], row["path"] or "/", float(row["expires"]))

    def header_for(self, url: str) -> str | None:
        """The ``Cookie`` header to send with a request for ``url``, or None."""
        if not self._cookies:
            return None
        origin, path, now = origin_of(url), urlsplit(url).path or "/", time.time()
        pairs = [f"{name}={value}" for (o, name), (value, prefix, expires) in self._cookies.items()
                 if o == origin and expires > now and path.startswith(prefix)]
        return "; ".join(pairs) or None

    def adopt(self, url: str, set_cookie: str) -> None:
        """Keep what a ``Set-Cookie`` header says, and let no other answer this run change those cookies."""
        self.take(url, set_cookie, choose=True)

    def take(self, url: str, set_cookie: str, choose: bool = False) -> None:
        """Keep (or forget) what one ``Set-Cookie`` header says, if it sets a cookie to last."""
        cookie = SimpleCookie()
        try:
            cookie.load(set_cookie)
        except CookieError:
            return
        origin, now = origin_of(url), time.time()
        for name, morsel in cookie.items():
            if (origin, name) in self._chosen and not choose:
                continue
            if choose:
                self._chosen.add((origin, name))
            expires = _expiry(morsel, now)
            if expires is None:
                continue  # a session cookie: not ours to keep
            if expires <= now:
                self._cookies.pop((origin, name), None)
            else:
                self._cookies[(origin, name)] = (morsel.value, morsel["path"] or "/", expires)

    def rows(self) -> list[dict]:
        """The unexpired cookies, as the archive keeps them."""
        now = time.time()
        return [{"origin": origin, "name": name, "value": value, "path": path, "expires": expires}
                for (origin, name), (value, path, expires) in sorted(self._cookies.items()) if expires > now]


def _expiry(morsel, now: float) -> float | None:
    if morsel["max-age"] not in ("", None):
        try:
            return now + int(morsel["max-age"])
        except ValueError:
            return None
    if morsel["expires"]:
        try:
            return email.utils.parsedate_to_datetime(morsel["expires"]).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
    return None


class KeptCookiesMiddleware:
    """Sends the spider's kept cookies with each request and keeps those each response sets to last."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        cookies = getattr(self.crawler.spider, "cookies", None)
        if request.meta.get("new_visitor"):
            return None  # a second fetch as a visitor the site has not seen
        if cookies is not None and b"Cookie" not in request.headers:
            header = cookies.header_for(request.url)
            if header:
                request.headers[b"Cookie"] = header
        return None

    def process_response(self, request, response, spider=None):
        cookies = getattr(self.crawler.spider, "cookies", None)
        if request.meta.get("new_visitor"):  # the spider keeps them if that visitor read the page as archived
            request.meta["visitor_cookies"] = [value.decode("latin-1")
                                               for value in response.headers.getlist(b"Set-Cookie")]
        elif cookies is not None:
            for value in response.headers.getlist(b"Set-Cookie"):
                cookies.take(response.url, value.decode("latin-1"))
        return response
