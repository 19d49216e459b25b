"""Shared fixtures: one app and one schema per test session and backend; each test rolls back; users by role.

How the database is shared (read this before writing a fixture that touches it):

* **Rolled back (the default).** The schema and the reference data (categories, parties) are built once per
  session and backend. ``app`` binds every session of the test to one connection that holds an outer
  transaction; the app's own ``commit()`` only releases a SAVEPOINT inside it (SQLAlchemy's
  ``join_transaction_mode="create_savepoint"``, after Indico's ``db`` fixture), and the test's end rolls
  everything back. Requests through ``client``, ``runner`` commands, ``make_walk``/``auth`` and
  ``with app.app_context()`` blocks all see each other's data because they share that connection. On
  PostgreSQL the id sequences are reset afterwards, so ids start where a fresh schema starts.
* **Committed (``@pytest.mark.committed``).** For tests whose data must be seen by another connection or
  process: a served app in threads (``live_server`` — every test using it, so every browser test, is
  marked automatically), a gunicorn subprocess, ``db.engine.connect()`` in the test, migrations that drop
  and build tables, a look at the SQLite file's bytes. Data is really committed; afterwards the schema is
  rebuilt (the old path, slower). Search for ``committed`` to see which tests take it.
* **Read-only worlds once per module (``module_app``).** A module-scoped fixture that builds data through
  ``module_app`` does it inside a transaction held for the whole module; every test of the module then
  runs in a SAVEPOINT inside it and rolls back to the world as it was built. Photos the world stored are
  copied into each test's own photo folder. See ``world`` in tests/test_authorization.py.

Every test has its own photo folder and MAIL_OUTBOX. Under pytest-xdist (``-n 2``) each worker has its own
SQLite file and its own PostgreSQL database (``<name>_gw0``…, created from FIELDWALK_TEST_DATABASE_URL).
"""

import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from werkzeug.serving import make_server

from fieldwalk import create_app
from fieldwalk.extensions import db, limiter
from fieldwalk.models import Category, Role, Walk, WalkStatus
from fieldwalk.seed import create_user, ensure_reference_data
from tests.helpers import ensure_postgres_database
from tests.s3 import s3_server  # noqa: F401 (a fixture)

PASSWORD = "korrekt häst batteri"


# Every test runs on SQLite (the embedded default) and, when FIELDWALK_TEST_DATABASE_URL is set
# (CI sets it), once more on that database (PostgreSQL, the production path).
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("FIELDWALK_TEST_DATABASE_URL") else [])
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"… under pytest-xdist, else ""


def pytest_collection_modifyitems(items):
    """Tests served to another thread (live_server, so every browser test) need committed data."""
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.committed)


def database_url(backend: str, folder: Path, suffix: str = "") -> str:
    """This worker's database for the backend: a SQLite file in the folder, or a PostgreSQL database named
    after the configured one plus the xdist worker and the suffix (created when it does not exist yet)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'test{suffix}.sqlite'}"
    url = make_url(os.environ["FIELDWALK_TEST_DATABASE_URL"])
    name = f"{url.database}{'_' + WORKER if WORKER else ''}{suffix}"
    if name != url.database:
        ensure_postgres_database(url, name)
    return url.set(database=name).render_as_string(hide_password=False)


def fresh_schema() -> None:
    """An empty schema built from the models, with the default categories and parties (in an app context)."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()
    ensure_reference_data()


