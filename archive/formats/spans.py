"""A snapshot span's later fetches, packed into ``snapshots.repeats``, and their answers.

A ``snapshots`` row is a *span*: its first fetch (``run_id``, ``fetched_at``)
plus the later fetches of the same page that answered with the same content.
Times are the archive's ``YYYY-MM-DDTHH:MM:SSZ``, so every round trip is exact.

A fetch's *answer* (:data:`ANSWER_FIELDS`: a 304 or a 200, its request
headers, ...) may differ from the span's first. The span's own columns are
answer 0; ``snapshots.answers`` (a JSON list) holds answers 1..n, at most
:data:`MAX_ANSWERS` in all, and ``repeats`` says which fetch gave which.

``repeats`` is written in the *packed format* (:data:`PACKED_FORMAT`): the
bytes ``00 01``, then a bit stream (:mod:`wwc_archive.archive.formats.bits`) with one
item per later fetch. Each fetch's time step is predicted as its run step
times the step per run before, rounded to the hour (a day before the first:
nightly runs), and its *residual* (actual minus predicted seconds, zigzagged:
0, -1, 1, -2, ... as 0, 1, 2, 3, ...) is a Rice code whose parameter follows
the residuals' recent size (:func:`_learn`). A fetch one run after the one
before, with the same answer, is the Rice code of residual + 1: about 3 bits a
night. Any other fetch is the Rice code of 0, then its run step - 1 and its
answer's index as Exp-Golomb codes, then the Rice code of its residual.

Spans written before migration m015 keep their formats and decode exactly: the *first
format* (never a ``0`` first byte: per fetch, the varint run step, at least 1,
and the zigzagged varint change of its time step from the step before) and the
*palette format* (a ``0`` byte, then per fetch the varint ``run_step * 2 +
changed``, never 0 or 1, the time varint and, when ``changed``, the varint
index of its answer). A :class:`Tail` appending to one rewrites it packed.
"""

import calendar
import json
import re
import time

from wwc_archive.archive.formats import bits, varints

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_ARCHIVE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

#: A span holds at most this many later fetches, so a row stays small and updating it cheap.
MAX_REPEATS = 250
#: A fetch folds into its page's latest span only if it is ``ok`` or ``not_modified``
#: (or, see :data:`REMOVED_OUTCOME`, a removed page's 404 again) and equal to the
#: span on all of these: the same content, read the same way (failures always
#: stay rows of their own).
SAME_FIELDS = ("error", "body_id", "content_id", "final_url", "source", "memento_url")
#: How a fetch answered, which may differ within a span (the span's palette of answers);
#: ``header_set`` names its kept headers (:mod:`~wwc_archive.archive.formats.header_sets`).
ANSWER_FIELDS = ("outcome", "http_status", "body_exact", "request_head_id", "header_set")
#: A span holds at most this many distinct answers (its own included); a fetch with another starts a new span.
MAX_ANSWERS = 8
FOLDING_OUTCOMES = ("ok", "not_modified")
#: A page already recorded as removed answers ``gone`` night after night; those
#: fetches fold into the span of the fetch that removed it, never into a span of
#: another outcome. (A live page's ``gone`` fetch is always a row of its own run:
#: removals are decided from those rows when the run completes.)
REMOVED_OUTCOME = "gone"
#: The first byte of a ``repeats`` blob in the (older) palette format.
PALETTE_FORMAT = 0
#: The first two bytes of a ``repeats`` blob in the packed format: the palette
#: format's second byte is never 0 or 1 (its first value is at least 2).
PACKED_FORMAT = b"\x00\x01"
#: The time step per run the packed format predicts before a span has one: a day.
NIGHT = 86400
_HOUR = 3600


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


def encode(first: tuple[int, str], later: list[tuple]) -> bytes | None:
    """The ``repeats`` blob (packed format) of a span whose first fetch is ``first`` and later ones ``later``.

    Each fetch is ``(run_id, fetched_at)`` or ``(run_id, fetched_at, answer)``
    (its answer's index, 0 when left out); run ids must increase. None for no
    later fetches (a span of one fetch stores NULL).
    """
    if not later:
        return None
    tail = Tail(first[0], first[1], None)
    for fetch in later:
        seconds = to_seconds(fetch[1])
        if not tail.can_append(fetch[0], seconds, ignore_cap=True):
            raise ValueError(f"cannot fold fetch {fetch[:2]} after ({tail.run}, {to_text(tail.seconds or 0)})")
        tail._add(fetch[0], seconds, fetch[2] if len(fetch) > 2 else 0)
    return tail.repeats


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


