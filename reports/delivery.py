"""Delivering a run's report: files in the reports folder, an index and feed, then mail and apprise channels.

Files are written first, so a failed send never loses a report. Mail is a
multipart text + HTML message sent with :mod:`smtplib`; each ``[report]
notify`` URL gets the text report and a link to the run's page through
apprise (:mod:`wwc_archive.reports.channels`). A :class:`Ledger` (the
archive's ``deliveries``, kept by :mod:`wwc_archive.archive.deliveries` and
handed in by the CLI or the scheduler) says what each channel already got:
a channel is sent a run once, unless forced; a failure is recorded, to be
retried by the next scheduled run.
"""

import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from wwc_archive.archive import queries
from wwc_archive.records import parse_utc
from wwc_archive.reports import channels, links
from wwc_archive.reports.context import report_data
from wwc_archive.reports.feed import atom_feed
from wwc_archive.reports.render import FORMATS, environment, render_data
from wwc_archive.config import plaintext_refusal
from wwc_archive.reports.settings import ReportSettings

SUBJECT_PREFIX = "[wwc-archive] "
FEED_NAME = "changes.atom"
REPORT_NAME = re.compile(r"^run-(\d+)\.html$")


#: A weekly digest goes out once this long has passed since the run the last one ended with.
DIGEST_EVERY = {"weekly": timedelta(days=7)}


class DeliveryError(Exception):
    """Mail (or a channel) could not be sent; the message says why in one line. ``result``: what was done."""

    def __init__(self, message: str, result: "DeliveryResult | None" = None):
        super().__init__(message)
        self.result = result


class Ledger:
    """What each channel got, as the archive records it; the default remembers nothing (sends every time)."""

    def sent(self, run_id: int, channel: str) -> str | None:
        return None

    def record(self, run_id: int, channel: str, status: str, error: str | None = None,
               first_run: int | None = None) -> None:
        pass

    def last_sent_run(self, channel: str) -> dict | None:
        return None

    def owed(self, channels: list[str], before: int | None = None) -> list[tuple[int, str, str]]:
        return []


@dataclass
class DeliveryResult:
    run_id: int
    #: Format name ("html", "markdown", "text") -> the report file written.
    files: dict[str, Path]
    index: Path
    feed: Path
    #: Who the report was mailed to; empty when no mail was sent.
    sent_to: tuple[str, ...] = ()
    #: Why mail was or was not sent, for logs and the CLI.
    reason: str = ""
    changes: int = 0
    failed_fetches: int = 0
    #: Channel names (``mail:…`` and masked apprise URLs) sent to now.
    delivered: list[str] = field(default_factory=list)
    #: (channel, when) of the channels that already had this run, and were not sent it again.
    already: list[tuple[str, str]] = field(default_factory=list)
    #: (channel, masked error) of the channels that failed now.
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: (channel, why) of the channels a weekly digest is not due for yet.
    waiting: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return bool(self.sent_to or self.delivered)

    def describe(self) -> str:
        """One line: what went where, what was already there, what failed."""
        parts = []
        if self.sent_to:
            parts.append(f"mailed to {', '.join(self.sent_to)} ({self.reason})")
        others = [name for name in self.delivered if not name.startswith("mail:")]
        if others:
            parts.append(f"sent to {', '.join(others)}" + ("" if self.sent_to else f" ({self.reason})"))
        if self.already:
            parts.append(f"already delivered to {', '.join(f'{c} ({at})' for c, at in self.already)}: "
                         "not sent again (--force sends again)")
        if self.waiting:
            parts.append("; ".join(f"{c}: {why}" for c, why in self.waiting))
        if self.failed:
            parts.append("failed: " + "; ".join(error for _, error in self.failed))
        if not parts:
            parts.append(self.reason)
        return "; ".join(parts)


def report_name(run_id: int, suffix: str) -> str:
    """The stable file name of a run's report: ``run-0007.html``."""
    return f"run-{run_id:04d}.{suffix}"


