"""Fair shares of the SQL threads: a client may have only a few expensive requests open at once.

Datasette answers every query, table page, search and ``/-/wwc/`` page on a
small pool of SQL threads (``num_sql_threads``); a query may hold its thread
for up to ``sql_time_limit_ms``. Without a bound, one client sending a dozen
slow searches at once holds every thread, and every other visitor waits.

:func:`wrap` is an ASGI wrapper (Datasette's ``asgi_wrapper`` hook) that
counts the expensive requests each client (its remote address) has open and
answers one more than :func:`client_limit` at once with ``429 Too Many
Requests`` and a ``Retry-After`` header, before Datasette starts on it.
Static assets and Datasette's own ``/-/`` pages (versions, settings, plugins)
are never counted. The bound is ``max_client_requests`` in the plugin's
configuration (``serve --max-client-requests``), and never more than the SQL
threads less one, so a client can never hold them all.

A client is the address the server saw: behind a reverse proxy, every visitor
is the proxy unless the server is told to trust its ``X-Forwarded-For``
(uvicorn trusts it from 127.0.0.1 only).
"""

import json
import math
from collections import Counter

#: The plugin's name in Datasette's ``plugins`` metadata.
PLUGIN_NAME = "wwc-archive"
#: Expensive requests a client may have open at once, unless configured.
DEFAULT_CLIENT_REQUESTS = 4
#: Paths under ``/-/`` that do run queries: the plugin's pages.
COUNTED_SPECIAL = "/-/wwc"
#: Paths that run no query.
CHEAP = ("/favicon.ico", "/robots.txt")


def client_limit(datasette) -> int:
    """Expensive requests one client may have open at once: as configured, and below the SQL threads."""
    config = datasette.plugin_config(PLUGIN_NAME) or {}
    limit = int(config.get("max_client_requests", DEFAULT_CLIENT_REQUESTS))
    threads = datasette.setting("num_sql_threads") or 1  # 0: queries run on the event loop, one at a time
    return max(1, min(limit, threads - 1))


def retry_after(datasette) -> int:
    """Seconds to wait before asking again: the longest a query holds its thread."""
    return max(1, math.ceil((datasette.setting("sql_time_limit_ms") or 1000) / 1000))


def is_expensive(path: str, base_url: str = "/") -> bool:
    """Whether a request for ``path`` may run queries: anything but static assets and Datasette's ``/-/`` pages."""
    if base_url != "/" and path.startswith(base_url):
        path = "/" + path[len(base_url):]
    if path.startswith("/-/"):
        return path == COUNTED_SPECIAL or path.startswith(COUNTED_SPECIAL + "/")
    return path not in CHEAP


def wrap(datasette):
    """The ``asgi_wrapper`` for ``datasette``: an app that counts open expensive requests per client."""

    def wrapper(app):
        open_requests: Counter = Counter()  # one per served app: Datasette builds its app once

        async def fair_app(scope, receive, send):
            if scope["type"] != "http" or not is_expensive(scope["path"], datasette.setting("base_url")):
                return await app(scope, receive, send)
            client = (scope.get("client") or (None,))[0]
            limit = client_limit(datasette)
            if open_requests[client] >= limit:
                return await too_many(scope, send, limit, retry_after(datasette))
            open_requests[client] += 1
            try:
                return await app(scope, receive, send)
            finally:
                open_requests[client] -= 1
                if not open_requests[client]:
                    del open_requests[client]

        return fair_app

    return wrapper


async def too_many(scope, send, limit: int, seconds: int) -> None:
    """A 429 with ``Retry-After``: a line of text, or JSON for a ``.json`` URL."""
    message = (f"Too many requests at once from your address: at most {limit} pages or queries at a time. "
               f"Try again in {seconds} s.")
    if scope["path"].endswith(".json"):
        body, content_type = json.dumps({"ok": False, "status": 429, "error": message}).encode(), b"application/json"
    else:
        body, content_type = (message + "\n").encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", content_type), (b"retry-after", str(seconds).encode()),
        (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
