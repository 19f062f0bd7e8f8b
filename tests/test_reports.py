"""Reports rendered from a real twice-crawled archive: content, formats, --since, feed, settings."""

import lxml.etree
import lxml.html
import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.reports.feed import atom_feed
from wwc_archive.reports.render import markdown_escape, render_report
from wwc_archive.reports.settings import ReportSettings
from wwc_archive.archive.changes.diff import word_diff
from wwc_archive.reports.worddiff import diff_as_text, trim_diff
from tests.conftest import changes_json
from wwc_archive.cli import cli
from wwc_archive.config import ConfigError

ATOM = "{http://www.w3.org/2005/Atom}"


def report(*args, config=None):
    extra = ["--config", config] if config else []
    return CliRunner().invoke(cli, ["report", *extra, *map(str, args)])


def change_block(doc, url):
    """The <div> of one change in an HTML report, found by its page link."""
    blocks = doc.xpath("//h3/a[@href=$url]/ancestor::div[1]", url=url)
    assert len(blocks) == 1, f"expected one change for {url}"
    return blocks[0]


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def db(edited_archive):
    return Database(edited_archive.path)


def test_html_report_marks_exactly_the_edited_words(edited_archive, db):
    doc = lxml.html.fromstring(render_report(db, fmt="html"))
    block = change_block(doc, edited_archive.edited_url)
    assert [e.text_content() for e in block.xpath(".//ins")] == [edited_archive.new_phrase]
    assert [e.text_content() for e in block.xpath(".//del")] == [edited_archive.old_phrase]
    assert "CHANGED" in block.text_content()
    for element in block.xpath(".//ins | .//del"):
        assert "background" in element.get("style")  # highlighted with inline CSS


def test_html_report_summary_kinds_and_metadata(edited_archive, db):
    run = changes_json(edited_archive.path)["run"]
    doc = lxml.html.fromstring(render_report(db, fmt="html"))
    summary = {tr.xpath("string(th)"): one_line(tr.xpath("string(td)")) for tr in doc.xpath("//table[1]//tr")}
    assert summary["Run"] == f"{run['id']}, complete (manual)"
    assert summary["Pages checked"] == str(run["pages_checked"])
    assert summary["Failed fetches"] == "0"
    echoes = sum(change["echo_of"] is not None for change in changes_json(edited_archive.path)["changes"])
    assert echoes  # the new article's hub teaser and its author's page: told once, with the article
    assert summary["Changes"] == (f"{run['added']} added, {run['changed'] - echoes} changed, {run['removed']} "
                                  f"removed ({echoes} more pages only echoing them, folded in)")
    assert "ADDED" in change_block(doc, edited_archive.published_url).text_content()
    assert "REMOVED" in change_block(doc, edited_archive.removed_url).text_content()
    retitled = change_block(doc, edited_archive.retitled_url)
    field = retitled.xpath(".//tr[th='Title']")[0]
    assert field.xpath("string(.//del)") == edited_archive.old_title
    assert field.xpath("string(.//ins)") == edited_archive.new_title
    assert not doc.xpath("//h2[starts-with(., 'Failed fetches')]")  # no failures: no section


def test_program_page_lists_entered_and_left_articles(edited_archive, db):
    hub = edited_archive.base_url + edited_archive.site.hub_path
    rows = [c for c in changes_json(edited_archive.path)["changes"] if c["url"] == hub]
    assert rows and rows[0]["summary"]["links_added"], "the hub should link the new article"
    doc = lxml.html.fromstring(render_report(db, fmt="html"))
    block = change_block(doc, hub)
    entered = block.xpath(".//p[strong='1 entered']/following-sibling::ul[1]//a")
    assert [(a.get("href"), a.text_content()) for a in entered] == [
        (edited_archive.published_url, "Tulsa opens its permit data to residents")]
    left = block.xpath(".//p[strong='1 left']/following-sibling::ul[1]//a")
    assert [a.get("href") for a in left] == [edited_archive.removed_url]
    newly = block.xpath(".//p[strong='Newly linked']/following-sibling::ul[1]//a")
    assert edited_archive.published_url not in [a.get("href") for a in newly], "said once, as an entered item"


def test_links_to_archived_versions_only_when_configured(edited_archive, db):
    change = next(c for c in changes_json(edited_archive.path)["changes"] if c["url"] == edited_archive.edited_url)
    old, new = change["old_snapshot"], change["new_snapshot"]
    base = "http://127.0.0.1:8001/archive"
    html = render_report(db, fmt="html", settings=ReportSettings.from_config({"archive_url": base + "/"}))
    hrefs = [a.get("href") for a in change_block(lxml.html.fromstring(html), edited_archive.edited_url).iter("a")]
    assert f"{base}/-/wwc/diff/{old}/{new}" in hrefs
    assert f"{base}/-/wwc/snapshot/{new}" in hrefs
    assert f"{base}/-/wwc/snapshot/{old}" in hrefs
    assert "/-/wwc/" not in render_report(db, fmt="html")


