"""Page requisites in the archive: where an asset's capture is written, and where it is read as of a time.

An asset is a URL a page needs to render (a stylesheet, font, image, script
or icon; see :mod:`wwc_archive.crawler.requisites`), normalized as page links
are, so an image referred to with a new ``itok`` every night is one asset.
Its bytes are a row of ``bodies`` like a page's, found by their SHA-256:
stored once however many URLs, pages and nights share them.

``assets`` holds one row per URL, found by its ``url_key`` (since ``m025``; see
:mod:`~wwc_archive.archive.formats.lookup_keys`): the validators to send next
time and when it was last checked. ``asset_captures`` holds one row per *new*
answer: new bytes (``ok``) or the asset gone (404/410). A check that answers 304, or 200 with
the bytes already captured, updates the asset's row in place and adds no row
and no body, so a night whose requisites did not change stores nothing for
them. An asset as of time T is its last capture at or before T (or, for a page
archived before the asset was first captured, its first capture).

Assets are never pages: they have no snapshots, no versions and no changes;
a run's count of new captures is :func:`captured_in_run`.
"""

import hashlib
from dataclasses import dataclass

from sqlite_utils import Database

from wwc_archive.archive.formats import bodies, compression, header_blocks, lookup_keys
from wwc_archive.records import AssetFetch

#: Content types stored whole without zstd: already compressed, zstd would only cost time.
PACKED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "font/woff2", "font/woff",
                "application/font-woff", "application/font-woff2")


def create_tables(db: Database) -> None:
    """The schema of migration ``m023_assets``."""
    db["assets"].create(
        {"id": int, "url": str, "program": str, "kind": str, "first_run": int, "etag": str, "last_modified": str,
         "checked_at": str, "checked_run": int, "last_capture": int, "last_error": str},
        pk="id", not_null={"url"},
        foreign_keys=[("first_run", "runs", "id"), ("checked_run", "runs", "id")],
    )
    db["assets"].create_index(["url"], unique=True)
    db["asset_captures"].create(
        {"id": int, "asset_id": int, "run_id": int, "fetched_at": str, "http_status": int, "outcome": str,
         "body_id": int, "content_type": str, "final_url": str, "response_head_id": int, "request_head_id": int},
        pk="id",
        foreign_keys=[("asset_id", "assets", "id"), ("run_id", "runs", "id"), ("body_id", "bodies", "id")],
    )
    db["asset_captures"].create_index(["asset_id", "fetched_at"])
    db["asset_captures"].create_index(["run_id"])
    db["asset_captures"].create_index(["body_id"])


def shorten_keys(db: Database) -> None:
    """Migration ``m025_short_lookup_keys``'s part: ``assets`` found by ``url_key``, not by a unique index of
    their URLs; and no index of captures by body (nothing looks them up so)."""
    if "url_key" not in db["assets"].columns_dict:
        db.execute("alter table assets add column url_key integer")
    urls = db.execute("select id, url from assets where url_key is null").fetchall()
    db.conn.executemany("update assets set url_key = ? where id = ?",
                        [(lookup_keys.url_key(url), asset_id) for asset_id, url in urls])
    db.execute("drop index if exists idx_assets_url")
    db.execute("create index if not exists idx_assets_url_key on assets (url_key)")
    db.execute("drop index if exists idx_asset_captures_body_id")


