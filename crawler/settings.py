"""Polite Scrapy settings used by every crawl; ``-s NAME=VALUE`` overrides any of them."""

from importlib.metadata import PackageNotFoundError, version

from wwc_archive.config import ConfigError
from wwc_archive.crawler.limits import limit_settings
from wwc_archive.crawler.requisites import requisite_settings
from wwc_archive.validation import scrapy_setting

PURPOSE = "nightly archive of public program pages"


def user_agent(contact: str | None = None) -> str:
    """``wwc-archive/0.2.0 (+CONTACT; purpose)``; without a contact, no address at all."""
    try:
        release = version("wwc-archive")
    except PackageNotFoundError:
        release = "dev"
    return f"wwc-archive/{release} (+{contact}; {PURPOSE})" if contact else f"wwc-archive/{release} ({PURPOSE})"


def crawl_settings(crawl_options: dict) -> dict:
    """Scrapy settings for a crawl; ``[crawl]`` in the config may set contact, size cap and any setting."""
    settings = {
        "BOT_NAME": "wwc-archive",
        "USER_AGENT": user_agent(crawl_options.get("contact")),
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": 1.0,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        # The archive pipeline is synchronous: more parallel item slots only
        # cost Scrapy an asyncio task each per callback.
        "CONCURRENT_ITEMS": 8,
        "DOWNLOAD_TIMEOUT": 30,
        "DOWNLOAD_MAXSIZE": int(crawl_options.get("max_size", 10 * 1024 * 1024)),
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        # Every status reaches the spider: a 404 is a removal, a 503 a failed fetch.
        "HTTPERROR_ALLOW_ALL": True,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        # Cookies a site sets to last are kept from night to night (crawler/cookies.py); no others.
        "DOWNLOADER_MIDDLEWARES": {"wwc_archive.crawler.middlewares.OriginScopeMiddleware": 50,
                                   "wwc_archive.crawler.cookies.KeptCookiesMiddleware": 700},
        "ITEM_PIPELINES": {"wwc_archive.crawler.pipelines.ArchivePipeline": 300},
    }
    # Hard limits that make every crawl end (see crawler/limits.py).
    settings.update(limit_settings(crawl_options))
    settings.update(requisite_settings(crawl_options))  # page requisites (see crawler/requisites.py)
    settings.update(crawl_options.get("settings", {}))
    return settings


def parse_overrides(pairs) -> dict:
    """``-s NAME=VALUE`` flags as typed settings; each problem is a line of the ConfigError."""
    overrides, problems = {}, []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"-s expects NAME=VALUE, got {pair!r}")
            continue
        try:
            overrides[name] = scrapy_setting(name, value)
        except ValueError as error:
            problems.append(f"-s {pair}: {name} {error}")
    if problems:
        raise ConfigError("\n".join(problems))
    return overrides