def test_text_and_markdown_mark_changes_with_brackets(edited_archive):
    old, new = edited_archive.old_phrase, edited_archive.new_phrase
    text = report("--db", edited_archive.path, "--format", "text")
    assert text.exit_code == 0, text.output
    assert f"[-{old}-]{{+{new}+}}" in one_line(text.output)
    assert f"CHANGED: {edited_archive.new_title}" in one_line(text.output)
    assert max(len(line) for line in text.output.splitlines() if "http" not in line) <= 90  # wrapped for mail
    markdown = report("--db", edited_archive.path, "--run", "latest", "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert f"[-{markdown_escape(old)}-]{{+{markdown_escape(new)}+}}" in markdown.output
    assert f"### Removed: [" in markdown.output and f"]({edited_archive.removed_url})" in markdown.output


def test_since_reports_every_run_from_that_moment(edited_archive):
    runs = {run["id"]: run for run in (changes_json(edited_archive.path, str(i))["run"] for i in (1, 2))}
    everything = report("--db", edited_archive.path, "--since", runs[1]["started"][:10], "--format", "text")
    assert everything.exit_code == 0, everything.output
    assert everything.output.startswith(f"Changes since {runs[1]['started'][:10]} (2 runs)")
    assert everything.output.count("ADDED: ") == runs[1]["added"] + runs[2]["added"]
    assert everything.output.count("REMOVED: ") == runs[2]["removed"]
    latest = report("--db", edited_archive.path, "--since", runs[2]["started"], "--format", "text")
    assert "(1 run)" in latest.output.splitlines()[0]
    assert latest.output.count("ADDED: ") == runs[2]["added"]
    future = report("--db", edited_archive.path, "--since", "2999-01-01", "--format", "text")
    assert "No pages were added, changed or removed." in future.output


def test_output_file_takes_its_format_from_the_extension(edited_archive, tmp_path):
    result = report("--db", edited_archive.path, "-o", tmp_path / "r.md")
    assert result.exit_code == 0 and result.output == ""
    assert (tmp_path / "r.md").read_text().startswith("# Run 2 (")
    report("--db", edited_archive.path, "-o", tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--run", "99"], "no run with id 99"),
        (["--run", "last"], "--run must be 'latest' or a run id"),
        (["--since", "last week"], "--since expects a date like 2026-05-01"),
        (["--run", "1", "--since", "2026-01-01"], "choose --run or --since, not both"),
        (["--since", "2026-01-01", "--deliver"], "use --run instead of --since"),
        (["--email", "not-an-address"], "'not-an-address' is not a mail address"),
    ],
    ids=["unknown-run", "bad-run", "bad-date", "run-and-since", "deliver-since", "bad-address"],
)
def test_bad_input_is_a_one_line_error(edited_archive, args, message):
    result = report("--db", edited_archive.path, *args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: {result.output.strip()[7:]}"]
    assert message in result.output


def test_missing_archive_is_a_clear_error(tmp_path):
    result = report("--db", tmp_path / "nothing.db")
    assert result.exit_code == 2 and "no archive at" in result.output
    assert not (tmp_path / "nothing.db").exists()


@pytest.mark.parametrize(
    "table, message",
    [
        ({"security": "tls"}, "security must be one of starttls, ssl, none"),
        ({"password": "hunter2"}, "do not put the SMTP password in the config"),
        ({"smtp_port": "25"}, "smtp_port must be a whole number"),
        ({"recipients": ["ok@example.org", "nope"]}, "'nope' is not a mail address"),
        ({"archive_url": "ftp://host"}, "archive_url must be an http(s) URL"),
        ({"failure_threshold": -1}, "failure_threshold must be a whole number >= 0"),
        ({"recipent": ["typo@example.org"]}, "[report].recipent is not a known setting (did you mean recipients?)"),
        ({"templates_dir": "/nonexistent/templates"}, "templates_dir: no folder at /nonexistent/templates"),
    ],
    ids=["security", "password", "port-type", "recipient", "archive-url", "threshold", "typo", "templates-dir"],
)
def test_report_settings_reject_bad_values(table, message):
    with pytest.raises(ConfigError) as error:
        ReportSettings.from_config(table)
    assert message in str(error.value)


def test_report_settings_defaults_and_values():
    assert ReportSettings.from_config({}).port == 587
    settings = ReportSettings.from_config(
        {"security": "ssl", "recipients": "a@example.org, Bo <b@example.org>", "archive_url": "http://h:8001/"}
    )
    assert settings.port == 465
    assert settings.recipients == ("a@example.org", "Bo <b@example.org>")
    assert settings.link("/-/wwc/snapshot/3") == "http://h:8001/-/wwc/snapshot/3"


def test_bad_report_config_fails_the_command(edited_archive, tmp_path):
    config = tmp_path / "wwc.toml"
    config.write_text('[[program]]\nname = "w"\nstart_urls = ["http://127.0.0.1:1/"]\n[report]\nsecurity = "tls"\n')
    result = report("--db", edited_archive.path, config=config)
    assert result.exit_code == 2 and "security must be one of" in result.output


def test_user_templates_override_the_bundled_ones(edited_archive, tmp_path, db):
    (tmp_path / "report.txt").write_text("Custom: {{ report.changes|length }} changes\n")
    settings = ReportSettings.from_config({"templates_dir": str(tmp_path)})
    changes = [c for c in changes_json(edited_archive.path)["changes"] if c["echo_of"] is None]  # echoes fold in
    assert render_report(db, fmt="text", settings=settings) == f"Custom: {len(changes)} changes\n"
    assert "<ins " in render_report(db, fmt="html", settings=settings)  # others still bundled


LONG = " ".join(f"w{i}" for i in range(1000))


@pytest.mark.parametrize(
    "new, context, max_changed, expected_text, omitted",
    [
        ("a b X d e", 1, 600, "… b [-c-]{+X+} d …", 2),
        ("a b c d e", 2, 600, "a b c d e", 0),
        (LONG.replace("w500", "CHANGED"), 2, 600, "… w498 w499 [-w500-]{+CHANGED+} w501 w502 …", 995),
        (LONG.replace("w10 ", "X ").replace("w990", "Y"), 1, 600, "… w9 [-w10-]{+X+} w11 … w989 [-w990-]{+Y+} w991 …", 994),
        (LONG.replace("w2 ", "ONE TWO THREE "), 1, 2, "… w1 [-w2-]{+ONE+} …", 1000),
    ],
    ids=["short", "unchanged", "one-change-in-long-text", "two-passages", "capped-changes"],
)
def test_trim_diff_keeps_changed_passages_and_counts_the_rest(new, context, max_changed, expected_text, omitted):
    old = "a b c d e" if len(new) < 20 else LONG
    diff = word_diff(old, new)["diff"]
    trimmed = trim_diff(diff, context=context, max_changed_words=max_changed)
    assert diff_as_text(trimmed["diff"]) == expected_text
    assert trimmed["omitted_words"] == omitted


def test_long_diffs_say_how_much_was_trimmed(edited_archive, db):
    settings = ReportSettings.from_config({"context_words": 3})
    doc = lxml.html.fromstring(render_report(db, fmt="html", settings=settings))
    block = change_block(doc, edited_archive.edited_url)
    assert [e.text_content() for e in block.xpath(".//ins")] == [edited_archive.new_phrase]
    diff_box = block.xpath(".//ins/parent::div")[0]
    archive_db = Database(edited_archive.path)
    new_text = queries.content_text(archive_db, archive_db.execute(
        "select s.content_id from pages p join snapshots s on s.id = p.last_good_snapshot "
        "where p.url = ?", [edited_archive.edited_url]).fetchone()[0])
    for deleted in diff_box.xpath(".//del"):
        deleted.drop_tree()  # keeps the text after it
    for inserted in diff_box.xpath(".//ins"):
        inserted.text = f" {inserted.text} "
    shown = len(diff_box.text_content().replace("…", " ").split())
    not_shown = len(new_text.split()) - shown
    assert f"{not_shown} words not shown" in one_line(block.text_content())


def test_atom_feed_has_one_entry_per_change_newest_first(edited_archive, db):
    changes = [c for run in ("1", "2") for c in changes_json(edited_archive.path, run)["changes"]]
    feed = lxml.etree.fromstring(atom_feed(db, ReportSettings.from_config({"archive_url": "http://127.0.0.1:8001"})))
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(changes)
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    edited = next(e for e in entries if e.find(f"{ATOM}link").get("href") == edited_archive.edited_url)
    assert edited.findtext(f"{ATOM}title").startswith("Changed: ")
    content = lxml.html.fromstring(edited.findtext(f"{ATOM}content"))  # escaped HTML, parsed once more
    assert [e.text_content() for e in content.xpath("//ins")] == [edited_archive.new_phrase]
    assert any("/-/wwc/diff/" in (a.get("href") or "") for a in content.iter("a"))
    assert len(lxml.etree.fromstring(atom_feed(db, limit=3)).findall(f"{ATOM}entry")) == 3


def test_a_report_and_the_diff_page_tell_each_change_alike(edited_archive, db):
    """One change view: a report's words, fields, links and teasers are what `/-/wwc/diff/OLD/NEW` shows."""
    from wwc_archive.reports.context import report_data
    from wwc_archive.reports.datasette.views import diff_data

    told = [change for change in report_data(db)["changes"] if change["kind"] == "changed"]
    assert {change["url"] for change in told} >= {edited_archive.edited_url, edited_archive.retitled_url}
    for change in told:
        row = db.execute("select old_snapshot, new_snapshot from changes where id = ?", [change["id"]]).fetchone()
        page = diff_data(db, *row)
        assert {f["name"].lower(): [f["old"], f["new"]] for f in change["fields"]} == {
            {"published": "date"}.get(name, name): value for name, value in page["fields"].items()}
        assert [link["url"] for link in change["links_added"]] == page["links_added"]
        if "items" in page:
            assert [i["url"] for i in change["listing"]["entered"]] == [i["url"] for i in page["items"]["entered"]]
        else:
            assert (change["words_added"], change["words_removed"]) == (page["words_added"], page["words_removed"])
