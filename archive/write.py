"""The write door: one night's fetch records become rows, and each fetch's change is decided here.

:class:`RunWriter` stores what a fetch brought (bodies, heads, versions, spans)
through the formats below it and decides whether the page was *added* or
*changed* (or only differed, a dismissal); :func:`record_removals` decides
*removed* when a run completes (:meth:`~wwc_archive.archive.store.Archive.finish_run`).
"""

import hashlib
import json
import time

from wwc_archive.archive import assets  # page requisites: written beside the pages, never as pages
from wwc_archive.archive.changes import change_scores, comparison, significance
from wwc_archive.archive.changes.diff import content_summary, word_diff
from wwc_archive.archive.changes.listing import listing_summary
from wwc_archive.archive.formats import (bodies, header_blocks, header_sets, idlists, items, lookup_keys, outlinks,
                                        spans, texts, time_pairs)
from wwc_archive.archive.formats.fingerprint import (document_fingerprint, normalized, normalized_fingerprint,
                                                     pack_fingerprint)
from wwc_archive.archive.transaction import write_transaction
from wwc_archive.records import KEPT_HEADERS, AssetFetch, Extracted, FetchRecord

#: A page's latest span as the writer keeps it: what a fetch must equal to fold, and the span's own answer.
_SPAN_FIELDS = (*spans.SAME_FIELDS, *spans.ANSWER_FIELDS)


