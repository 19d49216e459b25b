"""In a follow-up meeting on a phone: the agenda lists the walk's findings nobody decided on, and each is
triaged from the meeting step (no action with a reason, or an action item with a handläggare) without
leaving the meeting."""

import os
from datetime import date, datetime

import pytest
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import (
    ActionItem,
    Category,
    Finding,
    FollowUpMeeting,
    ResponsibleParty,
    Role,
    User,
    Walk,
    WalkStatus,
)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("FIELDWALK_SHOTS")  # a folder: screenshots of the steps are saved there


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_meeting_agenda_lists_untriaged_findings_and_triages_them(app, phone, auth):
    auth.make_user(Role.RESPONSIBLE, "Gatu- och parkavdelningen", name="Göran Gata")
    auth.make_user(Role.RESPONSIBLE, "Polisen, kommunpolis", name="Petra Polis")
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(role=Role.RESPONSIBLE))
        coordinator = User(email="s@example.com", name="Sara", role=Role.COORDINATOR)
        walk = Walk(
            title="Kvällsvandring Norr", area="Norr", starts_at=datetime(2026, 11, 20, 17), status=WalkStatus.COMPLETED
        )
        db.session.add_all([coordinator, walk])
        db.session.flush()
        made = []
        for slug, place in [("belysning", "Gångtunneln"), ("klotter", "Skolans vägg"), ("bra-plats", "Torget")]:
            finding, _ = findings.create_finding(
                walk,
                coordinator,
                FindingInput(
                    category=db.session.scalar(select(Category).filter_by(slug=slug)),
                    place=place,
                    description=f"Fynd vid {place}",
                ),
            )
            made.append(finding)
        gata = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        actions.create_action_item(
            [made[0]], coordinator, ActionItemInput(title="Laga belysningen", responsible_party=gata)
        )
        meeting = FollowUpMeeting(title="Uppföljning Norr", walk=walk, held_on=date(2026, 12, 1))
        db.session.add(meeting)
        db.session.commit()
        meeting_id, gata_id, graffiti_id, positive_id = meeting.id, gata.id, made[1].id, made[2].id
        assert actor is not None

    page = phone(role=Role.COORDINATOR)
    page.goto(f"/followup/meetings/{meeting_id}")
    agenda = page.locator("#untriaged")
    assert "2 fynd utan beslut" in agenda.inner_text()
    assert "Klotter: Skolans vägg" in agenda.inner_text() and "Bra plats: Torget" in agenda.inner_text()
    assert "Gångtunneln" not in agenda.inner_text()
    _shot(page, "meeting-agenda-untriaged-360.png")

    page.click("text=Gå igenom fynden utan beslut")
    page.wait_for_url(f"**/followup/meetings/{meeting_id}/findings/{graffiti_id}")
    assert "Fynd utan beslut 1 av 2" in page.inner_text("main")
    # "Ingen åtgärd" without a reason is refused, on the page, with a message.
    page.click("text=Markera: ingen åtgärd behövs")
    assert "Skriv varför ingen åtgärd behövs." in page.inner_text("main")
    # The graffiti gets an action item: the handläggare list offers only the chosen party's people.
    page.select_option("#item-responsible_party", str(gata_id))
    visible = page.eval_on_selector_all(
        "#item-assignee option", "os => os.filter(o => !o.parentElement.hidden).map(o => o.textContent)"
    )
    assert "Göran Gata" in visible and "Petra Polis" not in visible
    page.select_option("#item-assignee", label="Göran Gata")
    page.fill("#item-title", "Sanera klottret på skolan")
    _shot(page, "meeting-triage-step-360.png")
    page.click("text=Skapa åtgärd och nästa")
    page.wait_for_url(f"**/followup/meetings/{meeting_id}/findings/{positive_id}")
    assert "Åtgärden är skapad." in page.inner_text("main")
    page.fill("#none-note", "Positivt fynd, behåll som det är")
    page.click("text=Markera: ingen åtgärd behövs")
    page.wait_for_url(f"**/followup/meetings/{meeting_id}#untriaged")
    assert "Alla fynd har ett beslut" in page.inner_text("#untriaged")
    # The new item is on the agenda to go through like the others.
    assert "Sanera klottret på skolan" in page.inner_text("main")
    _shot(page, "meeting-agenda-all-decided-360.png")
    with app.app_context():
        item = db.session.scalar(select(ActionItem).filter_by(title="Sanera klottret på skolan"))
        assert item.assignee.name == "Göran Gata" and [f.id for f in item.findings] == [graffiti_id]
        assert db.session.get(Finding, positive_id).no_action_note == "Positivt fynd, behåll som det är"
