"""Delivering a run's report: files in the reports folder, an index and feed, then mail.

Files are written first, so a mail failure never loses a report. Mail is a
multipart text + HTML message sent with :mod:`smtplib`.
"""

import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from wwc_archive.archive import queries
from wwc_archive.reports.context import report_data
from wwc_archive.reports.feed import atom_feed
from wwc_archive.reports.render import FORMATS, environment, render_data
from wwc_archive.config import plaintext_refusal
from wwc_archive.reports.settings import ReportSettings

SUBJECT_PREFIX = "[wwc-archive] "
FEED_NAME = "changes.atom"
REPORT_NAME = re.compile(r"^run-(\d+)\.html$")


class DeliveryError(Exception):
    """Mail could not be sent; the message says why in one line."""


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

    @property
    def sent(self) -> bool:
        return bool(self.sent_to)


def report_name(run_id: int, suffix: str) -> str:
    """The stable file name of a run's report: ``run-0007.html``."""
    return f"run-{run_id:04d}.{suffix}"


def deliver(db, run_id, settings: ReportSettings, recipients=None, force: bool = False) -> DeliveryResult:
    """Write a run's report files, the index and the feed, then mail the report if warranted.

    ``run_id`` may be None or ``"latest"``. ``recipients`` replaces the configured
    ones. Mail goes out when the run changed something, when its failed fetches
    reach ``failure_threshold``, or with ``force``. Raises :class:`DeliveryError`
    (after writing the files) when the mail cannot be sent.
    """
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
                            changes=len(data["changes"]), failed_fetches=data["pages_failed"])
    recipients = tuple(settings.recipients if recipients is None else recipients)
    worth_it, result.reason = mail_decision(data, settings, force)
    if not recipients:
        result.reason = "no recipients: set [report].recipients or pass --email"
        return result
    if not worth_it:
        return result
    message = build_message(settings, recipients, SUBJECT_PREFIX + data["title"], rendered["text"], rendered["html"])
    try:
        send(settings, message)
    except DeliveryError as error:
        raise DeliveryError(f"{error}; the report of run {run['id']} is saved in {files['html']}") from None
    result.sent_to = recipients
    return result


def mail_decision(data: dict, settings: ReportSettings, force: bool) -> tuple[bool, str]:
    """Whether a report is worth mailing, and why."""
    changes, failed = len(data["changes"]), data["pages_failed"]
    if force:
        return True, "sent on request (--force)"
    if changes:
        return True, f"{changes} change{'s' if changes != 1 else ''}"
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
