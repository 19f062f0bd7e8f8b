"""A snapshot span's later fetches, packed into ``snapshots.repeats``, and their answers.

A ``snapshots`` row is a *span*: its first fetch (``run_id``, ``fetched_at``)
plus the later fetches of the same page that answered with the same content.
Each later fetch is two varints: its run id's increase over the fetch before,
and the zigzag-encoded change of its time step (seconds) from the step before.
Nightly crawls make both small: 1–3 bytes a fetch. Times are the archive's
``YYYY-MM-DDTHH:MM:SSZ``, so the round trip is exact.

A fetch's *answer* (:data:`ANSWER_FIELDS`: a 304 or a 200, its request
headers, ...) may differ from the span's first. The span's own columns are
answer 0; ``snapshots.answers`` (a JSON list) holds answers 1..n, at most
:data:`MAX_ANSWERS` in all. A span whose fetches do not all give answer 0 is
stored in the *palette format*: a ``0`` byte (never the start of the first
format, whose run steps are at least 1), then per fetch the varint
``run_step * 2 + changed``, the time varint, and, when ``changed`` (its
answer is not the fetch before's), the varint index of its answer. A fetch
that keeps the answer before costs no more than in the first format.
"""

import calendar
import json
import re
import time

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_ARCHIVE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

#: A span holds at most this many later fetches, so a row stays small and updating it cheap.
MAX_REPEATS = 250
#: A fetch folds into its page's latest span only if it is ``ok`` or ``not_modified``
#: (or, see :data:`REMOVED_OUTCOME`, a removed page's 404 again) and equal to the
#: span on all of these: the same content, read the same way (failures always
#: stay rows of their own).
SAME_FIELDS = ("error", "body_id", "content_id", "final_url", "source", "memento_url")
#: How a fetch answered, which may differ within a span (the span's palette of answers).
ANSWER_FIELDS = ("outcome", "http_status", "body_exact", "request_head_id", "headers")
#: A span holds at most this many distinct answers (its own included); a fetch with another starts a new span.
MAX_ANSWERS = 8
FOLDING_OUTCOMES = ("ok", "not_modified")
#: A page already recorded as removed answers ``gone`` night after night; those
#: fetches fold into the span of the fetch that removed it, never into a span of
#: another outcome. (A live page's ``gone`` fetch is always a row of its own run:
#: removals are decided from those rows when the run completes.)
REMOVED_OUTCOME = "gone"
#: The first byte of a ``repeats`` blob in the palette format.
PALETTE_FORMAT = 0


class BadSpan(ValueError):
    """A ``repeats`` blob that does not decode (truncated or damaged)."""


def to_seconds(text: str) -> int | None:
    """An archive time as Unix seconds; None if it is not exactly in the archive's format."""
    if not isinstance(text, str) or not _ARCHIVE_TIME.fullmatch(text):
        return None
    try:  # slicing, not strptime: a writer converts every fetch's time
        seconds = calendar.timegm((int(text[0:4]), int(text[5:7]), int(text[8:10]),
                                   int(text[11:13]), int(text[14:16]), int(text[17:19]), 0, 0, 0))
    except ValueError:
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


def encode(first: tuple[int, str], later: list[tuple]) -> bytes | None:
    """The ``repeats`` blob of a span whose first fetch is ``first`` and later ones ``later``.

    Each fetch is ``(run_id, fetched_at)`` or ``(run_id, fetched_at, answer)``
    (its answer's index, 0 when left out); run ids must increase. None for no
    later fetches (a span of one fetch stores NULL). The palette format is used
    only when some answer is not 0.
    """
    if not later:
        return None
    tail = Tail(first[0], first[1], None)
    for fetch in later:
        seconds = to_seconds(fetch[1])
        if not tail.can_append(fetch[0], seconds, ignore_cap=True):
            raise ValueError(f"cannot fold fetch {fetch[:2]} after ({tail.run}, {to_text(tail.seconds or 0)})")
        tail.append(fetch[0], seconds, fetch[2] if len(fetch) > 2 else 0)
    return bytes(tail.repeats)


