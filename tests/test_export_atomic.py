"""``export-warc`` replaces its WARC and WACZ together or not at all, and cleans up after a killed export."""

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import dead_owner_tag, story
from wwc_archive.archive import Archive
from wwc_archive.cli import cli
from wwc_archive.reports.warc import replace_together

URL = "https://example.org/news/a-story"


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def add_run(path, status="complete"):
    archive = Archive(str(path))
    run_id = archive.start_run(["what-works-cities"], trigger="manual")
    writer = archive.writer(run_id)
    writer.add(story(URL))
    writer.flush()
    if status != "running":
        archive.finish_run(run_id, status)
    archive.close()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "archive.db"
    add_run(path)
    return path


def files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


def test_a_folder_where_the_wacz_goes_replaces_neither_file(db, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.warc.gz").write_bytes(b"last week's export")
    (out / "x.wacz").mkdir()
    result = invoke("export-warc", "--db", db, "--all", "-o", out / "x")
    assert result.exit_code == 2
    assert [result.output.strip()] == [f"Error: {out / 'x.wacz'} is a folder: choose another --output "
                                       "(nothing was written)"]
    assert files(out) == {"x.warc.gz": b"last week's export"}
    assert sorted(p.name for p in out.iterdir()) == ["x.wacz", "x.warc.gz"]  # no scratch left either


@pytest.mark.parametrize("output", ["out/", "out/.warc.gz", "out/.wacz"])
def test_an_output_naming_only_a_folder_is_refused_and_writes_no_hidden_file(db, tmp_path, output):
    (tmp_path / "out").mkdir()
    result = invoke("export-warc", "--db", db, "--all", "-o", f"{tmp_path}/{output}")
    assert result.exit_code == 2
    assert "--output needs a file name" in result.output and "like " in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list((tmp_path / "out").iterdir()) == []


def test_when_the_second_rename_fails_the_first_is_undone(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "a.warc.gz").write_bytes(b"new warc")
    (scratch / "a.wacz").write_bytes(b"new wacz")
    (tmp_path / "a.warc.gz").write_bytes(b"old warc")
    (tmp_path / "a.wacz").mkdir()  # appeared after the checks: the rename fails
    (tmp_path / "a.wacz" / "something").write_bytes(b"")
    with pytest.raises(OSError):
        replace_together([(scratch / "a.warc.gz", tmp_path / "a.warc.gz"),
                          (scratch / "a.wacz", tmp_path / "a.wacz")], scratch)
    assert (tmp_path / "a.warc.gz").read_bytes() == b"old warc" and (tmp_path / "a.wacz").is_dir()


def test_leftovers_of_a_killed_export_are_removed_at_the_next_start_and_only_they(db, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    killed = out / f".wwc-export-{dead_owner_tag()}-k1ll3d00"
    killed.mkdir()
    (killed / "x.warc.gz").write_bytes(b"half a warc")
    older = out / ".wwc-export-0ldf0rm4"  # an older release's name: no owner, older than this process
    older.mkdir()
    os.utime(older, (time.time() - 86400, time.time() - 86400))
    from wwc_archive.leftovers import owner_tag

    live = out / f".wwc-export-{owner_tag()}-l1ve0000"  # a running export's (this process is alive)
    live.mkdir()
    other = out / ".wwc-exports-notes"  # not ours
    other.write_text("keep me")
    result = invoke("export-warc", "--db", db, "--all", "-o", out / "x")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(["x.warc.gz", "x.wacz", live.name, other.name])
    assert f"Removed {killed}, left by an export that was stopped" in result.output
    assert f"Removed {older}," in result.output


def test_a_run_still_running_is_refused_unless_asked_for(tmp_path):
    db = tmp_path / "archive.db"
    add_run(db)
    add_run(db, status="running")
    for run in ("latest", "2"):
        result = invoke("export-warc", "--db", db, "--run", run, "-o", tmp_path / "x")
        assert result.exit_code == 2
        assert "run 2 (started " in result.output and "is still running" in result.output
        assert "--include-running" in result.output and len(result.output.strip().splitlines()) == 1
        assert not list(tmp_path.glob("x.*"))
    result = invoke("export-warc", "--db", db, "--run", "latest", "--include-running", "-o", tmp_path / "x")
    assert result.exit_code == 0, result.output
    assert "run 2 (still running)" in result.output
    assert invoke("export-warc", "--db", db, "--run", "1", "-o", tmp_path / "y").exit_code == 0
