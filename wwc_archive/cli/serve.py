"""``wwc-archive serve``: Datasette on the archive, read-only, with the project's plugin and metadata."""

import copy
import ipaddress
import socket

import click

from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, db_option, open_existing_archive


@click.command(context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on")
@click.option("--no-sql", "no_sql", is_flag=True,
              help="Refuse arbitrary SQL: canned queries, tables and the /-/wwc/ pages only")
@click.option("--max-client-requests", type=click.IntRange(1, 7), default=4, show_default=True,
              help="Queries and pages one client address may have open at once; more get 429 Too Many Requests")
def serve(db_path, host, port, no_sql, max_client_requests):
    """Explore the archive in Datasette: search every version, histories, diffs.

    The archive is served read-only and stays live: a crawl that finishes
    while it is served shows up on the next page load. Ctrl+C or SIGTERM stops it.
    One client address may have --max-client-requests queries and pages open
    at once (static files are not counted); one more is answered at once with
    429 and Retry-After, so no visitor can hold all of the SQL threads.

    Example:

        wwc-archive serve --db archive.db --port 8001
    """
    import asyncio

    import uvicorn

    from wwc_archive.reports.datasette import DATABASE_NAME
    from wwc_archive.reports.datasette.app import NO_SQL_SETTINGS, archive_datasette, load_metadata
    from wwc_archive.reports.datasette.fairness import PLUGIN_NAME

    archive = open_existing_archive(db_path)  # brings the schema up to date; writes nothing else
    path = archive.path
    archive.close()
    check_port_free(host, port)
    if not is_loopback(host):
        click.echo(f"Warning: listening on {host}, beyond this machine: anyone who can reach it can read "
                   "the archive" + ("" if no_sql else " and run SQL on it (--no-sql refuses that)"), err=True)
    metadata = load_metadata()
    metadata.setdefault("plugins", {})[PLUGIN_NAME] = {"max_client_requests": max_client_requests}
    ds = archive_datasette(path, metadata=metadata, settings=NO_SQL_SETTINGS if no_sql else None)
    asyncio.run(ds.invoke_startup())
    click.echo(f"Serving {path} read-only at http://{host}:{port}/{DATABASE_NAME} (Ctrl+C to stop)")
    # A bounded graceful shutdown: SIGTERM stops serving even with a slow request open.
    uvicorn.run(ds.app(), host=host, port=port, log_config=log_config(), log_level=None, access_log=True,
                lifespan="on", workers=1, timeout_graceful_shutdown=SHUTDOWN_SECONDS)


#: Seconds open requests get to finish after Ctrl+C or SIGTERM.
SHUTDOWN_SECONDS = 3


def log_config() -> dict:
    """uvicorn's logging, with its startup chatter left out.

    One access line per request on stdout; on stderr, uvicorn's warnings and
    errors and the plugin's (``wwc_archive`` loggers): a server error's
    traceback, never a visitor's 404 or 400.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["wwc_archive"] = {"handlers": ["default"], "level": "WARNING", "propagate": False}
    return config


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine's own (127.0.0.1, ::1, localhost)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)
    except (socket.gaierror, ValueError):
        return False


def check_port_free(host: str, port: int) -> None:
    """Fail with one line, before Datasette starts, when the address is taken or unusable."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
