"""A snapshot span's later fetches, packed into ``snapshots.repeats``.

A ``snapshots`` row is a *span*: its first fetch (``run_id``, ``fetched_at``)
plus the later fetches of the same page that answered the same. Each later
fetch is two varints: its run id's increase over the fetch before, and the
zigzag-encoded change of its time step (seconds) from the step before. Nightly
crawls make both small: 1–3 bytes a fetch. Times are the archive's
``YYYY-MM-DDTHH:MM:SSZ``, so the round trip is exact.
"""

import calendar
import json
import time

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: A span holds at most this many later fetches, so a row stays small and updating it cheap.
MAX_REPEATS = 250
#: A fetch folds into its page's latest span only if it is ``ok`` or ``not_modified``
#: and equal to the span on all of these (failures always stay rows of their own).
SAME_FIELDS = ("outcome", "http_status", "error", "body_id", "content_id", "final_url", "headers",
               "request_head_id", "body_exact", "source", "memento_url")
FOLDING_OUTCOMES = ("ok", "not_modified")


class BadSpan(ValueError):
    """A ``repeats`` blob that does not decode (truncated or damaged)."""


def to_seconds(text: str) -> int | None:
    """An archive time as Unix seconds; None if it is not exactly in the archive's format."""
    try:
        seconds = calendar.timegm(time.strptime(text, TIME_FORMAT))
    except (TypeError, ValueError):
        return None
    return seconds if to_text(seconds) == text else None


def to_text(seconds: int) -> str:
    return time.strftime(TIME_FORMAT, time.gmtime(seconds))


def _put(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value >> 1 if not value & 1 else -((value + 1) >> 1)


def encode(first: tuple[int, str], later: list[tuple[int, str]]) -> bytes | None:
    """The ``repeats`` blob of a span whose first fetch is ``first`` and later ones ``later``.

    Each fetch is ``(run_id, fetched_at)``; run ids must increase. None for no
    later fetches (a span of one fetch stores NULL).
    """
    if not later:
        return None
    out = bytearray()
    run, seconds, step = first[0], to_seconds(first[1]), 0
    for next_run, fetched_at in later:
        next_seconds = to_seconds(fetched_at)
        if next_run <= run or next_seconds is None or seconds is None:
            raise ValueError(f"cannot fold fetch ({next_run}, {fetched_at}) after ({run}, {to_text(seconds or 0)})")
        _put(out, next_run - run)
        _put(out, _zigzag(next_seconds - seconds - step))
        run, step, seconds = next_run, next_seconds - seconds, next_seconds
    return bytes(out)


def decode(run_id: int, fetched_at: str, repeats: bytes | None, runs=None) -> list[tuple[int, str]]:
    """Every fetch of a span, first included, as ``(run_id, fetched_at)``; raises :class:`BadSpan`.

    ``runs`` (a set of run ids) keeps only the fetches of those runs, without
    formatting the others' times.
    """
    if not repeats:
        return [(run_id, fetched_at)] if runs is None or run_id in runs else []
    seconds = to_seconds(fetched_at)
    if seconds is None:
        raise BadSpan(f"its first fetch time {fetched_at!r} is not an archive time")
    return [(run, fetched_at if index == 0 else to_text(at))
            for index, (run, at) in enumerate(_fetch_seconds(run_id, seconds, repeats))
            if runs is None or run in runs]


def _fetch_seconds(run_id: int, seconds: int, repeats: bytes) -> list[tuple[int, int]]:
    values, value, shift = [], 0, 0
    for byte in repeats:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            values.append(value)
            value, shift = 0, 0
    if shift or len(values) % 2:
        raise BadSpan("its repeats are truncated")
    fetches = [(run_id, seconds)]
    run, step = run_id, 0
    for index in range(0, len(values), 2):
        if values[index] == 0:
            raise BadSpan("its run ids do not increase")
        run += values[index]
        step += _unzigzag(values[index + 1])
        seconds += step
        fetches.append((run, seconds))
    return fetches


class Tail:
    """The end of a span, kept by a writer to append fetches without decoding the span again."""

    def __init__(self, run_id: int, fetched_at: str, repeats: bytes | None):
        first = to_seconds(fetched_at)
        if repeats and first is None:
            raise BadSpan(f"its first fetch time {fetched_at!r} is not an archive time")
        fetches = _fetch_seconds(run_id, first, repeats) if repeats else [(run_id, first)]
        self.repeats = bytearray(repeats or b"")
        self.fetches = len(fetches)
        self.run, self.seconds = fetches[-1]
        self.step = self.seconds - fetches[-2][1] if len(fetches) > 1 else 0

    def can_append(self, run_id: int, seconds: int | None) -> bool:
        return (self.fetches <= MAX_REPEATS and run_id > self.run
                and seconds is not None and self.seconds is not None)

    def append(self, run_id: int, seconds: int) -> bytes:
        """Add a fetch (check :meth:`can_append` first); returns the new ``repeats`` blob."""
        _put(self.repeats, run_id - self.run)
        _put(self.repeats, _zigzag(seconds - self.seconds - self.step))
        self.run, self.step, self.seconds = run_id, seconds - self.seconds, seconds
        self.fetches += 1
        return bytes(self.repeats)


def count(repeats: bytes | None) -> int:
    """How many fetches a span holds (its first included), without decoding times."""
    if not repeats:
        return 1
    ends = sum(1 for byte in repeats if not byte & 0x80)
    return 1 + ends // 2


def sql_fetches(run_id, fetched_at, repeats) -> str | None:
    """The SQL function ``wwc_fetches(run_id, fetched_at, repeats)``: a JSON array of ``[run_id, fetched_at]``.

    Use it with ``json_each`` to turn spans into one row per fetch.
    """
    if run_id is None:
        return None
    try:
        return json.dumps(decode(run_id, fetched_at, repeats))
    except BadSpan:
        return None


#: The SQL function :func:`sql_fetches` is registered as.
FETCHES_FUNCTION = "wwc_fetches"
#: The SQL functions a connection needs for span-aware queries (name, arguments, function).
SQL_FUNCTIONS = ((FETCHES_FUNCTION, 3, sql_fetches),)


def register(conn) -> None:
    """Register :data:`SQL_FUNCTIONS` on an ``sqlite3`` connection."""
    for name, arity, fn in SQL_FUNCTIONS:
        conn.create_function(name, arity, fn, deterministic=True)
