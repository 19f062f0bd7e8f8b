"""What ``wwc-archive crawl`` says besides its summary: a missing contact, an unreachable site."""

import ipaddress
from urllib.parse import urlsplit


def is_local(origin: str) -> bool:
    """Whether an origin is on this machine (loopback)."""
    host = urlsplit(origin).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def contact_note(programs, contact: str | None) -> str | None:
    """The one line a crawl of someone else's site prints when the config names no contact."""
    if contact or all(is_local(origin) for program in programs for origin in program.origins):
        return None
    return ("Note: no [crawl] contact is set, so the User-Agent names no address where the site's owners "
            "can reach you; set contact to a URL or mail address in the config's [crawl] table")


def unreachable_message(db_path: str, run: dict) -> str | None:
    """One line when every fetch of a run failed (the site is down or refuses connections), else None."""
    if run["pages_fetched"] or not run["pages_failed"]:
        return None
    from wwc_archive.archive import Archive, queries

    archive = Archive(db_path, readonly=True)
    try:
        failed = queries.failed_fetches(archive.db, run["id"])
    finally:
        archive.close()
    if not failed:
        return None
    first = min(failed, key=lambda row: row.get("fetched_at") or "")
    error = first["error"] or f"HTTP {first['http_status']}"
    if ": " in error and error.split(": ", 1)[0].endswith(("Error", "Exception", "Failure")):
        error = error.split(": ", 1)[1]  # "ConnectionRefusedError: Connection was refused …"
    others = len(failed) - 1
    also = f" (and {others} other page{'s' if others != 1 else ''})" if others else ""
    verb = "could not reach" if not first["http_status"] else "every fetch failed, e.g."
    return (f"{verb} {first['url']}{also}: {error.rstrip('.')}; run {run['id']} is recorded, "
            "what was archived before is unchanged")