class AssetWriter:
    """Writes a run's asset fetches inside the :class:`~wwc_archive.archive.write.RunWriter`'s transactions."""

    def __init__(self, conn, run_id: int, heads: header_blocks.Store):
        self.conn = conn
        self.run_id = run_id
        self._heads = heads
        self._assets: dict[str, dict] = {}

    def forget(self) -> None:
        """A batch was rolled back: what was remembered of rows may be gone."""
        self._assets.clear()

    def write(self, record: AssetFetch) -> None:
        asset = self._asset(record)
        update = {"checked_at": record.fetched_at, "checked_run": self.run_id, "last_error": None}
        if record.outcome == "failed":
            update["last_error"] = record.error
        elif record.outcome == "not_modified":
            pass
        elif record.outcome == "ok" and record.body is not None:
            update.update(etag=record.etag, last_modified=record.last_modified)
            sha = hashlib.sha256(record.body).digest()
            if asset["body_sha256"] != sha:
                body_id = self._body_id(record, sha)
                update["last_capture"] = self._capture(asset, record, body_id)
                asset["body_sha256"] = sha
        elif record.outcome == "gone" and asset["last_capture"] is not None and asset["body_sha256"] is not None:
            update.update(etag=None, last_modified=None, last_capture=self._capture(asset, record, None))
            asset["body_sha256"] = None
        elif record.outcome not in ("ok", "gone"):
            update["last_error"] = record.error
        if "last_capture" in update:
            asset["last_capture"] = update["last_capture"]
        assignments = ", ".join(f"{name} = ?" for name in update)
        self.conn.execute(f"update assets set {assignments} where id = ?", [*update.values(), asset["id"]])

    def _asset(self, record: AssetFetch) -> dict:
        asset = self._assets.get(record.url)
        if asset is not None:
            return asset
        key = lookup_keys.url_key(record.url)
        row = self.conn.execute(
            "select a.id, a.last_capture, b.sha256 from assets a left join asset_captures c on c.id = a.last_capture "
            "left join bodies b on b.id = c.body_id where a.url_key = ? and a.url = ?", [key, record.url]).fetchone()
        if row is None:
            cursor = self.conn.execute(
                "insert into assets (url, url_key, program, kind, first_run) values (?, ?, ?, ?, ?)",
                [record.url, key, record.program, record.kind, self.run_id])
            row = (cursor.lastrowid, None, None)
        asset = self._assets[record.url] = {"id": row[0], "last_capture": row[1], "body_sha256": row[2]}
        return asset

    def _body_id(self, record: AssetFetch, sha: bytes) -> int:
        """The body with these bytes: the one stored (by any page or asset), or a new row."""
        existing = lookup_keys.body_id(self.conn, sha)
        if existing is not None:
            return existing
        content_type = (record.content_type or "").split(";")[0].strip().lower()
        if content_type in PACKED_TYPES:
            kind, data = None, record.body
        else:
            kind, data = compression.compress(record.body)
            if len(data) >= len(record.body):
                kind, data = None, record.body
        cursor = self.conn.execute(
            "insert into bodies (sha256, size, content_type, compression, data) values (?, ?, ?, ?, ?)",
            [sha, len(record.body), record.content_type, kind, data])
        return cursor.lastrowid

    def _capture(self, asset: dict, record: AssetFetch, body_id: int | None) -> int:
        response = {"protocol": record.protocol, "status": record.http_status,
                    "headers": [list(pair) for pair in record.response_headers]} if record.response_headers else None
        request = {"method": record.request_method,
                   "headers": [list(pair) for pair in record.request_headers]} if record.request_method else None
        cursor = self.conn.execute(
            "insert into asset_captures (asset_id, run_id, fetched_at, http_status, outcome, body_id, content_type, "
            "final_url, response_head_id, request_head_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [asset["id"], self.run_id, record.fetched_at, record.http_status, record.outcome, body_id,
             record.content_type, record.final_url, self._heads.id_of(response), self._heads.id_of(request)])
        return cursor.lastrowid


# Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownAsset:
    """What the crawl needs of an archived asset: the validators to send and when it was last checked."""

    url: str
    etag: str | None
    last_modified: str | None
    checked_at: str | None


def known_assets(db: Database) -> list[KnownAsset]:
    return [KnownAsset(*row) for row in db.execute(
        "select url, etag, last_modified, checked_at from assets order by id").fetchall()]


def captured_in_run(db: Database, run_id: int) -> int:
    """How many assets a run captured anew (new bytes, or gone): "3 assets updated"."""
    return db.execute("select count(*) from asset_captures where run_id = ?", [run_id]).fetchone()[0]


def capture_at(db: Database, url: str, when: str) -> dict | None:
    """The capture of asset ``url`` that stood at ``when``: the last at or before it, else the first after.

    None when the archive holds no capture of it (never fetched, refused, over the size cap).
    """
    columns = ("select c.id, c.fetched_at, c.outcome, c.http_status, c.body_id, c.content_type, a.url, a.kind "
               "from asset_captures c join assets a on a.id = c.asset_id where a.url_key = ? and a.url = ? ")
    key = lookup_keys.url_key(url)
    row = db.execute(columns + "and c.fetched_at <= ? order by c.fetched_at desc, c.id desc limit 1",
                     [key, url, when]).fetchone()
    if row is None:
        row = db.execute(columns + "order by c.fetched_at, c.id limit 1", [key, url]).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "fetched_at", "outcome", "http_status", "body_id", "content_type", "url", "kind"), row))


def capture_body(db: Database, capture: dict) -> bytes:
    return bodies.BodyReader(db).read(capture["body_id"])


def export_captures(db: Database, run_ids: list[int]) -> list[dict]:
    """The asset captures an export of these runs needs, in time order: those the runs made, and for each asset
    the capture that stood when the first of them started (made by an earlier run)."""
    marks = ", ".join("?" for _ in run_ids)
    first = db.execute(f"select min(started) from runs where id in ({marks})", run_ids).fetchone()[0]
    rows = db.execute(
        f"""
        select c.*, a.url, a.kind from asset_captures c join assets a on a.id = c.asset_id
        where c.run_id in ({marks})
           or c.id in (select (select c2.id from asset_captures c2 where c2.asset_id = a2.id and c2.fetched_at <= ?
                               order by c2.fetched_at desc, c2.id desc limit 1) from assets a2)
        order by c.fetched_at, c.id
        """, [*run_ids, first or ""]).fetchall()
    names = [d[0] for d in db.execute("select c.*, a.url, a.kind from asset_captures c join assets a "
                                      "on a.id = c.asset_id limit 0").description]
    return [dict(zip(names, row)) for row in rows]
