"""The TOML configuration: which programs to crawl and how to tell noise from content.

See ``wwc-archive.example.toml`` for a documented example. ``[report]`` and
``[schedule]`` are kept as plain tables here and read by the packages that use
them.
"""

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_START_URL = "https://datasmart.hks.harvard.edu/what-works-cities"
DEFAULT_PROGRAM = "what-works-cities"
DEFAULT_DB = "wwc-archive.db"


class ConfigError(ValueError):
    """The configuration file or a flag is not usable; the message says why."""


@dataclass(frozen=True)
class NoiseRules:
    """What is not content on a page: removed before text is extracted."""

    #: CSS selectors of the main content area, tried in order.
    content_selectors: tuple[str, ...] = (
        "main article.node--type-article.node--view-mode-full",
        "main",
        "[role=main]",
        "article",
        "#content",
    )
    #: CSS selectors removed from the content area (page chrome, forms, widgets).
    ignore_selectors: tuple[str, ...] = (
        "script", "style", "noscript", "template", "form", "nav", "header", "footer",
        "aside", ".visually-hidden", ".contextual", ".contextual-links",
        ".js-pager__items", ".pager", ".views-exposed-form", ".field--name-field-share",
    )
    #: Regular expressions; matching text is removed from the extracted text.
    ignore_text_patterns: tuple[str, ...] = (
        r"Page generated (at|on) [^\n]*",
        r"Last updated:? \d{1,2}:\d{2}[^\n]*",
    )
    #: Query parameters dropped from links (globs): cache busters and trackers.
    ignore_query_params: tuple[str, ...] = (
        "t", "v", "itok", "h", "_", "utm_*", "fbclid", "gclid", "destination",
    )

    @classmethod
    def from_table(cls, table: dict, where: str) -> "NoiseRules":
        defaults = cls()
        values = {}
        for name in ("content_selectors", "ignore_selectors", "ignore_text_patterns", "ignore_query_params"):
            value = table.get(name, getattr(defaults, name))
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.{name} must be a list of strings")
            extra = table.get("extra_" + name, [])
            values[name] = tuple(value) + tuple(extra)
        unknown = set(table) - set(values) - {"extra_" + n for n in values}
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
        return cls(**values)


@dataclass(frozen=True)
class Program:
    name: str
    start_urls: tuple[str, ...]
    allowed_origins: tuple[str, ...] = ()
    depth: int = 1
    noise: NoiseRules = field(default_factory=NoiseRules)
    schedule: str = "0 3 * * *"
    timezone: str = "UTC"

    @property
    def origins(self) -> frozenset[str]:
        """The scheme://host:port origins this program may fetch from."""
        return frozenset(origin_of(url) for url in self.start_urls + self.allowed_origins)


@dataclass(frozen=True)
class Config:
    programs: tuple[Program, ...]
    crawl: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=dict)
    path: str | None = None

    def select(self, names) -> tuple[Program, ...]:
        """The programs with these names (all of them when ``names`` is empty)."""
        if not names:
            return self.programs
        known = {program.name: program for program in self.programs}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(f"no program named {unknown[0]!r} in the config (known: {', '.join(known)})")
        return tuple(known[name] for name in dict.fromkeys(names))


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, with the default port made explicit."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError(f"bad port in URL: {url!r}") from None
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def default_config() -> Config:
    return Config(programs=(Program(name=DEFAULT_PROGRAM, start_urls=(DEFAULT_START_URL,)),))


def load_config(path: str | os.PathLike | None) -> Config:
    """Read a TOML config; with no path, the built-in What Works Cities program."""
    if path is None:
        return default_config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    tables = data.get("program", [])
    if isinstance(tables, dict):
        tables = [tables]
    if not tables:
        raise ConfigError(f"{path}: no [[program]] table")
    programs = tuple(_program(table, f"program[{i}]") for i, table in enumerate(tables))
    names = [p.name for p in programs]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: program names must be unique")
    return Config(
        programs=programs,
        crawl=data.get("crawl", {}),
        report=data.get("report", {}),
        schedule=data.get("schedule", {}),
        path=os.fspath(path),
    )


def _program(table: dict, where: str) -> Program:
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: 'name' is required")
    start_urls = table.get("start_urls")
    if not isinstance(start_urls, list) or not start_urls:
        raise ConfigError(f"{where} ({name}): 'start_urls' must be a non-empty list")
    allowed = table.get("allowed_origins", [])
    for url in [*start_urls, *allowed]:
        origin_of(url)
    depth = table.get("depth", 1)
    if not isinstance(depth, int) or depth < 0:
        raise ConfigError(f"{where} ({name}): 'depth' must be a whole number >= 0")
    return Program(
        name=name,
        start_urls=tuple(start_urls),
        allowed_origins=tuple(allowed),
        depth=depth,
        noise=NoiseRules.from_table(table.get("noise", {}), f"{where}.noise"),
        schedule=table.get("schedule", "0 3 * * *"),
        timezone=table.get("timezone", "UTC"),
    )


def programs_for_start_urls(urls: list[str], depth: int = 1) -> tuple[Program, ...]:
    """``--start-url`` replaces the configured programs with one ad-hoc program."""
    for url in urls:
        origin_of(url)
    return (Program(name=DEFAULT_PROGRAM, start_urls=tuple(urls), depth=depth),)


def database_path(option: str | None) -> str:
    return option or os.environ.get("WWC_ARCHIVE_DB") or DEFAULT_DB
