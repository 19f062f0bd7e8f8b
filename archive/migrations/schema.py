"""The archive's tables, created and upgraded by sqlite-utils migrations.

Each migration is applied once per archive and recorded in ``_sqlite_migrations``;
:func:`schema_version` is the number applied, so a later release can add a
migration and upgrade an existing archive in place. :func:`inspect` tells an
archive of this release from an older or newer one, or from a file that is not
an archive, without writing anything.
"""

import os
import sqlite3
from dataclasses import dataclass

from sqlite_utils import Database, Migrations

from wwc_archive.archive import assets
from wwc_archive.archive.changes import change_scores
from wwc_archive.archive.formats import compression, header_blocks, idlists, lookup_keys, texts, time_pairs
from wwc_archive.archive.migrations import batches, fold_snapshots, pack_spans, split_bodies
from wwc_archive.archive.formats.fingerprint import pack_fingerprint
from wwc_archive.archive.transaction import write_transaction

migrations = Migrations("wwc-archive")


@migrations()
def m001_core_tables(db: Database) -> None:
    db["runs"].create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "status": str,  # running, complete, interrupted, failed
            "programs": str,  # JSON list of program names
            "trigger": str,  # manual, scheduled, demo
            "pid": int,
            "pages_checked": int,
            "pages_fetched": int,
            "pages_unchanged": int,
            "pages_failed": int,
            "added": int,
            "changed": int,
            "removed": int,
            "exit_status": int,
            "duration": float,
            "note": str,
        },
        pk="id",
    )
    db["pages"].create(
        {
            "id": int,
            "url": str,
            "program": str,
            "role": str,  # program, pager, page, document
            "state": str,  # live, removed, unseen (never fetched successfully)
            "title": str,
            "first_run": int,
            "last_run": int,
            "last_snapshot": int,
            "last_good_snapshot": int,
            "etag": str,
            "last_modified": str,
        },
        pk="id",
        not_null={"url"},
    )
    db["pages"].create_index(["url"], unique=True)
    db["bodies"].create(
        {
            "id": int,
            "sha256": str,
            "size": int,
            "content_type": str,
            "compression": str,  # zlib; since m006 also zstd, zstd-delta; since m018 zstd-n1
            "data": bytes,
        },
        pk="id",
    )
    db["bodies"].create_index(["sha256"], unique=True)
    db["contents"].create(
        {
            "id": int,
            "fingerprint": str,
            "title": str,
            "author": str,
            "published": str,
            "text": str,
            "links": str,  # JSON list of outgoing in-scope links, sorted
        },
        pk="id",
    )
    db["contents"].create_index(["fingerprint"], unique=True)
    db["contents"].enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    db["snapshots"].create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "fetched_at": str,
            "http_status": int,
            "outcome": str,  # ok, not_modified, gone, failed
            "error": str,
            "final_url": str,
            "headers": str,  # JSON of the chosen response headers
            "body_id": int,
            "content_id": int,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("body_id", "bodies", "id"),
            ("content_id", "contents", "id"),
        ],
    )
    db["snapshots"].create_index(["page_id", "id"])
    db["snapshots"].create_index(["run_id"])
    db["changes"].create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "change": str,  # added, changed, removed
            "old_snapshot": int,
            "new_snapshot": int,
            "summary": str,  # JSON: words added/removed, metadata and link changes
            "diff": str,  # unified diff of the extracted text
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("old_snapshot", "snapshots", "id"),
            ("new_snapshot", "snapshots", "id"),
        ],
    )
    db["changes"].create_index(["run_id"])
    db["changes"].create_index(["page_id"])


@migrations()
def m002_change_edit_scripts(db: Database) -> None:
    """Each change's word-level edit script, so views need not diff again (token counts, not text)."""
    db["changes"].add_column("edits", str)


