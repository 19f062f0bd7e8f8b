"""Helpers the tests share: runs written as the crawl's storage process writes them, a CDX listing, serve and pywb."""

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from wwc_archive.archive import Archive, Extracted, FetchRecord


def story(url: str = "https://example.org/news/a-story", fetched_at: str = "2030-01-01T03:00:00Z") -> FetchRecord:
    """A fetch of a one-paragraph article, as the crawler hands it to the archive."""
    return FetchRecord(url=url, program="what-works-cities", role="page", fetched_at=fetched_at, outcome="ok",
                       http_status=200, body=b"<p>The city opened its data.</p>", content_type="text/html",
                       extracted=Extracted(title="A story", text="The city opened"))


def write_run(archive: Archive, *records, programs=("what-works-cities",), status: str = "complete", batch_size: int = 200,
              started: str | None = None) -> int:
    """One run of ``records``, written and closed as a crawl writes them; returns the run's id."""
    run_id = archive.start_run(list(programs), started=started)
    writer = archive.writer(run_id, batch_size=batch_size)
    for record in records:
        writer.add(record)
    writer.flush()
    archive.finish_run(run_id, status)
    return run_id


def write_run_to(path, *records, **options) -> int:
    """:func:`write_run` on the archive at ``path``, opened and closed around it."""
    archive = Archive(path)
    try:
        return write_run(archive, *records, **options)
    finally:
        archive.close()


def list_captures(endpoint: str, url: str, since=None, until=None, timeout: float = 30):
    """The captures a CDX ``endpoint`` lists, through the one CDX client backfill uses (no retries)."""
    from wwc_archive.crawler.replay import WaybackSource

    source = WaybackSource(endpoint, "http://127.0.0.1:9/web", "wwc-archive tests", requests_per_second=1000,
                           retries=0, timeout=timeout)
    try:
        return source.captures(url, since, until)
    finally:
        source.close()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(db_path, *extra, process_out=None):
    """``wwc-archive serve`` on the archive at ``db_path``, in a child process; yields its base URL.

    The process is appended to ``process_out`` if given; once stopped, its
    stderr is its ``stderr_text`` and its stdout (uvicorn's access log) its ``stdout_text``.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wwc_archive", "serve", "--db", str(db_path), "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    if process_out is not None:
        process_out.append(process)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise AssertionError(f"serve did not start: {process.communicate()[1][-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.stdout_text, process.stderr_text = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.stdout_text, process.stderr_text = process.communicate()


def pywb_bin() -> Path:
    """Where pywb's commands are (``WWC_PYWB_BIN``, else ``.venv-pywb/bin``); skips the test if they are not."""
    bin_dir = Path(os.environ.get("WWC_PYWB_BIN") or Path(__file__).parent.parent / ".venv-pywb" / "bin").resolve()
    if not (bin_dir / "wayback").exists():
        if os.environ.get("WWC_PYWB_BIN"):
            pytest.fail(f"WWC_PYWB_BIN={bin_dir} has no pywb")
        pytest.skip("pywb is not installed: `make test` installs it in .venv-pywb")
    return bin_dir


@contextmanager
def pywb_serving(root: Path, *added, config: str | None = None):
    """pywb's ``wayback`` serving collection ``wwc`` made in ``root`` with ``wb-manager add ADDED...``."""
    import httpx

    bin_dir = pywb_bin()
    for args in (("init", "wwc"), ("add", *added)):
        result = subprocess.run([bin_dir / "wb-manager", *map(str, args)], cwd=root, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    if config is not None:
        (root / "config.yaml").write_text(config)
    process = subprocess.Popen([bin_dir / "wayback", "-b", "127.0.0.1", "-p", str(free_port())], cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{process.args[-1]}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("pywb did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def dead_owner_tag() -> str:
    """The owner tag (:func:`wwc_archive.leftovers.owner_tag`) of a process that has ended, as a killed export's."""
    child = subprocess.run([sys.executable, "-c", "from wwc_archive.leftovers import owner_tag; print(owner_tag())"],
                           capture_output=True, text=True, check=True)
    return child.stdout.strip()
