"""How big an archive file is, in total and by part (each table and index).

Read-only helpers for the benchmarks; they know table names only from
``sqlite_schema``, so they keep working when the archive's schema changes.
"""

import os
import sqlite3
import tempfile


def used_bytes(path: str) -> int:
    """Bytes in use in the archive, after folding the WAL into it."""
    with sqlite3.connect(path) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
        pages, free, size = (conn.execute(f"pragma {name}").fetchone()[0]
                             for name in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def compacted_bytes(path: str) -> int:
    """Bytes the archive would take compacted (as ``crawl`` does monthly): a ``VACUUM INTO`` copy's size."""
    with tempfile.TemporaryDirectory() as workdir:
        copy = os.path.join(workdir, "compacted.db")
        with _readonly(path) as conn:
            conn.execute("vacuum into ?", [copy])
        return os.path.getsize(copy)


def _readonly(path: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def size_by_part(path: str) -> tuple[list[tuple[str, str, str, int]], str]:
    """``([(part, kind, table, bytes), ...] largest first, method)``.

    Uses SQLite's ``dbstat`` virtual table (pages per b-tree); where SQLite was
    built without it, falls back to each table's payload (sum of the stored
    values' lengths), which leaves out indexes and page overhead.
    """
    with _readonly(path) as conn:
        schema = {name: (kind, table) for kind, name, table in
                  conn.execute("select type, name, tbl_name from sqlite_schema")}
        try:
            rows = conn.execute("select name, sum(pgsize) from dbstat group by name").fetchall()
            method = "dbstat: pages per table and index"
        except sqlite3.OperationalError:
            rows, method = _payloads(conn, schema), "payload per table (no dbstat in this SQLite)"
    parts = []
    for name, size in rows:
        kind, table = schema.get(name, ("table", name))
        if name.startswith("sqlite_autoindex"):
            kind = "index"
        parts.append((name, kind, table, size or 0))
    return sorted(parts, key=lambda part: -part[3]), method


def _payloads(conn: sqlite3.Connection, schema: dict) -> list[tuple[str, int]]:
    rows = []
    for name, (kind, _) in schema.items():
        if kind != "table":
            continue
        columns = [row[1] for row in conn.execute(f'pragma table_info("{name}")')]
        total = " + ".join(f'coalesce(sum(length("{column}")), 0)' for column in columns) or "0"
        try:
            rows.append((name, conn.execute(f'select {total} from "{name}"').fetchone()[0]))
        except sqlite3.OperationalError:
            continue
    return rows


def payload_by_part(path: str) -> dict[str, int]:
    """Bytes of stored values in each table and index (``dbstat``'s payload, no page slack); {} without dbstat."""
    with _readonly(path) as conn:
        try:
            return dict(conn.execute("select name, sum(payload) from dbstat group by name").fetchall())
        except sqlite3.OperationalError:
            return {}


def row_counts(path: str) -> dict[str, int]:
    """Rows in each ordinary table (virtual and internal tables left out)."""
    with _readonly(path) as conn:
        names = [row[0] for row in conn.execute(
            "select name from sqlite_schema where type = 'table' and sql not like 'create virtual%' "
            "and name not like 'sqlite_%' order by name")]
        return {name: conn.execute(f'select count(*) from "{name}"').fetchone()[0] for name in names}


def megabytes(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def print_report(path: str, nights: int) -> None:
    """The archive's size by part, its rows per table, and bytes per night."""
    total = used_bytes(path)
    parts, method = size_by_part(path)
    print(f"\n{path}: {megabytes(total)} in use after {nights:,} nights "
          f"({total / max(nights, 1):,.0f} bytes per night)")
    print(f"\nsize by part ({method}):")
    print(f"  {'part':<34} {'kind':<6} {'table':<20} {'size':>12} {'share':>6}")
    for name, kind, table, size in parts:
        print(f"  {name:<34} {kind:<6} {table:<20} {megabytes(size):>12} {size / max(total, 1):>6.1%}")
    print("\nrows per table:")
    for name, count in row_counts(path).items():
        print(f"  {name:<34} {count:>12,}")


def print_requisites(path: str) -> None:
    """What the runs stored for page requisites: captures per night, and the nights that stored none."""
    with _readonly(path) as conn:
        if not conn.execute("select 1 from sqlite_schema where name = 'asset_captures'").fetchone():
            return
        runs = conn.execute("select count(*), min(id) from runs").fetchone()
        per_run = dict(conn.execute("select run_id, count(*) from asset_captures group by run_id"))
        assets, bodies = conn.execute(
            "select (select count(*) from assets), count(distinct body_id) from asset_captures").fetchone()
        again = conn.execute("select count(*) from asset_captures c where exists (select 1 from asset_captures e "
                             "where e.asset_id = c.asset_id and e.id < c.id)").fetchone()[0]
    later = {run: count for run, count in per_run.items() if run != runs[1]}
    print(f"\nrequisites: {assets:,} assets, {sum(per_run.values()):,} captures of {bodies:,} distinct bodies; "
          f"the first night captured {per_run.get(runs[1], 0):,}; of the {runs[0] - 1:,} nights after it, "
          f"{runs[0] - 1 - len(later):,} stored nothing for them, and the others at most "
          f"{max(later.values(), default=0):,} captures each; {again:,} captures were of an asset captured before "
          "(new bytes, or gone), the rest an asset's first")
