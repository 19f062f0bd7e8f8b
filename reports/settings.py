"""The ``[report]`` table of the config: where reports go and how they are mailed.

The table's schema is :class:`wwc_archive.config.ReportConfig` (validated with
the rest of the config); this adds what reports and mail need from it.
"""

import os

from pydantic import BaseModel

from wwc_archive.config import ConfigError, ReportConfig, mail_addresses
from wwc_archive.validation import validate

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class ReportSettings(ReportConfig):
    """Report and mail settings; every field has a usable default except the recipients."""

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.security]

    def password(self) -> str | None:
        return os.environ.get(self.password_env) or None

    def link(self, path: str) -> str | None:
        """``archive_url`` + path, or None when no archive URL is configured."""
        return f"{self.archive_url}{path}" if self.archive_url else None

    @classmethod
    def from_config(cls, table: dict | ReportConfig | None) -> "ReportSettings":
        """Settings from a ``[report]`` table (parsed or already validated); raises ConfigError on bad values."""
        if isinstance(table, BaseModel):
            table = table.model_dump()
        return validate(cls, dict(table or {}), "[report]")


def parse_addresses(value, where: str) -> tuple[str, ...]:
    """A list (or comma-separated string) of addresses, ``a@b`` or ``Name <a@b>``."""
    try:
        return mail_addresses(value)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
