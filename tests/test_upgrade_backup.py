"""``upgrade`` killed while it copies the archive aside leaves no short ``.bak`` under the final name.

The archive is release 0.1.0's fixture grown to 128 MB with free pages
(SQLite's backup API copies every page), so the copy takes long enough to be
killed in the middle by a real SIGKILL.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

from tests.test_release_upgrade import released_archive

MB = 1024 * 1024


def grown_archive(tmp_path):
    path = released_archive(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table padding (data blob)")
        conn.executemany("insert into padding values (zeroblob(?))", [(MB,)] * 128)
        conn.commit()
        conn.execute("drop table padding")  # its pages stay in the file, free
        conn.commit()
    assert path.stat().st_size > 128 * MB
    return path


def copies(folder, name):
    return sorted(p for p in folder.iterdir() if p.name.startswith(name + ".v"))


def whole(path, size) -> bool:
    """Whether the file is a complete copy: all ``size`` bytes, and sound to SQLite."""
    if os.path.getsize(path) != size:
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            return conn.execute("pragma quick_check").fetchone() == ("ok",)
        except sqlite3.DatabaseError:
            return False


def test_a_kill_during_the_backup_leaves_no_short_bak_and_the_next_upgrade_cleans_up(tmp_path):
    path = grown_archive(tmp_path)
    size = path.stat().st_size
    process = subprocess.Popen([sys.executable, "-m", "wwc_archive", "upgrade", "--db", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            started = [p for p in copies(tmp_path, path.name) if 0 < p.stat().st_size < size]
            if started:
                break
            time.sleep(0.002)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert started, "the backup was never seen half written: the test could not kill it in time"
    left = copies(tmp_path, path.name)
    finals = [p for p in left if p.name.endswith(".bak")]
    assert all(whole(p, size) for p in finals), [(p.name, p.stat().st_size) for p in finals]
    partials = [p for p in left if ".bak.partial-" in p.name]
    assert partials, left  # the copy it was writing, under its temporary name

    result = subprocess.run([sys.executable, "-m", "wwc_archive", "upgrade", "--db", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    left = copies(tmp_path, path.name)
    assert [p for p in left if ".partial-" in p.name] == []
    assert len(left) >= 1 and all(p.name.endswith(".bak") and whole(p, size) for p in left), left
