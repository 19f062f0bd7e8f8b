"""URL normalization and scope: which links are the same page, which may be fetched."""

from fnmatch import fnmatchcase
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

DOCUMENT_EXTENSIONS = (".pdf", ".docx", ".doc", ".xlsx", ".xls", ".csv", ".pptx")


def normalize_url(url: str, base: str | None = None, ignore_params: tuple[str, ...] = ()) -> str | None:
    """An absolute http(s) URL without fragment, default port or ignored query params.

    Returns None for links that are not web pages (mailto:, javascript:, tel:).
    """
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    if port and not (parts.scheme, port) in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not any(fnmatchcase(name, pattern) for pattern in ignore_params)
    ]
    return urlunsplit((parts.scheme, host, parts.path or "/", urlencode(sorted(query)), ""))


def origin(url: str) -> str:
    """``scheme://host:port`` of an absolute URL, with the default port explicit."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def in_scope(url: str, origins: frozenset[str]) -> bool:
    try:
        return origin(url) in origins
    except ValueError:
        return False


def is_document(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(DOCUMENT_EXTENSIONS)
