"""Temporary files named for the process writing them, so that the next start can clean up after a kill.

A writer that must not leave a half-written file under its final name (an
export, an upgrade's backup) writes a temporary one beside it, named with
:func:`owner_tag` (its pid and the time the process started), and renames it
when done. Killed before that, it leaves the temporary file; the next writer
calls :func:`remove_stale`, which deletes only the recognisably named entries
whose process is gone, and never one a live process is still writing.
"""

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

_TAG = re.compile(r"(\d+)-(\d+)")


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (None: no such process, or not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[19])  # field 22 of proc(5), counted after the command name
    except (OSError, IndexError, ValueError):
        return None


def owner_tag() -> str:
    """``PID-START``: this process, told apart from a later one given the same pid."""
    return f"{os.getpid()}-{_start_ticks(os.getpid()) or 0}"


def owner_alive(tag: str) -> bool:
    """Whether the process that wrote a name with ``tag`` is still running."""
    found = _TAG.fullmatch(tag)
    if not found:
        return False
    pid, ticks = int(found.group(1)), int(found.group(2))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's live process
    started = _start_ticks(pid)
    return started is None or ticks == 0 or started == ticks


def process_started() -> float:
    """This process's start, as a wall-clock time (an upper bound where /proc cannot tell)."""
    ticks = _start_ticks(os.getpid())
    try:
        with open("/proc/stat") as stat:
            boot = next(int(line.split()[1]) for line in stat if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, TypeError):
        return time.time()


def remove_stale(folder: str | os.PathLike, pattern: re.Pattern) -> list[Path]:
    """Remove the entries of ``folder`` whose names ``pattern`` matches and whose writer is gone; returns them.

    ``pattern`` may capture the owner tag (group ``tag``); a matching name
    without one (made by an older release) is removed when it is older than
    this process. Entries that vanish meanwhile, or cannot be removed, are skipped.
    """
    removed = []
    started = process_started()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = pattern.match(entry.name)
        if not found:
            continue
        try:
            if found.groupdict().get("tag"):
                if owner_alive(found.group("tag")):
                    continue
            elif entry.stat(follow_symlinks=False).st_mtime >= started:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


#: An export's scratch folder beside its output, ``.wwc-export-PID-START-XXXXXXXX``: a killed export
#: leaves it, the next export in that folder removes it.
SCRATCH_PREFIX = ".wwc-export-"
SCRATCH = re.compile(r"\.wwc-export-(?:(?P<tag>\d+-\d+)-)?[a-z0-9_]{8}$")


def export_scratch(folder: str | os.PathLike) -> tuple[Path, list[Path]]:
    """A new scratch folder for an export into ``folder``, and the leftovers of killed exports removed first."""
    cleaned = remove_stale(folder, SCRATCH)
    return Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{owner_tag()}-", dir=folder)), cleaned
