"""The request's one transaction: operations only flush; it is committed once, when the view answered
without an error, and rolled back otherwise (after Indico's RH.process). Savepoints inside it, the same on
SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, current_app
from flask import session as browser_session
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import SessionTransaction

from fieldwalk.extensions import db

SQLITE_BUSY = 5  # the primary result code of "database is locked" (its extended codes share the low byte)
# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available: the transaction may simply be retried.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def database_busy(error: BaseException) -> bool:
    """The database refused the transaction only because others held it up (SQLite: the busy timeout ran
    out; PostgreSQL: a deadlock, a serialization failure, a lock not available): sending it again works."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == SQLITE_BUSY
    return getattr(original, "sqlstate", None) in RETRYABLE_SQLSTATES


def commit() -> None:
    """Commit now, inside a view that needs the change stored before it goes on (a log-in with the new
    session token, files deleted after an erasure). Everything else is committed by the request's end."""
    db.session.commit()


def rollback() -> None:
    """End a failed or refused transaction; safe to call when there is none, and never raises (it runs
    while an error is being answered)."""
    try:
        db.session.rollback()
    except Exception:  # e.g. the connection is gone: the session is discarded at teardown anyway
        current_app.logger.exception("Could not roll back the session")


def _end_transaction(response: Response) -> Response:
    """After the view: commit when the answer is a success (2xx, 3xx), else roll back. A failing commit
    raises, so the client gets the 500 page instead of a redirect to something never stored, and the
    request's success messages are taken back."""
    if response.status_code >= 400:
        rollback()
        return response
    try:
        db.session.commit()
    except Exception:
        rollback()
        flashes = browser_session.get("_flashes")
        if flashes:
            browser_session["_flashes"] = [(category, text) for category, text in flashes if category != "success"]
        raise
    return response


def init_app(app: Flask) -> None:
    """Commit or roll back at the end of each request (registered last, so it runs first of the
    after-request functions: before anything else reads the database or answers on the commit's behalf)."""
    app.after_request(_end_transaction)


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
