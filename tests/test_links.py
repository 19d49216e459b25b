"""Absolute links come from BASE_URL, never from the request's Host; production checks its settings at start."""

import io
import re
from pathlib import Path

import pytest
import segno
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldwalk import create_app
from fieldwalk.extensions import db
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Role, Walk
from tests.helpers import LOCAL_REDIS, need_local_redis

ATTACKER = "attacker.example"


def _mails(app) -> list[str]:
    files = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    return [f.read_text().replace("=\n", "") for f in files]


@pytest.fixture
def base_url(app, monkeypatch):
    """The public address links must use; different from the test client's http://localhost."""
    monkeypatch.setitem(app.config, "BASE_URL", "https://trygg.example.se/fieldwalk")
    return "https://trygg.example.se/fieldwalk"


def _reset_link(app) -> str:
    mails = _mails(app)
    assert len(mails) == 1
    return re.search(r"https?://\S+/reset/\S+", mails[0]).group(0)


def test_reset_mail_ignores_a_forged_host(app, client, auth, base_url):
    _user_id, email = auth.make_user(Role.ADMIN)
    response = client.post("/reset", data={"email": email}, headers={"Host": ATTACKER})
    assert response.status_code == 302
    response.close()  # the mail goes once the answer is out
    link = _reset_link(app)
    assert ATTACKER not in _mails(app)[0]
    assert link.startswith(base_url + "/reset/")


def test_reset_mail_ignores_x_forwarded_host_behind_a_proxy(app, client, auth, base_url, monkeypatch):
    _user_id, email = auth.make_user(Role.COORDINATOR)
    # Behind ProxyFix (PROXY_FIX=1) the forwarded headers become the request's host and scheme.
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1))
    response = client.post(
        "/reset",
        data={"email": email},
        headers={"X-Forwarded-Host": ATTACKER, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 302
    response.close()  # the mail goes once the answer is out
    link = _reset_link(app)
    assert ATTACKER not in _mails(app)[0]
    assert link.startswith(base_url + "/reset/")


def test_join_link_and_qr_code_use_base_url(app, client, auth, make_walk, base_url):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    # The test client talks to http://localhost; the page must show the public address all the same.
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    joins = re.findall(r'value="(https?://[^"]*/join/[^"]*)"', page)
    assert joins and all(j.startswith(base_url + "/join/") for j in joins)
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    svg = client.get(f"/walks/{walk_id}/qr.svg")
    assert svg.status_code == 200
    # The QR code encodes exactly the BASE_URL join link (same picture as one made from that link).
    out = io.BytesIO()
    segno.make(f"{base_url}/join/{code}", error="m").save(
        out, kind="svg", scale=8, border=2, title="Vandring i centrum"
    )
    assert svg.data == out.getvalue()


def test_personal_data_export_links_use_base_url(app, client, auth, make_walk, category_id, base_url):
    from fieldwalk.findings import operations as findings
    from fieldwalk.models import Category, User
    from fieldwalk.photos.pipeline import process_photo
    from tests.helpers import jpeg_bytes

    auth.login(Role.ADMIN)
    user_id, _email = auth.make_user(Role.COORDINATOR)
    walk_id = make_walk()
    with app.app_context():
        findings.create_finding(
            db.session.get(Walk, walk_id),
            db.session.get(User, user_id),
            FindingInput(category=db.session.get(Category, category_id())),
            photos=[process_photo(jpeg_bytes((400, 300)))],
        )
        db.session.commit()
    export = client.get(f"/admin/users/{user_id}/export.json").json  # asked on http://localhost
    urls = [p["url"] for f in export["findings"] for p in f["photos"]]
    assert urls and all(u.startswith(base_url + "/photos/") for u in urls)


def _production(**config):
    settings = {
        "PRODUCTION": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": "s" * 64,
        "BASE_URL": "https://trygg.example.se",
    }
    settings.update(config)
    return create_app(settings)


def test_production_refuses_to_start_without_base_url(monkeypatch):
    monkeypatch.delenv("FIELDWALK_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="BASE_URL is not set"):
        _production(BASE_URL=None)
    with pytest.raises(RuntimeError, match="BASE_URL"):
        _production(BASE_URL="trygg.example.se")  # no scheme: not a URL
    monkeypatch.setenv("FIELDWALK_BASE_URL", "https://trygg.example.se/fieldwalk")
    app = create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "s" * 64})
    assert app.config["BASE_URL"] == "https://trygg.example.se/fieldwalk"


def test_production_answers_400_to_a_foreign_host():
    app = _production()
    assert app.config["TRUSTED_HOSTS"] == ["trygg.example.se"]
    client = app.test_client()
    response = client.get("/login", base_url="https://trygg.example.se")
    assert response.status_code == 200
    response = client.get("/login", base_url=f"https://{ATTACKER}")
    assert response.status_code == 400
    response = client.post("/reset", data={"email": "a@example.com"}, base_url=f"https://{ATTACKER}")
    assert response.status_code == 400
    # Hosts added in instance/config.py (a health check's) stay trusted beside BASE_URL's.
    assert _production(TRUSTED_HOSTS=["lb.internal"]).config["TRUSTED_HOSTS"] == ["trygg.example.se", "lb.internal"]


def test_production_behind_a_proxy_refuses_a_forwarded_foreign_host():
    client = _production(PROXY_FIX=1).test_client()
    response = client.get(
        "/login",
        base_url="http://10.0.0.5",
        headers={"X-Forwarded-Host": "trygg.example.se", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 200
    response = client.get(
        "/login", base_url="http://10.0.0.5", headers={"X-Forwarded-Host": ATTACKER, "X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 400


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for key in ("x", "s" * 31, "å" * 15):  # 15 × 2 bytes in UTF-8 is still too short
        with pytest.raises(RuntimeError, match="SECRET_KEY is too short"):
            _production(SECRET_KEY=key)
    monkeypatch.setenv("SECRET_KEY", "k")
    with pytest.raises(RuntimeError, match="SECRET_KEY is too short"):
        create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "BASE_URL": "https://trygg.example.se"})
    assert _production(SECRET_KEY="s" * 32).config["SECRET_KEY"] == "s" * 32


def test_production_warns_when_rate_limits_are_counted_per_process(caplog):
    """gunicorn -w 2 with memory:// counts each worker apart (an outside tester got 6 reset mails of 3)."""
    with caplog.at_level("WARNING"):
        _production()
    assert "RATELIMIT_STORAGE_URI" in caplog.text
    caplog.clear()
    need_local_redis()  # production checks that the rate limit storage answers
    with caplog.at_level("WARNING"):
        _production(RATELIMIT_STORAGE_URI=LOCAL_REDIS)
    assert "RATELIMIT_STORAGE_URI" not in caplog.text


def test_photo_store_settings_are_checked_at_start():
    with pytest.raises(RuntimeError, match="PHOTO_STORE must be 'filesystem' or 's3'"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PHOTO_STORE": "ftp"})
    with pytest.raises(RuntimeError, match="S3_BUCKET is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PHOTO_STORE": "s3"})
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PHOTO_STORE": "s3", "S3_BUCKET": "foton"})
    with app.app_context():
        from fieldwalk.photos.service import photo_store

        store = photo_store()
        assert (store.bucket, store.key("ab" * 32)) == ("foton", f"photos/ab/ab/{'ab' * 32}.jpg")
