"""Error pages and JSON errors in the interface language: each status has its own heading and text, the
status code is the real one, and none of Werkzeug's English ("403 Forbidden: You don't have the permission
…", "The requested URL was not found …") reaches a person; an exception in a view gives the 500 page."""

import re

import pytest
from flask import abort, g

from fieldwalk import create_app
from fieldwalk.extensions import db
from fieldwalk.models import Category, Role, User
from fieldwalk.seed import create_user

CODES = [400, 403, 404, 405, 409, 413, 422, 429, 500]
HEADINGS = {
    "sv": {
        400: "Begäran gick inte att behandla",
        403: "Ingen behörighet",
        404: "Sidan finns inte",
        405: "Det går inte att göra så här",
        409: "Det går inte just nu",
        413: "Det du skickade är för stort",
        422: "Uppgifterna kunde inte tas emot",
        429: "För många försök",
        500: "Något gick fel",
    },
}
WERKZEUG = [
    "Bad Request",
    "Forbidden",
    "Not Found",
    "The requested URL was not found",
    "Method Not Allowed",
    "The method is not allowed",
    "Conflict",
    "Request Entity Too Large",
    "Content Too Large",
    "Unprocessable",
    "Too Many Requests",
    "Internal Server Error",
    "You don't have the permission",
    "The server encountered an internal error",
    "The browser (or proxy) sent a request",
]


@pytest.fixture(scope="module")
def error_app(tmp_path_factory):
    """An app of its own (routes cannot be added to the shared one once it has served), with test-only
    routes that fail with each status the way Werkzeug raises it, and one whose view raises."""
    folder = tmp_path_factory.mktemp("errors")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "PROPAGATE_EXCEPTIONS": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'errors.sqlite'}",
            "PHOTO_DIR": str(folder / "photos"),
            "WTF_CSRF_ENABLED": False,
        }
    )

    def fail(code):
        abort(code)  # no description: the page must not show Werkzeug's

    def crash():
        raise RuntimeError("a bug in a view")

    def failed_transaction():
        """A flush that fails and is never rolled back: the session refuses every query until a rollback."""
        g.request_id = "req-4711"  # as the request log's before_request sets it
        db.session.add(Category(slug=None))  # NOT NULL: IntegrityError at the flush
        db.session.flush()

    for prefix in ("/test-errors", "/api/test-errors"):
        app.add_url_rule(f"{prefix}/<int:code>", f"fail{prefix}", fail)
        app.add_url_rule(f"{prefix}/crash", f"crash{prefix}", crash)
        app.add_url_rule(f"{prefix}/failed-transaction", f"failed{prefix}", failed_transaction)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _path(code: int, api: bool = False) -> str:
    return ("/api" if api else "") + ("/test-errors/crash" if code == 500 else f"/test-errors/{code}")


def _client(app, locale: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["locale"] = locale
    return client


def _heading(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1).strip()


@pytest.mark.parametrize("code", CODES)
def test_error_pages_in_swedish_and_english(error_app, code):
    headings = {}
    for locale in ("sv", "en"):
        response = _client(error_app, locale).get(_path(code))
        html = response.get_data(as_text=True)
        assert response.status_code == code
        assert response.mimetype == "text/html"
        assert f'<html lang="{locale}"' in html
        headings[locale] = _heading(html)
        assert ("Felkod" if locale == "sv" else "Error code") + f" {code}" in html
        for text in WERKZEUG:
            assert text not in html, (code, locale, text)
    assert headings["sv"] == HEADINGS["sv"][code]
    assert headings["en"] != headings["sv"]  # translated, not the Swedish heading
    assert not re.search("[åäöÅÄÖ]", headings["en"])


def test_every_status_has_its_own_heading(error_app):
    for locale in ("sv", "en"):
        client = _client(error_app, locale)
        headings = [_heading(client.get(_path(code)).get_data(as_text=True)) for code in CODES]
        assert len(set(headings)) == len(CODES), headings


@pytest.mark.parametrize("code", CODES)
def test_json_errors_under_api_in_both_languages(error_app, code):
    messages = {}
    for locale in ("sv", "en"):
        response = _client(error_app, locale).get(_path(code, api=True))
        assert response.status_code == code
        assert response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert error["code"] and error["message"]
        for text in WERKZEUG:
            assert text not in error["message"], (code, locale, text)
        messages[locale] = error["message"]
    assert messages["sv"] != messages["en"]


def test_a_view_that_raises_gives_the_500_page_not_a_traceback(error_app):
    response = _client(error_app, "en").get("/test-errors/crash")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert _heading(html) == "Something went wrong"
    assert "RuntimeError" not in html and "a bug in a view" not in html and "Traceback" not in html


def test_real_errors_of_the_app_in_english(app, client, auth):
    """Errors the app's own routes give (not the test routes): a missing walk, a wrong method, a page the
    role may not open, too large a body."""
    user_id = auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    with app.app_context():
        db.session.get(User, user_id).locale = "en"
        db.session.commit()
    seen = {
        404: client.get("/walks/999999"),
        405: client.put("/actions/"),
        403: client.get("/admin/users"),
        413: client.post(
            "/account/password",
            data="x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 10),
            content_type="application/x-www-form-urlencoded",
        ),
    }
    for code, response in seen.items():
        html = response.get_data(as_text=True)
        assert response.status_code == code, (code, html[:300])
        assert '<html lang="en"' in html
        for text in WERKZEUG:
            assert text not in html, (code, text)
        assert not re.search("[åäöÅÄÖ]", _heading(html)), _heading(html)


def _logged_in_client(app, locale: str):
    """A client whose user is loaded only when a page asks for it (the locale selector, the menu)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=f"failed-{locale}@example.com"))
        if user is None:
            user = create_user(f"failed-{locale}@example.com", "Test", "korrekt häst batteri", Role.COORDINATOR)
        user.locale = locale
        db.session.commit()
        token = user.session_token
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_the_500_page_after_a_failed_transaction(error_app, locale):
    """The session is left in a failed transaction: the 500 handler rolls back first, so the page (in the
    user's language, with the request's reference) is rendered instead of the handler crashing."""
    response = _logged_in_client(error_app, locale).get("/test-errors/failed-transaction")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert f'<html lang="{locale}"' in html
    assert _heading(html) == {"sv": "Något gick fel", "en": "Something went wrong"}[locale]
    assert {"sv": "Referens", "en": "Reference"}[locale] + ": req-4711" in html
    assert "IntegrityError" not in html and "Traceback" not in html


def test_the_api_500_after_a_failed_transaction_is_json(error_app):
    response = _logged_in_client(error_app, "en").get("/api/test-errors/failed-transaction")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "internal_server_error"
    assert error["message"] == "Something went wrong on our side. Please try again in a moment."
    assert error["request_id"] == "req-4711"


def test_a_request_id_is_made_when_none_was_set(error_app):
    """Without the request log's id the 500 answer still carries one, different per request."""
    ids = {_client(error_app, "en").get("/api/test-errors/crash").get_json()["error"]["request_id"] for _ in range(2)}
    assert len(ids) == 2 and all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)