def deliver(db, run_id, settings: ReportSettings, recipients=None, force: bool = False,
            ledger: Ledger | None = None, only: set[str] | None = None) -> DeliveryResult:
    """Write a run's report files, the index and the feed, then send the report where it is due.

    ``run_id`` may be None or ``"latest"``. ``recipients`` replaces the configured
    ones. A report goes out when the run changed something that scores at least
    ``send_min_score``, when its failed fetches reach ``failure_threshold``, or
    with ``force``; each channel (mail, each ``notify`` URL) once per run as the
    ``ledger`` records it (``force`` sends again); ``only``: these channels alone
    (a retry). With ``digest = "weekly"`` a channel gets the week's runs in one
    report once a week. Raises :class:`DeliveryError` (after writing the files,
    trying every channel and recording each) when a channel failed.
    """
    ledger = ledger or Ledger()
    data = report_data(db, run_id=None if run_id in (None, "latest") else int(run_id), settings=settings)
    run = data["run"]
    folder = Path(settings.reports_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rendered = {fmt: render_data(data, fmt, settings) for fmt in FORMATS}
    files = {
        fmt: write_file(folder / report_name(run["id"], suffix), rendered[fmt])
        for fmt, (_template, suffix) in FORMATS.items()
    }
    feed = write_file(folder / FEED_NAME, atom_feed(db, settings))
    index = write_index(db, folder, settings)
    result = DeliveryResult(run_id=run["id"], files=files, index=index, feed=feed,
                            changes=len(data["changes"]) + len(data["minor"]), failed_fetches=data["pages_failed"])
    recipients = tuple(settings.recipients if recipients is None else recipients)
    targets = ([(mail_channel(recipients), None)] if recipients else []) + \
        [(channels.channel_id(url), url) for url in settings.notify]
    if only is not None:
        targets = [(name, url) for name, url in targets if name in only]
    worth_it, result.reason = mail_decision(data, settings, force)
    if not targets:
        result.reason = "no recipients: set [report].recipients or notify, or pass --email"
        return result
    digests: dict[int, tuple[dict, dict]] = {}
    for name, url in targets:
        when = ledger.sent(run["id"], name)
        if when and not force:
            result.already.append((name, when))
            continue
        first_run, report, texts = None, data, rendered
        if settings.digest != "none" and not force:
            first_run, why = digest_start(db, ledger, name, run, settings.digest)
            if first_run is None:
                result.waiting.append((name, why))
                continue
            if first_run not in digests:
                digest = report_data(db, since=queries.get_run(db, first_run)["started"], settings=settings)
                digests[first_run] = digest, {fmt: render_data(digest, fmt, settings) for fmt in ("text", "html")}
            report, texts = digests[first_run]
            if not report["changes"] and not report["minor"] and not report["pages_failed"]:
                result.waiting.append((name, "weekly digest: nothing changed this week"))
                ledger.record(run["id"], name, "sent", "nothing to send", first_run=first_run)
                continue
        elif not worth_it:
            continue
        try:
            if url is None:
                send(settings, build_message(settings, recipients, SUBJECT_PREFIX + report["title"], texts["text"],
                                             texts["html"]))
                result.sent_to = recipients
            else:
                channels.send(url, SUBJECT_PREFIX + report["title"], chat_text(texts["text"], report, files, settings))
        except (DeliveryError, channels.ChannelError) as error:
            result.failed.append((name, str(error)))
            ledger.record(run["id"], name, "failed", str(error), first_run=first_run)
            continue
        ledger.record(run["id"], name, "sent", first_run=first_run)
        result.delivered.append(name)
    if result.failed:
        raise DeliveryError("; ".join(error for _, error in result.failed) + f"; the report of run {run['id']} "
                            f"is saved in {files['html']} and is sent again at the next scheduled run", result)
    return result


def mail_channel(recipients) -> str:
    """Mail's channel name: ``mail:`` and the recipients' addresses."""
    return "mail:" + ",".join(parseaddr(address)[1] for address in recipients)


def chat_text(text: str, report: dict, files: dict, settings: ReportSettings) -> str:
    """The text report for a chat channel, ending with a link to the run's page (or the report file)."""
    run = report.get("run")
    page = settings.link(links.report(run["id"])) if run else settings.archive_url
    return f"{text.rstrip()}\n\nThe run's page: {page or files['html'].resolve()}\n"


def digest_start(db, ledger: Ledger, channel: str, run: dict, digest: str) -> tuple[int | None, str]:
    """The first run a digest ending with ``run`` covers for ``channel``, or None and when it is due."""
    last = ledger.last_sent_run(channel)
    newer = [r for r in queries.list_runs(db) if r["id"] <= run["id"] and (last is None or r["id"] > last["run_id"])]
    if not newer:
        return None, "weekly digest: no run since the last one"
    first = min(newer, key=lambda r: r["id"])
    since = queries.get_run(db, last["run_id"])["started"] if last else first["started"]
    due = parse_utc(since) + DIGEST_EVERY[digest]
    if parse_utc(run["started"]) < due:
        return None, f"weekly digest: next after {due.strftime('%Y-%m-%d %H:%M')} UTC"
    return first["id"], ""


def retry_owed(db, settings: ReportSettings, ledger: Ledger, before: int | None = None) -> list[DeliveryResult]:
    """Send again every delivery whose last attempt failed (runs before ``before``); a weekly digest's next
    one covers its runs instead. Each result says what was sent and what failed again."""
    if settings.digest != "none":
        return []
    names = ([mail_channel(settings.recipients)] if settings.recipients else []) + \
        [channels.channel_id(url) for url in settings.notify]
    results = []
    for run_id, name, _error in ledger.owed(names, before=before):
        try:
            results.append(deliver(db, run_id, settings, ledger=ledger, only={name}))
        except DeliveryError as error:
            results.append(error.result)
    return results


def mail_decision(data: dict, settings: ReportSettings, force: bool) -> tuple[bool, str]:
    """Whether a report is worth mailing, and why."""
    changes, failed = len(data["changes"]) + len(data.get("minor") or ()), data["pages_failed"]
    if force:
        return True, "sent on request (--force)"
    top = data.get("top_score") or 0
    if changes and top >= settings.send_min_score:
        return True, f"{changes} change{'s' if changes != 1 else ''}"
    if changes and failed < settings.failure_threshold:
        return False, (f"not sent: the most significant of {changes} change{'s' if changes != 1 else ''} scores "
                       f"{top:.2f}, below send_min_score {settings.send_min_score:g}")
    if failed >= settings.failure_threshold:
        return True, f"{failed} failed fetch{'es' if failed != 1 else ''} (threshold {settings.failure_threshold})"
    return False, (f"not mailed: nothing changed and {failed} failed fetch{'es' if failed != 1 else ''} "
                   f"(below the threshold of {settings.failure_threshold})")


def send_alert(settings: ReportSettings, subject: str, text: str) -> None:
    """Mail a plain-text alert (e.g. "the crawl keeps failing") to the configured recipients."""
    if not settings.recipients:
        raise DeliveryError("cannot send the alert: no recipients; set [report].recipients")
    send(settings, build_message(settings, settings.recipients, SUBJECT_PREFIX + subject, text))


def build_message(settings: ReportSettings, recipients, subject: str, text: str,
                  html: str | None = None) -> EmailMessage:
    """A text message, with an HTML alternative when ``html`` is given."""
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("wwc-archive", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(settings: ReportSettings, message: EmailMessage) -> None:
    """Send through the configured SMTP server; any failure is a one-line DeliveryError."""
    host, port = settings.smtp_host, settings.port
    where = f"{host}:{port} ({settings.security})"
    password = None
    if settings.smtp_user:
        try:  # checked at config load too; settings built in code must not slip through
            plaintext_refusal(settings.security, settings.smtp_user, settings.allow_plaintext_password)
        except ValueError as error:
            raise DeliveryError(f"not logging in to {where}: {error}") from None
        password = settings.password()
        if password is None:
            raise DeliveryError(f"cannot log in to {where} as {settings.smtp_user}: "
                                f"set the environment variable {settings.password_env} to the SMTP password")
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=settings.smtp_timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=settings.smtp_timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, password)
            refused = smtp.send_message(message)
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"{where} does not offer STARTTLS: set [report].security to \"ssl\" or "
                            "\"none\" to match the server") from None
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(f"{where} refused the login of {settings.smtp_user}: {_reply(error)}") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"{where} refused every recipient: {', '.join(error.recipients)}") from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(f"{where} refused the mail: {_reply(error)}") from None
    except (socket.timeout, TimeoutError):
        raise DeliveryError(f"could not send mail through {where}: no answer within "
                            f"{settings.smtp_timeout:g} s") from None
    except (OSError, smtplib.SMTPException) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__
        raise DeliveryError(f"could not send mail through {where}: {' '.join(reason.split())}") from None
    if refused:
        raise DeliveryError(f"{where} refused some recipients: {', '.join(refused)}")


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    return f"{error.smtp_code} {' '.join(text.split())}"


def write_file(path: Path, content: str | bytes) -> Path:
    """Write a file atomically: a temporary file in the same folder, fsync, then ``os.replace``.

    Readers never see half a report, and a failure (a full disk, an error while
    writing) leaves the old file as it was.
    """
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)
    return path


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the system allows opening a folder)."""
    try:
        descriptor = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_index(db, folder: Path, settings: ReportSettings) -> Path:
    """``index.html``: every report in the folder, newest run first."""
    runs = {run["id"]: run for run in queries.list_runs(db)}
    entries = []
    for path in folder.iterdir():
        match = REPORT_NAME.match(path.name)
        if not match:
            continue
        run_id = int(match.group(1))
        names = {fmt: report_name(run_id, suffix) for fmt, (_t, suffix) in FORMATS.items()}
        entries.append({
            "run_id": run_id,
            "run": runs.get(run_id),
            "files": {fmt: name for fmt, name in names.items() if (folder / name).exists()},
        })
    entries.sort(key=lambda entry: entry["run_id"], reverse=True)
    html = environment(settings).get_template("index.html").render(
        entries=entries, feed=FEED_NAME if (folder / FEED_NAME).exists() else None,
        archive_url=settings.archive_url,
    )
    return write_file(folder / "index.html", html)
