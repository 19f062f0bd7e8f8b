"""Write transactions that take SQLite's write lock before they read."""

from contextlib import contextmanager

from sqlite_utils import Database


@contextmanager
def write_transaction(db: Database):
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if the block raises.

    A deferred transaction (sqlite-utils' ``atomic()``) that reads before it
    writes fails at once with "database is locked" when another connection
    holds or commits a write in between: SQLite cannot upgrade a stale read
    snapshot and does not wait on the busy timeout. Taking the write lock up
    front makes the transaction wait its turn instead.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.commit()
