"""The ``[schedule]`` table of the config: scheduler-wide options, with defaults.

The table's schema is :class:`wwc_archive.config.ScheduleConfig`, validated with
the rest of the config.
"""

from pydantic import BaseModel

from wwc_archive.config import ScheduleConfig
from wwc_archive.validation import parse_duration, validate

__all__ = ["ScheduleOptions", "format_duration", "parse_duration"]


def format_duration(seconds: float) -> str:
    """``21600`` -> ``"6h"``, ``5400`` -> ``"1h30m"``, ``0`` -> ``"0s"``."""
    seconds = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


class ScheduleOptions(ScheduleConfig):
    @classmethod
    def from_table(cls, table: dict | ScheduleConfig | None) -> "ScheduleOptions":
        """Options from a ``[schedule]`` table (parsed or already validated); raises ConfigError on bad values."""
        if isinstance(table, BaseModel):
            table = table.model_dump()
        return validate(cls, dict(table or {}), "[schedule]")

    def describe(self) -> str:
        return (
            f"misfire_grace_time {format_duration(self.misfire_grace_time)}, "
            f"retry_delay {format_duration(self.retry_delay)}, lock_wait {format_duration(self.lock_wait)}, "
            f"log_file {self.log_file or '(stderr only)'}"
        )
