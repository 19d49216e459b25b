"""The same request twice at once against a served app (gunicorn, 2 workers with threads): a double tap or
an outbox retry makes one finding and one photo row per photo, answers no 5xx, and loses no stored file."""

import re
import sqlite3
import threading
import time
import uuid as uuid_module
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text

from fieldwalk import create_app
from fieldwalk.extensions import db
from fieldwalk.models import Category, Finding, Photo, Role, Walk, WalkStatus
from fieldwalk.photos.store import FilesystemStore
from fieldwalk.seed import create_user, ensure_reference_data
from tests import conftest
from tests.conftest import BACKENDS, PASSWORD
from tests.helpers import app_env, free_port, gunicorn, jpeg_bytes

ROUNDS = 50
EMAIL = "samordnare@example.com"


class Served:
    """A gunicorn-served copy of the app on its own database and photo folder."""

    def __init__(self, url: str, database_url: str, photo_dir: Path, app):
        self.url, self.database_url, self.photo_dir, self.app = url, database_url, photo_dir, app
        self.store = FilesystemStore(photo_dir)

    def session(self) -> requests.Session:
        """A logged-in browser-like session (its own cookie and CSRF token)."""
        http = requests.Session()
        page = http.get(f"{self.url}/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = http.post(
            f"{self.url}/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text
        return http


@contextmanager
def _serving(backend: str, base: Path, **settings: str) -> Iterator[Served]:
    """gunicorn -w 2 --threads 4 on a prepared database (schema, reference data, a coordinator, a walk);
    `settings` go to the served app as FIELDWALK_<NAME>."""
    # A database of its own (committed data for another process), never the session's schema.
    database_url = conftest.database_url(backend, base, suffix="_served")
    photo_dir = base / "photos"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PHOTO_DIR": str(photo_dir),
            "SECRET_KEY": "x" * 40,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MAIL_OUTBOX": str(base / "outbox"),
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
        ensure_reference_data()
        create_user(EMAIL, "Sam Samordnare", PASSWORD, Role.COORDINATOR, "Kommunen")
        db.session.add(
            Walk(
                title="Vandring",
                area="Centrum",
                starts_at=datetime(2026, 11, 24, 17, 0),
                status=WalkStatus.ONGOING,
                meeting_lat=56.879,
                meeting_lon=14.806,
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    env = app_env(
        port,
        database_url,
        "x" * 40,
        {"PHOTO_DIR": str(photo_dir), "MAIL_OUTBOX": str(base / "outbox"), **settings},
    )
    try:
        with gunicorn(env, base / "gunicorn.log", "-w", "2", "--threads", "4", "--graceful-timeout", "2"):
            yield Served(f"http://127.0.0.1:{port}", database_url, photo_dir, app)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    """The app served by gunicorn on each backend."""
    with _serving(request.param, tmp_path_factory.mktemp("served")) as app_served:
        yield app_served


def _at_once(calls):
    """Run the calls in threads that start together (a barrier), return their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _photo(round_no: int, variant: int) -> bytes:
    """Small real JPEGs, different in every round (so each round writes new files)."""
    return jpeg_bytes((40 + round_no, 30 + variant), quality=80)


def _check_stored(served: Served, http: requests.Session, uuids: list[str], photos_each: int) -> list[str]:
    """Exactly one finding per uuid, one photo row per distinct photo, every file on disk and served."""
    problems = []
    with served.app.app_context():
        for finding_uuid in uuids:
            count = db.session.scalar(select(func.count(Finding.id)).where(Finding.uuid == finding_uuid))
            if count != 1:
                problems.append(f"{finding_uuid}: {count} findings")
                continue
            photos = db.session.scalars(select(Photo).join(Finding).where(Finding.uuid == finding_uuid)).all()
            if len(photos) != photos_each or len({p.source_sha256 for p in photos}) != photos_each:
                problems.append(f"{finding_uuid}: {len(photos)} photo rows")
            for photo in photos:
                for variant in ("full", "thumb"):
                    if not served.store.exists(photo.sha256, variant):
                        problems.append(f"photo {photo.id} {variant}: file missing")
                    status = http.get(f"{served.url}/photos/{photo.id}/{variant}.jpg", timeout=30).status_code
                    if status != 200:
                        problems.append(f"photo {photo.id} {variant}: served {status}")
        db.session.remove()
    return problems


def _summary(bad: list, problems: list[str]) -> str:
    return (
        f"{len(bad)} of {ROUNDS} rounds answered wrongly, e.g. {bad[:2]}; "
        f"{len(problems)} stored-data problems, e.g. {problems[:4]}"
    )


def _walk_and_category(served: Served) -> tuple[int, int]:
    with served.app.app_context():
        walk_id = db.session.scalar(select(Walk.id))
        category = db.session.scalar(select(Category.id).filter_by(slug="belysning"))
        db.session.remove()
    return walk_id, category


@pytest.fixture(scope="module")
def sessions(served):
    """Two logged-in sessions of the same coordinator (two tabs, or a page and the outbox's retry)."""
    pair = [served.session(), served.session()]
    yield pair
    for http in pair:
        http.close()


def test_capture_form_double_submit(served, sessions):
    """The same capture form (same uuid, same two photos) posted twice at once in one session (a double
    tap): one finding, both answered with a redirect (the second one: "already saved")."""
    walk_id, category = _walk_and_category(served)
    http = sessions[0]
    page = http.get(f"{served.url}/walks/{walk_id}/findings/new", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    uuids, statuses = [], []
    for round_no in range(ROUNDS):
        finding_uuid = str(uuid_module.uuid4())
        uuids.append(finding_uuid)
        photos = [_photo(round_no, 0), _photo(round_no, 1)]

        def post(finding_uuid=finding_uuid, photos=photos):
            answer = http.post(
                f"{served.url}/walks/{walk_id}/findings/new",
                data={
                    "csrf_token": token,
                    "uuid": finding_uuid,
                    "category": category,
                    "severity": "medium",
                    "description": "Trasig lampa i gångtunneln",
                },
                files=[("photos", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)],
                allow_redirects=False,
                timeout=60,
            )
            return answer.status_code

        statuses.append(_at_once([post, post]))
    bad = [s for s in statuses if s != [302, 302]]
    problems = _check_stored(served, http, uuids, photos_each=2)
    assert not bad and not problems, _summary(bad, problems)


def test_api_double_post_of_finding_and_photo(served, sessions):
    """The same finding (uuid) and then the same photo bytes posted twice at once through the API, from two
    sessions: one 201 and one 200 with the same stored object each time."""
    walk_id, category = _walk_and_category(served)
    tokens = [http.get(f"{served.url}/api/v1/session", timeout=30).json()["csrf_token"] for http in sessions]
    uuids, bad = [], []
    for round_no in range(ROUNDS):
        finding_uuid = str(uuid_module.uuid4())
        uuids.append(finding_uuid)
        body = {"uuid": finding_uuid, "category_id": category, "description": "Mörk passage"}
        answers = _at_once(
            [
                partial(
                    h.post,
                    f"{served.url}/api/v1/walks/{walk_id}/findings",
                    json=body,
                    headers={"X-CSRFToken": t},
                    timeout=60,
                )
                for h, t in zip(sessions, tokens, strict=True)
            ]
        )
        codes = sorted(a.status_code for a in answers)
        if codes != [200, 201] or len({a.json().get("id") for a in answers}) != 1:
            bad.append(("finding", round_no, codes, [a.text[:200] for a in answers]))
            continue
        finding_id = answers[0].json()["id"]
        data = _photo(round_no, 7)
        answers = _at_once(
            [
                partial(
                    h.post,
                    f"{served.url}/api/v1/findings/{finding_id}/photos",
                    files={"photo": ("p.jpg", data, "image/jpeg")},
                    headers={"X-CSRFToken": t},
                    timeout=60,
                )
                for h, t in zip(sessions, tokens, strict=True)
            ]
        )
        codes = sorted(a.status_code for a in answers)
        if codes != [200, 201] or len({a.json().get("id") for a in answers}) != 1:
            bad.append(("photo", round_no, codes, [a.text[:200] for a in answers]))
    problems = _check_stored(served, sessions[0], uuids, photos_each=1)
    assert not bad and not problems, _summary(bad, problems)


def test_parallel_photo_uploads_stop_at_the_limit(served, sessions):
    """More different photos than PHOTO_MAX_PER_FINDING sent to one finding at once: exactly the limit is
    stored, the rest are refused with a 422 (the count was checked before a concurrent insert)."""
    walk_id, category = _walk_and_category(served)
    http = sessions[0]
    token = http.get(f"{served.url}/api/v1/session", timeout=30).json()["csrf_token"]
    limit = served.app.config["PHOTO_MAX_PER_FINDING"]
    answer = http.post(
        f"{served.url}/api/v1/walks/{walk_id}/findings",
        headers={"X-CSRFToken": token},
        json={"uuid": str(uuid_module.uuid4()), "category_id": category},
        timeout=60,
    )
    finding_id = answer.json()["id"]
    calls = [
        partial(
            h.post,
            f"{served.url}/api/v1/findings/{finding_id}/photos",
            files={"photo": ("p.jpg", _photo(100 + n, n), "image/jpeg")},
            headers={"X-CSRFToken": token},
            timeout=60,
        )
        for n, h in enumerate([http] * (limit + 4))
    ]
    # Making the photos can take longer than gunicorn's keep-alive (5 s) on a loaded machine: the server
    # then closes the idle connection while a post is being sent on it. Fresh connections for the burst.
    http.close()
    answers = _at_once(calls)
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * limit + [422] * 4, codes
    with served.app.app_context():
        assert db.session.scalar(select(func.count(Photo.id)).where(Photo.finding_id == finding_id)) == limit
        db.session.remove()


def test_agreeing_twice_at_once_is_one_agreement(served, sessions):
    """ "Jag håller med" tapped twice at once (two sessions of one person): one 201, one 200, one row, each round."""
    from fieldwalk.models import FindingAgreement, User

    walk_id, category = _walk_and_category(served)
    with served.app.app_context():
        reporter = db.session.scalar(select(User).filter_by(email="reporter@example.com")) or create_user(
            "reporter@example.com", "Rut Rapportör", PASSWORD, Role.COORDINATOR
        )
        walk = db.session.get(Walk, walk_id)
        made = [
            Finding(walk=walk, category_id=category, reporter=reporter, lat=56.879, lon=14.806) for _ in range(ROUNDS)
        ]
        db.session.add_all(made)
        db.session.commit()
        finding_ids = [f.id for f in made]
        db.session.remove()
    tokens = [http.get(f"{served.url}/api/v1/session", timeout=30).json()["csrf_token"] for http in sessions]
    bad = []
    for finding_id in finding_ids:
        answers = _at_once(
            [
                partial(
                    h.post,
                    f"{served.url}/api/v1/walks/{walk_id}/agreements",
                    json={"finding_id": finding_id},
                    headers={"X-CSRFToken": t},
                    timeout=60,
                )
                for h, t in zip(sessions, tokens, strict=True)
            ]
        )
        codes = sorted(a.status_code for a in answers)
        if codes != [200, 201] or {a.json()["agreements"] for a in answers} != {1}:
            bad.append((finding_id, codes, [a.text[:200] for a in answers]))
    with served.app.app_context():
        rows = db.session.scalar(
            select(func.count(FindingAgreement.id)).where(FindingAgreement.finding_id.in_(finding_ids))
        )
        db.session.remove()
    assert not bad and rows == ROUNDS, (bad[:3], rows)


# ---------------------------------------------------------------- a walk evening on an overloaded machine


def _sqlite_file(served: Served) -> str:
    if not served.database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's one writer at a time: PostgreSQL locks rows, not the database")
    return served.database_url.removeprefix("sqlite:///")


@contextmanager
def _write_lock_held(path: str) -> Iterator[None]:
    """Another process's write transaction (as a long `flask` command, or a queue of writers on an overloaded
    machine) holding SQLite's one write lock until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("COMMIT")
    finally:
        holder.close()


def _post_finding(served: Served, http: requests.Session, token: str, finding_uuid: str) -> requests.Response:
    walk_id, category = _walk_and_category(served)
    return http.post(
        f"{served.url}/api/v1/walks/{walk_id}/findings",
        json={"uuid": finding_uuid, "category_id": category, "description": "Mörk passage"},
        headers={"X-CSRFToken": token},
        timeout=120,
    )


def _finding_count(served: Served, finding_uuid: str) -> int:
    with served.app.app_context():
        count = db.session.scalar(select(func.count(Finding.id)).where(Finding.uuid == finding_uuid))
        db.session.remove()
    return count or 0


def test_a_write_waits_for_a_write_lock_held_longer_than_five_seconds(served, sessions):
    """A finding posted while another process holds SQLite's write lock for 6 s (longer than the driver's
    default busy timeout of 5 s, which answered "database is locked", a 500, on the loaded walk evening)
    waits for it and is stored: 201, once."""
    path = _sqlite_file(served)
    http = sessions[0]
    token = http.get(f"{served.url}/api/v1/session", timeout=30).json()["csrf_token"]
    finding_uuid = str(uuid_module.uuid4())
    with ThreadPoolExecutor(1) as pool:
        with _write_lock_held(path):
            answer = pool.submit(_post_finding, served, http, token, finding_uuid)
            time.sleep(6)
            assert not answer.done(), answer.result().text  # it waited for the lock
        assert answer.result().status_code == 201, answer.result().text
    assert _finding_count(served, finding_uuid) == 1


@pytest.fixture(scope="module")
def served_short_busy_timeout(tmp_path_factory):
    """The app on SQLite whose writers wait at most 1 s for the write lock."""
    with _serving("sqlite", tmp_path_factory.mktemp("busy"), SQLITE_BUSY_TIMEOUT_MS="1000") as app_served:
        yield app_served


def test_a_write_lock_held_past_the_busy_timeout_is_a_503_to_send_again(served_short_busy_timeout):
    """When the write lock stays taken past the busy timeout, the post is answered 503 with Retry-After and
    the API's error body (the phone's outbox keeps the finding and sends it again), never a 500; nothing
    is stored, and the same post afterwards is stored once."""
    served = served_short_busy_timeout
    path = _sqlite_file(served)
    http = served.session()
    token = http.get(f"{served.url}/api/v1/session", timeout=30).json()["csrf_token"]
    finding_uuid = str(uuid_module.uuid4())
    with ThreadPoolExecutor(1) as pool:
        with _write_lock_held(path):
            pending = pool.submit(_post_finding, served, http, token, finding_uuid)
            deadline = time.monotonic() + 15  # the old code's 5 s timeout, then its 500, fits in it
            while not pending.done() and time.monotonic() < deadline:
                time.sleep(0.1)
        answer = pending.result()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    error = answer.json()["error"]
    assert error["request_id"] == answer.headers["X-Request-ID"]
    assert "försök igen" in error["message"]
    assert _finding_count(served, finding_uuid) == 0
    again = _post_finding(served, http, token, finding_uuid)
    assert again.status_code == 201, again.text
    assert _finding_count(served, finding_uuid) == 1


def test_asking_for_a_protocol_pdf_twice_at_once_makes_one_job(served, sessions):
    """ "Gör en PDF" double-clicked, or in two tabs: one job (a quarter's PDF is a minute of both cores),
    both answers lead to its page (a tester saw four jobs from four posts at once)."""
    from fieldwalk.models import ProtocolFile

    tokens = [http.get(f"{served.url}/api/v1/session", timeout=30).json()["csrf_token"] for http in sessions]
    bad = []
    for day in range(1, 11):
        url = f"{served.url}/followup/protocol-files?from=2020-01-01&to=2020-02-{day:02d}"
        answers = _at_once(
            [
                partial(h.post, url, data={"csrf_token": t}, allow_redirects=False, timeout=60)
                for h, t in zip(sessions, tokens, strict=True)
            ]
        )
        if [a.status_code for a in answers] != [303, 303] or len({a.headers["Location"] for a in answers}) != 1:
            bad.append((day, [(a.status_code, a.headers.get("Location")) for a in answers]))
    with served.app.app_context():
        rows = db.session.scalar(
            select(func.count(ProtocolFile.id)).where(ProtocolFile.period_start == date(2020, 1, 1))
        )
        db.session.remove()
    assert not bad and rows == 10, (bad, rows)
