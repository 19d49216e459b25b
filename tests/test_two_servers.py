"""Two app servers on the same engines (issue 12's acceptance test): two gunicorn processes on different
ports share one PostgreSQL database, one S3 bucket (SeaweedFS) and one Redis, as N app servers behind a load
balancer do. A finding and its photo posted to A are served by B (same SECRET_KEY, the session token in the
database: the cookie made on A is good on B), failed log-ins spread over A and B add up to the per-account
limit (counted in Redis, not per process), and a mail queued by A is sent by the `flask worker`, not by A.

Needs PostgreSQL (FIELDWALK_TEST_DATABASE_URL), Redis at 127.0.0.1:6379 (DB 8, emptied before and after)
and SeaweedFS (`weed`); without one of them the test is skipped, except under CI=true, where it fails.
"""

import os
import re
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
import requests

from fieldwalk import create_app
from fieldwalk.extensions import db
from fieldwalk.models import Category, Role, Walk, WalkStatus
from fieldwalk.seed import create_user
from tests import conftest
from tests.conftest import PASSWORD
from tests.helpers import (
    app_env,
    flask_worker,
    free_port,
    gunicorn,
    jpeg_bytes,
    need_local_redis,
    run_flask,
    without_fieldwalk_settings,
)

pytestmark = pytest.mark.committed  # three other processes read and write the data

REDIS_URL = "redis://127.0.0.1:6379/8"
SECRET_KEY = "two-servers-" + "k" * 40
COORDINATOR = "samordnare@example.com"
PARTICIPANT = "deltagare@example.com"
ACCOUNT_LIMIT = 5  # the first window of LOGIN_ACCOUNT_RATE_LIMIT's default, "5 per 5 minutes;…"


def _need_postgresql() -> None:
    if not os.environ.get("FIELDWALK_TEST_DATABASE_URL"):
        reason = "two app servers share PostgreSQL: set FIELDWALK_TEST_DATABASE_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _csrf_from_page(http: requests.Session, url: str) -> str:
    page = http.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _log_in(http: requests.Session, server: str, email: str, password: str) -> requests.Response:
    token = _csrf_from_page(http, f"{server}/login")
    return http.post(
        f"{server}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def _outbox(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.exists() else []


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, s3_server):
    """PostgreSQL migrated by `flask init-db` with two users and a walk; servers A and B (gunicorn, 2 workers
    each) and the environment they share: S3 photos under a fresh prefix, Redis DB 8, one mail outbox. Once
    for the module: the tests use different accounts (the log-in test locks the participant's log-in only)."""
    need_local_redis()
    _need_postgresql()
    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()  # only DB 8, this test's own
    tmp_path = tmp_path_factory.mktemp("two_servers")
    database_url = conftest.database_url("postgresql", tmp_path, suffix="_two_servers")
    prepare = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with prepare.app_context():
        with db.engine.begin() as conn:
            conn.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.engine.dispose()
    ports = free_port(), free_port()
    while ports[1] == ports[0]:
        ports = ports[0], free_port()
    env = app_env(
        ports[0],
        database_url,
        SECRET_KEY,
        {
            **s3_server.settings(f"two-{uuid.uuid4().hex}"),
            "REDIS_URL": REDIS_URL,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # All requests come from 127.0.0.1: the per-address limit must not be what stops the log-ins.
            "LOGIN_RATE_LIMIT": "1000 per minute",
        },
        base=without_fieldwalk_settings(),  # both servers' BASE_URL is A's: the links in mails point there
    )
    # The schema as a deploy makes it: Alembic's migrations, then the default categories and parties.
    run_flask(env, "init-db")
    with prepare.app_context():
        create_user(COORDINATOR, "Sam Samordnare", PASSWORD, Role.COORDINATOR, "Kommunen")
        create_user(PARTICIPANT, "Delia Deltagare", PASSWORD, Role.PARTICIPANT)
        walk = Walk(
            title="Vandring",
            area="Centrum",
            starts_at=datetime(2026, 11, 24, 17, 0),
            status=WalkStatus.ONGOING,
            meeting_lat=56.879,
            meeting_lon=14.806,
        )
        db.session.add(walk)
        db.session.commit()
        walk_id, category_id = walk.id, db.session.scalars(db.select(Category.id)).first()
        db.session.remove()
        db.engine.dispose()
    servers = []
    try:
        with ExitStack() as stack:
            for name, port in zip("ab", ports, strict=True):
                own = {**env, "PORT": str(port), "FIELDWALK_PHOTO_DIR": str(tmp_path / f"photos-{name}")}
                stack.enter_context(gunicorn(own, tmp_path / f"gunicorn-{name}.log", "-w", "2", "--threads", "2"))
                servers.append(f"http://127.0.0.1:{port}")
            yield {
                "a": servers[0],
                "b": servers[1],
                "env": env,
                "tmp": tmp_path,
                "redis": redis,
                "s3": s3_server,
                "walk_id": walk_id,
                "category_id": category_id,
            }
    finally:
        redis.flushdb()
        redis.close()


