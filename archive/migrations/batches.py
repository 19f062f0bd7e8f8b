"""Batched data migrations: an upgrade that rewrites rows, resumable if killed."""

from collections.abc import Callable

from sqlite_utils import Database

from wwc_archive.archive.transaction import write_transaction


def in_batches(db: Database, step: Callable[[Database], bool]) -> None:
    """Call ``step(db)`` until it returns False (nothing left to do), each call one transaction.

    ``step`` must find its own remaining work from what is stored (for
    example the rows not yet rewritten), so that a process killed between
    batches loses at most the batch it was writing, and the next call starts
    where the last committed batch ended. Inside an open transaction (a
    migration being recorded after its batches ran) the steps run in it.
    """
    if db.conn.in_transaction:
        while step(db):
            pass
        return
    while True:
        with write_transaction(db):
            more = step(db)
        if not more:
            return


def in_id_batches(db: Database, convert: Callable[[int], int | None]) -> None:
    """:func:`in_batches` for a pass in id order: ``convert(after)`` does the batch after id
    ``after`` and returns its last id, or None when nothing is left."""
    after = 0

    def step(db: Database) -> bool:
        nonlocal after
        last = convert(after)
        if last is None:
            return False
        after = last
        return True

    in_batches(db, step)
