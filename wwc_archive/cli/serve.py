"""``wwc-archive serve``: Datasette on the archive, read-only, with the project's plugin and metadata."""

import socket

import click

from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, db_option, open_existing_archive


@click.command(context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on")
def serve(db_path, host, port):
    """Explore the archive in Datasette: search every version, histories, diffs.

    The archive is served read-only and stays live: a crawl that finishes
    while it is served shows up on the next page load.

    Example:

        wwc-archive serve --db archive.db --port 8001
    """
    import asyncio

    import uvicorn

    from wwc_archive.reports.datasette import DATABASE_NAME
    from wwc_archive.reports.datasette.app import archive_datasette

    archive = open_existing_archive(db_path)  # brings the schema up to date; writes nothing else
    path = archive.path
    archive.close()
    check_port_free(host, port)
    ds = archive_datasette(path)
    asyncio.run(ds.invoke_startup())
    click.echo(f"Serving {path} read-only at http://{host}:{port}/{DATABASE_NAME} (Ctrl+C to stop)")
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)


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
