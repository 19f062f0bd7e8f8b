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
