"""Reports maintainers act on, end to end on the demo site: most significant first, one story per event,
sent once to mail (aiosmtpd) and apprise (a JSON receiver on 127.0.0.1), retried when a channel failed."""

import gzip
import json
import shutil
import sqlite3
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import FAST, changes_json, run_cli
from tests.test_report_delivery import free_port, smtp  # noqa: F401  (the fixture)
from wwc_archive.archive import Archive, FetchRecord
from wwc_archive.cli import cli
from wwc_archive.config import load_config
from wwc_archive.demo_site import DemoServer, DemoSite
from wwc_archive.reports.channels import channel_id, chat_safe, expand, mask
from wwc_archive.scheduler import notify

NEW_TITLE = "Tulsa opens its permit data to residents"
HOSTILE = '<img src="http://tracker.example/x.png" onerror="alert(1)"> ![pixel](http://tracker.example/p.png)'


@pytest.fixture(scope="module")
def night_template(tmp_path_factory):
    """Two crawls; in between a figure edit, a new article (on the hub and its author's page), a typo fix and a
    teaser summary edit. The new article's title carries markup an archived page could have."""
    site = DemoSite(n_articles=8, per_page=3, seed=1)
    path = str(tmp_path_factory.mktemp("night") / "archive.db")
    with DemoServer(site) as server:
        start = server.url + site.hub_path
        figure, typo, teaser = site.published()[1:4]
        opening = " ".join(figure.paragraphs[0].split()[:3])
        site.edit_article(figure.slug, opening, f"The city set aside $1.2 million for the program. {opening}")
        site.edit_article(typo.slug, " the ", " teh ")
        site.set_summary(teaser.slug, "How a city learned to read its own permit data.")
        run_cli("crawl", "--db", path, "--start-url", start, *FAST, check=True)
        site.next_night()
        site.edit_article(figure.slug, "$1.2 million", "$1.3 million")
        site.edit_article(typo.slug, " teh ", " the ")
        site.set_summary(teaser.slug, "How a city learned to read its own permit data (updated this week).")
        author = site.people[0]
        new = site.publish_article(NEW_TITLE + " " + HOSTILE, ["Tulsa published every building permit since 2015.",
                                                               "Residents can follow each application."],
                                   author=author.slug)
        run_cli("crawl", "--db", path, "--start-url", start, *FAST, check=True)
        urls = {"figure": server.url + site.article_path(figure), "typo": server.url + site.article_path(typo),
                "new": server.url + site.article_path(new), "hub": start,
                "person": server.url + f"/people/{author.slug}", "author": author.name}
    return path, urls


@pytest.fixture
def night(night_template, tmp_path):
    path, urls = night_template
    copy = tmp_path / "archive.db"
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    return str(copy), urls


class Receiver:
    """A JSON webhook on 127.0.0.1: what apprise's json:// target posted."""

    def __init__(self, port: int = 0):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def write_config(tmp_path, smtp_port, notify=(), **report):
    lines = ['smtp_host = "127.0.0.1"', f"smtp_port = {smtp_port}", 'security = "none"',
             'sender = "archive@example.org"', f'reports_dir = "{tmp_path / "reports"}"',
             'archive_url = "http://archive.example"', f"notify = {json.dumps(list(notify))}"]
    lines += [f"{name} = {json.dumps(value)}" for name, value in report.items()]
    path = tmp_path / "wwc.toml"
    path.write_text("[report]\n" + "\n".join(lines) + "\n")  # no [[program]]: the default program
    return path


def report(*args):
    return CliRunner().invoke(cli, ["report", *map(str, args)])


