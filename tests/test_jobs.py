"""The job queue: jobs.enqueue runs a job after the response (the embedded default) or on RQ with Redis
(FIELDWALK_REDIS_URL, run by `flask worker`); a failing job is retried, and one that fails on every attempt
is listed for the admin, who can run it again. The RQ tests run against the real Redis and skip without it."""

import email
import json
import os
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwalk import create_app, jobs
from fieldwalk.extensions import db
from fieldwalk.mail import queue_mail
from fieldwalk.models import AuditEntry, FailedJob, Role

ATTEMPTS: Counter = Counter()  # per mark: how often flaky() was called (RQ's SimpleWorker runs in this process)


def flaky(mark: str, failures: int) -> None:
    """A job that fails its first `failures` attempts, like a mail server that refuses and then comes back."""
    ATTEMPTS[mark] += 1
    if ATTEMPTS[mark] <= failures:
        raise ConnectionRefusedError(f"attempt {ATTEMPTS[mark]} refused")


@pytest.fixture(autouse=True)
def _count_afresh():
    ATTEMPTS.clear()  # each test (and backend) counts its own attempts


def _failed(app) -> list[FailedJob]:
    with app.app_context():
        rows = db.session.scalars(select(FailedJob).order_by(FailedJob.id)).all()
        db.session.expunge_all()
        return rows


def _outbox(app) -> list[email.message.EmailMessage]:
    outbox = Path(app.config["MAIL_OUTBOX"])
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


# --- The embedded default: in the process, after the response -----------------------------------------


def test_outside_a_request_a_job_runs_at_once_and_is_retried(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", ["0", "0"])  # as the environment gives them
    with app.app_context():
        jobs.enqueue(flaky, "cli", 2)
    assert ATTEMPTS["cli"] == 3  # two failures, two retries, the second one went through
    assert _failed(app) == []


def test_a_job_that_always_fails_is_shown_to_the_admin_who_runs_it_again(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", [0])
    with app.app_context():
        jobs.enqueue(flaky, "always", 99)
    assert ATTEMPTS["always"] == 2
    [failed] = _failed(app)
    assert failed.function == "tests.test_jobs.flaky" and failed.queue == "in-process"
    assert failed.attempts == 2 and failed.error == "ConnectionRefusedError: attempt 2 refused"
    assert json.loads(failed.arguments) == [["always", 99], {}]

    auth.login(Role.COORDINATOR)
    assert client.get("/admin/jobs").status_code == 403  # the admin's page only
    auth.login(Role.ADMIN)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "tests.test_jobs.flaky" in page and "ConnectionRefusedError: attempt 2 refused" in page
    response = client.post(f"/admin/jobs/{failed.id}/retry")
    assert response.status_code == 302 and ATTEMPTS["always"] == 2  # not yet: after the response
    response.close()
    assert ATTEMPTS["always"] == 4  # run again with a new round of retries, and failed again
    [again] = _failed(app)
    assert again.error == "ConnectionRefusedError: attempt 4 refused"  # the old record went
    client.post(f"/admin/jobs/{again.id}/dismiss").close()
    assert _failed(app) == [] and ATTEMPTS["always"] == 4
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("job.%"))).all()
    assert sorted(actions) == ["job.dismissed", "job.retried"]
    assert client.post("/admin/jobs/99999/retry").status_code == 404
    assert client.post(f"/admin/jobs/{again.id}/run").status_code in (404, 405)


def test_the_worker_and_queued_reminders_need_redis(app, runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 1 and "flask worker needs FIELDWALK_REDIS_URL" in result.output
    result = runner.invoke(args=["send-reminders", "--queue"])
    assert result.exit_code == 1 and "--queue needs FIELDWALK_REDIS_URL" in result.output


def test_rate_limits_are_counted_in_redis_when_it_is_configured():
    base = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    assert create_app(base).config["RATELIMIT_STORAGE_URI"] == "memory://"
    url = "redis://127.0.0.1:6379/5"
    assert create_app({**base, "REDIS_URL": url}).config["RATELIMIT_STORAGE_URI"] == url
    own = "redis://127.0.0.1:6379/7"
    assert create_app({**base, "REDIS_URL": url, "RATELIMIT_STORAGE_URI": own}).config["RATELIMIT_STORAGE_URI"] == own


# --- RQ on Redis ---------------------------------------------------------------------------------------

# Redis DB 5 for one pytest-xdist worker, 6 for the other (never another test run's).
REDIS_DB = 5 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0) % 2
REDIS_URL = os.environ.get("FIELDWALK_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{REDIS_DB}")


