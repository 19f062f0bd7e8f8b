"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): mail, report folder, failures."""

import email
import email.policy
import socket
from dataclasses import dataclass, field

import lxml.html
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from sqlite_utils import Database

from wwc_archive.reports.delivery import DeliveryError, deliver, send_alert
from wwc_archive.reports.settings import ReportSettings
from tests.conftest import changes_json
from wwc_archive.cli import cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What a real SMTP server received."""

    port: int
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def start_smtp(**kwargs):
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **kwargs)
    controller.start()
    return inbox, controller


@pytest.fixture
def smtp():
    inbox, controller = start_smtp()
    yield inbox
    controller.stop()


def write_config(tmp_path, port, name="wwc.toml", **report):
    lines = [f'smtp_host = "127.0.0.1"', f"smtp_port = {port}", 'security = "none"',
             'sender = "WWC archive <archive@example.org>"', f'reports_dir = "{tmp_path / "reports"}"']
    for name, value in report.items():
        lines.append(f"{name} = {value!r}".replace("'", '"'))
    path = tmp_path / name
    path.write_text('[[program]]\nname = "what-works-cities"\nstart_urls = ["http://127.0.0.1:1/"]\n\n'
                    "[report]\n" + "\n".join(lines) + "\n")
    return path


def report(*args):
    return CliRunner().invoke(cli, ["report", *map(str, args)])


def parts(message):
    """The text and HTML parts, with the wire's CRLF line ends undone."""
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def test_email_sends_text_and_html_and_keeps_the_report(edited_archive, smtp, tmp_path):
    config = write_config(tmp_path, smtp.port)
    result = report("--config", config, "--db", edited_archive.path, "--email", "ana@example.org",
                    "--email", "Bo <bo@example.org>")
    assert result.exit_code == 0, result.output
    data = changes_json(edited_archive.path)
    run, echoes = data["run"], sum(change["echo_of"] is not None for change in data["changes"])
    assert f"Run {run['id']}: wrote" in result.output and "mailed to ana@example.org" in result.output
    [(sender, recipients, message)] = smtp.messages
    assert sender == "archive@example.org"
    assert recipients == ["ana@example.org", "bo@example.org"]
    assert message["Subject"] == (f"[wwc-archive] Run {run['id']} ({run['started'][:10]}): {run['added']} added, "
                                  f"{run['changed'] - echoes} changed, {run['removed']} removed")  # echoes told once
    assert message["To"] == "ana@example.org, Bo <bo@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = parts(message)
    assert f"[-{edited_archive.old_phrase}-]{{+{edited_archive.new_phrase}+}}" in " ".join(text.split())
    doc = lxml.html.fromstring(html)
    assert edited_archive.new_phrase in [ins.text_content() for ins in doc.iter("ins")]
    saved = tmp_path / "reports" / f"run-{run['id']:04d}.html"
    assert saved.read_text() == html
    assert (tmp_path / "reports" / f"run-{run['id']:04d}.txt").read_text() == text
    assert (tmp_path / "reports" / f"run-{run['id']:04d}.md").exists()


def test_deliver_uses_config_recipients_and_indexes_reports_newest_first(edited_archive, smtp, tmp_path):
    config = write_config(tmp_path, smtp.port, recipients=["team@example.org", "lead@example.org"])
    for run in ("1", "2"):
        result = report("--config", config, "--db", edited_archive.path, "--deliver", "--run", run)
        assert result.exit_code == 0, result.output
    assert [rcpts for _, rcpts, _ in smtp.messages] == [["team@example.org", "lead@example.org"]] * 2
    assert [m["Subject"].split(" (")[0] for _, _, m in smtp.messages] == ["[wwc-archive] Run 1", "[wwc-archive] Run 2"]
    folder = tmp_path / "reports"
    index = lxml.html.fromstring((folder / "index.html").read_text())
    assert [a.get("href") for a in index.xpath("//table//a[starts-with(., 'Run')]")] == ["run-0002.html", "run-0001.html"]
    assert index.xpath("//a[@href='changes.atom']")
    assert (folder / "changes.atom").read_bytes().startswith(b"<?xml")


def test_smtp_failure_is_a_clear_error_and_the_report_is_kept(edited_archive, tmp_path):
    port = free_port()  # nothing listens here
    config = write_config(tmp_path, port)
    result = report("--config", config, "--db", edited_archive.path, "--email", "ana@example.org")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"Error: could not send mail through 127.0.0.1:{port} (none): ")
    assert "saved in" in result.output
    assert (tmp_path / "reports" / "run-0002.html").exists()
    assert "run-0002.html" in (tmp_path / "reports" / "index.html").read_text()


