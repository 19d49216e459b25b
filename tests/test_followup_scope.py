"""Follow-up misses nothing: a period's protocol covers one defined scope (its walks' findings and items, plus
items of earlier walks changed in it), and the meeting's agenda lists the findings nobody decided on, which can
be triaged from the meeting step."""

import io
import re
from datetime import date, datetime

import pytest
from pypdf import PdfReader
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
from tests.helpers import protocol_pdf_by_job


def _category(slug):
    return db.session.scalar(select(Category).filter_by(slug=slug))


def _dated(item, when):
    for event in item.events:
        event.created_at = when
    item.created_at = when


@pytest.fixture
def two_quarters(app, auth):
    """Walk A in Q3 2025 (two items), walk B in Q4 2025 (an item, an untriaged finding, one needing no
    action, a finding of another walk in Q4 too); in Q4 item A1 got a public comment, item A2 only an
    internal one. A Q4 period meeting, not finished."""
    auth.login(Role.COORDINATOR)
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        party = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        a = Walk(title="Vandring A", area="Centrum", starts_at=datetime(2025, 8, 10, 17), status=WalkStatus.COMPLETED)
        b = Walk(title="Vandring B", area="Norr", starts_at=datetime(2025, 10, 5, 17), status=WalkStatus.COMPLETED)
        db.session.add_all([a, b])
        db.session.flush()

        def finding(walk, slug, place):
            made, _ = findings.create_finding(
                walk, actor, FindingInput(category=_category(slug), place=place, description=f"Beskrivning {place}")
            )
            return made

        fa1, fa2 = finding(a, "belysning", "A-lampan"), finding(a, "klotter", "A-muren")
        fb1, fb2, fb3 = (
            finding(b, "vegetation", "B-häcken"),
            finding(b, "trafik", "B-korsningen"),
            finding(b, "bra-plats", "B-torget"),
        )
        fb4 = finding(b, "nedskrapning", "B-parken")
        ia1 = actions.create_action_item([fa1], actor, ActionItemInput(title="A1 byt lampa", responsible_party=party))
        ia2 = actions.create_action_item([fa2], actor, ActionItemInput(title="A2 sanera", responsible_party=party))
        ib1 = actions.create_action_item(
            [fb1], actor, ActionItemInput(title="B1 klipp häcken", responsible_party=party)
        )
        for item in (ia1, ia2):
            _dated(item, datetime(2025, 8, 12, 9))
        _dated(ib1, datetime(2025, 10, 7, 9))
        actions.add_comment(ia1, actor, "Beställt").created_at = datetime(2025, 10, 20, 9)
        actions.add_comment(ia2, actor, "Internt", internal=True).created_at = datetime(2025, 10, 21, 9)
        findings.set_no_action(fb3, actor, True, "Positivt fynd")
        meeting = FollowUpMeeting(
            title="K4 2025",
            held_on=date(2025, 12, 15),
            period_start=date(2025, 10, 1),
            period_end=date(2025, 12, 31),
            created_by=actor,
        )
        db.session.add(meeting)
        db.session.commit()
        return {
            "meeting": meeting.id,
            "fb2": fb2.id,
            "fb4": fb4.id,
            "fa2": fa2.id,
            "ia1": ia1.id,
            "ia2": ia2.id,
            "ib1": ib1.id,
            "b": b.id,
        }


def test_period_protocol_has_one_scope_on_screen_and_in_pdf(client, two_quarters):
    html = client.get("/followup/protocol?from=2025-10-01&to=2025-12-31").get_data(as_text=True)
    items = re.findall(r"<h3>#(\d+) ", html)
    assert sorted(map(int, items)) == sorted([two_quarters["ia1"], two_quarters["ib1"]])  # not A2: internal only
    table = html[html.index('class="findings-table"') :]
    places = re.findall(r"<td class=\"place\">([AB]-\w+)</td>", table)
    assert places == ["B-häcken", "B-korsningen", "B-torget", "B-parken", "A-lampan"]  # A1's finding, not A2's
    assert "Omfattning: vandringar som hölls under perioden (1 st)" in html
    assert "tidigare vandringar som ändrades under perioden (1 st)" in html
    assert "2 fynd har inget beslut" in html
    assert "Ingen åtgärd: Positivt fynd" in html
    _page, pdf = protocol_pdf_by_job(client, "from=2025-10-01&to=2025-12-31")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Omfattning: vandringar som hölls under perioden (1 st)" in text
    assert "A1 byt lampa" in text and "B1 klipp häcken" in text and "A2 sanera" not in text
    # The meeting steps through the same items.
    agenda = client.get(f"/followup/meetings/{two_quarters['meeting']}").get_data(as_text=True)
    assert "A1 byt lampa" in agenda and "B1 klipp häcken" in agenda and "A2 sanera" not in agenda


def test_an_edit_alone_does_not_bring_an_earlier_item_into_the_period(app, client, two_quarters):
    """A2 (walk A, Q3) was only renamed in Q4 and got an internal note: not the quarter's work, so neither it
    nor its finding is in the Q4 protocol (before, any public event counted, edits included)."""
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        item = db.session.get(ActionItem, two_quarters["ia2"])
        actions.update_action_item(item, actor, title="A2 sanera muren").created_at = datetime(2025, 11, 3, 9)
        db.session.commit()
    html = client.get("/followup/protocol?from=2025-10-01&to=2025-12-31").get_data(as_text=True)
    assert sorted(map(int, re.findall(r"<h3>#(\d+) ", html))) == sorted([two_quarters["ia1"], two_quarters["ib1"]])
    assert "A2 sanera" not in html and "A-muren" not in html
    assert "tidigare vandringar som ändrades under perioden (1 st)" in html