@migrations()
def m003_fetch_headers(db: Database) -> None:
    """What a WARC export needs of each fetch, kept cheaply.

    ``header_blocks`` holds header sets once each (JSON, zlib), shared by every
    fetch that sent or received the same ones. A snapshot points at its request's
    headers, and at its response's status line and headers only when it stored a
    new body (a revisit needs none). ``body_exact`` says whether the body the
    snapshot points at is byte for byte what this fetch received: 1 yes, 0 only
    its extracted content matched (per-request noise differed), NULL unknown
    (fetched before this migration) or no body.
    """
    db["header_blocks"].create({"id": int, "sha256": str, "compression": str, "data": bytes}, pk="id")
    db["header_blocks"].create_index(["sha256"], unique=True)
    db["snapshots"].add_column("request_head_id", int)
    db["snapshots"].add_column("response_head_id", int)
    db["snapshots"].add_column("body_exact", int)



@migrations()
def m004_snapshot_source(db: Database) -> None:
    """Where each snapshot came from, for history read from web archives.

    ``source`` is NULL for the crawler's own fetches (most rows: NULL costs no
    bytes), else ``wayback`` or ``warc``; ``memento_url`` is the capture's
    citable address in the archive it came from.
    """
    db["snapshots"].add_column("source", str)
    db["snapshots"].add_column("memento_url", str)


@migrations()
def m005_lookup_indexes(db: Database) -> None:
    """Indexes that keep every page of the archive as fast in year ten as in year one.

    ``changes.new_snapshot``: a page's history joins each fetch to the change it
    carried (without it, ``changes`` is scanned once per fetch).
    ``snapshots(content_id, page_id)``: search maps a matching text to the
    fetches that saw it, and a snapshot finds the first fetch with its text.
    Only indexes: no stored row changes, so the migration is one quick step.
    """
    db["changes"].create_index(["new_snapshot"], if_not_exists=True)
    db["snapshots"].create_index(["content_id", "page_id"], if_not_exists=True)


@migrations()
def m006_body_deltas(db: Database) -> None:
    """Bodies stored as zstd deltas against their page's previous body.

    ``bodies.base_id`` is the body a ``zstd-delta`` body decodes against (NULL
    for ``zlib`` and ``zstd`` bodies, which are whole). Only a column is added:
    older ``zlib`` bodies stay as they are and stay readable.
    """
    db["bodies"].add_column("base_id", int)


@migrations()
def m007_snapshot_spans(db: Database) -> None:
    """A snapshot row becomes a span: its first fetch and the later ones that answered the same.

    ``last_run`` is the run of the span's last fetch (NULL: the span is one
    fetch, its ``run_id``); ``repeats`` packs every later fetch's run and time
    (see :mod:`wwc_archive.archive.formats.spans`). The partial index finds the spans a
    run extended without indexing the many one-fetch rows.
    """
    db["snapshots"].add_column("last_run", int)
    db["snapshots"].add_column("repeats", bytes)
    db.execute("create index if not exists idx_snapshots_last_run on snapshots (last_run) where last_run is not null")


@migrations(transactional=False)
def m008_fold_snapshots(db: Database) -> None:
    """Fold an older archive's one-row-per-fetch snapshots into spans, page by page, in batches.

    A folded row's id stays valid through ``snapshot_aliases``; changes and
    pages are pointed at the surviving spans (see :mod:`wwc_archive.archive.migrations.fold_snapshots`).
    """
    fold_snapshots.fold_archive(db)


