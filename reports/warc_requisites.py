"""The page requisites of a WARC export: what the pages need to replay with their styling and images.

For the selected runs, every asset capture they made, and for each asset the
capture that stood when the first selected run started (made by an earlier
run: a stylesheet fetched once in January still styles a page exported from
March). A capture whose bytes are new to the file is a ``response`` record; one
whose bytes the file already holds (the same image at another URL, an asset
that changed back) is a ``revisit`` with the ``identical-payload-digest``
profile, pointing at the first response by URI and date (a URL-agnostic
revisit, which pywb and ReplayWeb.page resolve), with its own HTTP headers.
A gone asset (404/410) is a response without a body.

Assets are stored under their normalized URL (the program's ignored query
parameters, such as ``itok`` and ``v``, dropped): pywb's fuzzy matching finds
``style.css`` for ``style.css?v=abc`` and ``img.jpg`` for ``img.jpg?itok=xyz``.
"""

import io
import json

from warcio.warcwriter import WARCWriter

from wwc_archive.archive import assets

IDENTICAL_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def write_requisites(export, writer: WARCWriter) -> None:
    """Write the selection's asset captures through ``export`` (a ``reports.warc._WarcExport``)."""
    for capture in assets.export_captures(export.db, export.selection.run_ids):
        record_as = _as_fetch(capture)
        warc_headers = {"WARC-Target-URI": record_as["url"], "WARC-Date": capture["fetched_at"],
                        "WWC-Archive-Asset": str(capture["asset_id"]), "WWC-Archive-Run": str(capture["run_id"]),
                        "WWC-Archive-Requisite": capture["kind"]}
        body_id = capture["body_id"]
        if body_id is not None and body_id in export.written:
            original = export.written[body_id]
            warc_headers.update({"WARC-Type": "revisit", "WARC-Profile": IDENTICAL_PROFILE,
                                 "WARC-Refers-To": original.record_id, "WARC-Refers-To-Target-URI": original.uri,
                                 "WARC-Refers-To-Date": original.date,
                                 "WARC-Payload-Digest": original.payload_digest})
            http_headers = export._response_http_headers(record_as, b"", warc_headers)
            http_headers.remove_header("Content-Length")  # a revisit has no payload of its own
            record = writer.create_warc_record(record_as["url"], "revisit", http_headers=http_headers,
                                               warc_headers_dict=warc_headers)
            export._write_with_request(writer, record_as, record)
            export.counts["requisite revisit identical-payload-digest"] += 1
            continue
        body = export.bodies.read(body_id) if body_id is not None else b""
        warc_headers["WARC-Type"] = "response"
        http_headers = export._response_http_headers(record_as, body, warc_headers)
        record = writer.create_warc_record(record_as["url"], "response", payload=io.BytesIO(body), length=len(body),
                                           http_headers=http_headers, warc_headers_dict=warc_headers)
        export._write_with_request(writer, record_as, record)
        if body_id is not None:
            from wwc_archive.reports.warc import _Written

            export.written[body_id] = _Written(record.rec_headers.get_header("WARC-Record-ID"), record_as["url"],
                                               capture["fetched_at"],
                                               record.rec_headers.get_header("WARC-Payload-Digest"))
        export.counts["requisite response"] += 1


def _as_fetch(capture: dict) -> dict:
    """A capture in the shape the export's helpers read a snapshot in."""
    kept = {"content-type": capture["content_type"]} if capture["content_type"] else {}
    return {"url": capture["final_url"] or capture["url"], "final_url": None, "fetched_at": capture["fetched_at"],
            "response_head_id": capture["response_head_id"], "request_head_id": capture["request_head_id"],
            "headers": json.dumps(kept), "http_status": capture["http_status"]}