def test_the_night_is_reported_most_significant_first_with_the_new_article_told_once(night):
    path, urls = night
    text = report("--db", path, "--format", "text").output
    order = [line.split(": ", 1)[1][:40] for line in text.splitlines() if line.startswith(("ADDED: ", "CHANGED: "))]
    titles = {url: change["title"] for change in changes_json(path)["changes"] for url in [change["url"]]}
    expected = [titles[urls["figure"]][:40], titles[urls["new"]][:40]]
    assert order[:2] == expected, text
    assert len(order) == 4 and titles[urls["person"]][:40] not in order  # the echo is folded in
    assert "figure changed: $1.2 million → $1.3 million" in " ".join(text.split())
    assert f"also listed on the program page and on {urls['author']}'s page" in " ".join(text.split())
    assert "(1 more page only echoing them, folded in)" in text
    assert "own permit {+data (updated this week).+}" in " ".join(text.split()).replace("[-data.-]", "")

    minor = report("--db", path, "--format", "markdown", "--config",
                   write_config(Path(path).parent, 25, summarise_below=0.2)).output
    assert "## Minor changes (1)" in minor and "under 1% of the text changed" in minor


def test_changes_json_has_each_changes_significance_and_marks_echoes(night):
    path, urls = night
    changes = {change["url"]: change for change in changes_json(path)["changes"]}
    assert set(changes) == {urls[name] for name in ("figure", "typo", "new", "hub", "person")}
    figure = changes[urls["figure"]]["significance"]
    assert figure["score"] > changes[urls["new"]]["significance"]["score"] > \
        changes[urls["hub"]]["significance"]["score"] > changes[urls["typo"]]["significance"]["score"] > 0
    assert figure["reasons"][0] == "figure changed: $1.2 million → $1.3 million"
    assert changes[urls["person"]]["echo_of"] == changes[urls["new"]]["id"]
    assert all(changes[url]["echo_of"] is None for url in changes if url != urls["person"])