class Database:
    """The session's schema for one app: builds it, binds a test's sessions to a connection, rolls back."""

    def __init__(self, app):
        self.app = app
        self.module: tuple | None = None  # (connection, transaction, photo folder) while a module holds one
        self.reset_sequences = ""

    def build(self) -> None:
        """The schema with reference data, committed; remembers where PostgreSQL's id sequences stand."""
        with self.app.app_context():
            fresh_schema()
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                rows = db.session.execute(
                    text(
                        "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences "
                        "WHERE schemaname = 'public'"
                    )
                ).all()
                # setval is outside transactions: a rolled-back INSERT still used up its id
                self.reset_sequences = (
                    "SELECT "
                    + ", ".join(
                        f"setval('{name}', {last}, true)" if last else f"setval('{name}', 1, false)"
                        for name, last in rows
                    )
                    if rows
                    else ""
                )
            db.session.remove()

    @contextmanager
    def connection(self):
        """A connection in an outer transaction that only a rollback ends."""
        with self.app.app_context():
            conn = db.engine.connect()
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Python's sqlite3 begins transactions on its own and lets a SAVEPOINT outside one commit on
            # RELEASE: switched to its autocommit mode, the BEGIN below is the one transaction.
            conn.connection.dbapi_connection.isolation_level = None
        outer = conn.begin()
        if sqlite:
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn, outer
        finally:
            outer.rollback()
            if sqlite:
                conn.connection.dbapi_connection.isolation_level = ""
            elif self.reset_sequences:
                conn.exec_driver_sql(self.reset_sequences)
                conn.commit()
            conn.close()

    @contextmanager
    def bound(self, conn):
        """Every session made meanwhile uses the connection; its commit releases a SAVEPOINT."""
        factory = db.session.session_factory
        kw, cls = dict(factory.kw), factory.class_

        def get_bind(session, *args, **kwargs):  # Flask-SQLAlchemy's picks the engine, not the given bind
            return session.bind

        factory.class_ = type(cls.__name__, (cls,), {"get_bind": get_bind})
        factory.configure(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            factory.class_ = cls
            factory.kw.clear()
            factory.kw.update(kw)


def _database(app) -> Database:
    return app.extensions["fieldwalk.tests"]


@pytest.fixture(scope="session", params=BACKENDS)
def session_app(request, tmp_path_factory):
    """The app on this worker's SQLite file or PostgreSQL database, schema and reference data built once."""
    base = tmp_path_factory.mktemp("fieldwalk")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url(request.param, base),
            "PHOTO_DIR": str(base / "photos"),
            "PROTOCOL_DIR": str(base / "protocols"),
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt per test user would dominate the run time
            "JOB_RETRY_INTERVALS": [],  # a failing job (mail) fails for good at once; tests/test_jobs.py retries
        }
    )
    app.extensions["fieldwalk.tests"] = Database(app)
    _database(app).build()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections before the interpreter does it noisily


@pytest.fixture(scope="module")
def module_app(session_app, tmp_path_factory):
    """The app inside a transaction held for this module: data built here (a read-only world) is seen by
    every test of the module, each of which rolls back to it. Photos go to a folder of the module."""
    app, database = session_app, _database(session_app)
    photos = tmp_path_factory.mktemp("module-photos")
    app.config["PHOTO_DIR"] = str(photos)
    app.config["MAIL_OUTBOX"] = str(photos.parent / f"{photos.name}-outbox")
    app.config["WTF_CSRF_ENABLED"] = False
    limiter.reset()
    with database.connection() as (conn, _outer), database.bound(conn):
        database.module = (conn, photos)
        try:
            yield app
        finally:
            database.module = None


@contextmanager
def _rolled_back(app):
    """The test's sessions on one connection, rolled back at its end (inside the module's, if one is held)."""
    database = _database(app)
    if database.module:
        conn, photos = database.module
        if photos.exists():
            shutil.copytree(photos, app.config["PHOTO_DIR"], dirs_exist_ok=True)
        savepoint = conn.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()
    else:
        with database.connection() as (conn, _outer), database.bound(conn):
            yield


