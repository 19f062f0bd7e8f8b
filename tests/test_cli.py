"""The command-line contract that other tools and people rely on."""

import json
import os

import pytest
from click.testing import CliRunner

from tests.conftest import run_cli
from wwc_archive.cli import cli


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_crawl_prints_a_summary_and_changes_lists_json(site, server, crawl, db_path):
    result = crawl()
    assert result.stdout.startswith("Run 1 complete: ")
    assert " added, 0 changed, 0 removed" in result.stdout
    data = json.loads(invoke("changes", "--db", db_path, "--format", "json").output)
    assert set(data["run"]) >= {"id", "started", "finished", "status"}
    assert data["run"]["status"] == "complete"
    first = data["changes"][0]
    assert set(first) >= {"url", "change", "title"}
    assert first["change"] == "added"


def test_changes_text_and_runs_listing(site, server, crawl, db_path):
    crawl()
    site.edit_article(site.articles[0].slug, site.articles[0].paragraphs[0].split()[0], "Indeed,")
    crawl()
    text = invoke("changes", "--db", db_path).output
    assert "changed  " + server.url + site.article_path(site.articles[0]) in text
    assert "+1 -1 words" in text
    older = json.loads(invoke("changes", "--db", db_path, "--run", "1", "--format", "json").output)
    assert older["run"]["id"] == 1
    runs = invoke("runs", "--db", db_path).output.splitlines()
    assert [line.split()[0] for line in runs] == ["2", "1"]
    assert all("complete" in line for line in runs)


def test_archive_path_defaults_to_the_environment_variable(site, server, tmp_path):
    path = tmp_path / "from-env.db"
    result = run_cli("crawl", "--start-url", server.url + site.hub_path, "-s", "DOWNLOAD_DELAY=0",
                     "-s", "AUTOTHROTTLE_ENABLED=False", env={"WWC_ARCHIVE_DB": str(path)}, check=True)
    assert "complete" in result.stdout
    assert path.exists()
    assert "complete" in invoke("runs", env={"WWC_ARCHIVE_DB": str(path)}).output


def test_crawl_reads_programs_from_a_toml_config_and_picks_one(site, server, tmp_path):
    config = tmp_path / "wwc-archive.toml"
    config.write_text(f"""
[[program]]
name = "hub"
start_urls = ["{server.url}{site.hub_path}"]
depth = 0

[[program]]
name = "about"
start_urls = ["{server.url}/about"]

[crawl.settings]
AUTOTHROTTLE_ENABLED = false
DOWNLOAD_DELAY = 0
""")
    db = tmp_path / "a.db"

    def crawl_changes(*args):
        run_cli("crawl", "--config", config, "--db", db, *args, check=True)
        return json.loads(run_cli("changes", "--db", db, "--format", "json", check=True).stdout)

    about = crawl_changes("--program", "about")
    assert [(c["program"], c["url"]) for c in about["changes"]] == [("about", server.url + "/about")]
    assert about["run"]["programs"] == ["about"]
    both = crawl_changes()
    assert both["run"]["programs"] == ["hub", "about"]
    assert {c["program"] for c in both["changes"]} == {"hub"}
    assert "page" not in {c["role"] for c in both["changes"]}, "depth 0 follows no links"
    result = invoke("crawl", "--config", str(config), "--program", "nope", "--db", str(db))
    assert result.exit_code == 2 and "no program named 'nope'" in result.output


BAD_INPUT = {
    "malformed -s": (["crawl", "-s", "NOEQUALS"], "-s expects NAME=VALUE"),
    "not a URL": (["crawl", "--start-url", "ftp://example.org/x"], "not an http(s) URL"),
    "missing config": (["crawl", "--config", "/nonexistent/wwc.toml"], "config file not found"),
    "unknown run": (["changes", "--run", "99"], "no run with id 99"),
    "bad run": (["changes", "--run", "yesterday"], "--run must be 'latest' or a run id"),
}


@pytest.mark.parametrize("args,message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_a_one_line_error_with_exit_2(tmp_path, args, message):
    db = tmp_path / "a.db"
    invoke("runs", "--db", str(db))  # nothing there yet: must not create the file
    assert not db.exists()
    if args[0] == "changes":
        from wwc_archive.archive import Archive

        Archive(db).close()
    result = invoke(*args, "--db", str(db))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_invalid_config_values_are_reported(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[program]]\nname = "x"\nstart_urls = "https://example.org"\n')
    result = invoke("crawl", "--config", str(config), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 2
    assert "program 'x'.start_urls must be a list, not 'https://example.org'" in result.output


def test_reading_a_missing_archive_says_how_to_make_one(tmp_path):
    result = invoke("changes", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 2
    assert "run `wwc-archive crawl` first" in result.output


def test_demo_runs_offline_and_shows_the_changes(tmp_path):
    db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", db, "--articles", "6", check=True)
    assert "Run 1 complete" in result.stdout and "Run 2 complete" in result.stdout
    assert "added    http://127.0.0.1:" in result.stdout
    assert "changed  http://127.0.0.1:" in result.stdout
    assert f"The archive is {db}" in result.stdout
    again = run_cli("demo", "--db", db, "--articles", "6", check=True)
    assert "Run 2 complete" in again.stdout and "Run 3" not in again.stdout


def test_demo_refuses_an_archive_with_real_crawls(site, server, crawl, db_path):
    crawl()
    result = run_cli("demo", "--db", db_path)
    assert result.returncode == 2
    assert "holds 1 real crawl run(s)" in result.stderr
    assert os.path.exists(db_path)


def test_runs_json_lists_the_same_run_objects_as_changes(edited_archive):
    runs = json.loads(invoke("runs", "--db", edited_archive.path, "--format", "json").output)
    assert [run["id"] for run in runs] == [2, 1]
    for run in runs:
        shown = json.loads(invoke("changes", "--db", edited_archive.path, "--run", str(run["id"]),
                                  "--format", "json").output)
        assert shown["run"] == run


def test_terminal_control_sequences_in_a_page_never_reach_the_terminal(site, server, crawl, db_path, tmp_path):
    crawl()
    article = site.articles[0]
    site.set_title(article.slug, "Budget \x1b]0;owned\x07data \x1b]52;c;ZXZpbA==\x07portal\x9b2J")
    crawl()
    for args in (["changes"], ["report", "--format", "text"], ["report", "--format", "markdown"]):
        output = invoke(*args, "--db", db_path).output
        assert "owned" in output and "portal" in output, args  # the text stays, minus the controls
        assert not any(char in output for char in "\x1b\x07\x9b"), args
    data = invoke("changes", "--db", db_path, "--format", "json").output
    assert "\\u001b]0;owned\\u0007" in data, "JSON keeps the text as stored, escaped"
    saved = tmp_path / "report.txt"
    invoke("report", "--db", db_path, "-o", str(saved))
    assert "\x1b]0;owned\x07" in saved.read_text(), "files keep the text as stored"