@migrations()
def m009_paragraphs(db: Database) -> None:
    """Texts as lists of distinct paragraphs, searched once each.

    ``paragraphs`` holds each distinct paragraph (a piece of a text between
    blank lines) once, found by ``hash`` (64 bits of BLAKE2b; equal hashes are
    told apart by their text), with the version it first appeared in;
    ``paragraphs_fts`` indexes them (porter stemming, like ``contents_fts``).
    ``contents.paragraph_ids`` is a version's text as its paragraphs' ids (see
    :mod:`wwc_archive.archive.formats.paragraphs`); new versions leave ``text`` NULL.
    ``paragraph_pages`` maps each paragraph (and title) to the pages it
    appeared on and the version it first appeared in there, so search needs
    no old text. Old rows keep their ``text`` (and ``contents_fts``) until
    m010 converts them.
    """
    db["paragraphs"].create({"id": int, "hash": int, "text": str, "first_content": int}, pk="id")
    db["paragraphs"].create_index(["hash"])
    db["paragraphs"].enable_fts(["text"], create_triggers=True, tokenize="porter")
    db["contents"].add_column("paragraph_ids", bytes)
    db.execute("create table paragraph_pages (paragraph_id integer, page_id integer, first_content integer, "
               "primary key (paragraph_id, page_id)) without rowid")


#: Versions converted per batch of m010 (``WWC_ARCHIVE_PARAGRAPH_BATCH`` overrides it, for tests).
PARAGRAPH_BATCH = 300


@migrations(transactional=False)
def m010_paragraph_texts(db: Database) -> None:
    """Every older version's text converted to paragraphs, then ``contents_fts`` dropped.

    Batched (:func:`~wwc_archive.archive.migrations.batches.in_batches`): the versions
    whose ``text`` is still set are the work left, so a killed upgrade resumes.
    ``fingerprint`` is not touched: change detection reads the same afterwards.
    """
    rows = int(os.environ.get("WWC_ARCHIVE_PARAGRAPH_BATCH") or PARAGRAPH_BATCH)

    def step(db: Database) -> bool:
        if texts.convert_batch(db.conn, rows):
            return True
        if db["contents_fts"].exists():
            db["contents"].disable_fts()  # the table and its triggers
        return False

    batches.in_batches(db, step)


@migrations()
def m011_listing_items(db: Database) -> None:
    """A listing's items (teasers), so its changes are told as items entered, left and changed.

    ``listing_items`` holds each distinct teaser once (``sha256`` of its URL,
    title, date, byline and summary); ``contents.items`` is a listing
    version's item ids in listing order, in the id-list encoding of
    :func:`wwc_archive.archive.formats.paragraphs.encode`.
    No data migration: versions stored before have no items, and a change
    where either side has none is compared as text, as before.
    """
    db["listing_items"].create(
        {"id": int, "sha256": str, "url": str, "title": str, "published": str, "byline": str, "summary": str},
        pk="id",
    )
    db["listing_items"].create_index(["sha256"], unique=True)
    db["contents"].add_column("items", bytes)


@migrations()
def m012_span_answers(db: Database) -> None:
    """A span's other answers (a 304 after a 200, other request headers): ``snapshots.answers``.

    A JSON list of ``[outcome, http_status, body_exact, request_head_id,
    headers]``, answers 1..n of the span (its own columns are answer 0); its
    ``repeats`` then say which fetch gave which (see
    :mod:`wwc_archive.archive.formats.spans`). Schema only: spans stored before keep
    NULL and their ``repeats`` decode as before. Migration m008 adds the
    column itself when it folds an older archive.
    """
    if "answers" not in db["snapshots"].columns_dict:
        db["snapshots"].add_column("answers", str)


@migrations()
def m013_link_ids(db: Database) -> None:
    """A version's outgoing links as ids of distinct URLs (:mod:`wwc_archive.archive.formats.outlinks`).

    ``link_urls`` holds each URL once; ``contents.link_ids`` a new version's
    links as their sorted ids, ``links`` left NULL. Schema only: versions
    stored before keep their JSON ``links``, read as they are.
    """
    db["link_urls"].create({"id": int, "url": str}, pk="id", not_null={"url"})
    db["link_urls"].create_index(["url"], unique=True)
    db["contents"].add_column("link_ids", bytes)


