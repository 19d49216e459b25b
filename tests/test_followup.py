"""Follow-up: meeting mode, the protocol (screen and PDF) and the medborgarlöfte dashboard."""

import hashlib
import io
import re
from datetime import date, datetime, timedelta

import pytest
from PIL import ImageFile
from pypdf import PdfReader

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.followup.dashboard import year_figures
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Category,
    FollowUpMeeting,
    MeetingDecision,
    PromiseCommitment,
    PromiseKind,
    ResponsibleParty,
    Role,
    User,
    Walk,
    WalkStatus,
)
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.timeline import event_text
from tests.helpers import jpeg_bytes


def _coordinator() -> User:
    return db.session.scalar(db.select(User).filter_by(role=Role.COORDINATOR))


def _party(name="Gatu- och parkavdelningen") -> ResponsibleParty:
    return db.session.scalar(db.select(ResponsibleParty).filter_by(name=name))


def _category(slug="belysning") -> Category:
    return db.session.scalar(db.select(Category).filter_by(slug=slug))


def _text(pdf: bytes) -> str:
    """The PDF's text with runs of whitespace made single spaces (table cells wrap lines)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


@pytest.fixture
def big_walk(app, auth):
    """A completed walk with 30 findings, each with a photo and an action item in a known state."""
    auth.login()
    with app.app_context():
        actor, party = _coordinator(), _party()
        slugs = ["belysning", "klotter", "vegetation"]
        walk = Walk(
            title="Stor vandring",
            area="Norr",
            starts_at=datetime(2026, 10, 1, 17),
            status=WalkStatus.COMPLETED,
            created_by=actor,
        )
        db.session.add(walk)
        for n in range(30):
            photo = process_photo(jpeg_bytes((400 + n, 300)))  # 30 different photos
            finding, _ = findings.create_finding(
                walk,
                actor,
                FindingInput(
                    category=_category(slugs[n % 3]),
                    description=f"Beskrivning {n}",
                    lat=56.88 + n / 2000,
                    lon=14.80 + n / 1500,
                ),
                photos=[photo],
            )
            item = actions.create_action_item(
                [finding], actor, ActionItemInput(title=f"Punkt-{n:02d}", responsible_party=party)
            )
            item.due_date = date.today() + timedelta(days=30 if n % 2 else -5)  # half of them overdue by now
            item.created_at = datetime(2026, 10, 2, 12)
            if n < 6:  # six resolved after 4, 8, 12, 16, 20, 24 days → median 14
                actions.transition(item, ActionStatus.DONE, actor, text="Klart")
                item.resolved_at = item.created_at + timedelta(days=4 * (n + 1))
        db.session.commit()
        return walk.id


def test_protocol_pdf_of_a_walk_with_30_findings(client, big_walk):
    response = client.get(f"/followup/protocol.pdf?walk={big_walk}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) >= 5
    images = {hashlib.sha256(image.data).hexdigest() for page in reader.pages for image in page.images}
    assert len(images) == 30  # one before-photo per item (no after-photos yet)
    text = _text(response.data)
    for n in range(30):
        assert f"Punkt-{n:02d}" in text
    assert "Protokoll: Stor vandring" in text
    assert "Fynd 30" in text and "Åtgärder 30" in text  # each label before its figure
    assert "Åtgärdade (6 st) 20 %" in text
    # Open items 6..29 due 5 days ago are the even ones: 12 of them.
    assert "Försenade 12" in text
    assert "Dagar till åtgärd (median) 14" in text
    assert "Belysning 10" in text and "Klotter 10" in text
    assert "Tilldelad 24" in text and "Åtgärdad 6" in text
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # WeasyPrint's import must not loosen photo uploads


def test_protocol_on_screen_and_bad_scope(client, big_walk):
    page = client.get(f"/followup/protocol?walk={big_walk}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="protocol-item"') == 30
    # Every finding's number is on the map (markers that would cover each other share one label).
    numbers = sorted(int(n) for group in re.findall(r'data-numbers="([^"]+)"', html) for n in group.split())
    assert "<svg" in html and numbers == list(range(1, 31))
    assert f"/followup/protocol.pdf?walk={big_walk}" in html
    assert client.get("/followup/protocol?from=2026-13-01&to=2026-12-31").status_code == 400
    assert client.get("/followup/protocol?from=2026-12-01&to=2026-11-01").status_code == 400
    assert client.get("/followup/protocol").status_code == 400
    assert client.get("/followup/protocol?walk=999").status_code == 404
    period = client.get("/followup/protocol?from=2026-10-01&to=2026-12-31")
    assert period.status_code == 200 and period.get_data(as_text=True).count('class="protocol-item"') == 30
    assert (
        client.get("/followup/protocol?from=2025-01-01&to=2025-03-31")
        .get_data(as_text=True)
        .count('class="protocol-item"')
        == 0
    )  # no walk then, and nothing changed then


def test_meeting_mode_steps_through_open_items_and_records_decisions(app, client, big_walk):
    response = client.post(
        "/followup/", data={"scope": "walk", "walk": big_walk, "held_on": "2026-11-20", "attendees": "Sara, Göran"}
    )
    assert response.status_code == 302
    meeting_url = response.headers["Location"]
    agenda = client.get(meeting_url).get_data(as_text=True)
    assert "0 av 30 åtgärder har ett beslut." in agenda  # 24 open + 6 åtgärdade still to verify
    with app.app_context():
        meeting = db.session.scalar(db.select(FollowUpMeeting))
        assert meeting.title == "Uppföljning av Stor vandring"
        first = db.session.scalar(db.select(ActionItem).filter_by(title="Punkt-00"))  # åtgärdad
        open_item = db.session.scalar(db.select(ActionItem).filter_by(title="Punkt-06"))
        meeting_id, first_id, open_id = meeting.id, first.id, open_item.id
    step = client.get(f"/followup/meetings/{meeting_id}/items/{first_id}")
    assert step.status_code == 200
    html = step.get_data(as_text=True)
    assert "Åtgärd 1 av 30" in html and "Punkt-00" in html and 'id="map-data"' in html and "56.88000, 14.80000" in html
    assert 'value="closed"' in html  # åtgärdad → avslutad is offered

    # Verify and close the first; move the due date of an open one.
    response = client.post(
        f"/followup/meetings/{meeting_id}/items/{first_id}", data={"text": "Verifierat på plats", "to": "closed"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{first_id + 1}")
    response = client.post(
        f"/followup/meetings/{meeting_id}/items/{open_id}",
        data={"text": "Leverantören är sen", "due_date": "2027-02-01"},
    )
    assert response.status_code == 302

    # Refusals write nothing and keep the text.
    illegal = client.post(
        f"/followup/meetings/{meeting_id}/items/{open_id}", data={"text": "Stäng direkt", "to": "closed"}
    )
    assert illegal.status_code == 409 and "Stäng direkt" in illegal.get_data(as_text=True)
    empty = client.post(f"/followup/meetings/{meeting_id}/items/{open_id}", data={"text": " "})
    assert empty.status_code == 422
    past = client.post(
        f"/followup/meetings/{meeting_id}/items/{open_id}", data={"text": "Skrivfel", "due_date": "1999-01-01"}
    )
    assert past.status_code == 422 and "före mötesdatumet" in past.get_data(as_text=True)
    # Back and "Spara och nästa" again with the same decision: nothing new on the timeline.
    again = client.post(
        f"/followup/meetings/{meeting_id}/items/{open_id}",
        data={"text": "Leverantören är sen", "due_date": "2027-02-01"},
    )
    assert again.status_code == 302
    with app.app_context():
        closed = db.session.get(ActionItem, first_id)
        moved = db.session.get(ActionItem, open_id)
        assert closed.status == ActionStatus.CLOSED
        # What was typed is the event's text; the meeting line is the system's, written out when shown.
        assert closed.events[-1].text == "Verifierat på plats"
        assert event_text(closed.events[-1]) == "Uppföljningsmöte 20 nov. 2026: Verifierat på plats"
        assert moved.due_date == date(2027, 2, 1) and moved.status == ActionStatus.ASSIGNED
        assert [e.kind.value for e in moved.events[-2:]] == ["edited", "comment"]
        assert db.session.scalar(db.select(db.func.count()).select_from(MeetingDecision)) == 2
        events = db.session.scalar(db.select(db.func.count()).select_from(ActionEvent))

    agenda = client.get(meeting_url).get_data(as_text=True)
    assert "2 av 30 åtgärder har ett beslut." in agenda  # the closed item stays on the agenda

    response = client.post(f"/followup/meetings/{meeting_id}/finish", data={"notes": "Nästa möte i mars"})
    assert response.status_code == 302 and f"meeting={meeting_id}" in response.headers["Location"]
    late = client.post(f"/followup/meetings/{meeting_id}/items/{open_id}", data={"text": "För sent"})
    assert late.status_code == 409
    with app.app_context():
        assert db.session.get(Walk, big_walk).status == WalkStatus.FOLLOWED_UP
        assert db.session.scalar(db.select(db.func.count()).select_from(ActionEvent)) == events
    protocol = client.get(f"/followup/protocol.pdf?meeting={meeting_id}")
    text = _text(protocol.data)
    assert "Mötets beslut: Verifierat på plats" in text
    assert "Mötets beslut: Leverantören är sen (nytt datum 1 feb. 2027)" in text
    assert "Nästa möte i mars" in text and "Sara, Göran" in text


def test_meeting_form_refusals_keep_input(client, auth, make_walk):
    auth.login()
    no_walk = client.post(
        "/followup/", data={"scope": "walk", "walk": "0", "held_on": "2026-11-20", "title": "Höstens möte"}
    )
    assert no_walk.status_code == 422
    html = no_walk.get_data(as_text=True)
    assert "Välj en vandring eller en period." in html and 'value="Höstens möte"' in html
    backwards = client.post(
        "/followup/",
        data={"scope": "period", "period_start": "2026-12-01", "period_end": "2026-10-01", "held_on": "2026-11-20"},
    )
    assert backwards.status_code == 422
    assert client.post("/followup/", data={"scope": "period", "held_on": "not a date"}).status_code == 400
    endless = client.post(
        "/followup/",
        data={"scope": "period", "period_start": "2026-10-01", "period_end": "9999-12-31", "held_on": "2026-11-20"},
    )
    assert endless.status_code == 422 and "mellan 2000-01-01 och 2100-12-31" in endless.get_data(as_text=True)
    assert client.get("/followup/").status_code == 200 and "/followup/meetings/" not in client.get(
        "/followup/"
    ).get_data(as_text=True)  # nothing was saved
    assert client.get("/followup/protocol?from=0001-01-01&to=9999-12-31").status_code == 400
    ok = client.post(
        "/followup/",
        data={"scope": "period", "period_start": "2026-10-01", "period_end": "2026-12-31", "held_on": "2026-11-20"},
    )
    assert ok.status_code == 302
    assert "Uppföljning 1 okt. 2026 – 31 dec. 2026" in client.get(ok.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def seeded_year(app, auth):
    """2025 with known counts: 3 walks held (+1 planned, +1 in 2024), meetings in Q1 (two) and Q3 only
    (+1 unfinished in Q4),
    4 action items created (2 resolved after 10 and 20 days), lighting in two Centrum walks, graffiti in Norr
    in 2025 and 2024."""
    auth.login(Role.ADMIN)
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(role=Role.ADMIN))

        def walk(title, area, when, status=WalkStatus.COMPLETED):
            w = Walk(title=title, area=area, starts_at=when, status=status, created_by=actor)
            db.session.add(w)
            return w

        c1 = walk("Centrum vår", "Centrum", datetime(2025, 3, 10, 17))
        c2 = walk("Centrum höst", "Centrum", datetime(2025, 9, 10, 17))
        n1 = walk("Norr", "Norr", datetime(2025, 5, 5, 17))
        walk("Planerad", "Norr", datetime(2025, 12, 30, 17), WalkStatus.PLANNED)
        old = walk("Norr 2024", "Norr", datetime(2024, 5, 5, 17))
        db.session.flush()
        made = []
        for w, slug in [(c1, "belysning"), (c2, "belysning"), (n1, "klotter"), (c1, "klotter"), (old, "klotter")]:
            finding, _ = findings.create_finding(w, actor, FindingInput(category=_category(slug)))
            made.append(finding)
        c2.status = WalkStatus.FOLLOWED_UP  # counts as held too
        for i, finding in enumerate(made[:4]):
            item = actions.create_action_item(
                [finding], actor, ActionItemInput(title=f"Å{i}", responsible_party=_party())
            )
            item.created_at = datetime(2025, 1 + 3 * i, 15, 12)
            if i < 2:
                actions.transition(item, ActionStatus.DONE, actor)
                item.resolved_at = item.created_at + timedelta(days=10 * (i + 1))
        # Two finished meetings in Q1 and one in Q3: three meetings, but only two quarters followed up.
        for held, finished in [
            (date(2025, 2, 1), True),
            (date(2025, 3, 20), True),
            (date(2025, 8, 1), True),
            (date(2025, 11, 1), False),
        ]:
            db.session.add(
                FollowUpMeeting(
                    title=f"Möte {held}",
                    held_on=held,
                    period_start=held,
                    period_end=held,
                    finished_at=datetime(2025, 1, 1) if finished else None,
                )
            )
        db.session.add_all(
            [
                PromiseCommitment(
                    year=2025, text="Minst 2 trygghetsvandringar per år", kind=PromiseKind.WALKS, target=2
                ),
                PromiseCommitment(
                    year=2025, text="Uppföljning varje kvartal", kind=PromiseKind.QUARTERLY_FOLLOWUP, target=4
                ),
                PromiseCommitment(year=2025, text="Vandring i Norr", kind=PromiseKind.WALKS, target=1, area="Norr"),
            ]
        )
        db.session.commit()


def test_dashboard_figures_for_a_seeded_year(app, client, seeded_year):
    with app.app_context():
        figures = year_figures(2025)
        assert [(p.commitment.text, p.actual, p.met) for p in figures.commitments] == [
            ("Minst 2 trygghetsvandringar per år", 3, True),
            ("Uppföljning varje kvartal", 2, False),
            ("Vandring i Norr", 1, True),
        ]
        assert figures.walks_held == 3 and figures.meetings_held == 3
        quarterly = figures.commitments[1]
        assert [(q.quarter, q.ok) for q in quarterly.quarters] == [(1, True), (2, False), (3, True), (4, False)]
        assert quarterly.missing_quarters == [2, 4] and quarterly.shown == "2 / 4"
        assert figures.quarters_with_meeting == [True, False, True, False]
        assert figures.items_created == 4 and figures.items_resolved == 2
        assert figures.resolved_share == 0.5 and figures.median_days == 15
        assert figures.per_quarter == [(1, 1), (1, 1), (1, 0), (1, 0)]
        centrum = {r.category.slug: (r.findings, r.walks, r.recurring) for r in figures.areas["Centrum"]}
        norr = {r.category.slug: (r.findings, r.walks, r.last_year, r.recurring) for r in figures.areas["Norr"]}
        assert centrum == {"belysning": (2, 2, True), "klotter": (1, 1, False)}
        assert norr == {"klotter": (1, 1, True, True)}
    html = client.get("/followup/dashboard?year=2025").get_data(as_text=True)
    assert "Medborgarlöfte 2025" in html
    row = re.search(r'<tr data-commitment="\d+"><td>Uppföljning varje kvartal<br>.*?</tr>', html, re.S).group(0)
    assert "Kvartal med avslutat uppföljningsmöte" in row
    assert re.search(r'<td class="num">4</td><td class="num">2</td>', row)
    assert "Inget avslutat möte: K2, K4" in row
    cells = re.findall(r'<td class="quarter">(.*?)</td>', row)
    assert [("saknas" in c, "möte hållet" in c) for c in cells] == [
        (False, True),
        (True, False),
        (False, True),
        (True, False),
    ]
    assert ">3 / 2<" in html and ">2 / 4<" in html  # the chart's labels
    assert "50 %" in html and "Ändra löftet" in html
    assert "3</span> trygghetsvandringar genomförda" in html and "av årets 4 åtgärder är åtgärdade" in html
    assert "15</span> dagar till åtgärd (median)" in html
    assert client.get("/followup/dashboard?year=99999").status_code == 400


def test_the_dashboard_says_one_walk_in_the_singular(app, client, auth, make_walk):
    """ "1 trygghetsvandringar genomförda" read wrong on a kommun's first year; so did "1 safety walks"."""
    make_walk(starts_at=datetime(2031, 5, 4, 18), status=WalkStatus.COMPLETED)
    auth.login(Role.COORDINATOR)
    html = client.get("/followup/dashboard?year=2031").get_data(as_text=True)
    assert "1</span> trygghetsvandring genomförd" in html and "0</span> uppföljningsmöten hållna" in html
    assert "av årets 0 åtgärder är åtgärdade" in html and "–</span> dagar till åtgärd (median)" in html
    client.post("/language", data={"language": "en"})
    html = client.get("/followup/dashboard?year=2031").get_data(as_text=True)
    assert "1</span> safety walk held" in html and "0</span> follow-up meetings held" in html