def extent(run_id: int, fetched_at: str, repeats: bytes | None) -> tuple[int, int, str]:
    """A span's ``(fetches, last run, last fetched_at)``, formatting only the last time; raises :class:`BadSpan`."""
    if not repeats:
        return 1, run_id, fetched_at
    seconds = to_seconds(fetched_at)
    if seconds is None:
        raise BadSpan(f"its first fetch time {fetched_at!r} is not an archive time")
    fetches = _fetch_seconds(run_id, seconds, repeats)
    return len(fetches), fetches[-1][0], to_text(fetches[-1][1])


def _fetch_seconds(run_id: int, seconds: int, repeats: bytes) -> list[tuple[int, int, int]]:
    """Every fetch of a span as ``(run_id, unix seconds, answer)``, in any format."""
    if repeats[:2] == PACKED_FORMAT:
        return _read_packed(run_id, seconds, repeats)[0]
    fetches = [(run_id, seconds, 0)]
    run, step = run_id, 0
    for run_step, time_change, answer in _steps(repeats):
        if run_step == 0:
            raise BadSpan("its run ids do not increase")
        run += run_step
        step += varints.unzigzag(time_change)
        seconds += step
        fetches.append((run, seconds, answer))
    return fetches


# The packed format -----------------------------------------------------------------------------

#: The packed format's model before a span's first later fetch: the time step per
#: run it predicts (a day), and about 8 times the recent residuals' mean.
_START = (NIGHT, 4 << 3)


def _rice_k(size: int) -> int:
    """The Rice parameter for a model's ``size``: about log2 of the recent residuals' mean."""
    return max(0, (size >> 3).bit_length() - 1)


