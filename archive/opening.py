"""Opening an archive file without surprises.

Before anything is written, the file is checked: a folder, a file that is not
SQLite, an SQLite file that is not a wwc-archive archive, or an archive made by
a newer release is refused with one line (:class:`ArchiveError`), and the file
is left byte for byte as it was. Readers open the file read-only (SQLite's
``mode=ro``) and never upgrade it; writers upgrade an older schema after
copying the file aside with SQLite's backup API.
"""

import contextlib
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from wwc_archive.archive.migrations import schema
from wwc_archive.leftovers import owner_tag, remove_stale

SQLITE_HEADER = b"SQLite format 3\x00"


class ArchiveError(Exception):
    """The file cannot be used as an archive; the message says why in one line."""


@dataclass(frozen=True)
class Upgrade:
    """A schema upgrade that opening the archive made."""

    path: str
    old_version: int
    new_version: int
    backup: str

    def describe(self) -> str:
        return (f"upgraded {self.path} from schema version {self.old_version} to {self.new_version}; "
                f"the previous file is saved as {self.backup}")


def _uri(path: str, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"file:{quote(os.path.abspath(path))}?{query}"


def _is_wal(header: bytes) -> bool:
    return len(header) > 19 and header[18] == 2


def inspect_file(path: str) -> schema.SchemaState | None:
    """What the file at ``path`` holds (None: no file yet), read without writing anything.

    Raises :class:`ArchiveError` for a folder, an unreadable file or one that is not SQLite.
    """
    if os.path.isdir(path):
        raise ArchiveError(f"{path} is a folder, not an archive file")
    try:
        with open(path, "rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {error.strerror}") from None
    if not header:
        return schema.SchemaState("empty", 0, len(schema.release_migrations()))
    if not header.startswith(SQLITE_HEADER):
        raise ArchiveError(f"{path} is not a wwc-archive archive: it is not an SQLite database")
    # A WAL-mode file nobody has open: reading it in place would create its -wal and -shm files.
    immutable = _is_wal(header) and not os.path.exists(path + "-wal")
    for attempt in range(20):
        try:
            conn = sqlite3.connect(_uri(path, **({"immutable": "1"} if immutable else {"mode": "ro"})), uri=True)
            try:
                conn.execute("PRAGMA busy_timeout=5000")
                return schema.inspect(conn)
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            if "locked" in str(error) and attempt < 19:
                time.sleep(0.1)
                continue
            raise ArchiveError(f"{path} is not a wwc-archive archive: {error}") from None
    raise AssertionError("unreachable")


def refusal(path: str, state: schema.SchemaState, reading: bool) -> str | None:
    """Why this file cannot be opened (None: it can)."""
    if state.kind == "foreign":
        return f"{path} is not a wwc-archive archive ({state.detail}); choose another file with --db"
    if state.kind == "damaged":
        return f"{path} is a damaged wwc-archive archive: {state.detail}"
    if state.kind == "newer":
        return (f"{path} has schema version {state.version}; this release reads up to {state.release_version}: "
                "upgrade wwc-archive")
    if reading and state.kind == "empty":
        return f"{path} holds no archive yet: run `wwc-archive crawl --db {path}` first"
    if reading and state.kind == "older":
        return (f"{path} has schema version {state.version}; this release reads version {state.release_version}: "
                f"run `wwc-archive upgrade --db {path}` (it saves a backup first)")
    return None


def open_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection to an archive of this release; raises :class:`ArchiveError` otherwise."""
    state = inspect_file(path)
    if state is None:
        raise ArchiveError(f"no archive at {path}: run `wwc-archive crawl` first or pass --db")
    problem = refusal(path, state, reading=True)
    if problem:
        raise ArchiveError(problem)
    try:
        conn = sqlite3.connect(_uri(path, mode="ro"), uri=True, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.OperationalError:  # a folder we may not write to: no -shm can be made, nobody writes
        conn = sqlite3.connect(_uri(path, immutable="1"), uri=True, check_same_thread=False)
    return conn


def check_writable(path: str) -> schema.SchemaState | None:
    """Refuse, before writing, a file that a writer must not touch; returns its state."""
    state = inspect_file(path)
    if state is not None:
        problem = refusal(path, state, reading=False)
        if problem:
            raise ArchiveError(problem)
        if not os.access(path, os.W_OK):
            raise ArchiveError(f"cannot write {path}: the file is read-only")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ArchiveError(f"cannot create {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise ArchiveError(f"cannot write in {folder}: the archive needs its folder writable (journal, lock)")
    return state


def backup(conn: sqlite3.Connection, path: str, version: int) -> str:
    """Copy the archive aside with SQLite's backup API; returns the copy's path.

    The copy is written under a temporary name (``...bak.partial-PID-START``)
    and renamed when whole, so a kill never leaves a short ``.bak`` under the
    final name; temporary copies of killed upgrades are removed first.
    """
    remove_stale_backups(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target_path = f"{path}.v{version}-{stamp}.bak"
    partial = f"{target_path}.partial-{owner_tag()}"
    target = sqlite3.connect(partial)
    try:
        conn.backup(target)
    except BaseException:
        target.close()
        for leftover in (partial, partial + "-journal"):
            with contextlib.suppress(OSError):
                os.remove(leftover)
        raise
    target.close()
    with open(partial, "rb+") as copy:
        os.fsync(copy.fileno())
    os.replace(partial, target_path)
    return target_path


def remove_stale_backups(path: str) -> list:
    """Remove the temporary backup copies that killed upgrades of ``path`` left beside it."""
    name = re.escape(os.path.basename(path))
    pattern = re.compile(rf"{name}\.v\d+-\d{{8}}T\d{{6}}Z\.bak\.partial-(?P<tag>\d+-\d+)(-journal)?$")
    return remove_stale(os.path.dirname(os.path.abspath(path)), pattern)
