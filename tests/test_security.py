"""Hardening: CSRF, rate-limited log-in, security headers, escaping, photo access, production start-up."""

import io

import pytest
from sqlalchemy import select

from fieldwalk import create_app
from fieldwalk.extensions import db
from fieldwalk.models import AuditEntry, Photo, Role
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_csrf_is_required(app, client, auth, make_walk):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/walks/{walk_id}/status", data={"status": "completed"})
    assert response.status_code == 400
    response = client.post("/walks/new", data={"title": "Utan token", "starts_at": "2026-06-10T21:00"})
    assert response.status_code == 400
    # With the token from the page the same request goes through.
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/walks/{walk_id}/status", data={"status": "completed", "csrf_token": token})
    assert response.status_code == 302


def test_login_is_rate_limited(app, client, auth):
    _user_id, email = auth.make_user(Role.COORDINATOR)
    # Other addresses each time (one account has its own, lower limit: test_login_hardening).
    statuses = [client.post("/login", data={"email": f"x{n}{email}", "password": "fel"}).status_code for n in range(10)]
    assert statuses == [401] * 10
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 429  # even the right password waits now
    with app.app_context():
        assert db.session.scalar(select(db.func.count(AuditEntry.id)).filter_by(action="auth.login_failed")) == 10


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_needs_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": None})
    app = create_app(
        {
            "PRODUCTION": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "s" * 64,
            "BASE_URL": "https://trygg.example.se",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_user_text_is_escaped_everywhere(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    client.post(
        "/walks/new",
        data={
            "title": XSS,
            "starts_at": "2026-06-10T21:00",
            "area": XSS,
            "meeting_point": XSS,
            "route": XSS,
            "description": XSS,
            "organiser": XSS,
            "invited_organisations": XSS,
        },
    )
    walk_id = 1
    client.post(f"/walks/{walk_id}/places", data={"text": XSS, "place": XSS, "suggested_by": XSS})
    client.post(f"/walks/{walk_id}/status", data={"status": "ongoing"})
    client.post(
        f"/walks/{walk_id}/findings/new",
        data={"category": category_id(), "description": XSS, "place": XSS, "reporter_name": XSS, "reporter_org": XSS},
    )
    client.post(
        "/actions/new", data={"finding": 1, "title": XSS, "description": XSS, "priority": "low", "responsible_party": 0}
    )
    client.post("/actions/1/comment", data={"text": XSS})
    for path in [
        "/",
        f"/walks/{walk_id}",
        "/findings/1",
        "/actions/",
        "/actions/1",
        "/actions/1/edit",
        f"/walks/{walk_id}/edit",
        "/actions/new?finding=1",
    ]:
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path


def test_photo_of_walk_a_refused_to_participant_of_walk_b(app, client, guest, make_walk, category_id, store_backend):
    walk_a, walk_b = make_walk(title="A"), make_walk(title="B")
    guest(walk_a)
    client.post(
        f"/walks/{walk_a}/findings/new",
        data={"category": category_id(), "photos": [(io.BytesIO(jpeg_bytes((800, 600))), "a.jpg")]},
    )
    with app.app_context():
        photo_id = db.session.scalar(select(Photo.id))
    with client.get(f"/photos/{photo_id}/thumb.jpg") as response:
        assert response.status_code == 200
    guest(walk_b)
    assert client.get(f"/photos/{photo_id}/thumb.jpg").status_code == 404
    assert client.get(f"/photos/{photo_id}/full.jpg").status_code == 404
    assert client.get("/findings/1").status_code == 404


# Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.example" is "//evil.example".
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\\\\evil.example",
    ],
)
def test_login_redirect_stays_on_site(client, auth, target):
    _user_id, email = auth.make_user(Role.COORDINATOR)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"


def test_language_switch_redirect_stays_on_site(client):
    response = client.post("/language", data={"language": "en", "next": "/\\evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_anonymous_json_client_gets_401(client, make_walk):
    walk_id = make_walk()
    response = client.get(f"/walks/{walk_id}", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    response = client.post(f"/walks/{walk_id}/findings/new", headers={"Accept": "application/json"}, data={})
    assert response.status_code == 401
