"""What a crawl prints: a live line on a terminal only, one line per log message,
one line for a site that cannot be reached, and a User-Agent with the configured contact."""

import os
import pty
import select
import subprocess
import sys

from tests.conftest import FAST, run_cli
from wwc_archive.config import programs_for_start_urls
from wwc_archive.cli.crawl_output import contact_note
from wwc_archive.demo_site import DemoServer, DemoSite


def crawl_on_a_terminal(args) -> tuple[int, str, bytes]:
    """Run ``wwc-archive ARGS`` with stderr on a pseudo-terminal; returns (status, stdout, terminal bytes)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "wwc_archive", *map(str, args)],
                               stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    stdout, _ = process.communicate(timeout=120)
    os.close(leader)
    return process.returncode, stdout, seen


def test_a_terminal_gets_a_live_progress_line(site, server, db_path):
    status, stdout, terminal = crawl_on_a_terminal(
        ["crawl", "--db", db_path, "--start-url", server.url + site.hub_path, *FAST])
    assert status == 0 and stdout.startswith("Run 1 complete")
    assert b"\r\x1b[Kfetched " in terminal and b", changes " in terminal
    assert terminal.endswith(b"\r\x1b[K"), "the line is cleared before the summary"


def test_no_terminal_no_progress_line(crawl):
    result = crawl()
    assert "fetched " not in result.stderr and "\r" not in result.stderr
    assert result.stdout.startswith("Run 1 complete")


def test_a_site_that_is_down_is_one_line_and_a_non_zero_exit(tmp_path):
    site = DemoSite(n_articles=3, per_page=3, seed=3)
    db = tmp_path / "a.db"
    with DemoServer(site) as server:
        base, start = server.url, server.url + site.hub_path
        run_cli("crawl", "--db", db, "--start-url", start, *FAST, check=True)
    archived = run_cli("changes", "--db", db, "--run", "1", "--format", "json", check=True).stdout
    result = run_cli("crawl", "--db", db, "--start-url", start, *FAST)
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: could not reach {base}") and "Connection refused" in last
    assert all(line[:4].isdigit() or line.startswith("Error:") for line in result.stderr.strip().splitlines())
    assert result.stdout.startswith("Run 2 failed:") and " 0 fetched" in result.stdout  # every fetch failed
    assert run_cli("changes", "--db", db, "--run", "1", "--format", "json", check=True).stdout == archived
    verbose = run_cli("crawl", "--db", db, "--start-url", start, *FAST, "-v")
    assert verbose.returncode == 4 and "Traceback" in verbose.stderr


def test_the_user_agent_names_the_configured_contact(site, server, tmp_path):
    config = tmp_path / "wwc.toml"
    config.write_text(f'[[program]]\nname = "hub"\nstart_urls = ["{server.url}{site.hub_path}"]\ndepth = 0\n'
                      '[crawl]\ncontact = "mailto:archive@example.org"\n')
    result = run_cli("crawl", "--config", config, "--db", tmp_path / "a.db", *FAST, check=True)
    assert "Note:" not in result.stderr, "a crawl of this machine needs no contact"
    agent = server.requests[-1].headers.get("User-Agent")
    assert agent.startswith("wwc-archive/") and "(+mailto:archive@example.org; " in agent


def test_a_crawl_of_someone_elses_site_asks_for_a_contact():
    remote = programs_for_start_urls(["https://datasmart.hks.harvard.edu/what-works-cities"])
    local = programs_for_start_urls(["http://127.0.0.1:8000/", "http://localhost:9/"])
    assert "[crawl] contact" in contact_note(remote, None)
    assert contact_note(remote, "https://example.org/contact") is None
    assert contact_note(local, None) is None