class RunWriter:
    """Buffers a run's fetch records and writes them in transactions.

    A batch is written as one transaction, so killing the process at any
    moment loses at most the unwritten batch and never leaves half a snapshot.
    """

    def __init__(self, archive, run_id: int, batch_size: int = 200, max_delay: float = 2.0,
                 key_terms: dict[str, tuple[str, ...]] | None = None):
        self.archive = archive  # an open Archive: its ``db`` is written
        #: Program -> its key terms, weighed in each change's significance.
        self.key_terms = key_terms or {}
        self.db = archive.db
        self.run_id = run_id
        self.batch_size = batch_size
        self.max_delay = max_delay
        self._buffer: list[FetchRecord] = []
        self._last_flush = time.monotonic()
        self._pages = self._load_pages()
        self._heads = header_blocks.Store(self.db.conn)
        self._bodies = bodies.BodyStore(self.db)
        # Distinct paragraphs, link URLs, teasers, kept headers and dates: ids known this run, new rows written once a batch.
        self._paragraphs = texts.paragraph_table()
        self._links = outlinks.link_table()
        self._items = items.item_table()
        self._header_sets = header_sets.table()
        self._times = time_pairs.time_table()
        self._distinct = (self._paragraphs, self._links, self._items, self._header_sets, self._times)
        self._assets = assets.AssetWriter(self.db.conn, run_id, self._heads)  # page requisites, never pages

    def _load_pages(self) -> dict[str, dict]:
        rows = self.db.query(
            """
            select p.id, p.url, p.state, p.role, p.last_good_snapshot,
                   s.body_id, b.sha256 as body_sha256, s.content_id, c.fingerprint,
                   json_array(l.id, l.run_id, l.fetched_at, l.answers, {same}) as span, l.repeats
            from pages p
            left join snapshots s on s.id = p.last_good_snapshot
            left join bodies b on b.id = s.body_id
            left join contents c on c.id = s.content_id
            left join snapshots f on f.id = p.last_snapshot
            left join snapshots l on l.id = case when f.outcome = 'failed' then p.last_good_snapshot
                                                 else p.last_snapshot end
            """.format(same=", ".join(f"l.{name}" for name in _SPAN_FIELDS))
        )
        pages = {}
        for row in rows:
            span, repeats = json.loads(row.pop("span")), row.pop("repeats")  # read now, not a query per fold
            row["span"] = None if span[0] is None else dict(
                zip(("id", "run_id", "fetched_at", "answers", *_SPAN_FIELDS), span), repeats=repeats)
            pages[row["url"]] = row
        return pages

    def add(self, record: FetchRecord | AssetFetch) -> None:
        self._buffer.append(record)
        if len(self._buffer) >= self.batch_size or time.monotonic() - self._last_flush > self.max_delay:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            try:
                with write_transaction(self.db):  # one transaction per batch
                    for record in self._buffer:
                        if isinstance(record, AssetFetch):
                            self._assets.write(record)
                        else:
                            self._write(record)
                    self._write_distinct()
            except BaseException:
                self._forget()  # rolled back: ids kept in memory may be reused
                self._pages = self._load_pages()  # and the pages' spans are as stored
                raise
            self._buffer.clear()
        self._last_flush = time.monotonic()

    # One record --------------------------------------------------------------

    def _write(self, record: FetchRecord) -> None:
        page = self._page(record)
        snapshot = {
            "run_id": self.run_id,
            "page_id": page["id"],
            "fetched_at": record.fetched_at,
            "http_status": record.http_status,
            "outcome": record.outcome,
            "error": record.error,
            "final_url": record.final_url if record.final_url != record.url else None,
            "header_set": header_sets.id_of(self.db.conn, self._header_sets, _kept_headers(record.headers)),
            "request_head_id": self._heads.id_of(request_head(record)),
            "source": None if record.source == "crawl" else record.source,
            "memento_url": record.memento_url,
        }
        page_update = {"last_run": self.run_id}
        change = dismissed = content = None
        fingerprint, body_sha256 = page["fingerprint"], page["body_sha256"]
        if record.outcome == "ok":
            content = normalized(record.extracted) if record.extracted is not None else None
            fingerprint = _fingerprint(record, content)
            sha = hashlib.sha256(record.body).digest() if record.body is not None else None  # 32 bytes, as stored
            if fingerprint == page["fingerprint"]:
                snapshot["body_id"], snapshot["content_id"] = page["body_id"], page["content_id"]
                # Is the kept body this fetch's exact bytes, or only its content (noise differed)?
                exact = sha is not None and page["body_id"] is not None
                snapshot["body_exact"] = int(sha == page["body_sha256"]) if exact else None
            else:
                snapshot["body_id"] = self._store_body(record, page, sha)
                body_sha256 = sha
                snapshot["body_exact"] = 1 if snapshot["body_id"] else None
                snapshot["response_head_id"] = self._heads.id_of(response_head(record))
                change = "changed" if page["state"] == "live" and page["fingerprint"] else "added"
                # A new page's key waits for the next crawl's start (Archive.known_pages): a first crawl
                # of thousands of pages works out none.
                key = (comparison.comparison_key(content)
                       if change == "changed" and content is not None and record.role != "document" else None)
                snapshot["content_id"] = self._store_content(content, fingerprint, page["id"], key)
                if change == "changed" and key is not None and key == self._compare_key(page["content_id"]):
                    change = None  # the same words, dates and counts: recorded, not reported
                    dismissed = comparison.rules_that_dismiss(self._extracted(page["content_id"]), content)
            if page["state"] != "live" and change is None:
                change = "added"  # back after a removal, with the same content
            page_update.update(state="live", etag=record.headers.get("etag"),
                               last_modified=record.headers.get("last-modified"))
            if content is not None:
                page_update["title"] = content.title or None
        elif record.outcome == "not_modified":
            snapshot["body_id"], snapshot["content_id"] = page["body_id"], page["content_id"]
        elif record.outcome == "gone" and page["state"] == "live":
            snapshot["response_head_id"] = self._heads.id_of(response_head(record))  # the removal's answer
        snapshot_id = self._fold(page, snapshot) if change is None else None
        if snapshot_id is None:
            snapshot_id = self._insert("snapshots", snapshot)
            if record.outcome != "failed":  # a failure is a row of its own: the span before stays open
                page["span"] = {**snapshot, "id": snapshot_id, "repeats": None, "answers": None}
        page_update["last_snapshot"] = snapshot_id
        if record.outcome in ("ok", "not_modified") and snapshot.get("content_id"):
            page_update["last_good_snapshot"] = snapshot_id
        if change and page["role"] != "pager":
            self._record_change(page, change, snapshot_id, snapshot["content_id"], record.program)
        elif dismissed is not None and page["role"] != "pager":
            self._dismiss(page, snapshot_id, ",".join(dismissed), "differed only in " + ", ".join(dismissed))
        if record.dismissed and record.outcome == "ok" and page["role"] != "pager":
            self._dismiss(page, snapshot_id, "second-fetch", record.dismissed,
                          shown=json.dumps(record.shown_instead, ensure_ascii=False))
        self._update("pages", page["id"], page_update)
        if "last_good_snapshot" in page_update:
            page.update(
                state="live",
                last_good_snapshot=snapshot_id,
                body_id=snapshot["body_id"],
                body_sha256=body_sha256,
                content_id=snapshot["content_id"],
                fingerprint=fingerprint,
            )

    def _fold(self, page: dict, snapshot: dict) -> int | None:
        """Add this fetch to its page's latest span if it read the same content; the span's id, or None.

        Only an ``ok`` or ``not_modified`` fetch (or a removed page's ``gone``
        fetch, into a ``gone`` span) that stored nothing new (no
        body, content, response head or change) and matches the span on every
        field of :data:`~wwc_archive.archive.formats.spans.SAME_FIELDS` folds, and only
        into a span from an earlier run with room left. Its answer (a 304 or a
        200, its request headers) is one of the span's palette, added to it if
        new while there is room (:data:`~wwc_archive.archive.formats.spans.MAX_ANSWERS`).
        """
        span = page.get("span")
        if (span is None or not _folds_into(snapshot["outcome"], span["outcome"], page["state"])
                or snapshot.get("response_head_id") is not None
                or any(snapshot.get(name) != span.get(name) for name in spans.SAME_FIELDS)):
            return None
        tail = span.get("tail")
        if tail is None:
            tail = span["tail"] = spans.Tail(span["run_id"], span["fetched_at"], span["repeats"])
            span["answers"] = spans.load_answers(span["answers"], spans.answer_of(span))
        palette = [spans.answer_of(span), *span["answers"]]
        answer = spans.answer_of(snapshot)
        seconds = spans.to_seconds(snapshot["fetched_at"])
        new_answer = answer not in palette
        if not tail.can_append(self.run_id, seconds) or (new_answer and len(palette) >= spans.MAX_ANSWERS):
            return None
        update = {"last_run": self.run_id}
        if new_answer:
            span["answers"].append(answer)
            palette.append(answer)
            update["answers"] = spans.dump_answers(span["answers"], spans.answer_of(span))
        update["repeats"] = tail.append(self.run_id, seconds, palette.index(answer))
        self._update("snapshots", span["id"], update)
        return span["id"]

    def _page(self, record: FetchRecord) -> dict:
        page = self._pages.get(record.url)
        if page is None:
            page_id = self._insert(
                "pages",
                {
                    "url": record.url,
                    "program": record.program,
                    "role": record.role,
                    "state": "unseen",
                    "first_run": self.run_id,
                },
            )
            page = {"id": page_id, "url": record.url, "state": "unseen", "role": record.role,
                    "last_good_snapshot": None, "body_id": None, "body_sha256": None, "content_id": None,
                    "fingerprint": None, "span": None}
            self._pages[record.url] = page
        return page

    def _store_body(self, record: FetchRecord, page: dict, sha: bytes | None) -> int | None:
        """The id of the fetch's body (:class:`~wwc_archive.archive.formats.bodies.BodyStore`), None for none."""
        if record.body is None:
            return None
        return self._bodies.id_of(record.body, sha, record.content_type, page["role"], page["body_id"])

    def _forget(self) -> None:
        """Drop what is remembered of rows a rolled-back batch wrote: bodies, header blocks, distinct rows."""
        self._bodies.forget()
        self._heads.forget()
        self._assets.forget()
        for table in self._distinct:
            table.forget()

    def _write_distinct(self) -> None:
        """Insert the paragraphs, link URLs, teasers, header sets and dates given ids since the last call."""
        for table in self._distinct:
            table.write(self.db.conn)

    def _dismiss(self, page: dict, snapshot_id: int, rules: str, detail: str, shown: str | None = None) -> None:
        """Record a difference this fetch showed that is not a change, and the rules that say why."""
        self._insert("dismissals", {"run_id": self.run_id, "page_id": page["id"], "snapshot_id": snapshot_id,
                                    "rules": rules, "detail": detail, "shown": shown})

    def _compare_key(self, content_id: int | None) -> bytes | None:
        """A stored version's :func:`~wwc_archive.archive.changes.comparison.comparison_key`, worked out now and kept
        if it was stored before keys were."""
        if content_id is None:
            return None
        row = self.db.conn.execute("select compare_key from contents where id = ?", [content_id]).fetchone()
        if row is None:
            return None
        if row[0] is None:
            key = comparison.comparison_key(self._extracted(content_id))
            self._update("contents", content_id, {"compare_key": key})
            return key
        return row[0]

    def _extracted(self, content_id: int) -> Extracted:
        """A stored version as the crawler extracted it (without its teasers)."""
        self._write_distinct()  # its paragraphs may be this batch's
        return texts.stored_version(self.db.conn, content_id)

    def _store_content(self, e: Extracted | None, fingerprint: bytes | str, page_id: int,
                       compare_key: bytes | None = None) -> int:
        """The version with this fingerprint, stored now (its text as paragraphs, a hub's long
        lists as deltas on the page's version before) if new; indexed for the page."""
        existing = lookup_keys.content_id(self.db.conn, fingerprint)
        if existing is not None:
            ids = texts.searchable_ids(self.db.conn, existing, self._paragraphs)
            texts.record_pages(self.db.conn, page_id, existing, ids)
            return existing
        content_id = self._insert(
            "contents",
            {
                "fingerprint": fingerprint,
                "title": e.title if e else None,
                "author": e.author if e else None,
                "published": e.published if e else None,
                "link_ids": outlinks.store(self.db.conn, e.links, self._links) if e else None,
                "items": items.store(self.db.conn, e.items, self._items) if e and e.items else None,
                "compare_key": compare_key,
                "time_ids": time_pairs.store(self.db.conn, e.times, self._times) if e else None,
            },
        )
        ids = texts.store(self.db.conn, content_id, e.text if e else None, e.title if e else None, self._paragraphs)
        texts.record_pages(self.db.conn, page_id, content_id, ids)
        idlists.store_as_deltas(self.db.conn, content_id, idlists.current_version(self.db.conn, page_id))
        return content_id

    def _record_change(self, page: dict, change: str, snapshot_id: int, content_id: int, program: str) -> None:
        terms = self.key_terms.get(program) or ()
        row = {
            "run_id": self.run_id,
            "page_id": page["id"],
            "change": change,
            "old_snapshot": page["last_good_snapshot"] if change == "changed" else None,
            "new_snapshot": snapshot_id,
        }
        if change == "changed":
            self._write_distinct()  # the two versions are read back
            old, new = self._content(page["content_id"]), self._content(content_id)
            old_items = items.content_items(self.db.conn, page["content_id"]) if page["role"] == "program" else None
            new_items = items.content_items(self.db.conn, content_id) if old_items is not None else None
            if new_items is not None:  # a listing: told as items, without the costly word diff
                summary = listing_summary(old, new, old_items, new_items)
            else:
                summary, row["edits"] = content_summary(old, new)  # the unified diff is made when asked for
            row["summary"] = json.dumps(summary)
            diff = None if new_items is not None else \
                word_diff(old["text"] or "", new["text"] or "", script=row["edits"])["diff"]
            scored = significance.score_change(change, page["role"], summary, diff,
                                               len((old["text"] or "").split()), terms)
        else:  # a new page's text is read only when its program has key terms to look for
            text = None
            if terms and content_id:
                self._write_distinct()  # its paragraphs may be this batch's
                text = texts.content_text(self.db.conn, content_id)
            scored = significance.score_change(change, page["role"], diff=[("insert", text)] if text else None,
                                               key_terms=terms)
        row.update(change_scores.columns(scored))
        self._insert("changes", row)

    def _content(self, content_id: int) -> dict:
        row = dict(self.db["contents"].get(content_id))
        row["text"] = texts.content_text(self.db.conn, content_id)
        row["links"] = outlinks.content_links(self.db.conn, content_id)
        return row

    # Plain SQL on the hot path: sqlite-utils' insert() and update() inspect
    # the table on every call, which costs more than the write itself.

    def _insert(self, table: str, row: dict) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.db.conn.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))
        return cursor.lastrowid

    def _update(self, table: str, row_id: int, fields: dict) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.conn.execute(f"update {table} set {assignments} where id = ?", [*fields.values(), row_id])



