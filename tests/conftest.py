"""Shared fixtures: one app per test session, a clean database and photo folder per test, users by role."""

import os
from datetime import datetime

import pytest
from sqlalchemy import text

from fieldwalk import create_app
from fieldwalk.extensions import db, limiter
from fieldwalk.models import Category, Role, Walk, WalkStatus
from fieldwalk.seed import create_user, ensure_reference_data

PASSWORD = "korrekt häst batteri"


# Every test runs on SQLite (the embedded default) and, when FIELDWALK_TEST_DATABASE_URL is set
# (CI sets it), once more on that database (PostgreSQL, the production path).
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("FIELDWALK_TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=BACKENDS)
def session_app(request, tmp_path_factory):
    """The app on a temporary SQLite file, or on the PostgreSQL test database."""
    base = tmp_path_factory.mktemp("fieldwalk")
    url = (os.environ["FIELDWALK_TEST_DATABASE_URL"] if request.param == "postgresql"
           else f"sqlite:///{base / 'test.sqlite'}")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "PHOTO_DIR": str(base / "photos"),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt per test user would dominate the run time
    })
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections before the interpreter does it noisily


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


@pytest.fixture
def app(session_app, tmp_path):
    """The app with a fresh schema and photo folder for this test; default categories and parties loaded."""
    app = session_app
    app.config["PHOTO_DIR"] = str(tmp_path / "photos")
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")  # status changes send mail; never into instance/
    app.config["WTF_CSRF_ENABLED"] = False
    limiter.reset()  # rate limits count per test, as they would per attacker
    with app.app_context():
        fresh_schema()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()


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
            party = (db.session.scalar(db.select(ResponsibleParty).filter_by(name=party_name))
                     if party_name else None)
            user = create_user(fields.get("email", f"{role.value}{self.count}@example.com"),
                               fields.get("name", f"Test {role.value} {self.count}"), PASSWORD, role,
                               fields.get("organisation", "Testkommun"), party)
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
        fields = {"title": "Vandring i centrum", "area": "Centrum",
                  "starts_at": datetime(2026, 11, 24, 17, 0), "status": WalkStatus.ONGOING,
                  "meeting_lat": 56.879, "meeting_lon": 14.806}
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
