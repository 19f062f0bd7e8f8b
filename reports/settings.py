"""The ``[report]`` table of the config: where reports go and how they are mailed."""

import os
from email.utils import parseaddr
from dataclasses import dataclass

from wwc_archive.config import ConfigError

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class ReportSettings:
    """Report and mail settings; every field has a usable default except the recipients."""

    smtp_host: str = "localhost"
    #: None means the usual port for ``security`` (587, 465 or 25).
    smtp_port: int | None = None
    security: str = "starttls"
    smtp_user: str | None = None
    #: Name of the environment variable holding the SMTP password (never the password itself).
    password_env: str = "WWC_ARCHIVE_SMTP_PASSWORD"
    smtp_timeout: float = 30.0
    sender: str = "wwc-archive@localhost"
    recipients: tuple[str, ...] = ()
    reports_dir: str = "wwc-archive-reports"
    #: A run with this many failed fetches is mailed even when nothing changed (0: mail every run).
    failure_threshold: int = 1
    #: Base URL of the archive's Datasette, for links to archived versions; None: no links.
    archive_url: str | None = None
    #: A folder whose templates override the bundled ones (same file names).
    templates_dir: str | None = None
    #: Words of unchanged text kept on each side of a change in a diff.
    context_words: int = 25
    #: Changed words shown per page before the rest of its diff is left to the archive.
    max_changed_words: int = 600

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.security]

    def password(self) -> str | None:
        return os.environ.get(self.password_env) or None

    def link(self, path: str) -> str | None:
        """``archive_url`` + path, or None when no archive URL is configured."""
        return f"{self.archive_url}{path}" if self.archive_url else None

    @classmethod
    def from_config(cls, table: dict | None) -> "ReportSettings":
        """Settings from a parsed ``[report]`` table; raises ConfigError on bad values."""
        table = dict(table or {})
        if "password" in table or "smtp_password" in table:
            raise ConfigError(
                "[report]: do not put the SMTP password in the config; set the environment "
                "variable named by password_env (default WWC_ARCHIVE_SMTP_PASSWORD)"
            )
        unknown = set(table) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"[report]: unknown setting(s) {', '.join(sorted(unknown))}")
        values = {}
        for name in ("smtp_host", "smtp_user", "password_env", "sender", "reports_dir", "templates_dir",
                     "archive_url", "security"):
            if name in table:
                values[name] = _string(table[name], name)
        for name in ("smtp_port", "failure_threshold", "context_words", "max_changed_words"):
            if name in table:
                values[name] = _whole(table[name], name)
        if "smtp_timeout" in table:
            timeout = table["smtp_timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise ConfigError("[report].smtp_timeout must be a number of seconds > 0")
            values["smtp_timeout"] = float(timeout)
        if values.get("security", "starttls") not in SECURITY_MODES:
            raise ConfigError(f"[report].security must be one of {', '.join(SECURITY_MODES)}, "
                              f"not {values['security']!r}")
        if "smtp_port" in values and not 0 < values["smtp_port"] < 65536:
            raise ConfigError("[report].smtp_port must be between 1 and 65535")
        if "recipients" in table:
            values["recipients"] = parse_addresses(table["recipients"], "[report].recipients")
        if "sender" in values:
            parse_addresses([values["sender"]], "[report].sender")
        if "templates_dir" in values and not os.path.isdir(values["templates_dir"]):
            raise ConfigError(f"[report].templates_dir: no folder at {values['templates_dir']}")
        url = values.get("archive_url")
        if url is not None:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"[report].archive_url must be an http(s) URL, not {url!r}")
            values["archive_url"] = url.rstrip("/")
        return cls(**values)


def parse_addresses(value, where: str) -> tuple[str, ...]:
    """A list (or comma-separated string) of addresses, ``a@b`` or ``Name <a@b>``."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of mail addresses")
    addresses = tuple(v.strip() for v in value if v.strip())
    for address in addresses:
        local, at, domain = parseaddr(address)[1].rpartition("@")
        if not at or not local or not domain:
            raise ConfigError(f"{where}: {address!r} is not a mail address")
    return addresses


def _string(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[report].{name} must be a non-empty string")
    return value.strip()


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"[report].{name} must be a whole number >= 0")
    return value