@migrations(transactional=False)
def m014_fold_removed_pages(db: Database) -> None:
    """A removed page's nightly 404s folded into the row that recorded its removal.

    The writer folds them from now on; this pass folds those already stored
    (see :func:`wwc_archive.archive.migrations.fold_snapshots.fold_removed_pages`), in batches.
    """

    fold_snapshots.fold_removed_pages(db)


@migrations(transactional=False)
def m015_packed_spans(db: Database) -> None:
    """Smaller snapshot rows: spans' ``repeats`` packed, kept headers stored once per distinct set.

    ``header_sets`` holds each distinct kept-headers JSON once (found by
    ``hash``, see :mod:`wwc_archive.archive.formats.header_sets`); ``snapshots.header_set``
    and a span's answers name it by id, and ``snapshots.headers`` is dropped
    (``left join header_sets h on h.id = s.header_set`` gives ``h.headers``).
    Spans' ``repeats`` are rewritten in the packed format of
    :mod:`wwc_archive.archive.formats.spans`. Batched, resumable
    (:mod:`wwc_archive.archive.migrations.pack_spans`).
    """

    pack_spans.repack_archive(db)


#: Bodies rewritten per batch of m016 (``WWC_ARCHIVE_DIGEST_BATCH`` overrides it, for tests).
DIGEST_BATCH = 5000


@migrations(transactional=False)
def m016_body_digests(db: Database) -> None:
    """``bodies.sha256`` as the digest's 32 bytes, not 64 hex characters: half the column and its index.

    The unique index is dropped in the first batch and made again, packed,
    after the last; in between, bodies whose ``sha256`` is still text are the
    work left (in id order), so a killed upgrade resumes. A value that is not
    64 hex digits is left as it is, for ``check`` to report. Read the hex in
    SQL with ``lower(hex(sha256))``.
    """
    rows = int(os.environ.get("WWC_ARCHIVE_DIGEST_BATCH") or DIGEST_BATCH)
    after = 0

    def step(db: Database) -> bool:
        nonlocal after
        db.execute("drop index if exists idx_bodies_sha256")
        batch = db.execute("select id, sha256 from bodies where id > ? and typeof(sha256) = 'text' "
                           "order by id limit ?", [after, rows]).fetchall()
        digests = [(_digest_bytes(text), body_id) for body_id, text in batch]
        db.conn.executemany("update bodies set sha256 = ? where id = ?",
                            [(digest, body_id) for digest, body_id in digests if digest is not None])
        if batch:
            after = batch[-1][0]
            return True
        db["bodies"].create_index(["sha256"], unique=True, if_not_exists=True)
        return False

    batches.in_batches(db, step)


def _digest_bytes(text: str) -> bytes | None:
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        return None
    return digest if len(digest) == 32 else None


#: Versions looked at per batch of m017 (``WWC_ARCHIVE_IDLIST_BATCH`` overrides it, for tests).
IDLIST_BATCH = 200


@migrations(transactional=False)
def m017_listing_deltas(db: Database) -> None:
    """A hub's long id lists (``paragraph_ids``, ``items``) as deltas on its previous version's.

    See :mod:`wwc_archive.archive.formats.idlists`: the writer stores them so from
    now on, and this pass rewrites those stored before, in id order and in
    batches; a version already done is left alone, so a killed upgrade
    resumes. Fingerprints and the ids read back are untouched.
    """
    rows = int(os.environ.get("WWC_ARCHIVE_IDLIST_BATCH") or IDLIST_BATCH)
    known = {}
    batches.in_id_batches(db, lambda after: idlists.convert_batch(db.conn, after, rows, known))


#: Bodies looked at per batch of m018 (``WWC_ARCHIVE_RESPLIT_BATCH`` overrides it, for tests).
RESPLIT_BATCH = 2000