def test_admins_and_coordinators_change_the_promise(app, client, auth):
    auth.login(Role.RESPONSIBLE, "Gatu- och parkavdelningen")
    assert client.get("/followup/promise").status_code == 403
    auth.login(Role.COORDINATOR)
    assert client.get("/followup/dashboard").status_code == 200
    assert client.get("/followup/promise").status_code == 200
    bad = client.post("/followup/promise", data={"year": "2026", "text": "Minst två", "kind": "walks", "target": "0"})
    assert bad.status_code == 400 and 'value="Minst två"' in bad.get_data(as_text=True)
    ok = client.post("/followup/promise", data={"year": "2026", "text": "Minst två", "kind": "walks", "target": "2"})
    assert ok.status_code == 302
    with app.app_context():
        commitment = db.session.scalar(db.select(PromiseCommitment))
        assert (commitment.year, commitment.target, commitment.kind) == (2026, 2, PromiseKind.WALKS)
        commitment_id = commitment.id
    assert client.post(f"/followup/promise/{commitment_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PromiseCommitment)) == 0


def test_a_meeting_can_hand_an_item_to_another_party_without_a_status_move(app, client, big_walk):
    """The decision form's party is applied (by can_change_party), not silently dropped without a new status."""
    response = client.post("/followup/", data={"scope": "walk", "walk": big_walk, "held_on": "2026-11-20"})
    with app.app_context():
        meeting_id = db.session.scalar(db.select(FollowUpMeeting.id))
        item_id = db.session.scalar(db.select(ActionItem.id).filter_by(title="Punkt-06"))
        police = _party("Polisen, kommunpolis").id
    response = client.post(
        f"/followup/meetings/{meeting_id}/items/{item_id}",
        data={"text": "Polisen tar över", "responsible_party": police},
    )
    assert response.status_code == 302
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.responsible_party_id == police and item.status == ActionStatus.ASSIGNED
        assert [e.kind.value for e in item.events[-2:]] == ["edited", "comment"]