def test_walk_protocol_says_its_scope(client, two_quarters):
    html = client.get(f"/followup/protocol?walk={two_quarters['b']}").get_data(as_text=True)
    assert "Omfattning: alla fynd från vandringen" in html and "A1 byt lampa" not in html


def test_meeting_agenda_warns_about_untriaged_findings(client, two_quarters):
    html = client.get(f"/followup/meetings/{two_quarters['meeting']}").get_data(as_text=True)
    section = html[html.index('id="untriaged"') : html.index("<h2>Dagordning</h2>")]
    assert "2 fynd utan beslut" in section
    assert "Trafik: B-korsningen" in section and "Nedskräpning: B-parken" in section
    assert "B-torget" not in section and "B-häcken" not in section  # decided: no action / an item
    assert f"/followup/meetings/{two_quarters['meeting']}/findings/{two_quarters['fb2']}" in section


def test_no_action_from_the_meeting_needs_a_reason(app, client, two_quarters):
    url = f"/followup/meetings/{two_quarters['meeting']}/findings/{two_quarters['fb2']}"
    page = client.get(url)
    assert page.status_code == 200 and "Fynd utan beslut 1 av 2" in page.get_data(as_text=True)
    refused = client.post(url, data={"decision": "no_action", "none-note": "   ", "item-title": "Kvar"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Skriv varför ingen åtgärd behövs." in html
    assert 'value="Kvar"' in html  # what was typed in the other form is kept too
    with app.app_context():
        assert db.session.get(Finding, two_quarters["fb2"]).no_action is False
    done = client.post(url, data={"decision": "no_action", "none-note": "Trafikverkets väg, redan anmält"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/findings/{two_quarters['fb4']}")  # on to the next one
    with app.app_context():
        finding = db.session.get(Finding, two_quarters["fb2"])
        assert finding.no_action and finding.no_action_note == "Trafikverkets väg, redan anmält"
    # Decided already (e.g. in another tab): back to the agenda, nothing happens.
    again = client.post(url, data={"decision": "no_action", "none-note": "igen"})
    assert again.status_code == 302 and again.headers["Location"].endswith("#untriaged")


def test_action_item_of_two_findings_from_the_meeting_step(app, client, two_quarters):
    with app.app_context():
        party = db.session.scalar(select(ResponsibleParty.id).filter_by(name="Trafikverket"))
    url = f"/followup/meetings/{two_quarters['meeting']}/findings/{two_quarters['fb2']}"
    bad = client.post(
        url,
        data={
            "decision": "create",
            "item-title": "Säkra korsningen",
            "item-priority": "high",
            "item-responsible_party": party,
            "item-due_date": "2025-01-01",
            "also": two_quarters["fb4"],
        },
    )
    assert bad.status_code == 422 and "redan har passerat" in bad.get_data(as_text=True)
    assert 'value="Säkra korsningen"' in bad.get_data(as_text=True)
    ok = client.post(
        url,
        data={
            "decision": "create",
            "item-title": "Säkra korsningen",
            "item-priority": "high",
            "item-responsible_party": party,
            "also": [two_quarters["fb4"], two_quarters["fa2"]],
        },
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("#untriaged")  # none left
    with app.app_context():
        item = db.session.scalar(select(ActionItem).filter_by(title="Säkra korsningen"))
        # A finding of another walk (or one already decided) is never pulled in through "also".
        assert sorted(f.id for f in item.findings) == sorted([two_quarters["fb2"], two_quarters["fb4"]])
    html = client.get(f"/followup/meetings/{two_quarters['meeting']}").get_data(as_text=True)
    assert "Alla fynd har ett beslut" in html


def test_triage_step_outside_the_scope_or_after_the_meeting(app, client, two_quarters):
    meeting = two_quarters["meeting"]
    assert client.get(f"/followup/meetings/{meeting}/findings/{two_quarters['fa2']}").status_code == 404
    assert client.get(f"/followup/meetings/{meeting}/findings/999999").status_code == 404
    with app.app_context():
        db.session.get(FollowUpMeeting, meeting).finished_at = datetime(2025, 12, 15, 20)
        db.session.commit()
    url = f"/followup/meetings/{meeting}/findings/{two_quarters['fb2']}"
    assert client.post(url, data={"decision": "no_action", "none-note": "x"}).status_code == 409
    with app.app_context():
        assert db.session.get(Finding, two_quarters["fb2"]).no_action is False


def test_after_the_last_item_the_meeting_goes_on_to_the_undecided_findings(client, two_quarters):
    meeting = two_quarters["meeting"]
    last = two_quarters["ib1"]  # the agenda goes walk by walk: A's item, then B's
    step = client.get(f"/followup/meetings/{meeting}/items/{last}").get_data(as_text=True)
    assert "2 fynd utan beslut" in step
    response = client.post(f"/followup/meetings/{meeting}/items/{last}", data={"text": "Fortsätter"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/followup/meetings/{meeting}/findings/{two_quarters['fb2']}")


def test_a_periods_findings_each_once_in_walk_and_capture_order(app, two_quarters):
    """The walks' findings come in capture order whether an item in scope reads them or not, each once
    (fb1 behind two items), then those behind the earlier walks' items changed in the period (fa1)."""
    from fieldwalk.followup.queries import Scope

    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        party = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        fb1 = db.session.get(ActionItem, two_quarters["ib1"]).findings[0]
        fb2 = db.session.get(Finding, two_quarters["fb2"])
        actions.create_action_item([fb2, fb1], actor, ActionItemInput(title="B2 båda", responsible_party=party))
        db.session.commit()
        db.session.expunge_all()
        places = [f.place for f in Scope(start=date(2025, 10, 1), end=date(2025, 12, 31)).findings()]
    assert places == ["B-häcken", "B-korsningen", "B-torget", "B-parken", "A-lampan"]