@pytest.fixture
def redis_app(app, monkeypatch):
    """The app with REDIS_URL on an emptied test database of the local Redis (skips if none answers)."""
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    connection.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.extensions, "fieldwalk.redis", connection)
    try:
        yield app
    finally:
        connection.flushdb()
        connection.close()


def _work(app) -> None:
    """What `flask worker --burst` does: run the queued jobs (and their immediate retries), then stop."""
    jobs.make_worker(app).work(burst=True)


def test_on_redis_a_mail_is_sent_by_the_worker_not_the_request(redis_app, client, auth):
    app = redis_app
    _user_id, address = auth.make_user(Role.COORDINATOR)
    response = client.post("/reset", data={"email": address})
    assert response.status_code == 302
    response.close()
    assert _outbox(app) == [] and len(jobs.redis_queue(app)) == 1  # queued, not sent
    with app.app_context():
        queue_mail("gata-park@example.com", "Tilldelad åtgärd: Lampa", "Hej!\n\nÖppna: https://x.example/a/1\n")
    _work(app)
    assert len(jobs.redis_queue(app)) == 0
    reset, notice = _outbox(app)
    assert reset["To"] == address and "Nytt lösenord" in reset["Subject"]
    assert notice["To"] == "gata-park@example.com" and notice["Auto-Submitted"] == "auto-generated"
    assert "https://x.example/a/1" in notice.get_body(("plain",)).get_content()


def test_on_redis_a_failing_job_is_retried_then_shown_to_the_admin(redis_app, client, auth, monkeypatch):
    from rq.registry import FailedJobRegistry

    app = redis_app
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", [0, 0])  # retried at once: the burst worker runs them
    with app.app_context():
        jobs.enqueue(flaky, "redis-ok", 1)
        jobs.enqueue(flaky, "redis-down", 99)
    _work(app)
    assert ATTEMPTS["redis-ok"] == 2 and ATTEMPTS["redis-down"] == 3
    queue = jobs.redis_queue(app)
    assert FailedJobRegistry(queue=queue).count == 1  # RQ keeps the failed job too
    [failed] = _failed(app)
    assert failed.queue == "redis" and failed.attempts == 3 and failed.function == "tests.test_jobs.flaky"
    assert failed.error == "ConnectionRefusedError: attempt 3 refused"

    auth.login(Role.ADMIN)
    assert "attempt 3 refused" in client.get("/admin/jobs").get_data(as_text=True)
    client.post(f"/admin/jobs/{failed.id}/retry").close()
    assert _failed(app) == [] and len(queue) == 1  # back on the queue, for the worker
    _work(app)
    assert ATTEMPTS["redis-down"] == 6 and len(_failed(app)) == 1


def test_an_unreachable_redis_loses_no_job(app, monkeypatch):
    from redis import Redis

    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.extensions, "fieldwalk.redis", Redis.from_url("redis://127.0.0.1:1/0"))
    with app.app_context():
        queue_mail("anna@example.com", "Hej", "Text")  # does not raise
    [failed] = _failed(app)
    assert failed.queue == "redis" and failed.attempts == 0 and "Connection" in failed.error
    assert failed.summary == "anna@example.com: Hej"


def test_erasing_a_person_deletes_the_failed_mails_to_or_about_them(app, auth):
    from fieldwalk.admin.operations import erase_person
    from fieldwalk.models import User

    user_id, address = auth.make_user(Role.PARTICIPANT, name="Greta Gren")
    admin_id, _address = auth.make_user(Role.ADMIN)
    with app.app_context():
        for to, subject, body in [
            (address, "Hej", "Hej!"),
            ("annan@example.org", "Möte", "Närvarande: Greta Gren"),
            ("annan@example.org", "Annat", "Inget om henne"),
        ]:
            jobs.record_failure(
                "fieldwalk.mail.send_mail", f"{to}: {subject}", [to, subject, body], {}, OSError(), 1, ""
            )
        erase_person(db.session.get(User, user_id), db.session.get(User, admin_id))
        db.session.commit()
    assert [failed.summary for failed in _failed(app)] == ["annan@example.org: Annat"]


def test_flask_worker_runs_the_queue(redis_app, runner):
    app = redis_app
    with app.app_context():
        queue_mail("gata-park@example.com", "Påminnelse", "Hej!\n")
    assert _outbox(app) == []
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    [mail] = _outbox(app)
    assert mail["Subject"] == "Påminnelse" and len(jobs.redis_queue(app)) == 0
