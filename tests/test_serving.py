"""Serving in production: gunicorn with the repository's gunicorn.conf.py, the production settings check,
/healthz and /readyz, request ids and JSON request logs."""

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from fieldwalk import ROOT, create_app
from fieldwalk.config import _dev_secret_key
from fieldwalk.extensions import db
from fieldwalk.health import PROBE, PROBE_SHA256
from fieldwalk.models import Role, User
from fieldwalk.photos.store import FilesystemStore
from fieldwalk.production import ProductionSettingsError
from fieldwalk.request_log import configure_json_logging
from fieldwalk.seed import create_user, ensure_reference_data
from tests.conftest import PASSWORD
from tests.helpers import (
    LOCAL_REDIS,
    app_env,
    free_port,
    gunicorn,
    gunicorn_command,
    need_local_redis,
    no_control_socket,
    without_fieldwalk_settings,
)

GOOD_KEY = "3f" * 32
EMAIL = "samordnare@example.com"
UUID_HEX = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def production_env(monkeypatch):
    """No production setting comes from the environment of whoever runs the tests."""
    for name in ("SECRET_KEY", "DATABASE_URL", "FIELDWALK_BASE_URL", "FIELDWALK_REDIS_URL", "FIELDWALK_PHOTO_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name in ("FIELDWALK_SECRET_KEY", "FIELDWALK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _production(tmp_path, **config):
    settings = {
        "PRODUCTION": True,
        "SECRET_KEY": GOOD_KEY,
        "BASE_URL": "https://trygg.example.se",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite'}",
        "PHOTO_DIR": str(tmp_path / "photos"),
    }
    settings.update(config)
    return create_app(settings)


def _problems(tmp_path, **config) -> list[str]:
    with pytest.raises(ProductionSettingsError) as refused:
        _production(tmp_path, **config)
    return refused.value.problems


def _closed_port_postgres() -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/fieldwalk"


def test_production_starts_with_complete_settings(production_env, tmp_path):
    app = _production(tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"]
    # The photo store was written and read back through its interface.
    assert FilesystemStore(tmp_path / "photos").read(PROBE_SHA256, "thumb") == PROBE


def test_the_database_and_key_may_also_be_named_like_every_other_setting(production_env, monkeypatch, tmp_path):
    """FIELDWALK_DATABASE_URL was silently ignored (a tester's server ran on SQLite): it and
    FIELDWALK_SECRET_KEY are read as DATABASE_URL and SECRET_KEY; both names with different values refuse."""
    database = f"sqlite:///{tmp_path / 'named.sqlite'}"
    monkeypatch.setenv("FIELDWALK_DATABASE_URL", database)
    monkeypatch.setenv("FIELDWALK_SECRET_KEY", GOOD_KEY)
    app = create_app({"PHOTO_DIR": str(tmp_path / "photos")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database and app.config["SECRET_KEY"] == GOOD_KEY
    monkeypatch.setenv("DATABASE_URL", database)  # the same value twice is fine
    assert create_app({"PHOTO_DIR": str(tmp_path / "photos")}).config["SQLALCHEMY_DATABASE_URI"] == database
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite'}")
    with pytest.raises(RuntimeError, match="DATABASE_URL and FIELDWALK_DATABASE_URL are both set"):
        create_app({"PHOTO_DIR": str(tmp_path / "photos")})


def test_production_refuses_the_development_secret_key(production_env, tmp_path):
    dev_key = _dev_secret_key(Path(ROOT / "instance"))  # what `make run` keeps in instance/secret_key
    (problem,) = _problems(tmp_path, SECRET_KEY=dev_key)
    assert problem.startswith("SECRET_KEY is the development key from instance/secret_key")
    assert "secrets.token_hex(32)" in problem
    assert dev_key not in problem


def test_production_answers_probes_by_address(production_env, tmp_path):
    """A health check by the app server's address over http is answered; any other page is still refused."""
    for proxies in (0, 1):
        client = _production(tmp_path, PROXY_FIX=proxies).test_client()
        assert client.get("/healthz", base_url="http://10.0.0.5:5000").text == "ok\n"
        assert client.get("/readyz", base_url="http://10.0.0.5:5000").json["status"] == "ok"
        forwarded = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
        assert client.get("/healthz", base_url="http://10.0.0.5", headers=forwarded).status_code == 200
        assert client.get("/login", base_url="http://10.0.0.5:5000").status_code == 400
        assert client.get("/login", base_url="http://trygg.example.se").status_code == 302  # to https
        assert client.post("/healthz", base_url="http://10.0.0.5:5000").status_code == 400


def test_production_secret_key_messages(production_env, tmp_path):
    assert _problems(tmp_path, SECRET_KEY=None)[0].startswith("SECRET_KEY is not set.")
    assert _problems(tmp_path, SECRET_KEY="k" * 31)[0].startswith("SECRET_KEY is too short")


def test_production_base_url_messages(production_env, tmp_path):
    assert _problems(tmp_path, BASE_URL=None)[0].startswith("BASE_URL is not set.")
    (problem,) = _problems(tmp_path, BASE_URL="http://trygg.example.se")
    assert problem.startswith("BASE_URL must be an https:// address in production")
    (problem,) = _problems(tmp_path, BASE_URL="https://localhost:5000")
    assert problem.startswith("BASE_URL points at this machine (localhost)")
    (problem,) = _problems(tmp_path, BASE_URL="https://127.0.0.1")
    assert "points at this machine (127.0.0.1)" in problem
    (problem,) = _problems(tmp_path, BASE_URL="trygg.example.se")
    assert problem.startswith("BASE_URL must be an absolute http(s) address")


def test_production_database_messages(production_env, tmp_path):
    (problem,) = _problems(tmp_path, SQLALCHEMY_DATABASE_URI=None)
    assert problem.startswith("DATABASE_URL is not set.")
    url = _closed_port_postgres().replace("postgres@", "postgres:hemligt@")
    (problem,) = _problems(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    assert problem.startswith("The database at postgresql+psycopg://postgres:***@127.0.0.1:")
    assert "is not reachable" in problem and "hemligt" not in problem


def test_production_photo_store_message(production_env, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    (problem,) = _problems(tmp_path, PHOTO_DIR=str(tmp_path / "a-file"))
    assert problem.startswith(f"The photo store ({tmp_path / 'a-file'}) cannot be written and read back")
    assert "FIELDWALK_PHOTO_DIR" in problem


def test_production_redis_message(production_env, tmp_path):
    (problem,) = _problems(tmp_path, REDIS_URL=f"redis://:hemligt@127.0.0.1:{free_port()}/0")
    assert problem.startswith("Redis at redis://:***@127.0.0.1:") and "is not reachable" in problem
    assert "hemligt" not in problem
    # The rate limit storage is a Redis too.
    (problem,) = _problems(tmp_path, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    assert problem.startswith("Redis at redis://127.0.0.1:")


def test_production_lists_every_problem_at_once(production_env, tmp_path):
    problems = _problems(
        tmp_path,
        SECRET_KEY="short",
        BASE_URL="http://127.0.0.1:5000",
        SQLALCHEMY_DATABASE_URI=_closed_port_postgres(),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    assert [p.split(" ", 1)[0] for p in problems] == ["SECRET_KEY", "BASE_URL", "BASE_URL", "The", "Redis"]
    with pytest.raises(ProductionSettingsError) as refused:
        _production(tmp_path, SECRET_KEY="short", BASE_URL=None)
    message = str(refused.value)
    assert message.startswith("fieldwalk cannot start in production mode (FIELDWALK_PRODUCTION=1): 2 problem(s)")
    assert "\n  - SECRET_KEY is too short" in message and "\n  - BASE_URL is not set." in message


def _own_app(tmp_path, **config):
    """An app of its own (not the session's) on an empty SQLite file."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.sqlite'}",
        "PHOTO_DIR": str(tmp_path / "photos"),
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    return create_app(settings | config)


@pytest.fixture
def dev_app(tmp_path):
    app = _own_app(tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_and_readyz(dev_app):
    client = dev_app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok\n"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "photo_store": "ok"}}


def test_healthz_needs_no_database_and_readyz_names_it(tmp_path):
    app = _own_app(tmp_path, SQLALCHEMY_DATABASE_URI=_closed_port_postgres().replace("postgres@", "postgres:hemligt@"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "checks": {"database": "failed", "photo_store": "ok"},
        "failed": ["database"],
    }
    assert "hemligt" not in response.text and "127.0.0.1" not in response.text


def test_readyz_names_a_photo_store_that_cannot_be_written(dev_app, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    dev_app.config["PHOTO_DIR"] = str(tmp_path / "a-file")
    response = dev_app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["photo_store"]


def test_readyz_pings_redis_when_configured(dev_app):
    dev_app.config["REDIS_URL"] = f"redis://:hemligt@127.0.0.1:{free_port()}/0"
    response = dev_app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["redis"]
    assert "hemligt" not in response.text
    need_local_redis()
    dev_app.config["REDIS_URL"] = LOCAL_REDIS
    response = dev_app.test_client().get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["redis"] == "ok"


def test_request_id_comes_back_and_a_hostile_one_is_replaced(client):
    response = client.get("/healthz")
    assert UUID_HEX.fullmatch(response.headers["X-Request-ID"])
    assert client.get("/healthz", headers={"X-Request-ID": "lb-42.a_b"}).headers["X-Request-ID"] == "lb-42.a_b"
    for hostile in ("<script>alert(1)</script>", "a b", "x" * 65, "ä", '"}{"user_id": 1'):
        answered = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert UUID_HEX.fullmatch(answered), hostile


@pytest.fixture
def json_app(tmp_path):
    """An app with LOG_FORMAT=json behind one proxy whose log lines go to a buffer (app.json_log); the
    "fieldwalk" logger is restored afterwards."""
    logger = logging.getLogger("fieldwalk")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    app = _own_app(tmp_path, LOG_FORMAT="json", PROXY_FIX=1)
    app.json_log = io.StringIO()
    configure_json_logging(app, app.json_log)
    yield app
    logger.handlers[:], logger.propagate, logger.level = saved
    with app.app_context():
        db.engine.dispose()


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_log_has_one_line_per_request_without_secrets(json_app):
    with json_app.app_context():
        db.create_all()
        ensure_reference_data()
        db.session.commit()
    client = json_app.test_client()
    client.get("/join/hemligkod?x=1", headers={"X-Request-ID": "req-1"})
    client.get("/reset/hemlig.token", headers={"X-Request-ID": "req-2"})
    client.get("/login?next=/walks/", headers={"X-Request-ID": "req-3"})
    client.get("/healthz", headers={"X-Request-ID": "req-4", "X-Forwarded-For": "203.0.113.9"})
    json_app.logger.warning("something to look at")  # outside a request: no request id
    json_log = json_app.json_log
    text = json_log.getvalue()
    assert "hemlig" not in text and "next=" not in text
    lines = [line for line in _lines(json_log) if line["logger"] == "fieldwalk.request"]
    assert [(line["request_id"], line["path"]) for line in lines] == [
        ("req-1", "/join/REDACTED"),
        ("req-2", "/reset/REDACTED"),
        ("req-3", "/login"),
        ("req-4", "/healthz"),
    ]
    assert lines[3]["remote_addr"] == "203.0.113.9"  # the client, as the proxy (ProxyFix) tells
    assert lines[2]["method"] == "GET" and lines[2]["status"] == 200 and lines[2]["user_id"] is None
    assert lines[2]["remote_addr"] == "127.0.0.1" and lines[2]["duration_ms"] >= 0
    datetime.fromisoformat(lines[2]["time"])
    (warning,) = [line for line in _lines(json_log) if line["level"] == "WARNING"]
    assert warning["message"] == "something to look at" and "request_id" not in warning


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A SQLite database with the schema, reference data and a coordinator."""
    base = tmp_path_factory.mktemp("serving")
    database_url = f"sqlite:///{base / 'served.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        ensure_reference_data()
        create_user(EMAIL, "Sam Samordnare", PASSWORD, Role.COORDINATOR, "Kommunen")
        db.session.commit()
        user_id = db.session.scalar(db.select(User.id).filter_by(email=EMAIL))
        db.session.remove()
        db.engine.dispose()
    return base, database_url, user_id


def _env(base: Path, database_url: str, port: int, **extra) -> dict:
    settings = {"PHOTO_DIR": str(base / "photos"), "MAIL_OUTBOX": str(base / "outbox")}
    env = app_env(port, database_url, GOOD_KEY, settings, base=without_fieldwalk_settings())
    env["WEB_CONCURRENCY"] = "2"
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(extra)
    return env


def _log_in(url: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = http.post(
        f"{url}/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    assert answer.status_code == 302, answer.text
    return http


def test_gunicorn_with_the_repository_config(prepared):
    """Only the port and the settings come from outside: bind, workers, threads, preload and the JSON log
    are gunicorn.conf.py's."""
    base, database_url, user_id = prepared
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "gunicorn.log"
    with gunicorn(_env(base, database_url, port), log, "--config", str(ROOT / "gunicorn.conf.py")):
        assert requests.get(f"{url}/healthz", timeout=30).text == "ok\n"
        ready = requests.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "photo_store": "ok"}
        http = _log_in(url)
        answer = http.get(f"{url}/?q=hemligt", headers={"X-Request-ID": "from-the-proxy-1"}, timeout=30)
        assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "from-the-proxy-1"
        hostile = requests.get(f"{url}/healthz", headers={"X-Request-ID": "bad id\t<x>"}, timeout=30)
        replaced = hostile.headers["X-Request-ID"]
        assert UUID_HEX.fullmatch(replaced)
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines()]  # every line is JSON, gunicorn's own too
    booted = [e for e in entries if e["logger"] == "gunicorn.error" and "Booting worker" in e["message"]]
    assert len(booted) == 2  # WEB_CONCURRENCY
    assert any("Using worker: gthread" in entry["message"] for entry in entries)
    requests_logged = {entry["request_id"]: entry for entry in entries if entry["logger"] == "fieldwalk.request"}
    walks = requests_logged["from-the-proxy-1"]
    assert walks["path"] == "/" and walks["status"] == 200 and walks["method"] == "GET"
    assert walks["user_id"] == user_id and walks["remote_addr"] == "127.0.0.1"
    assert requests_logged[replaced]["path"] == "/healthz"
    assert "hemligt" not in text and "bad id" not in text


def test_gunicorn_readyz_names_an_unreachable_database(prepared):
    base, _database_url, _user_id = prepared
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(base, _closed_port_postgres(), port, WEB_CONCURRENCY="1")
    with gunicorn(env, base / "gunicorn-no-db.log"):  # the config file found in the working folder
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
        ready = requests.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "checks": {"database": "failed", "photo_store": "ok"},
            "failed": ["database"],
        }
    entries = [json.loads(line) for line in (base / "gunicorn-no-db.log").read_text().splitlines()]
    (warning,) = [entry for entry in entries if entry["level"] == "WARNING" and entry["logger"] == "fieldwalk"]
    assert warning["message"] == "Readiness check database failed" and "Connection refused" in warning["exception"]
    assert warning["request_id"] == ready.headers["X-Request-ID"]


def test_gunicorn_in_production_refuses_to_start_with_every_problem(prepared):
    base, database_url, _user_id = prepared
    env = _env(base, database_url, free_port(), FIELDWALK_PRODUCTION="1", SECRET_KEY="kort")
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [*gunicorn_command(), *no_control_socket()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "fieldwalk cannot start in production mode (FIELDWALK_PRODUCTION=1): 3 problem(s)" in done.stderr
    assert "SECRET_KEY is too short" in done.stderr and "BASE_URL must be an https:// address" in done.stderr
    assert "Traceback" not in done.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "fieldwalk.production"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 2 and "SECRET_KEY is too short" in checked.stderr


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_make_reload_replaces_the_master_without_dropping_a_request(prepared):
    """`make reload` (SIGUSR2): a new master with freshly imported code takes over the socket and stops the
    old one, which finishes its requests; every request meanwhile is answered."""
    base, database_url, _user_id = prepared
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pidfile = base / "reload.pid"
    env = _env(base, database_url, port, WEB_CONCURRENCY="1")
    with gunicorn(env, base / "gunicorn-reload.log", "--pid", str(pidfile), "--graceful-timeout", "10") as old_master:
        statuses: list = []
        stop = threading.Event()

        def keep_asking():
            while not stop.is_set():
                try:
                    statuses.append(requests.get(f"{url}/healthz", timeout=30).status_code)
                except requests.RequestException as error:
                    statuses.append(repr(error))
                time.sleep(0.05)

        asking = threading.Thread(target=keep_asking)
        asking.start()
        new_master = None
        try:
            subprocess.run(["make", "--no-print-directory", "reload", f"PIDFILE={pidfile}"], cwd=ROOT, check=True)
            old_master.wait(timeout=120)  # stopped by the new master once it listens
            deadline = time.monotonic() + 60
            while new_master in (None, old_master.pid) and time.monotonic() < deadline:
                try:  # the promoted master renames its reload.pid.2 to reload.pid
                    new_master = int(pidfile.read_text())
                except (FileNotFoundError, ValueError):
                    pass
                time.sleep(0.2)
            answered_by_new = len(statuses)
            while len(statuses) < answered_by_new + 5:
                time.sleep(0.1)
        finally:
            stop.set()
            asking.join()
            if new_master not in (None, old_master.pid):
                os.kill(new_master, signal.SIGQUIT)
        assert new_master not in (None, old_master.pid)
        assert statuses and set(statuses) == {200}, statuses
        assert _gone(new_master, 60)
    log = (base / "gunicorn-reload.log").read_text()
    assert "New master ready; stopping the old master" in log and "Master has been promoted" in log
