"""The storage benchmarks still run against the archive as it is, and measure what they claim."""

import re
import sqlite3
import subprocess
import sys

import pytest

pytest.importorskip("time_machine")


def bench(*args, timeout=300):
    result = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def decade_archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("decade") / "decade.db"
    output = bench("bench/decade.py", "--nights", 4, "--articles", 30, "--out", path)
    return path, output


def test_decade_writes_one_complete_run_a_night_with_the_sites_changes(decade_archive):
    path, output = decade_archive
    with sqlite3.connect(path) as conn:
        runs = conn.execute("select status, added, changed, started from runs order by id").fetchall()
    assert [status for status, *_ in runs] == ["complete"] * 4
    assert [started[:10] for *_, started in runs] == [f"2027-01-0{day}" for day in range(1, 5)]
    # Night 4 follows a publication: the new article is added; edits change pages every night.
    assert runs[3][1] >= 1
    assert all(changed >= 1 for _, _, changed, _ in runs[1:])
    assert "bytes per night" in output and "snapshots" in output.split("size by part", 1)[1]
    with sqlite3.connect(path) as conn:  # nights that brought no new requisite stored none
        quiet = 3 - conn.execute("select count(distinct run_id) from asset_captures where run_id > 1").fetchone()[0]
    assert f"of the 3 nights after it, {quiet} stored nothing for them" in output


def test_decade_refuses_to_overwrite_an_archive(decade_archive):
    path, _ = decade_archive
    result = subprocess.run([sys.executable, "bench/decade.py", "--nights", "1", "--out", str(path)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: {path} exists; remove it or choose another --out"


def test_probe_measures_every_page_and_command(decade_archive):
    path, _ = decade_archive
    output = bench("bench/decade_probe.py", path, "--runs", 1, "--timeout", 60)
    table = output.split("\nrequest ", 1)[1].split("\n", 1)[1]  # the rows below the header
    rows = [line for line in table.splitlines() if line.strip() and not line.startswith("command (wall time")]
    assert all(re.search(r"\d ms\b", row) for row in rows), "every row measured (none n/a or over the timeout):\n" + "\n".join(rows)
    labels = " ".join(row.split("  ")[0] for row in rows)
    for kind in ("start page", "page history", "snapshot", "diff", "run report", "Atom", "query", "table",
                 "TimeMap", "TimeGate", "memento", "view as archived", "report", "changes", "runs", "crawl start-up"):
        assert kind.lower() in labels.lower(), f"no {kind} row:\n" + "\n".join(rows)


def test_body_floor_splits_the_nights_bodies_into_noise_and_change(decade_archive):
    path, _ = decade_archive
    line = bench("bench/body_floor.py", path, "--nights", 3).strip()
    stored, tokens, choices, skeletons = map(float, re.findall(r"\d+\.\d\d", line))
    assert line.startswith("bodies stored in the last 3 nights: "), line
    # Every night edits pages: their bodies carry their tokens, and the change is in the skeletons.
    assert tokens > 0 and skeletons > 0 and stored > 0
    assert tokens + choices < stored, "the noise is part of what is stored"


def test_scaling_prints_a_ratio_for_every_differ_case_and_for_link_extraction():
    output = bench("bench/scaling.py", "--words", 200, "--links", 500, "--repeat", 1)
    rows = output.splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [
        [differ, case] for differ in ("word", "line")
        for case in ("realistic-edits", "one-repeated-word", "repeated-pattern", "unrelated-texts")] + [
        ["links", "de-duplication"]]
    assert all(re.search(r"ms +\d+\.\d +< \d", row) for row in rows), output
