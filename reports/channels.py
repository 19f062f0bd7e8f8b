"""Where a report is sent besides mail: apprise URLs, with their secrets kept out of sight.

A ``[report] notify`` entry is an apprise URL (``json://host:port/path``,
``mailto://user:pass@host``, ``slack://…``). ``${VAR}`` or ``env:VAR`` in it
is replaced by that environment variable when sending, so a token never sits
in the config. A channel is named everywhere (logs, errors, the archive's
``deliveries`` table) by :func:`channel_id`: the URL with its credentials,
path and query masked and a short hash of the configured text, never the
expanded secret. Errors are masked too (:func:`mask`).

The body is the plain-text report; :func:`chat_safe` breaks the HTML and
Markdown syntax an archived page's text could carry, so a chat client that
renders Markdown or HTML shows it as text and loads nothing.
"""

import hashlib
import os
import re
from urllib.parse import urlsplit

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|env:([A-Za-z_][A-Za-z0-9_]*)")
#: Schemes whose host is a network host (shown in a channel's name); for the rest (slack://TOKEN/…) it may be a secret.
HOST_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "ntfy", "ntfys"}


class ChannelError(Exception):
    """A channel could not be sent to; the message is masked."""


def channel_id(url: str) -> str:
    """A non-secret name for a configured apprise URL: ``json://127.0.0.1:8080/… #3fa2c1d9``."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    scheme, _, rest = url.partition("://")
    host = ""
    if scheme.lower() in HOST_SCHEMES and not VARIABLE.search(rest.split("/", 1)[0]):
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            host += f":{parts.port}" if parts.port else ""
        except ValueError:
            host = ""
    return f"{scheme.lower()}://{host or '…'}/… #{digest}"


def expand(url: str, environ=None) -> tuple[str, list[str]]:
    """The URL with ``${VAR}`` and ``env:VAR`` replaced from the environment, and the values put in
    (for :func:`mask`). A variable that is not set is a :class:`ChannelError` naming it."""
    environ = os.environ if environ is None else environ
    secrets: list[str] = []

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        found = environ.get(name)
        if not found:
            raise ChannelError(f"{channel_id(url)}: the environment variable {name} is not set")
        secrets.append(found)
        return found

    return VARIABLE.sub(value, url), secrets


def mask(text: str, url: str, secrets: list[str]) -> str:
    """``text`` with the expanded URL, its credentials and every secret value replaced by ``***``."""
    hidden = sorted({s for s in [url, *secrets, *_credentials(url)] if s and len(s) >= 3}, key=len, reverse=True)
    for secret in hidden:
        text = text.replace(secret, "***")
    return text


def _credentials(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        return [parts.password or "", parts.username or "", parts.path.strip("/"), parts.query]
    except ValueError:
        return []


def chat_safe(text: str) -> str:
    """Text a Markdown or HTML renderer shows as it is: no tags, links or images it would load."""
    text = text.replace("<", "‹").replace(">", "›")
    return text.replace("![", "!\u200b[").replace("](", "]\u200b(")


def send(url: str, title: str, body: str) -> None:
    """Send ``title`` and ``body`` (plain text) to one apprise URL; a :class:`ChannelError` if it fails."""
    import apprise

    expanded, secrets = expand(url)
    notifier = apprise.Apprise()
    if not notifier.add(expanded):
        raise ChannelError(f"{channel_id(url)}: apprise does not understand this URL (see its wiki for the syntax)")
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        try:
            ok = notifier.notify(title=title, body=chat_safe(body), body_format=apprise.NotifyFormat.TEXT)
        except Exception as error:  # a plugin's own failure: reported like a refusal
            raise ChannelError(f"{channel_id(url)}: {mask(str(error), expanded, secrets)}") from None
        said = log.getvalue()
    if not ok:
        last = [line.split(" - ", 2)[-1] for line in said.splitlines() if line.strip()]
        detail = last[-1] if last else "the notification was not accepted"
        raise ChannelError(f"{channel_id(url)}: {mask(detail, expanded, secrets)}")