@migrations(transactional=False)
def m018_split_bodies(db: Database) -> None:
    """Bodies stored as ``zstd-delta`` stored again as ``zstd-n1``, split from their noise, when that is smaller.

    See :mod:`wwc_archive.archive.formats.noise_split`: the writer stores HTML deltas so
    from now on. This pass goes through the older deltas in id order and in
    batches; a converted body is no longer a ``zstd-delta``, so a killed
    upgrade resumes with the ones left. Bytes, digests and bases are the same.
    """
    rows = int(os.environ.get("WWC_ARCHIVE_RESPLIT_BATCH") or RESPLIT_BATCH)
    bodies = split_bodies.reader(db.conn)
    batches.in_id_batches(db, lambda after: split_bodies.convert_batch(db.conn, bodies, after, rows))


@migrations()
def m019_header_keys(db: Database) -> None:
    """``header_blocks`` found by a 64-bit ``hash`` instead of a 64-character ``sha256``, and able to be deltas.

    ``hash`` is the first 64 bits of the SHA-256 that ``sha256`` held in hex (a
    block whose ``sha256`` is not hex gets its hash from its decoded bytes). A
    block stored from now on may be a ``zstd-hd`` delta on ``base_id`` (see
    :mod:`wwc_archive.archive.formats.header_blocks`); blocks stored before keep their bytes.
    """
    db.execute("drop index if exists idx_header_blocks_sha256")
    db["header_blocks"].add_column("hash", int)
    db["header_blocks"].add_column("base_id", int)
    reader = header_blocks.Reader(db.conn)
    keys = []
    for block_id, sha256 in db.execute("select id, sha256 from header_blocks").fetchall():
        keys.append((_block_key(reader, block_id, sha256), block_id))
    db.conn.executemany("update header_blocks set hash = ? where id = ?", keys)
    db.execute("alter table header_blocks drop column sha256")
    db["header_blocks"].create_index(["hash"])


def _block_key(reader: "header_blocks.Reader", block_id: int, sha256: str | None) -> int | None:
    digest = _digest_bytes(sha256) if isinstance(sha256, str) else None
    if digest is not None:
        return int.from_bytes(digest[:8], "big", signed=True)
    try:
        return header_blocks.key(reader.data(block_id))
    except compression.Undecodable:
        return None  # for check to report


@migrations()
def m020_packed_fingerprints(db: Database) -> None:
    """``contents.fingerprint`` packed: its kind as one byte, then the SHA-256's 32 bytes, instead of 69-70
    characters (``html:`` or ``bytes:`` and 64 hex digits), in the column and in its unique index.

    One transaction (a version is a small row; ten years hold about 40,000):
    killed, it is rolled back and runs again. A value that is not such a
    fingerprint stays text. Read them with
    :func:`~wwc_archive.archive.formats.fingerprint.unpack_fingerprint`.
    """
    db.execute("drop index if exists idx_contents_fingerprint")
    rows = db.execute("select id, fingerprint from contents where typeof(fingerprint) = 'text'").fetchall()
    packed = [(pack_fingerprint(text), content_id) for content_id, text in rows]
    db.conn.executemany("update contents set fingerprint = ? where id = ?",
                        [(value, content_id) for value, content_id in packed if isinstance(value, bytes)])
    db["contents"].create_index(["fingerprint"], unique=True)