def decode(run_id: int, fetched_at: str, repeats: bytes | None, runs=None) -> list[tuple[int, str]]:
    """Every fetch of a span, first included, as ``(run_id, fetched_at)``; raises :class:`BadSpan`.

    ``runs`` (a set of run ids) keeps only the fetches of those runs, without
    formatting the others' times.
    """
    return [fetch[:2] for fetch in decode_answers(run_id, fetched_at, repeats, runs)]


def decode_answers(run_id: int, fetched_at: str, repeats: bytes | None,
                   runs=None) -> list[tuple[int, str, int]]:
    """Like :func:`decode`, each fetch as ``(run_id, fetched_at, answer)`` (its answer's index)."""
    if not repeats:
        return [(run_id, fetched_at, 0)] if runs is None or run_id in runs else []
    seconds = to_seconds(fetched_at)
    if seconds is None:
        raise BadSpan(f"its first fetch time {fetched_at!r} is not an archive time")
    return [(run, fetched_at if index == 0 else to_text(at), answer)
            for index, (run, at, answer) in enumerate(_fetch_seconds(run_id, seconds, repeats))
            if runs is None or run in runs]


def _varints(data: bytes) -> list[int]:
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            values.append(value)
            value, shift = 0, 0
    if shift:
        raise BadSpan("its repeats are truncated")
    return values


def _steps(repeats: bytes) -> list[tuple[int, int, int]]:
    """Each later fetch's ``(run step, zigzagged time change, answer)``."""
    palette = repeats[:1] == bytes([PALETTE_FORMAT])
    values = _varints(repeats[1:] if palette else repeats)
    if not palette:
        if len(values) % 2:
            raise BadSpan("its repeats are truncated")
        return [(values[i], values[i + 1], 0) for i in range(0, len(values), 2)]
    steps, index, answer = [], 0, 0
    while index < len(values):
        run_step, changed = divmod(values[index], 2)
        if index + 1 + changed >= len(values):
            raise BadSpan("its repeats are truncated")
        if changed:
            answer = values[index + 2]
        steps.append((run_step, values[index + 1], answer))
        index += 2 + changed
    return steps


def _fetch_seconds(run_id: int, seconds: int, repeats: bytes) -> list[tuple[int, int, int]]:
    fetches = [(run_id, seconds, 0)]
    run, step = run_id, 0
    for run_step, time_change, answer in _steps(repeats):
        if run_step == 0:
            raise BadSpan("its run ids do not increase")
        run += run_step
        step += _unzigzag(time_change)
        seconds += step
        fetches.append((run, seconds, answer))
    return fetches


class Tail:
    """The end of a span, kept by a writer to append fetches without decoding the span again."""

    def __init__(self, run_id: int, fetched_at: str, repeats: bytes | None):
        first = to_seconds(fetched_at)
        if repeats and first is None:
            raise BadSpan(f"its first fetch time {fetched_at!r} is not an archive time")
        fetches = _fetch_seconds(run_id, first, repeats) if repeats else [(run_id, first, 0)]
        self.first = (run_id, first)
        self.repeats = bytearray(repeats or b"")
        self.palette = self.repeats[:1] == bytes([PALETTE_FORMAT])
        self.fetches = len(fetches)
        self.run, self.seconds, self.answer = fetches[-1]
        self.step = self.seconds - fetches[-2][1] if len(fetches) > 1 else 0

    def can_append(self, run_id: int, seconds: int | None, ignore_cap: bool = False) -> bool:
        return ((ignore_cap or self.fetches <= MAX_REPEATS) and run_id > self.run
                and seconds is not None and self.seconds is not None)

    def append(self, run_id: int, seconds: int, answer: int = 0) -> bytes:
        """Add a fetch with this answer (check :meth:`can_append` first); returns the new ``repeats`` blob."""
        if answer != self.answer and not self.palette:
            self._to_palette()
        changed = int(answer != self.answer)
        _put(self.repeats, (run_id - self.run) * 2 + changed if self.palette else run_id - self.run)
        _put(self.repeats, _zigzag(seconds - self.seconds - self.step))
        if changed:
            _put(self.repeats, answer)
        self.run, self.step, self.seconds, self.answer = run_id, seconds - self.seconds, seconds, answer
        self.fetches += 1
        return bytes(self.repeats)

    def _to_palette(self) -> None:
        """Rewrite the blob so far (every fetch answer 0) in the palette format."""
        values = _varints(bytes(self.repeats))
        self.repeats = bytearray([PALETTE_FORMAT])
        for index in range(0, len(values), 2):
            _put(self.repeats, values[index] * 2)
            _put(self.repeats, values[index + 1])
        self.palette = True


