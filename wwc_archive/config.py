"""The TOML configuration, validated by one schema before anything runs.

``[[program]]`` (each with its site profile), ``[crawl]``, ``[report]`` and
``[schedule]`` are pydantic models (see :mod:`wwc_archive.validation`): unknown
keys, wrong types, impossible values, bad selectors and regular expressions,
unknown time zones and cron lines that never fire are all reported at load
time, one line per problem. See ``wwc-archive.example.toml`` for every key.
"""

import os
import tomllib
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, ValidationError, field_validator, model_validator

from wwc_archive.profile import SiteProfile
from wwc_archive.validation import (
    ConfigError,
    Model,
    Seconds,
    Text,
    one_of,
    problem_lines,
    scrapy_setting,
)

__all__ = ["BackfillConfig", "Config", "ConfigError", "CrawlConfig", "Program", "ReportConfig", "ScheduleConfig",
           "SiteProfile", "database_path", "default_config", "load_config", "origin_of", "programs_for_start_urls"]

DEFAULT_START_URL = "https://datasmart.hks.harvard.edu/what-works-cities"
DEFAULT_PROGRAM = "what-works-cities"
DEFAULT_DB = "wwc-archive.db"
#: A cron line must fire within this long to be accepted (29 February fires every four years).
CRON_HORIZON = timedelta(days=5 * 366)


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


def _http_url(url: str) -> str:
    try:
        origin_of(url)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    return url


def _time_zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use a name like 'America/New_York')") from None
    return name


def _cron(line: str) -> str:
    """A five-field crontab line that fires within :data:`CRON_HORIZON`."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(line, timezone=timezone.utc)
    except (ValueError, TypeError) as error:
        raise ValueError(f"bad cron expression {line!r}: {error}") from None
    now = datetime.now(timezone.utc)
    fire = trigger.get_next_fire_time(None, now)
    if fire is None or fire - now > CRON_HORIZON:
        raise ValueError(f"never fires: cron {line!r} names no date in the next five years")
    return line


def mail_addresses(value) -> tuple[str, ...]:
    """A list (or comma-separated string) of addresses, ``a@b`` or ``Name <a@b>``."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of mail addresses")
    addresses = tuple(v.strip() for v in value if v.strip())
    for address in addresses:
        local, at, domain = parseaddr(address)[1].rpartition("@")
        if not at or not local or not domain or any(ord(c) < 32 for c in address):
            raise ValueError(f"{address!r} is not a mail address")
    return addresses


def _contact(value: str) -> str:
    """An http(s) URL or a mail address, safe to put in a header."""
    if any(ord(c) < 33 or c in "()" for c in value):
        raise ValueError(f"must be a URL or mail address without spaces or parentheses, not {value!r}")
    if value.startswith(("http://", "https://")):
        return _http_url(value)
    mail_addresses([value.removeprefix("mailto:")])
    return value


Url = Annotated[str, AfterValidator(_http_url)]
Urls = Annotated[tuple[Url, ...], Field(strict=False)]
WholeNumber = Annotated[int, Field(ge=0, le=10**9)]
Count = Annotated[int, Field(gt=0, le=10**9)]
Score = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Program(Model):
    """One program page to crawl, the links to follow from it, and how to read its pages."""

    model_config = {"populate_by_name": True}

    name: Text
    start_urls: Annotated[tuple[Url, ...], Field(strict=False, min_length=1)]
    #: Origins (scheme://host:port) besides those of start_urls that may be fetched.
    allowed_origins: Urls = ()
    #: Earlier origins of these pages (the site moved hosts): their Wayback and WARC
    #: captures count as the pages' history, mapped to the first start URL's origin.
    previous_origins: Urls = ()
    #: How many links deep to follow from the program page.
    depth: Annotated[int, Field(ge=0, le=50)] = 1
    #: Every selector and pattern extraction uses (``[program.noise]`` is its old name).
    profile: SiteProfile = Field(default_factory=SiteProfile, validation_alias=AliasChoices("profile", "noise"))
    #: For ``wwc-archive schedule``: a crontab line, in ``timezone``.
    schedule: Annotated[str, AfterValidator(_cron)] = "0 3 * * *"
    timezone: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    #: Words or phrases (any case) whose appearing or going makes a change of this program weigh more.
    key_terms: Annotated[tuple[Text, ...], Field(strict=False)] = ()

    @model_validator(mode="before")
    @classmethod
    def _old_noise_table(cls, data):
        if isinstance(data, dict) and "noise" in data and "profile" in data:
            raise ValueError("has both [program.profile] and [program.noise] (its old name): keep one")
        return data

    @property
    def origins(self) -> frozenset[str]:
        """The scheme://host:port origins this program may fetch from."""
        return frozenset(origin_of(url) for url in self.start_urls + self.allowed_origins)


