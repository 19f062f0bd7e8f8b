"""``wwc-archive demo``: crawl the bundled sample site, edit it, crawl again, show the changes.

Everything happens on 127.0.0.1, so it works on a machine with no internet.
Each crawl runs in a child process, as the scheduler's do.
"""

import os
import subprocess
import sys

from wwc_archive.archive import Archive, ArchiveError, queries
from wwc_archive.demo_site import DemoServer, DemoSite
from wwc_archive.cli.formatting import change_lines, run_summary

#: The sample site runs on this machine, so the demo turns off the politeness
#: delays that a crawl of the real site keeps.
LOCAL_SETTINGS = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "CONCURRENT_REQUESTS=16",
                  "CONCURRENT_REQUESTS_PER_DOMAIN=16", "DOWNLOAD_TIMEOUT=5", "RETRY_TIMES=1")


class DemoError(Exception):
    pass


def prepare_demo_archive(path: str) -> None:
    """Start from an empty archive; refuse to touch one that holds real crawls."""
    if not os.path.exists(path):
        return
    try:
        archive = Archive(path, readonly=True)
    except ArchiveError as error:
        raise DemoError(str(error)) from None
    try:
        real = queries.runs_not_triggered_by(archive.db, "demo")
    finally:
        archive.close()
    if real:
        raise DemoError(f"{path} holds {real} real crawl run(s); the demo needs a file of its own (--db)")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def crawl_once(db_path: str, start_url: str) -> None:
    command = [sys.executable, "-m", "wwc_archive", "crawl", "--db", db_path, "--start-url", start_url,
               "--trigger", "demo"]
    for setting in LOCAL_SETTINGS:
        command += ["-s", setting]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DemoError(f"the demo crawl failed:\n{result.stderr.strip()}")


def run_demo(db_path: str, articles: int = 12, echo=print) -> None:
    db_path = os.path.abspath(db_path)
    prepare_demo_archive(db_path)
    site = DemoSite(n_articles=articles, seed=2026)
    with DemoServer(site) as server:
        start_url = server.url + site.hub_path
        echo(f"Sample site running at {start_url}")
        echo("Crawl 1: archiving every page of the sample site ...")
        crawl_once(db_path, start_url)
        show_latest_run(db_path, echo, list_changes=False)

        article = site.articles[0]
        old = " ".join(article.paragraphs[0].split()[:4])
        site.edit_article(article.slug, old, old + " (updated this week)")
        new = site.publish_article(
            "Tulsa opens its building permit data",
            ["Tulsa published every building permit since 2015 as open data.",
             "Residents can follow each application from request to final inspection."],
        )
        echo(f"Edited {server.url}{site.article_path(article)} and published {server.url}{site.article_path(new)}")
        echo("Crawl 2: the same pages again, with fresh per-request noise on every one ...")
        crawl_once(db_path, start_url)
        show_latest_run(db_path, echo, list_changes=True)
    echo("")
    echo(f"The archive is {db_path}")
    echo(f"Try: wwc-archive runs --db {db_path}")
    echo(f"     wwc-archive changes --db {db_path} --format json")


def show_latest_run(db_path: str, echo, list_changes: bool) -> None:
    archive = Archive(db_path, readonly=True)
    try:
        run = queries.get_run(archive.db)
        echo("  " + run_summary(run))
        if list_changes:
            for line in change_lines(queries.run_changes(archive.db, run["id"])):
                echo("  " + line)
    finally:
        archive.close()
