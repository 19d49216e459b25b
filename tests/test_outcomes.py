"""What happened to my finding: the reporter sees the action item's status and public history, and — if they
left an address when joining — gets exactly one mail per finding and outcome (resolved, or rejected with the
reason), in their language, with a link on BASE_URL. The address can be removed and is erased with the person."""

import email
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.admin import operations as admin
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import (
    ActionItem,
    ActionStatus,
    Category,
    Finding,
    FindingNotice,
    ResponsibleParty,
    Role,
    User,
    Walk,
)
from fieldwalk.seed import create_user
from tests.conftest import PASSWORD

ADDRESS = "gunnel.gast@example.org"
S = ActionStatus


def _mails(app) -> list[email.message.EmailMessage]:
    outbox = Path(app.config["MAIL_OUTBOX"])
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def _to_reporter(app, address=ADDRESS):
    return [m for m in _mails(app) if m["To"] == address]


def _join(app, client, walk_id, **data):
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    client.delete_cookie("remember_token")
    with client.session_transaction() as session:
        session.clear()
    return client.post(f"/join/{code}", data={"name": "Gunnel Gäst", "organisation": "Boende", **data})


@pytest.fixture
def reported(app, client, make_walk, category_id):
    """A guest joined with an address and logged a finding (through the form); a coordinator exists."""
    walk_id = make_walk()
    assert _join(app, client, walk_id, notify_email=f"  {ADDRESS} ").status_code == 302
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        data={"category": category_id(), "severity": "medium", "description": "Mörkt i tunneln", "place": "Tunneln"},
    )
    assert response.status_code == 302
    with app.app_context():
        create_user("sam@example.com", "Sam Samordnare", PASSWORD, Role.COORDINATOR)
        db.session.commit()
        finding = db.session.scalar(select(Finding))
        return {"walk": walk_id, "finding": finding.id, "guest": finding.reporter_id}


def _coordinator():
    return db.session.scalar(select(User).filter_by(email="sam@example.com"))


def _item(finding_id: int, title="Byt lampan") -> ActionItem:
    party = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
    item = actions.create_action_item(
        [db.session.get(Finding, finding_id)], _coordinator(), ActionItemInput(title=title, responsible_party=party)
    )
    db.session.commit()
    return item


def _move(item_id: int, to: ActionStatus, text: str = "") -> None:
    actions.transition(db.session.get(ActionItem, item_id), to, _coordinator(), text=text)
    db.session.commit()


def test_the_address_is_kept_at_joining(app, reported):
    with app.app_context():
        guest = db.session.get(User, reported["guest"])
        assert guest.notify_email == ADDRESS and guest.is_guest  # not a log-in address


def test_a_bad_address_is_refused_with_what_was_typed_kept(app, client, make_walk):
    walk_id = make_walk()
    response = _join(app, client, walk_id, notify_email="gunnel@", name="Gunnel Gäst")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Skriv en e-postadress" in page
    assert 'id="form-error">Kontrollera de markerade fälten.' in page  # at the top: the field is below the fold
    assert 'value="Gunnel Gäst"' in page and 'value="gunnel@"' in page
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(name="Gunnel Gäst")) is None