class CrawlConfig(Model):
    """``[crawl]``: how every crawl behaves."""

    #: A URL or mail address for site owners, named in the User-Agent.
    contact: Annotated[str, AfterValidator(_contact)] | None = None
    #: Bytes; larger responses are failed fetches.
    max_size: Annotated[int, Field(gt=0, le=2**40)] = 10 * 1024 * 1024
    #: Limits of one run (pages of one listing, links read per page, requests, seconds).
    max_listing_pages: Count = 200
    max_links_per_page: Count = 2000
    max_requests: Count = 20000
    max_run_seconds: Count = 14400
    #: Page requisites (stylesheets, fonts, images, scripts, icons) captured with the pages that refer to
    #: them, on the crawl's origins (see docs/requisites.md): each stored once by its bytes' SHA-256 and
    #: checked again (a conditional request) at most once every ``requisites_max_age``.
    requisites: bool = True
    requisites_max_age: Seconds = 7 * 86400
    #: Bytes; a larger stylesheet, font or script is not stored (shown missing when replayed).
    requisites_max_bytes: Annotated[int, Field(gt=0, le=2**40)] = 2 * 1024 * 1024
    #: Bytes; a larger image or icon is not stored: thumbnails, logos and icons are kept, full-size
    #: photographs are not (the ten-year archive's size budget, see docs/requisites.md).
    requisites_max_image_bytes: Annotated[int, Field(gt=0, le=2**40)] = 150 * 1024
    #: Requisites checked per run at most (what is left is checked by the next runs).
    requisites_max_requests: Count = 2000
    #: Origins outside the programs' from which requisites (only) may be fetched: none by default.
    requisites_origins: Urls = ()
    #: Any Scrapy setting, as with ``-s NAME=VALUE`` (checked by :func:`scrapy_settings_problems`).
    settings: Annotated[dict[str, Any], Field(strict=False)] = {}


class BackfillConfig(Model):
    """``[backfill]``: how ``wwc-archive backfill`` treats the Wayback Machine."""

    #: Requests per second to the CDX API and the replay server (the Internet
    #: Archive asks for well under one a second from a single client).
    requests_per_second: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 0.5
    #: Tries of a request that met 429, 5xx or a network error (Retry-After honoured).
    retries: Annotated[int, Field(ge=0, le=20)] = 5
    #: Seconds for one whole answer (connecting, headers and body), however slowly it comes.
    timeout: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 60.0
    #: The longest wait a server's Retry-After is honoured for; a longer one stops the backfill.
    max_retry_after: Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)] = 300.0


class ReportConfig(Model):
    """``[report]``: where reports go and how they are mailed."""

    smtp_host: Text = "localhost"
    #: None means the usual port for ``security`` (587, 465 or 25).
    smtp_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    security: Annotated[str, one_of("starttls", "ssl", "none")] = "starttls"
    smtp_user: Text | None = None
    #: Name of the environment variable holding the SMTP password (never the password itself).
    password_env: Text = "WWC_ARCHIVE_SMTP_PASSWORD"
    #: With ``security = "none"`` and a ``smtp_user``, the password crosses the network in clear text.
    allow_plaintext_password: bool = False
    smtp_timeout: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 30.0
    sender: Annotated[str, AfterValidator(lambda v: mail_addresses([v])[0])] = "wwc-archive@localhost"
    recipients: Annotated[tuple[str, ...], BeforeValidator(mail_addresses), Field(strict=False)] = ()
    reports_dir: Text = "wwc-archive-reports"
    #: A run with this many failed fetches is mailed even when nothing changed (0: mail every run).
    failure_threshold: WholeNumber = 1
    #: Base URL of the archive's Datasette, for links to archived versions; None: no links.
    archive_url: Annotated[str, AfterValidator(lambda v: v.rstrip("/"))] | None = None
    #: A folder whose templates override the bundled ones (same file names).
    templates_dir: Text | None = None
    #: Words of unchanged text kept on each side of a change in a diff.
    context_words: WholeNumber = 25
    #: Changed words shown per page before the rest of its diff is left to the archive.
    max_changed_words: WholeNumber = 600
    #: Changes scoring below this (0 to 1) are listed in one line each, after those shown in full.
    summarise_below: Score = 0.0
    #: A run whose most significant change scores below this is not sent (failed fetches still are).
    send_min_score: Score = 0.0
    #: Apprise URLs the report is also sent to (``json://host/path``, ``mailto://…``, ``slack://…``);
    #: ``${VAR}`` or ``env:VAR`` in a URL is replaced by that environment variable when sending.
    notify: Annotated[tuple[Text, ...], Field(strict=False)] = ()
    #: ``"weekly"``: one report of the week's runs, instead of one a night.
    digest: Annotated[str, one_of("none", "weekly")] = "none"

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data):
        if isinstance(data, dict) and ("password" in data or "smtp_password" in data):
            raise ValueError("do not put the SMTP password in the config; set the environment variable "
                             "named by password_env (default WWC_ARCHIVE_SMTP_PASSWORD)")
        return data

    @field_validator("archive_url")
    @classmethod
    def _archive_url(cls, url):
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, not {url!r}")
        return url

    @field_validator("templates_dir")
    @classmethod
    def _templates_dir(cls, folder):
        if folder is not None and not os.path.isdir(folder):
            raise ValueError(f"no folder at {folder}")
        return folder

    @model_validator(mode="after")
    def _no_plaintext_password(self):
        plaintext_refusal(self.security, self.smtp_user, self.allow_plaintext_password)
        return self