def count(repeats: bytes | None) -> int:
    """How many fetches a span holds (its first included), without decoding times."""
    if not repeats:
        return 1
    if repeats[:1] == bytes([PALETTE_FORMAT]):
        return 1 + len(_steps(repeats))
    ends = sum(1 for byte in repeats if not byte & 0x80)
    return 1 + ends // 2


def answer_of(row: dict) -> list:
    """A fetch's (or a span's own) answer: its values of :data:`ANSWER_FIELDS`."""
    return [row.get(name) for name in ANSWER_FIELDS]


def load_answers(answers: str | None, own: list) -> list[list]:
    """A span's answers 1..n, whole, from its ``answers`` column (empty for NULL); ``own`` is its answer 0."""
    return [_unpack(packed, own) for packed in json.loads(answers)] if answers else []


def dump_answers(answers: list[list], own: list) -> str | None:
    """The ``answers`` column for a span's answers 1..n (NULL for none), each packed against ``own``.

    An answer leaves out its trailing values equal to ``own``'s (a 200 whose
    noise differed keeps the span's headers), and its ``headers`` are the JSON
    object itself when that reads back to the very same text.
    """
    return json.dumps([_pack(answer, own) for answer in answers], separators=(",", ":")) if answers else None


_HEADERS = ANSWER_FIELDS.index("headers")


def _pack(answer: list, own: list) -> list:
    packed = list(answer)
    while packed and len(packed) > 1 and packed[-1] == own[len(packed) - 1]:
        packed.pop()
    if len(packed) > _HEADERS and isinstance(packed[_HEADERS], str):
        try:
            parsed = json.loads(packed[_HEADERS])
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and json.dumps(parsed) == packed[_HEADERS]:
            packed[_HEADERS] = parsed
    return packed


def _unpack(packed: list, own: list) -> list:
    answer = [*packed, *own[len(packed):]]
    if isinstance(answer[_HEADERS], dict):
        answer[_HEADERS] = json.dumps(answer[_HEADERS])
    return answer


def with_answer(row: dict, answer: int, answers: list[list]) -> dict:
    """``row`` (a span's, with its own answer 0) with the values of its answer ``answer``."""
    if answer == 0:
        return row
    if answer > len(answers):
        raise BadSpan(f"a fetch gives answer {answer}, but the span has {len(answers)} more")
    return {**row, **dict(zip(ANSWER_FIELDS, answers[answer - 1]))}


def sql_fetches(run_id, fetched_at, repeats) -> str | None:
    """The SQL function ``wwc_fetches(run_id, fetched_at, repeats)``: a JSON array of ``[run_id, fetched_at, answer]``.

    ``answer`` is 0 for a fetch that answered as the span's own columns say,
    ``n`` for the ``n``-th (from 1) of the span's ``answers``. Use it with
    ``json_each`` to turn spans into one row per fetch.
    """
    if run_id is None:
        return None
    try:
        return json.dumps(decode_answers(run_id, fetched_at, repeats))
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
