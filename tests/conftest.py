"""Shared fixtures: the bundled demo site on 127.0.0.1 and real crawls into real archives.

Each crawl runs ``wwc-archive crawl`` in a child process, as the scheduler and
the demo do: Twisted's reactor cannot be restarted inside one process.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass

import pytest

from wwc_archive.demo_site import DemoServer, DemoSite

#: Settings that make a crawl of a local site fast; the politeness defaults stay
#: covered by their own tests.
FAST = (
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=16",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "RETRY_TIMES=1",
    "-s", "DOWNLOAD_TIMEOUT=3",
)


def run_cli(*args, timeout=180, env=None, check=False):
    """Run ``wwc-archive ARGS`` in a child process; returns the CompletedProcess."""
    result = subprocess.run(
        [sys.executable, "-m", "wwc_archive", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"wwc-archive {' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}")
    return result


def kill_upgrade_when(path, env: dict, progress_sql: str, enough=lambda done: done > 0) -> int:
    """Start ``wwc-archive upgrade --db PATH`` (``env`` added) and SIGKILL it once ``enough(done)``.

    ``done`` is ``progress_sql``'s value, read without writing every 2 ms (0
    while its table or row does not exist yet); the upgrade is also killed if
    it ends first. Returns the last ``done`` read, for the test to check that
    the kill landed half-way.
    """
    child = subprocess.Popen([sys.executable, "-m", "wwc_archive", "upgrade", "--db", str(path)],
                             env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    try:
        while child.poll() is None:
            try:
                with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                    done = conn.execute(progress_sql).fetchone()[0]
            except (sqlite3.OperationalError, TypeError):
                done = 0
            if enough(done):
                break
            time.sleep(0.002)
    finally:
        child.kill()
        child.wait()
    return done


def changes_json(db_path, run="latest") -> dict:
    result = run_cli("changes", "--db", db_path, "--run", run, "--format", "json", check=True)
    return json.loads(result.stdout)


@pytest.fixture
def site():
    return DemoSite(n_articles=8, per_page=3, seed=1)


@pytest.fixture
def server(site):
    with DemoServer(site) as server:
        yield server


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "archive.db")


@pytest.fixture
def crawl(site, server, db_path):
    """``crawl(*extra_args)`` crawls the demo site's hub into ``db_path``."""

    def crawl(*extra, check=True, **kwargs):
        return run_cli("crawl", "--db", db_path, "--start-url", server.url + site.hub_path, *FAST, *extra,
                       check=check, **kwargs)

    return crawl


@dataclass
class EditedArchive:
    """An archive crawled twice, with known edits in between (read-only for tests)."""

    path: str
    site: DemoSite
    base_url: str
    edited_url: str
    old_phrase: str
    new_phrase: str
    published_url: str
    removed_url: str
    retitled_url: str
    old_title: str
    new_title: str


@pytest.fixture(scope="session")
def edited_archive_template(tmp_path_factory):
    site = DemoSite(n_articles=8, per_page=3, seed=7)
    path = str(tmp_path_factory.mktemp("edited") / "archive.db")
    with DemoServer(site) as server:
        start = server.url + site.hub_path

        def crawl():
            run_cli("crawl", "--db", path, "--start-url", start, *FAST, check=True)

        crawl()
        edited, retitled, removed = site.articles[1], site.articles[2], site.articles[3]
        old_phrase = " ".join(edited.paragraphs[0].split()[2:5])
        new_phrase = "relaunched its zebra-striped open-data portal"
        site.edit_article(edited.slug, old_phrase, new_phrase)
        old_title = retitled.title
        new_title = old_title + " (updated)"
        site.set_title(retitled.slug, new_title)
        removed_url = server.url + site.article_path(removed)
        site.unpublish(removed.slug)
        published = site.publish_article(
            "Tulsa opens its permit data to residents",
            ["Tulsa published every building permit since 2015 as open data on Tuesday.",
             "Residents can now follow each application from request to inspection."],
        )
        crawl()
        base_url = server.url
        info = EditedArchive(
            path=path, site=site, base_url=base_url,
            edited_url=server.url + site.article_path(edited), old_phrase=old_phrase, new_phrase=new_phrase,
            published_url=server.url + site.article_path(published), removed_url=removed_url,
            retitled_url=server.url + site.article_path(retitled), old_title=old_title, new_title=new_title,
        )
    return info


@pytest.fixture
def edited_archive(edited_archive_template, tmp_path):
    """A private copy of the twice-crawled archive, safe to open in any mode."""
    copy = tmp_path / "edited.db"
    with sqlite3.connect(edited_archive_template.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return EditedArchive(**{**edited_archive_template.__dict__, "path": str(copy)})


@pytest.fixture
def archive(tmp_path):
    """An empty archive in a real SQLite file, closed after the test."""
    from wwc_archive.archive import Archive

    archive = Archive(tmp_path / "a.db")
    yield archive
    archive.close()
