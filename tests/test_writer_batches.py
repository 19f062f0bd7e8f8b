"""The run writer's batches: distinct rows written a few statements a batch, and nothing remembered of a rolled-back one."""

import sqlite3

import pytest

from wwc_archive.archive import Archive, Extracted, FetchRecord, integrity, queries
from wwc_archive.archive.formats import outlinks
from wwc_archive.records import Teaser
from tests.helpers import write_run

HUB = "https://example.org/what-works-cities"


def listing(text: str, articles: list[str], when="2030-01-15T03:00:00Z", url=HUB) -> FetchRecord:
    """A program page: its text, links and teasers, and the heads a crawl records."""
    return FetchRecord(
        url=url, program="wwc", role="program", fetched_at=when, outcome="ok", http_status=200,
        body=f"<main>{text}</main>".encode(), content_type="text/html",
        extracted=Extracted(title="Stories", text=text, links=tuple(articles),
                            items=tuple(Teaser(url=link, title=link.rsplit("/", 1)[1]) for link in articles)),
        protocol="HTTP/1.1", response_headers=(("Content-Length", str(len(text) + 13)),),
        request_method="GET", request_headers=(("User-Agent", "wwc-archive"),),
    )


def stored_version(archive, url):
    """What the archive holds of a page's newest version: text, links, teasers, response head."""
    row = archive.db.execute(
        "select s.content_id, s.response_head_id from pages p join snapshots s on s.id = p.last_good_snapshot "
        "where p.url = ?", [url]).fetchone()
    items = queries.content_items(archive.db, row[0])
    head = queries.header_block(archive.db, row[1]) if row[1] else None
    return (queries.content_text(archive.db, row[0]), outlinks.content_links(archive.db.conn, row[0]),
            [item["url"] for item in items], head and head["headers"])


def test_a_rolled_back_batch_leaves_no_ids_behind_and_its_retry_stores_everything(tmp_path):
    archive = Archive(tmp_path / "a.db")
    first = [f"{HUB}/story-{n}" for n in range(3)]
    write_run(archive, listing("Intro.\n\nThree stories.", first))
    edited = listing("Intro.\n\nFour stories, one new.", [*first, f"{HUB}/story-new"], when="2030-01-16T03:00:00Z")
    other = listing("Another program.\n\nFour stories, one new.", [f"{HUB}/story-new", f"{HUB}/elsewhere"],
                    when="2030-01-16T03:00:01Z", url=HUB + "/other")
    # The edit is written (its new paragraph, link and teaser reach the file so its change can be
    # told), then the disk fills on the new page's change: the whole batch rolls back.
    archive.db.execute("create trigger full before insert on changes when new.change = 'added' "
                       "begin select raise(abort, 'disk full'); end")
    run_id = archive.start_run(["wwc"])
    writer = archive.writer(run_id)
    writer.add(edited)
    writer.add(other)
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        writer.flush()
    archive.db.execute("drop trigger full")
    writer.flush()  # the same batch again, from what the file holds
    archive.finish_run(run_id, "complete")

    assert {c["url"]: c["change"] for c in queries.run_changes(archive.db, run_id)} == {
        HUB: "changed", HUB + "/other": "added"}
    assert stored_version(archive, HUB) == (
        "Intro.\n\nFour stories, one new.", sorted(edited.extracted.links), list(edited.extracted.links),
        [list(pair) for pair in edited.response_headers])
    assert stored_version(archive, HUB + "/other") == (
        "Another program.\n\nFour stories, one new.", sorted(other.extracted.links), list(other.extracted.links),
        [list(pair) for pair in other.response_headers])
    hits = archive.db.execute("select text from paragraphs_fts where paragraphs_fts match 'new'").fetchall()
    assert hits == [("Four stories, one new.",)], "indexed once, as stored once"
    assert integrity.problems(archive) == []
    archive.close()


def test_a_batch_writes_its_new_paragraphs_in_a_few_statements_not_one_a_paragraph(tmp_path):
    """Each statement that inserts paragraphs makes the full-text index flush: a batch makes few."""
    archive = Archive(tmp_path / "a.db")
    pages = [listing("\n\n".join(f"Page {n}, paragraph {p}." for p in range(20)), [f"{HUB}/story-{n}"],
                     url=f"{HUB}/page-{n}") for n in range(50)]
    statements = []
    archive.db.conn.set_trace_callback(statements.append)
    write_run(archive, *pages, batch_size=50)
    archive.db.conn.set_trace_callback(None)
    inserts = {sql for sql in statements if sql.startswith("insert into paragraphs ")}  # (traced again per trigger run)
    assert archive.db.execute("select count(*) from paragraphs").fetchone()[0] == 50 * 20 + 1  # and the title
    assert 0 < len(inserts) <= 10, len(inserts)
    assert stored_version(archive, f"{HUB}/page-7")[0] == pages[7].extracted.text
    archive.close()
