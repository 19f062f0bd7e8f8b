"""Helpers the tests share: runs written as the crawl's storage process writes them; a CDX listing."""

from wwc_archive.archive import Archive


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
