"""The ``[schedule]`` table of the config: scheduler-wide options, with defaults."""

import re
from dataclasses import dataclass, fields

from wwc_archive.config import ConfigError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value, name: str) -> float:
    """Seconds from a number of seconds or a string such as ``"90s"``, ``"30m"``, ``"6h"``, ``"1h30m"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text.replace(" ", ""):
            return float(sum(float(n) * _UNITS[u] for n, u in parts))
    raise ConfigError(f"[schedule].{name} must be seconds or a duration like '30m' or '6h', not {value!r}")


def format_duration(seconds: float) -> str:
    """``21600`` -> ``"6h"``, ``5400`` -> ``"1h30m"``, ``0`` -> ``"0s"``."""
    seconds = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class ScheduleOptions:
    #: How late a planned crawl may still start (after downtime, or queued behind another crawl).
    misfire_grace_time: float = 6 * 3600
    #: When a night's crawl fails, it is tried once more after this delay.
    retry_delay: float = 30 * 60
    #: How long a scheduled crawl waits for another crawl (manual or scheduled) to finish.
    lock_wait: float = 2 * 3600
    #: A start this long after the planned time is reported as late.
    late_after: float = 10 * 60
    #: Also log to this file (rotated at 1 MB, five old files kept).
    log_file: str | None = None

    @classmethod
    def from_table(cls, table: dict | None) -> "ScheduleOptions":
        """Options from a parsed ``[schedule]`` table; raises ConfigError on bad values."""
        table = dict(table or {})
        known = {f.name for f in fields(cls)}
        unknown = set(table) - known
        if unknown:
            raise ConfigError(f"[schedule]: unknown setting(s) {', '.join(sorted(unknown))}")
        values = {name: parse_duration(table[name], name) for name in known - {"log_file"} if name in table}
        if "log_file" in table:
            if not isinstance(table["log_file"], str) or not table["log_file"].strip():
                raise ConfigError("[schedule].log_file must be a file path")
            values["log_file"] = table["log_file"]
        if values.get("misfire_grace_time", 1) < 1:
            raise ConfigError("[schedule].misfire_grace_time must be at least 1 second")
        return cls(**values)

    def describe(self) -> str:
        return (
            f"misfire_grace_time {format_duration(self.misfire_grace_time)}, "
            f"retry_delay {format_duration(self.retry_delay)}, lock_wait {format_duration(self.lock_wait)}, "
            f"log_file {self.log_file or '(stderr only)'}"
        )