@migrations()
def m021_dismissals(db: Database) -> None:
    """What a run saw differ and did not call a change, and why.

    ``contents`` gains ``compare_key`` (the 16-byte digest of the version folded
    for comparison, :func:`~wwc_archive.archive.changes.comparison.comparison_key`;
    versions stored before get theirs when next compared) and ``times`` (the
    page's ``<time datetime>`` texts, JSON). ``dismissals`` holds, for each fetch
    whose difference was dismissed, the rule that dismissed it (``typography``,
    ``dates``, ``counters``, ``template``, ``outage``, ``soft-404-outage``) and a
    line saying what it saw. ``kept_cookies`` holds the cookies sites set to
    last, for the next crawl to send (:mod:`wwc_archive.crawler.cookies`).
    Schema only: past changes are not rewritten.
    """
    db["contents"].add_column("compare_key", bytes)
    db["contents"].add_column("times", str)
    db["dismissals"].create(
        {"id": int, "run_id": int, "page_id": int, "snapshot_id": int, "rules": str, "detail": str, "shown": str},
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("page_id", "pages", "id"), ("snapshot_id", "snapshots", "id")],
    )
    db["dismissals"].create_index(["run_id"])
    db["dismissals"].create_index(["page_id"])
    db["kept_cookies"].create({"origin": str, "name": str, "value": str, "path": str, "expires": float},
                              pk=("origin", "name"))


@migrations()
def m022_significance(db: Database) -> None:
    """Each change's significance and echo, and the record of each report's deliveries.

    ``changes`` gains ``score`` (0 to 1), ``reasons`` (a JSON list of short
    phrases, heaviest first; :mod:`~wwc_archive.archive.changes.significance`) and
    ``echo_of`` (the id of the new or removed article this change only echoes,
    :mod:`~wwc_archive.archive.changes.echoes`). Past changes are scored here from
    their stored summaries (one pass of JSON, no text read: figures, passages
    and key terms need the texts and weigh in changes recorded from now on).
    ``deliveries`` records each channel's delivery of a run's report
    (:mod:`~wwc_archive.archive.deliveries`). One transaction: killed, it is
    rolled back and runs again.
    """
    db["changes"].add_column("score", float)
    db["changes"].add_column("reasons", str)
    db["changes"].add_column("echo_of", int)
    db["deliveries"].create(
        {"id": int, "run_id": int, "first_run": int, "channel": str, "status": str, "at": str, "error": str},
        pk="id", foreign_keys=[("run_id", "runs", "id")],
    )
    db["deliveries"].create_index(["run_id", "channel"])
    change_scores.score_past_changes(db.conn)


@migrations()
def m023_assets(db: Database) -> None:
    """Page requisites (stylesheets, fonts, images, scripts, icons): ``assets`` and ``asset_captures``.

    An asset's bytes are a ``bodies`` row found by their SHA-256, shared with
    every URL, page and night that has the same bytes; a capture row is added
    only when an asset's bytes change or it is gone. See
    :mod:`~wwc_archive.archive.assets`. Schema only.
    """
    assets.create_tables(db)


@migrations()
def m024_drop_leftovers(db: Database) -> None:
    """Drop the tables finished upgrades left behind: m008's and m014's ``_snapshot_fold_progress``.

    They only said where a killed upgrade would resume; once the migration is
    recorded as applied nothing reads them. ``_snapshot_repack_progress``
    (m015) drops itself when done, and is dropped here too should a copy
    remain. A table already gone is skipped.
    """
    for table in (fold_snapshots.PROGRESS, pack_spans.PROGRESS):
        db.execute(f"drop table if exists [{table}]")


@migrations()
def m025_short_lookup_keys(db: Database) -> None:
    """Bodies, versions and assets found by short keys instead of unique indexes of their whole digests and URLs.

    ``bodies`` by the first 8 bytes of their address, ``contents`` by their
    fingerprint's kind byte and 8 digest bytes (indexes on expressions), and
    ``assets`` by ``url_key``, a 64-bit hash of the URL; the index of asset
    captures by body goes (nothing looks them up so). About 48 bytes an index
    row become about 20: some 7 MB in ten years. See
    :mod:`~wwc_archive.archive.formats.lookup_keys`. One transaction: it
    reads each table once to build its index (seconds for ten years).
    """
    db.execute("drop index if exists idx_bodies_sha256")
    db.execute(f"create index if not exists idx_bodies_sha256_prefix on bodies ({lookup_keys.BODY_KEY})")
    db.execute("drop index if exists idx_contents_fingerprint")
    db.execute(f"create index if not exists idx_contents_fingerprint_prefix on contents ({lookup_keys.CONTENT_KEY})")
    assets.shorten_keys(db)


