"""Export an archive's fetches as a WARC file (warcio) and a WACZ package (wacz).

Read-only on the archive. Each body is written once, as a ``response`` record
from the fetch that brought it; every later fetch of the same page is a
``revisit`` record pointing back to it, whose profile says why:

- ``server-not-modified``: the server answered 304 to our validators;
- ``identical-payload-digest``: the fetch's bytes were the same (known from
  migration ``m003_fetch_headers`` on), so its payload digest is the earlier one;
- :data:`SAME_CONTENT_PROFILE`: the archive judged the fetch the same content
  after noise removal, or cannot tell whether its bytes differed (fetched before
  m003); no payload digest is claimed.
"""

import contextlib
import errno
import http
import io
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from sqlite_utils import Database
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wwc_archive.archive import queries
from wwc_archive.reports.warc_requisites import write_requisites
from wwc_archive.leftovers import export_scratch

SAME_CONTENT_PROFILE = "tag:wwc-archive,2026:revisit/same-content-after-noise-removal"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

#: Headers that describe the bytes on the wire, not the decoded bytes the archive keeps.
WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")

#: Roles listed as pages in the WACZ (program hubs and the pages they link to).
PAGE_ROLES = ("program", "page")

SAME_CONTENT_RULE = (
    "Two fetches of a page are the same content when the fingerprint of what was extracted from them "
    "(title, author, date, text and in-scope links, after the program's noise rules remove per-request "
    "tokens, timestamps and session ids) is equal; documents (PDF, DOCX, XLSX) compare by their bytes. "
    "The archive then keeps only the earlier body, so such a fetch is exported as a revisit with profile "
    f"{SAME_CONTENT_PROFILE}, pointing to the earlier response, with no payload digest: its own bytes "
    "may have differed in that noise."
)


class ExportError(Exception):
    """The selection or the output cannot be exported (a one-line reason)."""


@dataclass(frozen=True)
class Selection:
    run_ids: list[int]
    description: str  # for the warcinfo record: "run 3", "runs started since 2026-05-01", "all runs"




@dataclass
class ExportResult:
    warc: Path
    wacz: Path
    records: Counter = field(default_factory=Counter)
    #: Leftovers of killed exports removed before this one.
    cleaned: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class _Written:
    """A response record already in the file, which revisits point to."""

    record_id: str
    uri: str
    date: str
    payload_digest: str


def select_runs(db: Database, run: str | None = None, since: str | None = None, all_runs: bool = False,
                include_running: bool = False) -> Selection:
    """The runs to export: exactly one of ``run`` (an id or "latest"), ``since`` (a date) or ``all_runs``.

    A run still ``running`` is refused unless ``include_running``: its export
    would be a part of the night, not what the crawl will have fetched.
    """
    if sum(bool(choice) for choice in (run, since, all_runs)) != 1:
        raise ExportError("choose exactly one of --run ID, --since DATE or --all")
    if run:
        try:
            row = queries.get_run(db, run)
        except queries.NoSuchRun as error:
            raise ExportError(str(error)) from None
        if row["status"] == "running" and not include_running:
            raise ExportError(f"run {row['id']} (started {row['started']}) is still running: export it when it "
                              "ends, or pass --include-running for what it has fetched so far (a run whose crawl "
                              "was killed is settled by `wwc-archive check --repair`)")
        return Selection([row["id"]], f"run {row['id']}" + (" (still running)" if row["status"] == "running" else ""))
    if since:
        from datetime import date

        try:
            date.fromisoformat(since)
        except ValueError:
            raise ExportError(f"--since expects a date like 2026-05-01, not {since!r}") from None
    run_ids = [row["id"] for row in queries.runs_started_since(db, since)]
    if not run_ids:
        raise ExportError(f"no runs started since {since}" if since else "the archive has no runs yet")
    return Selection(run_ids, f"runs started since {since}" if since else "all runs")


