"""On a phone: a resident joins with an e-mail address, logs a finding, and later sees what happened to it —
the action item's status and public comments — and gets exactly one mail when it is resolved."""

import email
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.models import ActionStatus, Finding, ResponsibleParty, Role, User, Walk
from fieldwalk.seed import create_user
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
ADDRESS = "rut.resident@example.org"
SHOT = "/work/shots/h2/finding-outcome.png"


def _mails_to(app, address):
    outbox = Path(app.config["MAIL_OUTBOX"])
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    return [m for m in mails if m["To"] == address]


def test_the_reporter_follows_the_finding_and_gets_one_mail(app, browser, live_server, make_walk):
    walk_id = make_walk()
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
        coordinator = create_user("sam@example.com", "Sam Samordnare", PASSWORD, Role.COORDINATOR)
        db.session.commit()
        coordinator_id = coordinator.id
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        locale="sv-SE",
        base_url=live_server,
        geolocation={"latitude": 56.879, "longitude": 14.8059, "accuracy": 10},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(f"/join/{code}")
    page.fill("#name", "Rut Resident")
    page.fill("#notify_email", ADDRESS)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new")
    page.click("label[for^=category-] >> text=Belysning")
    page.fill("#description", "Lampan vid lekplatsen är trasig")
    page.click("button[type=submit] >> text=Spara fynd")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    page.goto(f"/walks/{walk_id}")
    assert ADDRESS in page.inner_text("#notify")  # shown, with a button to remove it

    with app.app_context():
        finding = db.session.scalar(select(Finding))
        coordinator = db.session.get(User, coordinator_id)
        party = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        item = actions.create_action_item(
            [finding], coordinator, ActionItemInput(title="Byt lampan vid lekplatsen", responsible_party=party)
        )
        actions.add_comment(item, coordinator, "Ny armatur är beställd")
        actions.add_comment(item, coordinator, "Internt: leverantören är sen", internal=True)
        db.session.commit()
        finding_id, item_id = finding.id, item.id

    page.goto(f"/findings/{finding_id}")
    section = page.inner_text("section[aria-labelledby=actions-heading]")
    assert "Byt lampan vid lekplatsen" in section and "Tilldelad" in section
    assert "Ny armatur är beställd" in section and "Internt" not in section and "Sam Samordnare" not in section
    assert _mails_to(app, ADDRESS) == []

    with app.app_context():
        actions.transition(
            db.session.get(Finding, finding_id).action_items[0],
            ActionStatus.DONE,
            db.session.get(User, coordinator_id),
            text="Lampan är utbytt",
        )
        db.session.commit()
    page.reload()
    section = page.inner_text("section[aria-labelledby=actions-heading]")
    assert "Åtgärdad" in section and "Lampan är utbytt" in section
    page.screenshot(path=SHOT, full_page=True)
    [mail] = _mails_to(app, ADDRESS)
    text = mail.get_body(("plain",)).get_content()
    assert "Lampan är utbytt" in text and f"/findings/{finding_id}" in text

    # Re-opened and resolved again: still the one mail.
    with app.app_context():
        from fieldwalk.models import ActionItem

        item = db.session.get(ActionItem, item_id)
        actor = db.session.get(User, coordinator_id)
        actions.transition(item, ActionStatus.ASSIGNED, actor, text="Lyser inte ändå")
        actions.transition(item, ActionStatus.DONE, actor, text="Nu lyser den")
        db.session.commit()
    assert len(_mails_to(app, ADDRESS)) == 1
    context.close()
