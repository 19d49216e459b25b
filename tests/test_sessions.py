"""Sessions can be revoked: log-out, password change or reset, role change, deactivation, erasure,
a followed-up walk and a coordinator removing a guest end every session and remember cookie."""

import re
import time
from datetime import date
from pathlib import Path

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.followup import operations as followup
from fieldwalk.models import AuditEntry, Finding, Role, User, Walk, WalkStatus
from tests.conftest import PASSWORD

NEW_PASSWORD = "ett helt nytt lösenord"


def _login(app, email: str, password: str = PASSWORD):
    """A separate browser (test client) logged in as this account."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _replay(app, **cookies):
    """A fresh browser carrying only the given cookies (as an attacker who copied them would)."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def _logged_in(browser, path: str = "/") -> bool:
    """True when the page answers as a logged-in user (not the redirect to the login page)."""
    response = browser.get(path)
    return not (response.status_code == 302 and "/login" in response.headers["Location"])


def _join(app, walk_id: int, name: str = "Gunnel Gäst"):
    """A phone joining the walk by its link: the guest's browser, and their user id."""
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    phone = app.test_client()
    response = phone.post(f"/join/{code}", data={"name": name, "organisation": "Boende"})
    assert response.status_code == 302
    assert phone.get_cookie("remember_token") is not None
    with app.app_context():
        guest_id = db.session.scalar(select(User.id).filter_by(name=name))
    return phone, guest_id


def test_session_cookie_captured_before_logout_no_longer_works(app, auth):
    _user_id, email = auth.make_user(Role.COORDINATOR)
    browser = _login(app, email)
    browser.post("/language", data={"language": "en", "next": "/"})
    stolen = browser.get_cookie("session").value
    assert _logged_in(_replay(app, session=stolen))
    assert browser.post("/logout").status_code == 302
    assert not _logged_in(browser)
    assert not _logged_in(_replay(app, session=stolen))
    # The whole session is gone, not only the login: the next person on the phone starts afresh.
    with browser.session_transaction() as session:
        assert "locale" not in session and "_user_id" not in session


def test_logout_ends_a_guests_remember_cookie(app, make_walk):
    walk_id = make_walk()
    phone, _guest_id = _join(app, walk_id)
    remember = phone.get_cookie("remember_token").value
    assert _logged_in(_replay(app, remember_token=remember), f"/walks/{walk_id}")
    phone.post("/logout")
    assert phone.get_cookie("remember_token") is None
    assert not _logged_in(_replay(app, remember_token=remember), f"/walks/{walk_id}")


def test_cookies_captured_before_a_password_change_no_longer_work(app, auth):
    user_id, email = auth.make_user(Role.COORDINATOR)
    other_device = _login(app, email)
    browser = _login(app, email)
    with app.test_request_context(), app.app_context():
        remember = encode_cookie(db.session.get(User, user_id).get_id())  # what "remember me" would store
    assert _logged_in(_replay(app, remember_token=remember))
    response = browser.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _logged_in(browser)  # the browser that changed it stays in
    assert not _logged_in(other_device)
    assert not _logged_in(_replay(app, remember_token=remember))