def test_deliver_raises_delivery_error_after_writing_files(edited_archive, tmp_path):
    settings = ReportSettings.from_config({"smtp_host": "127.0.0.1", "smtp_port": free_port(), "security": "none",
                                           "recipients": ["ana@example.org"], "reports_dir": str(tmp_path / "r"),
                                           "smtp_timeout": 5})
    with pytest.raises(DeliveryError, match="could not send mail"):
        deliver(Database(edited_archive.path), "latest", settings)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "changes.atom", "index.html", "run-0002.html", "run-0002.md", "run-0002.txt"]


def test_quiet_runs_are_not_mailed_but_failed_fetches_are(site, server, crawl, db_path, smtp, tmp_path):
    config = write_config(tmp_path, smtp.port, recipients=["team@example.org"])
    crawl()
    crawl()  # nothing changed on the site
    quiet = report("--config", config, "--db", db_path, "--deliver")
    assert quiet.exit_code == 0, quiet.output
    assert "not mailed: nothing changed and 0 failed fetches" in quiet.output
    assert smtp.messages == []
    assert (tmp_path / "reports" / "run-0002.html").exists()  # written all the same
    forced = report("--config", config, "--db", db_path, "--deliver", "--force")
    assert forced.exit_code == 0 and len(smtp.messages) == 1

    failing = site.article_path(site.articles[0])
    site.fail(failing, 503)
    crawl()
    patient = write_config(tmp_path, smtp.port, name="patient.toml", recipients=["team@example.org"],
                           failure_threshold=2)
    below = report("--config", patient, "--db", db_path, "--deliver")
    assert below.exit_code == 0 and "below the threshold of 2" in below.output
    assert len(smtp.messages) == 1  # still only the forced one
    loud = report("--config", config, "--db", db_path, "--deliver")
    assert loud.exit_code == 0, loud.output
    _, _, message = smtp.messages[-1]
    assert message["Subject"].endswith("0 added, 0 changed, 0 removed, 1 failed fetch")
    text, html = parts(message)
    assert "FAILED FETCHES (1)" in text and "HTTP 503" in text
    doc = lxml.html.fromstring(html)
    section = doc.xpath("//h2[starts-with(., 'Failed fetches')]/following-sibling::table[1]")[0]
    assert [a.get("href") for a in section.iter("a")] == [server.url + failing]
    assert doc.xpath("string(//h2[starts-with(., 'Changes')])") == "Changes (0)"


def test_alert_logs_in_with_the_password_from_the_environment(monkeypatch):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    inbox, controller = start_smtp(authenticator=authenticator, auth_require_tls=False)
    try:
        settings = ReportSettings.from_config({
            "smtp_host": "127.0.0.1", "smtp_port": inbox.port, "security": "none", "smtp_user": "archive",
            "allow_plaintext_password": True,  # a test server on this machine
            "password_env": "TEST_WWC_SMTP_PASSWORD", "recipients": ["team@example.org"],
        })
        monkeypatch.delenv("TEST_WWC_SMTP_PASSWORD", raising=False)
        with pytest.raises(DeliveryError, match="set the environment variable TEST_WWC_SMTP_PASSWORD"):
            send_alert(settings, "Crawl failing", "The last 3 crawls failed.")
        monkeypatch.setenv("TEST_WWC_SMTP_PASSWORD", "wrong")
        with pytest.raises(DeliveryError, match="refused the login of archive: 535"):
            send_alert(settings, "Crawl failing", "The last 3 crawls failed.")
        monkeypatch.setenv("TEST_WWC_SMTP_PASSWORD", "s3cret")
        send_alert(settings, "Crawl failing", "The last 3 crawls failed.")
    finally:
        controller.stop()
    assert set(logins[:-1]) == {(b"archive", b"wrong")}  # smtplib tries PLAIN, then LOGIN
    assert logins[-1] == (b"archive", b"s3cret")
    [(_, recipients, message)] = inbox.messages
    assert recipients == ["team@example.org"]
    assert message["Subject"] == "[wwc-archive] Crawl failing"
    assert not message.is_multipart() and message.get_content().strip() == "The last 3 crawls failed."


def test_starttls_against_a_server_without_it_says_what_to_change(smtp):
    settings = ReportSettings.from_config({"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                           "recipients": ["team@example.org"]})
    with pytest.raises(DeliveryError, match='does not offer STARTTLS: set \\[report\\].security'):
        send_alert(settings, "x", "y")
    assert smtp.messages == []