def output_paths(output: str) -> tuple[Path, Path]:
    """``FILE.warc.gz`` and ``FILE.wacz`` for ``--output FILE`` (with or without either suffix)."""
    name = os.fspath(output)
    for suffix in (".warc.gz", ".wacz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if os.path.basename(name) in ("", ".", ".."):  # "exports/", "exports/.warc.gz": no name of their own
        raise ExportError(f"--output needs a file name, not {output!r}: name the files, like "
                          f"{os.path.join(name or '.', 'wwc-export')}")
    return Path(name + ".warc.gz"), Path(name + ".wacz")


def check_targets(*paths: Path) -> None:
    """Refuse, before anything is written, outputs that could not both be replaced."""
    for path in paths:
        folder = path.parent
        if not folder.is_dir():
            raise ExportError(f"no folder {folder} to write {path.name} in")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ExportError(f"cannot write in {folder}: it is not writable")
        if path.is_dir():
            raise ExportError(f"{path} is a folder: choose another --output (nothing was written)")
        if path.exists() and not path.is_file():
            raise ExportError(f"{path} is not a regular file: choose another --output (nothing was written)")


def export(db: Database, selection: Selection, output: str, archive_name: str) -> ExportResult:
    """Write ``FILE.warc.gz`` and ``FILE.wacz`` for the selected runs: both replaced, or neither.

    Both are written in a scratch folder beside them and renamed into place;
    should the second rename fail, the first is undone. Leftovers of killed
    exports in that folder are removed first.
    """
    warc_path, wacz_path = output_paths(output)
    check_targets(warc_path, wacz_path)
    folder = warc_path.parent
    scratch, cleaned = export_scratch(folder)
    try:
        result = ExportResult(warc_path, wacz_path, cleaned=cleaned)
        db.conn.execute("begin")  # one read transaction: a crawl writing meanwhile is not half seen
        try:
            pages = _WarcExport(db, selection, archive_name, result.records).write(scratch / warc_path.name)
        finally:
            db.conn.rollback()
        _write_wacz(scratch / warc_path.name, pages, scratch / wacz_path.name, selection, archive_name)
        replace_together([(scratch / warc_path.name, warc_path), (scratch / wacz_path.name, wacz_path)], scratch)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def replace_together(moves: list[tuple[Path, Path]], scratch: Path) -> None:
    """Rename each ``(new, target)``; if one fails, put every target back as it was and raise."""
    kept, placed = [], []
    try:
        for new, target in moves:
            if target.is_dir() and not target.is_symlink():  # never moved aside (nor deleted with the scratch)
                raise IsADirectoryError(errno.EISDIR, "a folder where the export goes", str(target))
            if os.path.lexists(target):
                previous = scratch / f"previous-{target.name}"
                os.replace(target, previous)
                kept.append((previous, target))
            os.replace(new, target)
            placed.append(target)
    except OSError:
        for target in placed:
            with contextlib.suppress(OSError):
                os.unlink(target)
        for previous, target in kept:
            with contextlib.suppress(OSError):
                os.replace(previous, target)
        raise


class _WarcExport:
    def __init__(self, db: Database, selection: Selection, archive_name: str, counts: Counter):
        self.db = db
        self.bodies = queries.BodyReader(db)  # a page's bodies come in chain order: each base decoded once
        self._heads = queries.header_reader(db)  # a run's header blocks are a chain of deltas
        self.selection = selection
        self.archive_name = archive_name
        self.counts = counts
        self.written: dict[int, _Written] = {}  # body id -> its response record

    def write(self, path: Path) -> list[dict]:
        """Write the WARC file; returns the WACZ pages list (the HTML pages' fetches)."""
        snapshots = queries.export_snapshots(self.db, self.selection.run_ids)
        originals = queries.first_snapshots_with_body(self.db, self.selection.run_ids)
        pages = []
        with open(path, "wb") as out:
            writer = WARCWriter(out, gzip=True, warc_version="1.1")
            writer.write_record(self._warcinfo(writer, path.name, snapshots))
            for snapshot in snapshots:
                if self._write_fetch(writer, snapshot, originals) and snapshot["role"] in PAGE_ROLES:
                    pages.append({"url": _uri(snapshot), "ts": snapshot["fetched_at"],
                                  "title": snapshot["title"] or snapshot["url"]})
            write_requisites(self, writer)  # stylesheets, fonts, images: never listed as pages
        return pages

    def _write_fetch(self, writer: WARCWriter, snapshot: dict, originals: dict) -> bool:
        """Write one fetch's records; False if it has nothing to replay."""
        if snapshot["outcome"] == "gone":
            self._write_response(writer, snapshot, body=None)
            return False
        if snapshot["outcome"] not in ("ok", "not_modified") or snapshot["body_id"] is None:
            self.counts["fetches left out (failed, or no body)"] += 1
            return False
        original_id = originals[(snapshot["page_id"], snapshot["body_id"])]
        # The body's own fetch is the first of its span; later fetches of that span are revisits.
        is_original = original_id == snapshot["id"] and snapshot["repeat"] == 0
        if snapshot["body_id"] not in self.written:
            original = snapshot if is_original else queries.export_snapshot(self.db, original_id)
            self._write_response(writer, original, body=self.bodies.read(snapshot["body_id"]))
            if original is snapshot:
                return True
            self.counts["earlier responses revisited"] += 1
        self._write_revisit(writer, snapshot, exact=is_original or snapshot["body_exact"] == 1)
        return True

    def _write_response(self, writer: WARCWriter, snapshot: dict, body: bytes | None) -> None:
        warc_headers = self._warc_headers(snapshot, "response")
        if body is None:
            warc_headers["WWC-Archive-Body"] = "not kept (the archive keeps no body for 404 and 410 answers)"
        http_headers = self._response_http_headers(snapshot, body or b"", warc_headers)
        record = writer.create_warc_record(_uri(snapshot), "response", payload=io.BytesIO(body or b""),
                                           length=len(body or b""), http_headers=http_headers,
                                           warc_headers_dict=warc_headers)
        self._write_with_request(writer, snapshot, record)
        if body is not None:
            self.written[snapshot["body_id"]] = _Written(
                record.rec_headers.get_header("WARC-Record-ID"), _uri(snapshot), snapshot["fetched_at"],
                record.rec_headers.get_header("WARC-Payload-Digest"))
        self.counts["response"] += 1

    def _write_revisit(self, writer: WARCWriter, snapshot: dict, exact: bool) -> None:
        original = self.written[snapshot["body_id"]]
        warc_headers = self._warc_headers(snapshot, "revisit")
        warc_headers.update({
            "WARC-Refers-To": original.record_id,
            "WARC-Refers-To-Target-URI": original.uri,
            "WARC-Refers-To-Date": original.date,
        })
        if snapshot["outcome"] == "not_modified":
            warc_headers["WARC-Profile"] = NOT_MODIFIED_PROFILE
        elif exact:
            warc_headers["WARC-Profile"] = IDENTICAL_PROFILE
            warc_headers["WARC-Payload-Digest"] = original.payload_digest
        else:
            warc_headers["WARC-Profile"] = SAME_CONTENT_PROFILE
        # No HTTP headers in the block: the archive keeps a revisit's answer only as
        # its status and its kept headers (header_sets); replay uses the original's.
        record = writer.create_warc_record(_uri(snapshot), "revisit", warc_headers_dict=warc_headers)
        self._write_with_request(writer, snapshot, record)
        self.counts["revisit " + warc_headers["WARC-Profile"].rsplit("/", 1)[-1]] += 1

    def _write_with_request(self, writer: WARCWriter, snapshot: dict, record) -> None:
        if snapshot["request_head_id"] is None:
            writer.write_record(record)  # fetched before the archive kept request headers
            return
        head = self._heads.head(snapshot["request_head_id"])
        parts = urlsplit(_uri(snapshot))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = writer.create_warc_record(
            _uri(snapshot), "request",
            http_headers=StatusAndHeaders(f"{head['method']} {target} HTTP/1.1",
                                          [tuple(pair) for pair in head["headers"]], is_http_request=True),
            warc_headers_dict={"WARC-Type": "request", "WARC-Target-URI": _uri(snapshot),
                               "WARC-Date": snapshot["fetched_at"]})
        writer.write_request_response_pair(request, record)
        self.counts["request"] += 1

    @staticmethod
    def _warc_headers(snapshot: dict, record_type: str) -> dict:
        headers = {"WARC-Type": record_type, "WARC-Target-URI": _uri(snapshot), "WARC-Date": snapshot["fetched_at"],
                   "WWC-Archive-Snapshot": str(snapshot["id"]), "WWC-Archive-Run": str(snapshot["run_id"])}
        if snapshot["final_url"] and snapshot["final_url"] != snapshot["url"]:
            headers["WWC-Archive-Requested-URI"] = snapshot["url"]
        if snapshot["fingerprint"]:
            headers["WWC-Archive-Content-Fingerprint"] = snapshot["fingerprint"]
        return headers

    def _response_http_headers(self, snapshot: dict, body: bytes, warc_headers: dict) -> StatusAndHeaders:
        """The stored status line and headers, made true of the decoded bytes the archive keeps."""
        if snapshot["response_head_id"] is not None:
            head = self._heads.head(snapshot["response_head_id"])
            protocol, status, pairs = head["protocol"] or "HTTP/1.1", head["status"], head["headers"]
        else:
            warc_headers["WWC-Archive-Headers"] = (
                "partial (fetched before the archive kept full headers)" if snapshot["request_head_id"] is None
                else "partial (a repeated 404/410: the archive keeps the full headers of the first)")
            kept = json.loads(snapshot["headers"] or "{}")
            protocol, status = "HTTP/1.1", snapshot["http_status"]
            pairs = [["-".join(part.capitalize() for part in name.split("-")), value] for name, value in kept.items()]
        headers = []
        for name, value in pairs:
            if name.lower() in WIRE_HEADERS:
                name = "X-Archive-Orig-" + name
            headers.append((name, value))
        headers.append(("Content-Length", str(len(body))))
        return StatusAndHeaders(f"{status} {_reason(status)}", headers, protocol=protocol)

    def _warcinfo(self, writer: WARCWriter, filename: str, snapshots: list[dict]):
        older = sum(1 for s in snapshots if s["outcome"] != "failed" and s["request_head_id"] is None)
        info = {
            "software": f"wwc-archive {version('wwc-archive')} (warcio {version('warcio')})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "description": f"Fetches of the What Works Cities pages from the wwc-archive {self.archive_name}",
            "isPartOf": self.archive_name,
            "selection": f"{self.selection.description} (run ids {', '.join(map(str, self.selection.run_ids))})",
            "same-content": SAME_CONTENT_RULE,
            "revisits": (
                f"{NOT_MODIFIED_PROFILE}: the server answered 304 Not Modified. {IDENTICAL_PROFILE}: the fetch's "
                "bytes were identical to the referred response's. Revisit records carry no HTTP headers. When a "
                "selected fetch revisits a body first fetched by an earlier, unselected run, that earlier "
                "response is included."
            ),
            "bodies": (
                "Bodies are stored decoded: Content-Encoding, Transfer-Encoding and the original Content-Length "
                "are kept as X-Archive-Orig-* headers, and Content-Length is that of the stored bytes. Reason "
                "phrases are the standard ones for the status code (the crawler does not record the server's). "
                "404 and 410 answers are exported without their bodies, which the archive does not keep; failed "
                "fetches (timeouts, resets, 5xx, robots.txt) are not exported."
            ),
            "older-snapshots": (
                f"{older} of the selected fetches predate the archive keeping full headers (schema migration "
                "m003_fetch_headers): their responses carry only Content-Type, ETag, Last-Modified and Location "
                "(WWC-Archive-Headers: partial), they have no request record, and their revisits never claim an "
                "identical payload."
            ),
            "fields": (
                "WWC-Archive-Snapshot and WWC-Archive-Run name the archive's snapshot and run (cite a version as "
                "/-/wwc/snapshot/ID in the archive's Datasette); WWC-Archive-Content-Fingerprint is the content "
                "fingerprint compared; WWC-Archive-Requested-URI is the URL requested when it redirected."
            ),
        }
        return writer.create_warcinfo_record(filename, info)


def _uri(snapshot: dict) -> str:
    return snapshot["final_url"] or snapshot["url"]


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _write_wacz(warc: Path, pages: list[dict], output: Path, selection: Selection, archive_name: str) -> None:
    """Package the WARC with its CDXJ index and pages list (py-wacz's ``wacz create``)."""
    from wacz.main import main as wacz_main

    pages_file = warc.parent / "pages.jsonl"
    with open(pages_file, "w", encoding="utf-8") as out:
        out.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Pages"}) + "\n")
        for page in pages:
            out.write(json.dumps(page) + "\n")
    args = ["create", "-o", str(output), "--title", f"wwc-archive {archive_name}",
            "--desc", f"What Works Cities pages, {selection.description}", str(warc)]
    if pages:
        args[1:1] = ["-p", str(pages_file)]
    with contextlib.redirect_stdout(io.StringIO()) as log:
        status = wacz_main(args)
    if status != 0:
        raise ExportError(f"wacz could not package {warc.name}: {log.getvalue().strip().splitlines()[-1:]}")