def test_password_reset_logs_out_other_sessions(app, auth, tmp_path):
    _user_id, email = auth.make_user(Role.COORDINATOR)
    laptop = _login(app, email)
    phone = app.test_client()
    phone.post("/reset", data={"email": email}).close()  # the mail goes once the answer is out
    mail = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))[-1].read_text().replace("=\n", "")
    link = re.search(r"https?://[^/\s]+(/reset/\S+)", mail).group(1)
    response = phone.post(link, data={"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert not _logged_in(laptop)
    assert _logged_in(_login(app, email, NEW_PASSWORD))


@pytest.mark.parametrize("change", ["role", "deactivate_and_reactivate", "erase_and_reactivate"])
def test_admin_changes_end_the_persons_sessions(app, client, auth, change):
    target_id, email = auth.make_user(Role.COORDINATOR)
    target = _login(app, email)
    stolen = target.get_cookie("session").value
    auth.login(Role.ADMIN)
    fields = {"name": "Tina", "organisation": "Testkommun", "responsible_party": 0, "active": "y"}
    if change == "role":
        response = client.post(f"/admin/users/{target_id}", data={**fields, "role": "deltagare"})
    elif change == "erase_and_reactivate":
        assert client.post(f"/admin/users/{target_id}/erase").status_code == 302
        assert not _logged_in(target)
        response = client.post(f"/admin/users/{target_id}", data={**fields, "role": "samordnare"})
    else:
        response = client.post(f"/admin/users/{target_id}", data={**fields, "role": "samordnare", "active": ""})
        assert response.status_code == 302
        assert not _logged_in(target)
        # Opening the account again gives no life back to the sessions it had before.
        response = client.post(f"/admin/users/{target_id}", data={**fields, "role": "samordnare"})
    assert response.status_code == 302
    assert not _logged_in(target)
    assert not _logged_in(_replay(app, session=stolen))


def test_a_name_change_keeps_the_person_logged_in(app, client, auth):
    target_id, email = auth.make_user(Role.COORDINATOR)
    target = _login(app, email)
    auth.login(Role.ADMIN)
    response = client.post(
        f"/admin/users/{target_id}",
        data={
            "name": "Nytt Namn",
            "organisation": "Testkommun",
            "role": "samordnare",
            "responsible_party": 0,
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert _logged_in(target)


def test_guest_cookie_stops_working_when_the_walk_is_followed_up(app, client, auth, make_walk):
    walk_id = make_walk(status=WalkStatus.COMPLETED)
    phone, _guest_id = _join_before_closing(app, walk_id)
    remember = phone.get_cookie("remember_token").value
    auth.login(Role.COORDINATOR)
    assert client.post(f"/walks/{walk_id}/status", data={"status": "followed_up"}).status_code == 302
    assert not _logged_in(phone, f"/walks/{walk_id}")
    assert not _logged_in(_replay(app, remember_token=remember), f"/walks/{walk_id}")


def test_guest_cookie_stops_working_when_a_meeting_follows_the_walk_up(app, auth, make_walk):
    walk_id = make_walk(status=WalkStatus.COMPLETED)
    phone, _guest_id = _join_before_closing(app, walk_id)
    # A guest who also takes part in a walk still going on keeps that one.
    other_walk = make_walk(title="Nästa vandring")
    other_phone, other_guest = _join(app, other_walk, name="Olle i två vandringar")
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        walk.participants.append(db.session.get(User, other_guest))
        db.session.commit()
    coordinator_id, _email = auth.make_user(Role.COORDINATOR)
    with app.app_context():
        coordinator = db.session.get(User, coordinator_id)
        meeting = followup.create_meeting(
            coordinator,
            held_on=date(2026, 12, 1),
            walk=db.session.get(Walk, walk_id),
            title="Uppföljning",
            attendees="",
            period_start=None,
            period_end=None,
        )
        followup.finish_meeting(meeting, coordinator)
        db.session.commit()
        assert db.session.get(Walk, walk_id).status == WalkStatus.FOLLOWED_UP
    assert not _logged_in(phone, f"/walks/{walk_id}")
    assert _logged_in(other_phone, f"/walks/{other_walk}")


def _join_before_closing(app, walk_id: int):
    """Join while the walk is ongoing, then let it be completed (the join link closes with it)."""
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        walk.status = WalkStatus.ONGOING
        db.session.commit()
    phone, guest_id = _join(app, walk_id)
    assert _logged_in(phone, f"/walks/{walk_id}")
    with app.app_context():
        db.session.get(Walk, walk_id).status = WalkStatus.COMPLETED
        db.session.commit()
    return phone, guest_id


def test_coordinator_removes_a_guest_from_a_walk(app, client, auth, make_walk, category_id):
    walk_id = make_walk()
    phone, guest_id = _join(app, walk_id, name="Trolle Troll")
    remember = phone.get_cookie("remember_token").value
    assert (
        phone.post(
            f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": "Trasig lampa"}
        ).status_code
        == 302
    )
    stayer, stayer_id = _join(app, walk_id, name="Stina Stannar")
    auth.login(Role.COORDINATOR)
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    remove_url = f"/walks/{walk_id}/participants/{guest_id}/remove"
    assert "Trolle Troll" in page and f'action="{remove_url}"' in page
    response = client.post(remove_url)
    assert response.status_code == 302
    assert not _logged_in(phone, f"/walks/{walk_id}")
    assert not _logged_in(_replay(app, remember_token=remember), f"/walks/{walk_id}")
    assert _logged_in(stayer, f"/walks/{walk_id}")
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        assert [p.id for p in walk.participants] == [stayer_id]
        assert db.session.scalar(select(Finding.description).filter_by(reporter_id=guest_id)) == "Trasig lampa"
        entry = db.session.scalar(select(AuditEntry).filter_by(action="walk.participant_removed"))
        assert entry.object_id == walk_id and "Trolle" not in (entry.detail or "")
    # Removing someone who is not (or no longer) in the walk is a clear 404, not a 500.
    assert client.post(remove_url).status_code == 404
    assert client.post(f"/walks/{walk_id}/participants/999999/remove").status_code == 404


def test_only_staff_remove_participants_and_only_with_csrf(app, client, auth, make_walk):
    walk_id = make_walk()
    phone, guest_id = _join(app, walk_id, name="Gunnel Gäst")
    _other_phone, other_id = _join(app, walk_id, name="Gustav Gäst")
    assert phone.post(f"/walks/{walk_id}/participants/{other_id}/remove").status_code == 403
    auth.login(Role.COORDINATOR)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/walks/{walk_id}/participants/{guest_id}/remove").status_code == 400
    with app.app_context():
        assert len(db.session.get(Walk, walk_id).participants) == 2


def test_a_session_cookie_expires_after_the_session_lifetime(app, auth, monkeypatch):
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 12 * 3600
    _user_id, email = auth.make_user(Role.COORDINATOR)
    stolen = _login(app, email).get_cookie("session").value
    assert _logged_in(_replay(app, session=stolen))
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", 1)
    time.sleep(2.1)
    assert not _logged_in(_replay(app, session=stolen))


def test_a_forged_session_with_a_plain_user_id_logs_nobody_in(app, auth):
    user_id, _email = auth.make_user(Role.ADMIN)
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = str(user_id)  # what a session held before tokens
    assert not _logged_in(browser)


@pytest.mark.committed  # migrations build tables through their own connection
def test_migration_gives_every_existing_user_a_token_of_their_own(app):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.test_migrations import _empty

    with app.app_context():
        _empty(app)
        upgrade(revision="0003")
        with db.engine.begin() as conn:
            for n in range(3):
                conn.execute(
                    text(
                        "INSERT INTO users (email, name, organisation, role, active, created_at) "
                        "VALUES (:email, :name, '', 'samordnare', :active, CURRENT_TIMESTAMP)"
                    ),
                    {"email": f"old{n}@example.com", "name": f"Old {n}", "active": True},
                )
        upgrade()
        tokens = db.session.scalars(select(User.session_token)).all()
        assert len(tokens) == 3 and len(set(tokens)) == 3 and all(len(t) >= 40 for t in tokens)
