"""Flask extensions, created unbound here and bound to the app in create_app."""

import sqlite3
import time

from flask_babel import Babel
from flask_babel import gettext as _
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from fieldwalk.auth.limits import client_network
from fieldwalk.models.base import Base
from fieldwalk.storable_text import NUL_MESSAGE, unstorable

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)  # batch mode: SQLite cannot ALTER most things in place
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class ClosingCompress(Compress):
    """Flask-Compress, but a compressed file response still closes its file when the response ends
    (the compressing generator replaces the file wrapper, which was then left to the garbage collector)."""

    def after_request(self, response):
        original = response.response
        response = super().after_request(response)
        if response.response is not original and hasattr(original, "close"):
            response.call_on_close(original.close)
        return response


compress = ClosingCompress()
# No default limits: only the endpoints that guess-proof something (log-in, reset) are limited.
# Per address, an IPv6 host counted by its /64 network.
limiter = Limiter(key_func=client_network, default_limits=[])


SQLITE_OPTIMIZE_EVERY_S = 3600  # PRAGMA optimize on a pooled connection at most once an hour (and when it closes)


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _optimize(dbapi_connection, record) -> None:
    """SQLite's PRAGMA optimize: ANALYZE of the tables whose statistics this connection's queries found
    missing or stale (cheap; usually nothing)."""
    dbapi_connection.execute("PRAGMA optimize")
    record.info["fieldwalk.optimized"] = time.monotonic()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, record) -> None:
    """Foreign keys on, WAL journal and secure delete for every SQLite connection (PostgreSQL needs nothing).

    WAL lets readers go on while one worker writes; the busy timeout (config SQLITE_BUSY_TIMEOUT_MS, given to
    the driver as its `timeout`) makes a second writer wait for the first instead of failing. secure_delete
    overwrites deleted and replaced content with zeros, so erased personal data does not live on in the
    file's free pages and free blocks.
    """
    if _is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        record.info["fieldwalk.optimized"] = time.monotonic()


@event.listens_for(Pool, "checkin")
def _sqlite_optimize_now_and_then(dbapi_connection, record) -> None:
    """A pooled connection lives long: it runs PRAGMA optimize once an hour when it goes back to the pool."""
    if dbapi_connection is not None and _is_sqlite(dbapi_connection):
        if time.monotonic() - record.info.get("fieldwalk.optimized", 0) > SQLITE_OPTIMIZE_EVERY_S:
            _optimize(dbapi_connection, record)


@event.listens_for(Pool, "close")
def _sqlite_optimize_on_close(dbapi_connection, record) -> None:
    """SQLite's advice: PRAGMA optimize before a connection closes."""
    if _is_sqlite(dbapi_connection):
        try:
            _optimize(dbapi_connection, record)
        except sqlite3.Error:  # closing anyway (e.g. the file is gone, or locked by a writer)
            pass


def analyze(connection) -> None:
    """Planner statistics for every table (after migrations and bulk loads), on SQLite and PostgreSQL."""
    connection.exec_driver_sql("ANALYZE")


@event.listens_for(Session, "before_flush")
def _refuse_nul_text(session, _context, _instances) -> None:
    """No text with a NUL character is written (PostgreSQL refuses it with a 500; SQLite would keep it):
    whatever the way in (form, multipart, API, CLI), the operation fails with a 422 naming the field."""
    from fieldwalk.http_errors import OperationError  # http_errors ends transactions through this module's db

    for obj in [*session.new, *session.dirty]:
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            value = state.dict.get(attr.key)
            if isinstance(value, str) and unstorable(value):
                raise OperationError(
                    _("Fältet %(names)s: %(message)s", names=attr.key, message=NUL_MESSAGE),
                    status=422,
                    code="nul_character",
                )