@migrations()
def m026_time_pairs(db: Database) -> None:
    """A version's ``<time>`` elements as ids of distinct pairs: ``time_pairs`` and ``contents.time_ids``.

    Each (shown, ``datetime``) pair is stored once; a version keeps their ids
    in order instead of its JSON ``times``, which every version stored before
    is converted from here (``times`` left NULL). About 430 bytes of JSON a
    version become about 12: some 14 MB in ten years. See
    :mod:`~wwc_archive.archive.formats.time_pairs`. One transaction (seconds
    for ten years): killed, it is rolled back and runs again.
    """
    time_pairs.create_table(db.conn)
    time_pairs.convert(db.conn)


def ensure_schema(db: Database) -> None:
    """Create or upgrade the archive's tables, one migration at a time.

    A migration that only changes the schema runs in one
    :func:`~wwc_archive.archive.transaction.write_transaction` with its record
    of being applied: two processes opening a new archive at once take turns
    instead of one failing. A migration that rewrites stored rows is
    registered with ``transactional=False``: it works in batches, each its own
    transaction (see :func:`wwc_archive.archive.migrations.batches.in_batches`), so an
    upgrade killed half-way keeps the batches done and resumes from there the
    next time a writer opens the archive; it is recorded as applied only once
    its last batch is written.
    """
    if not migrations.pending(db):
        return
    with write_transaction(db):
        if not _tables(db.conn):  # a new archive: made whole in one transaction, never seen half-made
            migrations.apply(db)
            return
    while True:
        pending = migrations.pending(db)
        if not pending:
            return
        first, later = pending[0], [migration.name for migration in pending[1:]]
        if not first.transactional:
            first.fn(db)  # the batches, each committed on its own
        with write_transaction(db):  # record it (re-running a finished batched step is a no-op)
            if any(migration.name == first.name for migration in migrations.pending(db)):
                migrations.apply(db, stop_before=later)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}


def schema_version(db: Database) -> int:
    """How many of this release's migrations the archive has applied."""
    return len(migrations.applied(db))


#: The tables every archive has (made by the first migration).
CORE_TABLES = ("runs", "pages", "bodies", "contents", "snapshots", "changes")


def release_migrations() -> list[str]:
    """The names of this release's migrations, in order."""
    return [migration.name for migration in migrations.pending(Database(memory=True))]


@dataclass(frozen=True)
class SchemaState:
    """What an SQLite file holds, as far as this release can tell.

    ``kind`` is ``empty`` (no tables: a new archive), ``current``, ``older``
    (this release would add migrations), ``newer`` (made by a later release),
    ``foreign`` (not a wwc-archive archive) or ``damaged`` (tables missing).
    """

    kind: str
    version: int
    release_version: int
    detail: str = ""


def inspect(conn: sqlite3.Connection) -> SchemaState:
    """Classify the database behind ``conn`` with reads only."""
    known = release_migrations()
    tables = _tables(conn)
    if not tables:
        return SchemaState("empty", 0, len(known))
    applied = []
    if migrations.migrations_table in tables:
        applied = [row[0] for row in conn.execute(
            f"select name from {migrations.migrations_table} where migration_set = ? order by rowid",
            [migrations.name])]
    if not applied:
        return SchemaState("foreign", 0, len(known), "it has no wwc-archive schema")
    if any(name not in known for name in applied):
        return SchemaState("newer", len(applied), len(known))
    missing = [table for table in CORE_TABLES if table not in tables]
    if missing:
        return SchemaState("damaged", len(applied), len(known), f"table(s) {', '.join(missing)} are missing")
    if len(applied) < len(known):
        return SchemaState("older", len(applied), len(known))
    return SchemaState("current", len(applied), len(known))