def plaintext_refusal(security: str, smtp_user: str | None, allowed: bool) -> None:
    """Raise ValueError when a login would send the password unencrypted and the config did not allow it."""
    if security == "none" and smtp_user and not allowed:
        raise ValueError(f'security = "none" would send the password of smtp_user {smtp_user!r} in clear text: '
                         'use "starttls" or "ssl", or set allow_plaintext_password = true')


class ScheduleConfig(Model):
    """``[schedule]``: scheduler-wide options (seconds, or "90s", "30m", "6h")."""

    #: How late a planned crawl may still start (after downtime, or queued behind another crawl).
    misfire_grace_time: Annotated[Seconds, Field(ge=1)] = 6 * 3600
    #: When a night's crawl fails, it is tried once more after this delay.
    retry_delay: Seconds = 30 * 60
    #: How long a scheduled crawl waits for another crawl (manual or scheduled) to finish.
    lock_wait: Seconds = 2 * 3600
    #: A start this long after the planned time is reported as late.
    late_after: Seconds = 10 * 60
    #: Also log to this file (rotated at 1 MB, five old files kept).
    log_file: Text | None = None


def _one_or_more(value):
    return [value] if isinstance(value, dict) else value


class Config(Model):
    """A whole config file."""

    model_config = {"populate_by_name": True}

    programs: Annotated[tuple[Program, ...], BeforeValidator(_one_or_more), Field(strict=False, min_length=1)] = \
        Field(validation_alias="program")
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    backfill: BackfillConfig = Field(default_factory=BackfillConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    path: str | None = Field(default=None, exclude=True)

    @field_validator("programs")
    @classmethod
    def _unique_names(cls, programs):
        names = [program.name for program in programs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"program names must be unique: {', '.join(map(repr, duplicates))} is used twice")
        return programs

    def select(self, names) -> tuple[Program, ...]:
        """The programs with these names (all of them when ``names`` is empty)."""
        if not names:
            return self.programs
        known = {program.name: program for program in self.programs}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(f"no program named {unknown[0]!r} in the config (known: {', '.join(known)})")
        return tuple(known[name] for name in dict.fromkeys(names))


TABLES = {"program": "[[program]]", "crawl": "[crawl]", "backfill": "[backfill]", "report": "[report]", "schedule": "[schedule]"}


def default_config() -> Config:
    return Config(programs=(Program(name=DEFAULT_PROGRAM, start_urls=(DEFAULT_START_URL,)),))


def load_config(path: str | os.PathLike | None) -> Config:
    """Read and validate a TOML config; with no path, the built-in What Works Cities program."""
    if path is None:
        return default_config()
    data = read_toml(path)
    if "program" not in data:  # only [report], [crawl]...: the built-in program, as with no config
        data["program"] = [{"name": DEFAULT_PROGRAM, "start_urls": [DEFAULT_START_URL]}]
    problems, settings = scrapy_settings_problems(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        problems = config_problems(error, data) + problems
    if problems:
        raise ConfigError("\n".join(problems))
    crawl = config.crawl.model_copy(update={"settings": settings})
    return config.model_copy(update={"path": os.fspath(path), "crawl": crawl})


def scrapy_settings_problems(data: dict) -> tuple[list[str], dict]:
    """``[crawl.settings]``, each value checked against Scrapy's setting of that name: (problems, values)."""
    table = data.get("crawl", {}).get("settings", {}) if isinstance(data.get("crawl"), dict) else {}
    problems, values = [], {}
    for name, value in (table.items() if isinstance(table, dict) else ()):
        try:
            values[name] = scrapy_setting(name, value)
        except ValueError as error:
            problems.append(f"[crawl.settings].{name} {error}")
    return problems, values


def read_toml(path) -> dict:
    """The parsed file; a missing, unreadable, non-UTF-8 or malformed file is a one-line ConfigError."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a config file") from None
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path} is not UTF-8 text (byte {error.start} is {error.object[error.start]:#04x}); "
                          "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def config_problems(error: ValidationError, data: dict) -> list[str]:
    """One line per problem, naming programs by name: ``program 'hub'.depth must be …``."""
    tables = data.get("program")
    tables = [tables] if isinstance(tables, dict) else tables if isinstance(tables, list) else []
    names = {}
    for index, table in enumerate(tables):
        name = table.get("name") if isinstance(table, dict) else None
        names[index] = f"program {name!r}" if isinstance(name, str) and name else f"program[{index}]"
    return problem_lines(error, Config, table_names=TABLES, program_names=names)


def programs_for_start_urls(urls: list[str], depth: int = 1) -> tuple[Program, ...]:
    """``--start-url`` replaces the configured programs with one ad-hoc program."""
    for url in urls:
        origin_of(url)
    return (Program(name=DEFAULT_PROGRAM, start_urls=tuple(urls), depth=depth),)


def database_path(option: str | None) -> str:
    return option or os.environ.get("WWC_ARCHIVE_DB") or DEFAULT_DB