def test_a_finding_posted_to_one_server_is_served_by_the_other(two_servers):
    a, b, tmp = two_servers["a"], two_servers["b"], two_servers["tmp"]
    http = requests.Session()  # one browser: its cookie (host 127.0.0.1, any port) goes to A and to B
    assert _log_in(http, a, COORDINATOR, PASSWORD).status_code == 302
    token = http.get(f"{a}/api/v1/session", timeout=30).json()["csrf_token"]
    body = {"uuid": str(uuid.uuid4()), "category_id": two_servers["category_id"], "description": "Mörk gångväg"}
    made = http.post(
        f"{a}/api/v1/walks/{two_servers['walk_id']}/findings", json=body, headers={"X-CSRFToken": token}, timeout=60
    )
    assert made.status_code == 201, made.text
    photo = http.post(
        f"{a}/api/v1/findings/{made.json()['id']}/photos",
        files={"photo": ("p.jpg", jpeg_bytes((1200, 900)), "image/jpeg")},
        headers={"X-CSRFToken": token},
        timeout=60,
    )
    assert photo.status_code == 201, photo.text

    seen = http.get(f"{b}/api/v1/findings/by-uuid/{body['uuid']}", timeout=30)
    assert seen.status_code == 200, seen.text  # B knows the session made on A, and the finding
    assert seen.json()["description"] == "Mörk gångväg"
    assert [p["sha256"] for p in seen.json()["photos"]] == [photo.json()["sha256"]]
    for key in ("url", "thumbnail_url"):
        from_a = http.get(a + photo.json()[key], timeout=30)
        from_b = http.get(b + photo.json()[key], timeout=30)
        assert from_a.status_code == from_b.status_code == 200
        assert from_b.content[:2] == b"\xff\xd8" and from_b.content == from_a.content
    anonymous = requests.get(b + photo.json()["url"], allow_redirects=False, timeout=30)
    assert anonymous.status_code != 200 and not anonymous.content.startswith(b"\xff\xd8")  # access-checked

    # The bytes are in the bucket, and neither server kept a file of its own.
    listed = two_servers["s3"].client().list_objects_v2(Bucket=two_servers["s3"].bucket)
    assert any(photo.json()["sha256"] in item["Key"] for item in listed.get("Contents", []))
    assert not [p for name in "ab" for p in (tmp / f"photos-{name}").rglob("*") if p.is_file()]

    # A session ended on B (log-out) is ended on A too: it lives in the database, not in one process.
    logout_token = _csrf_from_page(http, f"{b}/account/password")
    logged_out = http.post(f"{b}/logout", data={"csrf_token": logout_token}, allow_redirects=False, timeout=30)
    assert logged_out.status_code == 302 and logged_out.headers["Location"].endswith("/login")
    assert http.get(f"{a}/api/v1/findings/by-uuid/{body['uuid']}", timeout=30).status_code == 401


def test_failed_log_ins_on_both_servers_add_up_to_the_account_limit(two_servers):
    a, b = two_servers["a"], two_servers["b"]
    # Alternating A, B: A sees 3 failures and B 2, under the limit in each process; together they reach it.
    for n in range(ACCOUNT_LIMIT):
        answer = _log_in(requests.Session(), (a, b)[n % 2], PARTICIPANT, "fel lösenord")
        assert answer.status_code == 401, (n, answer.status_code)
    for server in (b, a):  # the next attempt is refused on either, even with the right password
        refused = _log_in(requests.Session(), server, PARTICIPANT, PASSWORD)
        assert refused.status_code == 429, refused.text[:300]
        assert "För många försök för det här kontot" in refused.text
    # Another account is not affected.
    assert _log_in(requests.Session(), b, COORDINATOR, PASSWORD).status_code == 302


def test_a_mail_queued_by_one_server_is_sent_by_the_worker(two_servers):
    from rq import Queue

    from fieldwalk.jobs import QUEUE_NAME

    a, env, tmp = two_servers["a"], two_servers["env"], two_servers["tmp"]
    outbox = tmp / "outbox"
    http = requests.Session()
    token = _csrf_from_page(http, f"{a}/reset")
    asked = http.post(f"{a}/reset", data={"email": PARTICIPANT, "csrf_token": token}, allow_redirects=False, timeout=30)
    assert asked.status_code == 302, asked.text[:500]
    queue = Queue(QUEUE_NAME, connection=two_servers["redis"])
    assert len(queue.job_ids) == 1
    job_id = queue.job_ids[0]
    time.sleep(2)  # A had time to send it after its response, as it would without Redis
    assert _outbox(outbox) == [] and queue.job_ids == [job_id]

    with flask_worker(env, tmp / "worker.log"):
        deadline = time.monotonic() + 60
        while not _outbox(outbox) and time.monotonic() < deadline:
            time.sleep(0.2)
        mails = _outbox(outbox)
        assert len(mails) == 1, (tmp / "worker.log").read_text()
    text = mails[0].read_text(errors="replace")
    assert f"To: {PARTICIPANT}" in text and f"{a}/reset/" in text.replace("=\n", "")
    assert queue.job_ids == []
    assert job_id in (tmp / "worker.log").read_text()  # the worker's log names the job it ran