@pytest.fixture
def app(session_app, tmp_path, request):
    """The app for this test: its own photo folder and outbox, default categories and parties loaded, and
    everything it writes rolled back afterwards (committed instead for ``@pytest.mark.committed``)."""
    app = session_app
    app.config["PHOTO_DIR"] = str(tmp_path / "photos")
    app.config["PROTOCOL_DIR"] = str(tmp_path / "protocols")
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")  # status changes send mail; never into instance/
    app.config["WTF_CSRF_ENABLED"] = False
    limiter.reset()  # rate limits count per test, as they would per attacker
    if request.node.get_closest_marker("committed"):
        if _database(app).module:
            pytest.fail("a committed test cannot run while its module holds a transaction (module_app)")
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
            _database(app).build()  # the schema as the next test expects it, whatever this one did
    else:
        with _rolled_back(app):
            yield app


@pytest.fixture(params=["filesystem", "s3"])
def store_backend(request, app):
    """Runs the test once on each photo store: files in the test's PHOTO_DIR, and objects under a prefix of
    the test's own in a bucket of a real S3 server (SeaweedFS, tests/s3.py)."""
    if request.param == "filesystem":
        yield "filesystem"
        return
    settings = request.getfixturevalue("s3_server").settings(prefix=f"test-{uuid.uuid4().hex}")
    saved = {name: app.config[name] for name in settings}
    app.config.update(settings)
    try:
        yield "s3"
    finally:
        app.config.update(saved)


@pytest.fixture
def live_server(app):
    """The app served over HTTP on a free local port for the length of one test (browser tests, the
    generated API client); a test using it gets committed data."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def client(app):
    """A test client for real HTTP requests through the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's flask commands."""
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for direct database work inside a test."""
    with app.app_context():
        yield


class Auth:
    """Log the test client in as a fresh user of a given role."""

    def __init__(self, app, client):
        self.app, self.client, self.count = app, client, 0

    def make_user(self, role: Role = Role.COORDINATOR, party_name: str | None = None, **fields):
        from fieldwalk.models import ResponsibleParty

        self.count += 1
        with self.app.app_context():
            party = db.session.scalar(db.select(ResponsibleParty).filter_by(name=party_name)) if party_name else None
            user = create_user(
                fields.get("email", f"{role.value}{self.count}@example.com"),
                fields.get("name", f"Test {role.value} {self.count}"),
                PASSWORD,
                role,
                fields.get("organisation", "Testkommun"),
                party,
            )
            db.session.commit()
            return user.id, user.email

    def login(self, role: Role = Role.COORDINATOR, party_name: str | None = None):
        user_id, email = self.make_user(role, party_name)
        self.logout()
        response = self.client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user_id

    def logout(self):
        self.client.delete_cookie("remember_token")
        with self.client.session_transaction() as session:
            session.clear()


@pytest.fixture
def auth(app, client):
    """auth.login(role) logs the client in as a new user with that role."""
    return Auth(app, client)


@pytest.fixture
def make_walk(app):
    """make_walk(**overrides) creates a walk and returns its id."""

    def make(**overrides):
        fields = {
            "title": "Vandring i centrum",
            "area": "Centrum",
            "starts_at": datetime(2026, 11, 24, 17, 0),
            "status": WalkStatus.ONGOING,
            "meeting_lat": 56.879,
            "meeting_lon": 14.806,
        }
        fields.update(overrides)
        with app.app_context():
            walk = Walk(**fields)
            db.session.add(walk)
            db.session.commit()
            return walk.id

    return make


@pytest.fixture
def category_id(app):
    """category_id(slug) → the id of a default category."""

    def get(slug: str = "belysning") -> int:
        with app.app_context():
            return db.session.scalar(db.select(Category.id).filter_by(slug=slug))

    return get


@pytest.fixture
def guest(app, client):
    """guest(walk_id) joins the walk by its link as a guest (name + organisation), as a resident would."""

    def join(walk_id: int, name: str = "Gunnel Gäst", organisation: str = "Boende") -> None:
        with app.app_context():
            code = db.session.get(Walk, walk_id).join_code
        client.delete_cookie("remember_token")
        with client.session_transaction() as session:
            session.clear()
        response = client.post(f"/join/{code}", data={"name": name, "organisation": organisation})
        assert response.status_code == 302, response.get_data(as_text=True)

    return join
