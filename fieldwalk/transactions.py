"""Savepoints inside the request's one transaction, the same on SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import SessionTransaction

from fieldwalk.extensions import db


@contextmanager
def savepoint() -> Iterator[SessionTransaction]:
    """A SAVEPOINT: an IntegrityError inside it (a concurrent request stored the same row first) rolls back
    only what was done inside, so the caller can read the stored row and answer with it.

    Python's sqlite3 begins a transaction only before an INSERT/UPDATE/DELETE; a SAVEPOINT issued
    outside one would become the outer transaction and its RELEASE would commit. So on SQLite the
    transaction is begun here first, IMMEDIATE (it takes the write lock, waiting for other writers,
    so that nothing it reads afterwards can be stale).
    """
    session = db.session()
    connection = session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    with session.begin_nested() as nested:
        yield nested
