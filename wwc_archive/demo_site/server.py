"""``DemoServer``: serves a ``DemoSite`` over HTTP/1.1 on 127.0.0.1 in a daemon thread."""

from __future__ import annotations

import email.utils
import socket
import socketserver
import struct
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from .site import DemoSite

_REASONS = {s.value: s.phrase for s in HTTPStatus}


class Headers(dict):
    """A dict of request headers with case-insensitive lookups."""

    def _key(self, key):
        if dict.__contains__(self, key):
            return key
        low = key.lower()
        return next((k for k in self if k.lower() == low), key)

    def __getitem__(self, key):
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key):
        return dict.__contains__(self, self._key(key))

    def get(self, key, default=None):
        return dict.get(self, self._key(key), default)


class RequestRecord(NamedTuple):
    """One served request; ``status`` is 0 for a reset connection."""

    path: str  # path with query string
    method: str
    headers: Headers
    status: int

    @property
    def path_with_query(self) -> str:
        return self.path

    @property
    def bare_path(self) -> str:
        return self.path.split("?", 1)[0]


class RequestLog(list):
    """A list of ``RequestRecord`` that is safe to append to and read from threads."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            super().append(record)

    def clear(self) -> None:
        with self._lock:
            super().clear()

    def __iter__(self):
        with self._lock:
            return iter(self.copy())

    def paths(self) -> list[str]:
        """The requested paths (with query), in order."""
        return [r.path for r in self]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections are closed after this

    def do_GET(self):
        self._serve("GET")

    def do_HEAD(self):
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        srv: _Server = self.server  # type: ignore[assignment]
        resp = srv.site.handle(method, self.path, self.headers)
        srv.requests.append(RequestRecord(self.path, method, Headers(self.headers.items()),
                                          resp.status))
        if resp.action == "reset":
            self._reset()
            return
        if resp.action == "timeout" and srv.stopping.wait(srv.site.timeout_delay):
            self._reset()
            return
        lines = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, '')}",
                 f"Date: {_http_date()}", "Server: Apache"]
        lines += [f"{k}: {v}" for k, v in resp.headers]
        if resp.status != 304:
            lines.append(f"Content-Length: {len(resp.body)}")
        if resp.action == "truncate":
            self.close_connection = True
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = resp.body if method != "HEAD" and resp.status != 304 else b""
        if resp.action == "truncate":
            body = body[:len(body) // 2]  # Content-Length promised all of it
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no response at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.rfile.close()
        self.connection.close()

    def log_message(self, format, *args):  # noqa: A002 - keep the console quiet
        pass


_date_cache = [0, ""]


def _http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _date_cache[1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, site: DemoSite, requests: RequestLog):
        self.site = site
        self.requests = requests
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def server_bind(self):
        # Skip HTTPServer's getfqdn() lookup, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request_thread(self, request, client_address):
        with self.conn_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.conn_lock:
                self.connections.discard(request)

    def handle_error(self, request, client_address):
        pass  # client hang-ups are expected (timeouts, resets); keep stderr clean

    def drop_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class DemoServer:
    """Serve a ``DemoSite`` on ``http://127.0.0.1:<port>`` (port 0 = any free port)."""

    def __init__(self, site: DemoSite, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self.host = host
        self.requested_port = port
        self.requests = RequestLog()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "DemoServer":
        if self._httpd is None:
            self._httpd = _Server((self.host, self.requested_port), self.site, self.requests)
            self._thread = threading.Thread(target=self._httpd.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="demo-site", daemon=True)
            self._thread.start()
        return self

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("DemoServer is not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block until interrupted (used by ``python -m wwc_archive.demo_site``)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self) -> "DemoServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
