"""URL normalization and scope: which links are the same page, which may be fetched."""

from fnmatch import fnmatchcase
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from wwc_archive.config import origin_of

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


def in_scope(url: str, origins: frozenset[str]) -> bool:
    """Whether the URL's origin is one of ``origins`` (as :func:`origin_of` writes them)."""
    try:
        return origin_of(url) in origins
    except ValueError:  # not an http(s) URL, or a bad port
        return False


def is_document(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(DOCUMENT_EXTENSIONS)
