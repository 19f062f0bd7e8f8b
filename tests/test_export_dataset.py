"""``export-dataset``: the demo archive as a research dataset, checked by frictionless, sqlite3 and serve."""

import asyncio
import csv
import json
import sqlite3
from contextlib import closing

import pytest
from click.testing import CliRunner

from tests.conftest import run_cli
from wwc_archive.cli import cli
from wwc_archive.reports import dataset
from wwc_archive.reports.datasette.app import archive_datasette
from tests.helpers import dead_owner_tag

TABLE_NAMES = ["runs", "pages", "versions", "changes", "listing_changes", "fetches"]


def export(*args):
    return CliRunner().invoke(cli, ["export-dataset", *map(str, args)])


def rows(folder, sql, params=()):
    with closing(sqlite3.connect(folder / dataset.SQLITE_NAME)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def csv_rows(path):
    csv.field_size_limit(1 << 30)  # the demo has a page of 2 MB of text
    with open(path, encoding="utf-8", newline="") as data:
        return list(csv.DictReader(data))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo archive (two crawls of the sample site, one article edited and one published between)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    run_cli("demo", "--db", path, "--articles", "6", check=True)
    return path


@pytest.fixture(scope="module")
def exported(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "dataset"
    result = export("--db", demo, "--output", folder)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {folder} (all runs): 2 runs, ")
    return folder


@pytest.fixture(scope="module")
def two_days(demo, tmp_path_factory):
    """A copy of the demo archive whose first run started the day before (the demo's runs are minutes apart)."""
    path = tmp_path_factory.mktemp("two-days") / "archive.db"
    with closing(sqlite3.connect(demo)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
        target.execute("update runs set started = '2026-01-01' || substr(started, 11) where id = 1")
        target.commit()
    return path


def test_the_folder_holds_a_valid_data_package_with_every_field_described(exported):
    from frictionless import Package, validate

    report = validate(exported / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = Package(exported / "datapackage.json")
    assert [r.name for r in package.resources] == TABLE_NAMES
    assert package.title and package.description and package.licenses and package.sources
    for resource in package.resources:
        assert resource.description, resource.name
        for field in resource.schema.fields:
            assert field.description, f"{resource.name}.{field.name}"
    assert sorted(p.name for p in exported.iterdir()) == sorted(
        [f"{name}.csv" for name in TABLE_NAMES] + ["README.md", "datapackage.json", dataset.SQLITE_NAME])
    readme = (exported / "README.md").read_text()
    assert "pd.read_csv" in readme and "| `body_sha256` |" in readme


def test_every_version_text_is_what_serve_shows_for_it(demo, exported):
    versions = rows(exported, "select * from versions order by version_id")
    assert len(versions) > 20

    async def shown():
        ds = archive_datasette(demo)
        return [(await ds.client.get(f"/-/wwc/snapshot/{v['version_id']}.json")).json()
                for v in versions]

    for version, page in zip(versions, asyncio.run(shown())):
        snapshot = page["snapshot"]
        assert snapshot["url"] == version["url"]
        assert (version["text"] or "") == (snapshot["text"] or ""), version["url"]
        assert version["title"] == (snapshot["title"] or None)
        assert json.loads(version["links"]) == snapshot["links"]
        assert version["body_sha256"] == page["body"]["sha256"]
    # The CSV holds the same texts.
    by_id = {int(row["version_id"]): row for row in csv_rows(exported / "versions.csv")}
    assert all(by_id[v["version_id"]]["text"] == (v["text"] or "") for v in versions)


def test_the_sqlite_file_is_plain_tables_of_readable_text(exported):
    with closing(sqlite3.connect(exported / dataset.SQLITE_NAME)) as conn:  # no functions of ours registered
        for table in TABLE_NAMES:
            columns = [row[1] for row in conn.execute(f"pragma table_info({table})")]
            blobs = conn.execute(f"select count(*) from {table} where "
                                 + " or ".join(f"typeof({c}) = 'blob'" for c in columns)).fetchone()[0]
            assert blobs == 0, table
        (text,) = conn.execute("select text from versions where url like '%/tulsa-opens-its-building-permit-data-%'"
                               ).fetchone()
        assert "Tulsa published every building permit since 2015 as open data." in text
        assert "Residents can follow each application" in text
        found = conn.execute("select v.url from versions_fts f join versions v on v.rowid = f.rowid "
                             "where versions_fts match 'permit' order by v.url").fetchall()
        assert any("/tulsa-opens-its-building-permit-data-" in url for (url,) in found)
        described = conn.execute(f"select count(*) from {dataset.FIELDS_TABLE} where description != ''").fetchone()
        assert described[0] == sum(len(t.fields) for t in dataset.TABLES)


def test_plain_datasette_shows_and_searches_the_texts(exported):
    from datasette.app import Datasette

    async def search():
        ds = Datasette([str(exported / dataset.SQLITE_NAME)])
        return await ds.client.get("/wwc-archive/versions.json?_search=permit&_shape=array&_col=url&_col=text")

    response = asyncio.run(search())
    assert response.status_code == 200
    assert any("building permit since 2015" in (row["text"] or "") for row in response.json())


def test_changes_are_told_in_words_with_their_diffs_and_listing_history(exported):
    changes = {(c["kind"], c["url"].rsplit("/", 1)[-1]): c for c in rows(exported, "select * from changes")}
    edited = next(c for (kind, _), c in changes.items() if kind == "changed"
                  and (c["diff"] or "").startswith("--- before") and "(updated this week)" in c["diff"])
    assert edited["summary"] == "3 words added in 1 place"
    assert edited["old_version_id"] and edited["new_version_id"] and edited["run_date"] and edited["words_added"] == 3
    assert edited["diff"].startswith("--- before\n+++ after\n@@ ")
    assert any(line.startswith("+") and "(updated this week)" in line for line in edited["diff"].splitlines())
    hub = changes[("changed", "what-works-cities")]
    assert hub["summary"].startswith("1 article entered the listing (“Tulsa opens its building permit data”)")
    assert hub["diff"].startswith("+ Tulsa opens its building permit data <")
    added = next(c for (kind, slug), c in changes.items()
                 if kind == "added" and slug.startswith("tulsa-opens-its-building-permit-data-"))
    assert added["summary"] == "page added" and added["old_version_id"] is None
    entered = rows(exported, "select * from listing_changes where event = 'entered'")
    assert [row["item_title"] for row in entered] == ["Tulsa opens its building permit data"]
    assert entered[0]["run_id"] == 2 and entered[0]["listing_url"].endswith("/what-works-cities")
    fetches = rows(exported, "select outcome, http_status, version_id from fetches")
    assert {f["outcome"] for f in fetches} <= {"ok", "not_modified"} and all(f["version_id"] for f in fetches)
    assert len(fetches) == sum(p["fetches"] for p in rows(exported, "select fetches from pages"))


def test_since_and_until_select_a_period(exported, two_days, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert export("--db", two_days, "--until", "2026-01-01", "-o", first).exit_code == 0
    result = export("--db", two_days, "--since", "2026-01-02", "--until", "2099-12-31", "-o", second)
    assert result.exit_code == 0, result.output
    assert [r["run_id"] for r in rows(first, "select run_id from runs")] == [1]
    assert [r["run_id"] for r in rows(second, "select run_id from runs")] == [2]
    for folder, run in ((first, 1), (second, 2)):
        assert {r["run_id"] for r in rows(folder, "select run_id from fetches")} == {run}
        assert {r["run_id"] for r in rows(folder, "select run_id from changes")} == {run}
    # Versions keep their ids; a version seen in both runs is in both exports, seen once in each.
    everything = {v["version_id"] for v in rows(exported, "select version_id from versions")}
    ids = [{v["version_id"] for v in rows(folder, "select version_id from versions")} for folder in (first, second)]
    assert ids[0] | ids[1] == everything and ids[0] & ids[1]
    assert {v["fetches"] for v in rows(second, "select fetches from versions")} == {1}
    from frictionless import validate

    report = validate(second / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert json.loads((second / "datapackage.json").read_text())["wwc-archive"]["since"] == "2026-01-02"


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "Error: --since expects a date like 2027-01-31, not 'yesterday'"),
    (["--until", "2026-13-01"], "Error: --until expects a date like 2027-01-31, not '2026-13-01'"),
    (["--since", "2026-02-01", "--until", "2026-01-01"], "Error: --since 2026-02-01 is after --until 2026-01-01"),
    (["--since", "2099-01-01"], "Error: no runs started on or after 2099-01-01"),
], ids=["words", "no-such-month", "reversed", "no-runs"])
def test_a_bad_period_is_one_line(demo, tmp_path, args, message):
    result = export("--db", demo, "-o", tmp_path / "out", *args)
    assert result.exit_code == 2 and result.output.strip() == message
    assert list(tmp_path.iterdir()) == []


def test_output_is_atomic_and_a_full_folder_is_refused_unless_forced(demo, tmp_path, monkeypatch):
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = export("--db", demo, "-o", target)
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {target} is not empty: give a new folder, or --force to replace it"
    assert [p.name for p in target.iterdir()] == ["notes.txt"]

    def broken(self):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(dataset._Export, "write", broken)
        result = export("--db", demo, "-o", target, "--force")
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no scratch folder is left behind"
    assert [p.name for p in target.iterdir()] == ["notes.txt"], "a failed export leaves the old folder as it was"

    assert export("--db", demo, "-o", target, "--force").exit_code == 0
    assert not (target / "notes.txt").exists() and (target / "datapackage.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export("--db", demo, "-o", empty).exit_code == 0
    assert (empty / dataset.SQLITE_NAME).exists()


def test_a_killed_exports_scratch_folder_is_removed_by_the_next_one(demo, tmp_path):
    killed = tmp_path / f".wwc-export-{dead_owner_tag()}-k1ll3d00"
    (killed / "dataset").mkdir(parents=True)
    (killed / "dataset" / "versions.csv").write_text("half a dataset")
    result = export("--db", demo, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert f"Removed {killed}, left by an export that was stopped" in result.output


def test_pandas_reads_the_csv_files(exported):
    pd = pytest.importorskip("pandas")
    versions = pd.read_csv(exported / "versions.csv", parse_dates=["first_seen", "last_seen"])
    tulsa = versions[versions["url"].str.contains("/tulsa-opens-its-building-permit-data-")]
    assert tulsa["text"].str.contains("building permit since 2015").all() and len(tulsa) == 1