def record_removals(db, run_id: int) -> None:
    """Record as *removed* each live page a complete run found gone (never a "Show more" page).

    Called only for a complete run, so an interrupted run never reports a page as gone.
    """
    gone = db.query(
        "select s.id as snapshot, p.id as page, p.last_good_snapshot as old, p.role "
        "from snapshots s join pages p on p.id = s.page_id "
        "where s.run_id = ? and s.outcome = 'gone' and p.state = 'live' and p.role != 'pager'",
        [run_id],
    )
    for row in list(gone):
        db["changes"].insert(
            {
                "run_id": run_id,
                "page_id": row["page"],
                "change": "removed",
                "old_snapshot": row["old"],
                "new_snapshot": row["snapshot"],
                **change_scores.columns(significance.score_change("removed", row["role"])),
            }
        )
        db["pages"].update(row["page"], {"state": "removed"})

def _folds_into(outcome: str, span_outcome: str, page_state: str) -> bool:
    """Whether a fetch with this outcome may join a span with that one (see :mod:`~wwc_archive.archive.formats.spans`)."""
    if outcome == spans.REMOVED_OUTCOME:  # only once the removal is recorded: it needs a row of its run
        return span_outcome == spans.REMOVED_OUTCOME and page_state != "live"
    return outcome in spans.FOLDING_OUTCOMES and span_outcome in spans.FOLDING_OUTCOMES


def _fingerprint(record: FetchRecord, content: Extracted | None) -> bytes | str:
    """The fetch's content fingerprint, packed as ``contents.fingerprint`` stores it."""
    if record.role == "document" or content is None:
        return pack_fingerprint(document_fingerprint(record.body or b""))
    return pack_fingerprint(normalized_fingerprint(content))


def response_head(record: FetchRecord) -> dict | None:
    """A response's protocol, status and header pairs, as ``header_blocks`` keeps them."""
    if not record.response_headers:
        return None
    return {"protocol": record.protocol, "status": record.http_status,
            "headers": [list(pair) for pair in record.response_headers]}


def request_head(record: FetchRecord) -> dict | None:
    """A request's method and header pairs, as ``header_blocks`` keeps them."""
    if not record.request_method:
        return None
    return {"method": record.request_method, "headers": [list(pair) for pair in record.request_headers]}


def _kept_headers(headers: dict[str, str]) -> str | None:
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    return json.dumps(kept) if kept else None