def test_apprise_and_mail_get_the_report_once_and_again_with_force(night, smtp, receiver, tmp_path):  # noqa: F811
    path, urls = night
    config = write_config(tmp_path, smtp.port, [f"json://127.0.0.1:{receiver.port}/hook"],
                          recipients=["team@example.org"])
    first = report("--config", config, "--db", path, "--deliver")
    assert first.exit_code == 0, first.output
    assert "mailed to team@example.org" in first.output and f"json://127.0.0.1:{receiver.port}/…" in first.output
    [(hook, posted)] = receiver.received
    [(_, _, mail)] = smtp.messages
    assert hook == "/hook" and posted["title"] == mail["Subject"] and posted["title"].startswith("[wwc-archive] Run 2")
    body = posted["message"]
    assert body.index("figure changed") < body.index("ADDED: " + NEW_TITLE)
    assert body.rstrip().endswith("The run's page: http://archive.example/-/wwc/run/2/report")
    assert "<img" not in body and "![" not in body and "](" not in body  # nothing loads in a chat client

    again = report("--config", config, "--db", path, "--deliver")
    assert again.exit_code == 0, again.output
    assert "already delivered to mail:team@example.org" in again.output and "not sent again" in again.output
    assert len(receiver.received) == 1 and len(smtp.messages) == 1
    forced = report("--config", config, "--db", path, "--deliver", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(receiver.received) == 2 and len(smtp.messages) == 2
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("select run_id, channel, status from deliveries order by id").fetchall()
    assert [status for _, _, status in rows] == ["sent"] * 4 and {run for run, _, _ in rows} == {2}


def test_a_failed_channel_is_recorded_and_sent_at_the_next_scheduled_run(night, tmp_path, monkeypatch):
    path, _urls = night
    port = free_port()  # nobody listens yet
    monkeypatch.setenv("WWC_TEST_HOOK_TOKEN", "s3cret-token")
    config = write_config(tmp_path, 25, [f"json://hook:${{WWC_TEST_HOOK_TOKEN}}@127.0.0.1:{port}/hook"])
    failed = report("--config", config, "--db", path, "--deliver", "--run", "1")
    assert failed.exit_code == 1 and "sent again at the next scheduled run" in failed.output
    assert "s3cret-token" not in failed.output
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("select run_id, status from deliveries").fetchall() == [(1, "failed")]
        assert "s3cret-token" not in str(conn.execute("select * from deliveries").fetchall())
    receiver = Receiver(port)
    try:
        result, retries = notify.deliver_report(load_config(config), path, 2)  # what the scheduler does
    finally:
        receiver.close()
    assert [retry.run_id for retry in retries] == [1] and retries[0].delivered and result.delivered
    assert [posted["title"].split(" (")[0] for _, posted in receiver.received] == \
        ["[wwc-archive] Run 1", "[wwc-archive] Run 2"]


def test_a_weekly_digest_sends_the_weeks_runs_in_one_report(night, receiver, tmp_path):
    path, _urls = night
    config = write_config(tmp_path, 25, [f"json://127.0.0.1:{receiver.port}/hook"], digest="weekly")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("update runs set started = '2027-01-01T03:00:00Z' where id = 1")
        conn.execute("update runs set started = '2027-01-04T03:00:00Z' where id = 2")
        conn.commit()
    waiting = report("--config", config, "--db", path, "--deliver")
    assert waiting.exit_code == 0 and "weekly digest: next after 2027-01-08 03:00 UTC" in waiting.output
    assert receiver.received == []
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("update runs set started = '2027-01-08T03:00:00Z' where id = 2")
        conn.commit()
    due = report("--config", config, "--db", path, "--deliver")
    assert due.exit_code == 0, due.output
    [(_, posted)] = receiver.received
    assert posted["title"].startswith("[wwc-archive] Changes since 2027-01-01 (2 runs)")
    assert report("--config", config, "--db", path, "--deliver").output.count("already delivered") == 1
    assert len(receiver.received) == 1


def test_secrets_in_channel_urls_come_from_the_environment_and_never_show():
    url = "slack://${WWC_TOKEN}/#general"
    expanded, secrets = expand(url, {"WWC_TOKEN": "xoxb-123"})
    assert expanded == "slack://xoxb-123/#general" and secrets == ["xoxb-123"]
    assert "xoxb" not in channel_id(url) and channel_id(url).startswith("slack://…/… #")
    assert expand("json://h/env:WWC_X", {"WWC_X": "abc"})[0] == "json://h/abc"
    assert mask("refused by xoxb-123", expanded, secrets) == "refused by ***"
    assert chat_safe(HOSTILE).count("<") == 0 and "![" not in chat_safe(HOSTILE)


def test_an_archive_from_before_m022_upgrades_and_its_past_changes_get_a_score(tmp_path):
    path = tmp_path / "archive.db"
    with gzip.open(Path(__file__).parent / "fixtures" / "archive-0.1.0.db.gz") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target)
    run_cli("upgrade", "--db", path, check=True)
    changes = changes_json(path, "2")["changes"]
    assert changes and all(0 < change["significance"]["score"] <= 1 and change["significance"]["reasons"]
                           for change in changes)
    new = [change for change in changes if change["change"] == "added"]
    assert new and new[0]["significance"]["reasons"][0] == "new article"
    assert any(change["echo_of"] == new[0]["id"] for change in changes)  # its author's page echoes it


def test_a_run_whose_every_fetch_failed_is_recorded_failed(tmp_path):
    archive = Archive(tmp_path / "a.db")
    try:
        run_id = archive.start_run(["what-works-cities"])
        writer = archive.writer(run_id)
        writer.add(FetchRecord(url="http://127.0.0.1:1/", program="what-works-cities", role="program",
                               fetched_at="2027-01-01T03:00:00Z", outcome="failed", http_status=None, headers={},
                               error="Connection refused"))
        writer.flush()
        run = archive.finish_run(run_id, "complete")
    finally:
        archive.close()
    assert run["status"] == "failed" and "every fetch failed" in run["note"]


def test_an_unknown_output_extension_is_refused_unless_the_format_is_given(night, tmp_path):
    path, _urls = night
    refused = report("--db", path, "-o", tmp_path / "report.pdf")
    assert refused.exit_code == 2 and "*.html" in refused.output and "--format" in refused.output
    assert not (tmp_path / "report.pdf").exists()
    given = report("--db", path, "-o", tmp_path / "report.pdf", "--format", "text")
    assert given.exit_code == 0 and (tmp_path / "report.pdf").read_text().startswith("Run 2")