def _learn(size: int, run_step: int, step: int, residual: int) -> tuple[int, int]:
    """The model after a fetch: its step per run rounded to the hour, and ``size`` moved an eighth towards it."""
    return (step // run_step + _HOUR // 2) // _HOUR * _HOUR, size + min(residual, 1024) - (size >> 3)


def _write_packed(out: bits.Writer, model: tuple[int, int], run_step: int, step: int, answer: int,
                  changed: bool) -> tuple[int, int]:
    """Write one later fetch; returns the model after it."""
    period, size = model
    k, residual = _rice_k(size), varints.zigzag(step - run_step * period)
    if run_step == 1 and not changed:
        out.rice(residual + 1, k)
    else:
        out.rice(0, k)
        out.gamma(run_step - 1)
        out.gamma(answer)
        out.rice(residual, k)
    return _learn(size, run_step, step, residual)


def _read_packed(run_id: int, seconds: int, repeats: bytes) -> tuple[list[tuple[int, int, int]], bits.Reader,
                                                                    tuple[int, int]]:
    """Every fetch of a packed span, and the reader (at its end) and model, to append after it.

    Every reader of a span's fetches runs this loop, so it reads a nightly
    fetch's Rice code and updates the model inline (:func:`_rice_k`,
    :func:`_learn`); the round-trip tests hold it to :func:`_write_packed`.
    """
    reader = bits.Reader(repeats[len(PACKED_FORMAT):])
    stream, limit = reader.bits, bits.UNARY_LIMIT
    find, end, pos = stream.find, len(stream), 0
    (period, size), run, answer = _START, run_id, 0
    fetches = [(run_id, seconds, 0)]
    try:
        while end - pos >= 8 or find("0", pos) != -1:  # fewer than 8 ones left: padding
            k = (size >> 3).bit_length() - 1 if size >= 16 else 0
            zero = find("0", pos, pos + limit)
            if zero != -1 and zero + 1 + k <= end:  # a whole Rice code with a short unary part
                code = ((zero - pos) << k) | (int(stream[zero + 1:zero + 1 + k], 2) if k else 0)
                pos = zero + 1 + k
            else:
                reader.pos = pos
                code, pos = reader.rice(k), reader.pos
            if code:
                run_step, residual = 1, code - 1
            else:
                reader.pos = pos
                run_step, answer, residual = reader.gamma() + 1, reader.gamma(), reader.rice(k)
                pos = reader.pos
            step = run_step * period + (residual >> 1 if not residual & 1 else -((residual + 1) >> 1))
            period = (step // run_step + _HOUR // 2) // _HOUR * _HOUR
            size += (residual if residual < 1024 else 1024) - (size >> 3)
            run += run_step
            seconds += step
            fetches.append((run, seconds, answer))
    except bits.Truncated:
        raise BadSpan("its repeats are truncated") from None
    if len(fetches) == 1:
        raise BadSpan("its repeats hold no fetch")
    reader.pos = pos
    return fetches, reader, (period, size)


# The older formats (read only) -----------------------------------------------------------------

def _varints(data: bytes) -> list[int]:
    try:
        return varints.decode_all(data)
    except varints.Truncated:
        raise BadSpan("its repeats are truncated") from None


def _steps(repeats: bytes) -> list[tuple[int, int, int]]:
    """Each later fetch's ``(run step, zigzagged time change, answer)`` in an older format."""
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


class Tail:
    """The end of a span, kept by a writer to append fetches without decoding the span again.

    It always appends in the packed format: a span in an older one is written
    again packed once, when the tail is made.
    """

    def __init__(self, run_id: int, fetched_at: str, repeats: bytes | None):
        first = to_seconds(fetched_at)
        if repeats and first is None:
            raise BadSpan(f"its first fetch time {fetched_at!r} is not an archive time")
        self.first = (run_id, first)
        if repeats and repeats[:2] == PACKED_FORMAT:
            fetches, reader, self._model = _read_packed(run_id, first, repeats)
            whole, pending = reader.tail()
            self._out = bits.Writer(PACKED_FORMAT + whole, pending)
        else:
            fetches = _fetch_seconds(run_id, first, repeats) if repeats else [(run_id, first, 0)]
            self._out, self._model = bits.Writer(PACKED_FORMAT), _START
            for before, fetch in zip(fetches, fetches[1:]):
                self._model = _write_packed(self._out, self._model, fetch[0] - before[0], fetch[1] - before[1],
                                            fetch[2], fetch[2] != before[2])
        self.fetches = len(fetches)
        self.run, self.seconds, self.answer = fetches[-1]

    @property
    def repeats(self) -> bytes | None:
        """The span's ``repeats`` blob (None while it holds one fetch)."""
        return self._out.getvalue() if self.fetches > 1 else None

    def can_append(self, run_id: int, seconds: int | None, ignore_cap: bool = False) -> bool:
        return ((ignore_cap or self.fetches <= MAX_REPEATS) and run_id > self.run
                and seconds is not None and self.seconds is not None)

    def append(self, run_id: int, seconds: int, answer: int = 0) -> bytes:
        """Add a fetch with this answer (check :meth:`can_append` first); returns the new ``repeats`` blob."""
        self._add(run_id, seconds, answer)
        return self._out.getvalue()

    def _add(self, run_id: int, seconds: int, answer: int) -> None:
        self._model = _write_packed(self._out, self._model, run_id - self.run, seconds - self.seconds, answer,
                                    answer != self.answer)
        self.run, self.seconds, self.answer = run_id, seconds, answer
        self.fetches += 1


def count(repeats: bytes | None) -> int:
    """How many fetches a span holds (its first included), without formatting times."""
    if not repeats:
        return 1
    if repeats[:2] == PACKED_FORMAT:
        return len(_read_packed(0, 0, repeats)[0])
    if repeats[:1] == bytes([PALETTE_FORMAT]):
        return 1 + len(_steps(repeats))
    ends = sum(1 for byte in repeats if not byte & 0x80)
    return 1 + ends // 2


def answer_of(row: dict, fields: tuple = ANSWER_FIELDS) -> list:
    """A fetch's (or a span's own) answer: its values of :data:`ANSWER_FIELDS` (or of ``fields``)."""
    return [row.get(name) for name in fields]


def load_answers(answers: str | None, own: list) -> list[list]:
    """A span's answers 1..n, whole, from its ``answers`` column (empty for NULL); ``own`` is its answer 0."""
    return [_unpack(packed, own) for packed in json.loads(answers)] if answers else []


def dump_answers(answers: list[list], own: list) -> str | None:
    """The ``answers`` column for a span's answers 1..n (NULL for none), each packed against ``own``.

    An answer leaves out its trailing values equal to ``own``'s (a 200 whose
    noise differed keeps the span's header set).
    """
    return json.dumps([_pack(answer, own) for answer in answers], separators=(",", ":")) if answers else None


#: Where an answer holds its kept headers: a ``header_sets`` id, or (palettes
#: written before migration m015) the headers' JSON text, or its object when
#: that read back to the very same text.
_HEADERS = ANSWER_FIELDS.index("header_set")


def _pack(answer: list, own: list) -> list:
    packed = list(answer)
    while packed and len(packed) > 1 and packed[-1] == own[len(packed) - 1]:
        packed.pop()
    return packed


def _unpack(packed: list, own: list) -> list:
    answer = [*packed, *own[len(packed):]]
    if isinstance(answer[_HEADERS], dict):
        answer[_HEADERS] = json.dumps(answer[_HEADERS])
    return answer


def with_answer(row: dict, answer: int, answers: list[list], fields: tuple = ANSWER_FIELDS) -> dict:
    """``row`` (a span's, with its own answer 0) with the values of its answer ``answer`` (of ``fields``)."""
    if answer == 0:
        return row
    if answer > len(answers):
        raise BadSpan(f"a fetch gives answer {answer}, but the span has {len(answers)} more")
    return {**row, **dict(zip(fields, answers[answer - 1]))}


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
