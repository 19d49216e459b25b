"""Accounts: password change and reset by e-mail, admin role changes on the audit log, GDPR export/erase."""

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldwalk.extensions import db
from fieldwalk.models import AuditEntry, Category, Finding, ResponsibleParty, Role, User
from tests.conftest import PASSWORD


def _last_mail(app) -> str:
    files = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    return files[-1].read_text() if files else ""


def test_password_change(app, client, auth):
    auth.login(Role.COORDINATOR)
    response = client.post(
        "/account/password",
        data={"current_password": "fel", "new_password": "ett långt lösen", "new_password_again": "ett långt lösen"},
    )
    assert response.status_code == 400 and "Fel lösenord." in response.get_data(as_text=True)
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": "kort", "new_password_again": "kort"}
    )
    assert "minst 10 tecken" in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "ett långt lösen", "new_password_again": "ett långt lösen"},
    )
    assert response.status_code == 302


def test_password_reset_by_mail_link(app, client, auth, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    _user_id, email = auth.make_user(Role.COORDINATOR)
    # Unknown and known addresses get the same answer; only the known one gets a mail.
    client.post("/reset", data={"email": "okand@example.com"}).close()  # the mail goes once the answer is out
    assert _last_mail(app) == ""
    response = client.post("/reset", data={"email": email})
    assert response.status_code == 302
    response.close()
    mail = _last_mail(app)
    link = re.search(r"http://127.0.0.1:5000(/reset/\S+)", mail.replace("=\n", "")).group(1)
    assert f"To: {email}" in mail
    response = client.post(link, data={"new_password": "nytt långt lösen", "new_password_again": "nytt långt lösen"})
    assert response.status_code == 302
    assert client.post("/login", data={"email": email, "password": "nytt långt lösen"}).status_code == 302
    # The link works once.
    response = client.get(link)
    assert response.status_code == 400 and "gått ut eller redan använts" in response.get_data(as_text=True)


def test_expired_reset_token_is_refused(app, client, auth, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    _user_id, email = auth.make_user(Role.COORDINATOR)
    client.post("/reset", data={"email": email}).close()
    link = re.search(r"http://127.0.0.1:5000(/reset/\S+)", _last_mail(app).replace("=\n", "")).group(1)
    app.config["PASSWORD_RESET_MAX_AGE"] = 1
    time.sleep(2.1)
    try:
        response = client.post(
            link, data={"new_password": "nytt långt lösen", "new_password_again": "nytt långt lösen"}
        )
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert response.status_code == 400
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def test_admin_changes_role_on_the_audit_log(app, client, auth):
    target_id, _email = auth.make_user(Role.PARTICIPANT)
    auth.login(Role.ADMIN)
    with app.app_context():
        party_id = db.session.scalar(select(ResponsibleParty.id).filter_by(name="Trafikverket"))
    response = client.post(
        f"/admin/users/{target_id}",
        data={"name": "Tina", "role": "ansvarig", "responsible_party": party_id, "active": "y"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, target_id)
        assert user.role == Role.RESPONSIBLE and user.responsible_party_id == party_id
        entry = db.session.scalar(select(AuditEntry).filter_by(action="user.role_changed"))
        assert entry.object_id == target_id and "deltagare" in entry.detail and "ansvarig" in entry.detail
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "user.role_changed" in page and "auth.login" in page


def test_admin_cannot_demote_itself(client, auth):
    admin_id = auth.login(Role.ADMIN)
    response = client.post(f"/admin/users/{admin_id}", data={"name": "Jag", "role": "deltagare", "active": "y"})
    assert response.status_code == 409


def test_export_and_erase_a_participant(app, client, auth, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id, name="Greta Granne", organisation="Brf Eken")
    client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": "Mörkt"})
    with app.app_context():
        person_id = db.session.scalar(select(Finding.reporter_id))
    auth.login(Role.ADMIN)
    data = client.get(f"/admin/users/{person_id}/export.json").json
    assert data["user"]["name"] == "Greta Granne" and data["findings"][0]["description"] == "Mörkt"
    assert data["walks_joined"][0]["walk_id"] == walk_id
    assert client.post(f"/admin/users/{person_id}/erase").status_code == 302
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        # The finding stays; the words the person typed go (see admin.operations.erase_person).
        assert finding.description == "[borttaget]" and finding.category_id == category_id()
        assert finding.reporter_name == "borttagen deltagare" and finding.reporter_org == ""
        person = db.session.get(User, person_id)
        assert person.name == "borttagen deltagare" and person.email is None and not person.active
    assert "Greta Granne" not in client.get("/findings/1").get_data(as_text=True)


def test_admin_edits_a_category(app, client, auth):
    auth.login(Role.ADMIN)
    response = client.post(
        "/admin/categories/1",
        data={
            "name_sv": "Gatubelysning",
            "name_en": "Street lighting",
            "icon": "💡",
            "default_party_id": 0,
            "sort_order": 0,
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert "Gatubelysning" in client.get("/admin/categories").get_data(as_text=True)
    response = client.post(
        "/admin/categories/new",
        data={"name_sv": "Hundbajs", "name_en": "Dog mess", "sort_order": 20, "active": "y", "default_party_id": 0},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("url", ["/admin/parties/new", "/admin/parties/{other}"])
def test_a_party_name_that_is_taken_is_refused_with_the_input_kept(app, client, auth, url):
    """A new party, or a renamed one, with the name of another party: a 409 with one message and what was
    typed, never the 500 of the unique constraint (found by a tester)."""
    auth.login(Role.ADMIN)
    with app.app_context():
        parties = db.session.scalars(db.select(ResponsibleParty).order_by(ResponsibleParty.id)).all()
        taken, other = parties[0].name, parties[1].id
    response = client.post(url.format(other=other), data={"name": taken, "email": "typed@example.com", "active": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert page.count("Det finns redan en post med det namnet.") == 1
    assert 'value="typed@example.com"' in page
    with app.app_context():
        assert db.session.scalar(db.select(func.count()).select_from(ResponsibleParty).filter_by(name=taken)) == 1


def test_an_email_typed_with_spaces_logs_in_and_creates_accounts(app, client, auth):
    """A phone keyboard's autocomplete leaves a space after the address ("anna@kommun.se "): the log-in,
    the reset request and a new account take the address without it, never "Ogiltig e-postadress"."""
    _user_id, email = auth.make_user(Role.COORDINATOR)
    response = client.post("/login", data={"email": f"  {email.upper()} ", "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.logout()
    assert client.post("/reset", data={"email": f"{email} "}).status_code == 302
    auth.login(Role.ADMIN)
    typed = {"name": "Ny Person", "email": " ny.person@example.com ", "role": Role.PARTICIPANT.value}
    response = client.post("/admin/users/new", data=typed)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.email).filter_by(name="Ny Person")) == "ny.person@example.com"


@pytest.mark.parametrize("url", ["/admin/categories/new", "/admin/categories/2"])
def test_a_category_name_that_is_taken_is_refused_with_the_input_kept(app, client, auth, url):
    """Two categories named "Belysning" (or "lighting" in English, in any case) would leave participants
    guessing which to pick: a new or renamed category with a taken name is a 409 with what was typed."""
    auth.login(Role.ADMIN)
    with app.app_context():
        first = db.session.scalars(db.select(Category).order_by(Category.id)).first()
        taken_sv, taken_en, count = first.name_sv, first.name_en, db.session.scalar(select(func.count(Category.id)))
    typed = ((f" {taken_sv.upper()}", "Something new"), ("Något nytt", taken_en.lower()), (f"{taken_sv}\u00a0", "Else"))
    for name_sv, name_en in typed:
        data = {"name_sv": name_sv, "name_en": name_en, "icon": "✨", "sort_order": 30, "default_party_id": 0}
        response = client.post(url, data={**data, "active": "y"})
        page = response.get_data(as_text=True)
        assert response.status_code == 409, page
        assert page.count("Det finns redan en kategori med det namnet.") == 1
        assert 'value="✨"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Category.id))) == count
        assert db.session.scalar(select(func.count(Category.id)).where(Category.name_sv == taken_sv)) == 1


def test_category_names_differing_only_in_inner_spaces_are_the_same_name(client, auth):
    """ "Ny  kat" and "Ny kat" look alike on the phone's category grid (found by a tester)."""
    auth.login(Role.ADMIN)
    data = {"name_en": "New one", "sort_order": 30, "default_party_id": 0, "active": "y"}
    assert client.post("/admin/categories/new", data={**data, "name_sv": "Mörk gång"}).status_code == 302
    again = client.post("/admin/categories/new", data={**data, "name_sv": "Mörk  gång", "name_en": "Dark path"})
    assert again.status_code == 409
