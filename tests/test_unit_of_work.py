"""One commit point: operations only flush, the request's end commits a success and rolls back anything
else; a refused operation answers with its own status, once, with what was typed kept; a commit that fails
gives the 500 page, never a redirect to something not stored or a success message."""

import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, AuditEntry, Finding, Role, User, Walk
from tests.test_actions import party_id, two_findings  # noqa: F401  (a fixture)


def _alerts(html: str) -> list[str]:
    """The texts of every error box on the page."""
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r'class="flash flash-error"[^>]*>(.*?)</p>', html)]


def test_an_action_refusal_answers_with_its_status_and_keeps_the_input(app, client, two_findings):  # noqa: F811
    _walk, (light, _graffiti) = two_findings
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    refused = client.post(
        "/actions/new",
        data={
            "finding": light,
            "title": "Byt lamporna",
            "priority": "low",
            "responsible_party": 0,
            "due_date": yesterday,
        },
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert _alerts(html) == ["Klart senast kan inte vara ett datum som redan har passerat."]
    assert 'value="Byt lamporna"' in html
    client.post("/actions/new", data={"finding": light, "title": "Byt lampor", "priority": "low"})
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    # A move the item's state does not allow (new → closed) is a conflict (409), not invalid input (422).
    moved = client.post(f"/actions/{item_id}/comment", data={"to": "closed", "text": "Klart enligt mig"})
    assert moved.status_code == 409, moved.status_code
    html = moved.get_data(as_text=True)
    assert len(_alerts(html)) == 1 and "Klart enligt mig" in html


def test_an_admin_refusal_answers_with_its_status_and_keeps_the_input(app, client, auth):
    auth.make_user(Role.PARTICIPANT, email="finns@example.com")
    auth.login(Role.ADMIN)
    refused = client.post(
        "/admin/users/new",
        data={"email": "finns@example.com", "name": "Nya Namnet", "role": "deltagare", "responsible_party": 0},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert _alerts(html) == ["Det finns redan ett konto med den e-postadressen."]
    assert 'value="Nya Namnet"' in html
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id)).filter_by(name="Nya Namnet")) == 0


def test_the_followup_page_shows_its_error_once(client, auth):
    auth.login()
    refused = client.post(
        "/followup/",
        data={"scope": "period", "period_start": "2026-12-01", "period_end": "2026-10-01", "held_on": "2026-11-20"},
    )
    assert refused.status_code == 422
    alerts = _alerts(refused.get_data(as_text=True))
    assert len(alerts) == 1, alerts


@contextmanager
def failing_commits(app):
    """Every commit of the session fails meanwhile, as when the database goes away between the flush and
    the commit; the client sees what a person would (the 500 page, not the traceback)."""

    def fail(_session):
        raise OperationalError("COMMIT", {}, Exception("the database is gone"))

    propagate = app.config["PROPAGATE_EXCEPTIONS"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    event.listen(Session, "before_commit", fail)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", fail)
        app.config["PROPAGATE_EXCEPTIONS"] = propagate


@pytest.fixture
def failing_commit(app):
    with failing_commits(app):
        yield


@pytest.fixture
def coordinator(auth):
    return auth.login(Role.COORDINATOR)


def test_a_failed_commit_is_a_500_without_the_success_message(app, client, coordinator, failing_commit):
    response = client.post(
        "/walks/new", data={"title": "Kvällsvandring", "area": "Norr", "starts_at": "2026-12-01T18:00"}
    )
    assert response.status_code == 500
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert "Vandringen är planerad." not in html and "Något gick fel" in html
    with app.app_context():
        assert db.session.scalar(select(Walk.id).filter_by(title="Kvällsvandring")) is None


def test_the_success_message_of_a_failed_commit_never_shows_later(app, client, coordinator, make_walk, category_id):
    walk_id = make_walk()
    with failing_commits(app):
        response = client.post(
            f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": "Mörkt"}
        )
    assert response.status_code == 500 and "Location" not in response.headers
    assert "Fyndet är sparat." not in response.get_data(as_text=True)
    later = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "Fyndet är sparat." not in later and "Fyndet" not in " ".join(re.findall(r'class="flash[^"]*"', later))
    with app.app_context():
        assert db.session.scalar(select(Finding.id)) is None


def test_a_refused_login_is_still_on_record(app, client, auth):
    """The one answer with an error status that keeps what it wrote: the failed attempt (explicit commit)."""
    _user_id, email = auth.make_user(Role.COORDINATOR)
    assert client.post("/login", data={"email": email, "password": "fel lösenord"}).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).filter_by(action="auth.login_failed")) is not None
