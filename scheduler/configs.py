"""A config file per program for the crawl child, which crawls every program of its config."""

import json
import os
import tomllib
from datetime import date, datetime, time
from pathlib import Path

from wwc_archive.config import Config


def program_config_path(config: Config, program: str, directory: str) -> str | None:
    """A config path whose only program is ``program`` (None: the built-in default config).

    A config with one program is used as it is; otherwise a copy holding that
    program and the ``[crawl]`` table is written to ``directory``.
    """
    if len(config.programs) == 1:
        return os.path.abspath(config.path) if config.path else None
    data = tomllib.loads(Path(config.path).read_text(encoding="utf-8"))
    tables = data.get("program", [])
    tables = [tables] if isinstance(tables, dict) else tables
    subset = {"program": [t for t in tables if t.get("name") == program], "crawl": data.get("crawl", {})}
    path = os.path.join(directory, f"{_safe(program)}.toml")
    header = f"# Written by `wwc-archive schedule` from {config.path}: program {program!r} only.\n"
    Path(path).write_text(header + dumps(subset), encoding="utf-8")
    return path


def dumps(data: dict) -> str:
    """TOML for a table of plain values (tomllib's output types), as ``key = value`` lines."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in data.items())


def _key(key: str) -> str:
    return _string(key)


def _string(text: str) -> str:
    # JSON string escapes are TOML basic-string escapes; TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "program"