def test_the_participant_sees_and_removes_the_address(app, client, reported):
    page = client.get(f"/walks/{reported['walk']}").get_data(as_text=True)
    assert ADDRESS in page and "Ta bort min e-postadress" in page
    assert ADDRESS in client.get(f"/findings/{reported['finding']}").get_data(as_text=True)
    bad = client.post(f"/walks/{reported['walk']}/notify-email", data={"notify_email": "inte en adress"})
    assert bad.status_code == 400 and 'value="inte en adress"' in bad.get_data(as_text=True)
    response = client.post(f"/walks/{reported['walk']}/notify-email", data={"notify_email": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, reported["guest"]).notify_email is None
        item = _item(reported["finding"])
        _move(item.id, S.DONE)
    assert _to_reporter(app) == []  # removed: no mail
    assert ADDRESS not in client.get(f"/walks/{reported['walk']}").get_data(as_text=True)


def test_only_the_person_changes_their_address(app, reported):
    with app.app_context():
        guest, other = db.session.get(User, reported["guest"]), _coordinator()
        with pytest.raises(Exception, match="Bara deltagaren"):
            from fieldwalk.walks.operations import set_notify_email

            set_notify_email(guest, other, None)
        db.session.rollback()
        assert db.session.get(User, reported["guest"]).notify_email == ADDRESS


def test_the_reporter_sees_the_status_and_the_public_history(app, client, reported):
    with app.app_context():
        item = _item(reported["finding"])
        actions.add_comment(db.session.get(ActionItem, item.id), _coordinator(), "Lampan är beställd")
        actions.add_comment(db.session.get(ActionItem, item.id), _coordinator(), "Internt: dyr armatur", internal=True)
        db.session.commit()
        _move(item.id, S.IN_PROGRESS, "Elektrikern kommer på tisdag")
    page = client.get(f"/findings/{reported['finding']}").get_data(as_text=True)
    assert "Byt lampan" in page and "Pågår" in page
    assert "Lampan är beställd" in page and "Elektrikern kommer på tisdag" in page
    assert "Internt: dyr armatur" not in page and "Sam Samordnare" not in page
    assert "Inte hanterat ännu" not in page


def test_resolve_reopen_resolve_again_is_one_mail(app, reported):
    with app.app_context():
        item = _item(reported["finding"])
        _move(item.id, S.IN_PROGRESS)
        assert _to_reporter(app) == []  # still being worked on
        _move(item.id, S.DONE, "Ny lampa uppsatt")
        _move(item.id, S.ASSIGNED, "Lampan lyser inte ändå")
        _move(item.id, S.DONE, "Nu lyser den")
        _move(item.id, S.CLOSED)
    mails = _to_reporter(app)
    assert len(mails) == 1
    body = mails[0].get_body(("plain",)).get_content()
    assert mails[0]["Subject"] == "Ditt fynd är åtgärdat: Belysning"
    assert "Ny lampa uppsatt" in body and "Hej Gunnel Gäst!" in body and "Tunneln" in body
    assert f"http://localhost/findings/{reported['finding']}" in body or "/findings/" in body
    with app.app_context():
        assert db.session.scalars(select(FindingNotice.outcome)).all() == ["resolved"]


def test_rejected_with_the_reason_in_the_reporters_language(app, reported):
    with app.app_context():
        db.session.get(User, reported["guest"]).locale = "en"
        db.session.commit()
        item = _item(reported["finding"])
        _move(item.id, S.REJECTED, "Marken är privat; vi har kontaktat fastighetsägaren")
    [mail] = _to_reporter(app)
    body = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "Your finding will not be acted on: Lighting"
    assert "Marken är privat; vi har kontaktat fastighetsägaren" in body and "Reason:" in body
    base = app.config["BASE_URL"].rstrip("/")
    assert f"{base}/findings/{reported['finding']}" in body


def test_a_finding_with_two_items_is_told_when_both_are_finished(app, reported):
    with app.app_context():
        first, second = _item(reported["finding"]), _item(reported["finding"], title="Klipp buskarna")
        _move(first.id, S.DONE)
        assert _to_reporter(app) == []  # the second is still open
        _move(second.id, S.REJECTED, "Inte kommunens mark")
    [mail] = _to_reporter(app)
    assert "åtgärdat" in mail["Subject"]  # one of them was done


def test_no_address_no_mail(app, client, make_walk, category_id):
    walk_id = make_walk()
    assert _join(app, client, walk_id).status_code == 302
    with app.app_context():
        guest = db.session.scalar(select(User).filter_by(name="Gunnel Gäst"))
        finding, _ = findings.create_finding(
            db.session.get(Walk, walk_id), guest, FindingInput(category=db.session.get(Category, category_id()))
        )
        create_user("sam@example.com", "Sam Samordnare", PASSWORD, Role.COORDINATOR)
        db.session.commit()
        item = _item(finding.id)
        _move(item.id, S.DONE)
        assert db.session.scalar(select(FindingNotice.id)) is None
    assert all(m["To"] != "" for m in _mails(app)) and not [m for m in _mails(app) if "fynd är" in m["Subject"]]


def test_a_rolled_back_move_mails_nobody(app, reported):
    with app.app_context():
        item = _item(reported["finding"])
        actions.transition(db.session.get(ActionItem, item.id), S.DONE, _coordinator())
        db.session.rollback()
        assert db.session.scalar(select(FindingNotice.id)) is None
    assert _to_reporter(app) == []


def test_erasure_removes_the_address_and_the_mails(app, reported):
    with app.app_context():
        item = _item(reported["finding"])
        _move(item.id, S.DONE)
        assert len(_to_reporter(app)) == 1
        admin_user = create_user("adam@example.com", "Adam Admin", PASSWORD, Role.ADMIN)
        guest = db.session.get(User, reported["guest"])
        exported = admin.export_person(guest)
        assert exported["user"]["notify_email"] == ADDRESS
        assert len(exported["mails"]) == 1
        erasure = admin.erase_person(guest, admin_user)
        db.session.commit()
        admin.finish_erasure(erasure)
        assert db.session.get(User, reported["guest"]).notify_email is None
    assert _to_reporter(app) == []
    assert not any(ADDRESS in p.read_text(errors="replace") for p in Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))


def test_no_action_needed_is_told_with_the_note_once(app, reported):
    with app.app_context():
        finding = db.session.get(Finding, reported["finding"])
        findings.set_no_action(finding, _coordinator(), True, "Lampan är redan utbytt sedan i går")
        db.session.commit()
        findings.set_no_action(finding, _coordinator(), False)
        findings.set_no_action(finding, _coordinator(), True, "Fortfarande ingen åtgärd")
        db.session.commit()
    [mail] = _to_reporter(app)
    assert (
        "inte att åtgärdas" in mail["Subject"]
        and "Lampan är redan utbytt sedan i går" in mail.get_body(("plain",)).get_content()
    )


def test_a_party_member_sees_only_their_own_partys_item_on_a_shared_finding(app, client, auth, reported):
    with app.app_context():
        _item(reported["finding"], title="Gatuavdelningens del")
        other = db.session.scalar(select(ResponsibleParty).filter_by(name="Trafikverket"))
        item = actions.create_action_item(
            [db.session.get(Finding, reported["finding"])],
            _coordinator(),
            ActionItemInput(title="Trafikverkets del", responsible_party=other),
        )
        actions.add_comment(item, _coordinator(), "Trafikverket svarar i januari")
        db.session.commit()
    auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    page = client.get(f"/findings/{reported['finding']}").get_data(as_text=True)
    assert "Gatuavdelningens del" in page
    assert "Trafikverkets del" not in page and "Trafikverket svarar" not in page


def test_a_guest_who_chose_english_before_joining_is_mailed_in_english(app, client, make_walk, category_id):
    walk_id = make_walk()
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
        create_user("sam@example.com", "Sam Samordnare", PASSWORD, Role.COORDINATOR)
        db.session.commit()
    client.post("/language", data={"language": "en"})
    assert client.post(f"/join/{code}", data={"name": "Gunnel Gäst", "notify_email": ADDRESS}).status_code == 302
    assert (
        client.post(
            f"/walks/{walk_id}/findings/new", data={"category": category_id(), "severity": "medium"}
        ).status_code
        == 302
    )
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.reporter.locale == "en"
        item = _item(finding.id)
        _move(item.id, S.DONE, "Fixed")
    [mail] = _to_reporter(app)
    assert (
        mail["Subject"] == "Your finding has been fixed: Lighting"
        and "Hello Gunnel Gäst," in mail.get_body(("plain",)).get_content()
    )


def _stop_link(app, mail) -> str:
    link = mail["List-Unsubscribe"].strip("<>")
    # in the file as sent, as mail clients read it: one line "<https://…>", not RFC 2047 encoded-words
    # (found by a tester)
    raw = "".join(p.read_text() for p in Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    assert f"\nList-Unsubscribe: <{link}>\n" in raw.replace("\r\n", "\n")
    assert link in mail.get_body(("plain",)).get_content()  # the same link in the text, for a person
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return link.removeprefix("http://localhost")


def test_the_stop_link_of_the_mail_works_without_a_session(app, client, reported):
    """Weeks later the guest's session is gone: the link in the mail stops the mails. Opening it only asks
    (a mail scanner opens links); the button, or the mail client's one-click POST (RFC 8058, no CSRF
    token), removes the address; a changed address or a tampered link stops nothing."""
    with app.app_context():
        _move(_item(reported["finding"]).id, S.DONE, "Ny lampa")
    (mail,) = _to_reporter(app)
    link = _stop_link(app, mail)
    assert "/walks/" not in link and ADDRESS not in link  # the address is not in the link
    client.delete_cookie("session")
    asked = client.get(link)
    assert asked.status_code == 200 and "Sluta skicka mejl till mig" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, reported["guest"]).notify_email == ADDRESS  # opening is not stopping
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the link itself is the authority
    assert client.post(link[:-3] + "abc").status_code == 404
    one_click = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "Klart." in one_click.get_data(as_text=True)
    with app.app_context():
        guest = db.session.get(User, reported["guest"])
        assert guest.notify_email is None
        # a new address: the old mail's link no longer touches it
        guest.notify_email = "ny.adress@example.org"
        db.session.commit()
    again = client.post(link)
    assert again.status_code == 200 and "Vi skickar inga mejl om dina fynd till den adressen." in again.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(User, reported["guest"]).notify_email == "ny.adress@example.org"


def test_the_notices_to_staff_have_no_stop_link(app, reported):
    """A notice about an action item goes to a party's work address: it is part of the job, not a list."""
    with app.app_context():
        _item(reported["finding"])
    staff = [m for m in _mails(app) if m["To"] != ADDRESS]
    assert staff and all(m["List-Unsubscribe"] is None for m in staff)
