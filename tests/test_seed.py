"""The demo data tells one coherent story (every moment before now, histories inside their item's life and
before the meeting that reviewed them), and its text survives every font it is drawn in."""

import io
import re
import unicodedata
from datetime import datetime, timedelta

import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from sqlalchemy import DateTime, inspect, select

from fieldwalk import seed
from fieldwalk.extensions import db
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    Finding,
    FollowUpMeeting,
    MeetingDecision,
    Walk,
    WalkStatus,
    utcnow,
)
from fieldwalk.models.base import Base


@pytest.fixture
def seeded(app):
    with app.app_context():
        seed.seed_demo()
        db.session.commit()
    return utcnow()


def _seed_texts() -> list[str]:
    texts = [text for row in seed.WALK1_FINDINGS + seed.WALK2_FINDINGS for text in row[1:3]]
    texts += [name for name, _email in seed.DEFAULT_PARTIES]
    texts += [row[1] for row in seed.DEFAULT_CATEGORIES]
    return texts


def test_no_moment_of_the_story_is_after_now(app, seeded):
    with app.app_context(), db.engine.connect() as conn:
        late = []
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, DateTime) and not (table.name == "walks" and column.name == "starts_at"):
                    found = conn.execute(select(column).where(column > seeded)).scalars().all()
                    late += [f"{table.name}.{column.name} {value}" for value in found]
        assert late == []


def test_walks_past_are_closed_and_planned_walks_have_no_findings(app, seeded):
    with app.app_context():
        walks = db.session.scalars(select(Walk)).all()
        assert {w.status for w in walks} == {WalkStatus.FOLLOWED_UP, WalkStatus.COMPLETED, WalkStatus.PLANNED}
        for walk in walks:
            if walk.starts_at > seeded:
                assert walk.status == WalkStatus.PLANNED and walk.findings == [], walk.title
            else:
                assert walk.status in (WalkStatus.COMPLETED, WalkStatus.FOLLOWED_UP), walk.title
                assert walk.created_at < walk.starts_at < walk.closed_at
            for finding in walk.findings:  # logged on the walk
                assert walk.starts_at <= finding.created_at <= walk.closed_at, finding.description
                assert all(photo.created_at == finding.created_at for photo in finding.photos)


def test_histories_lie_between_the_items_creation_and_the_meeting(app, seeded):
    with app.app_context():
        meeting = db.session.scalar(select(FollowUpMeeting))
        assert meeting.created_at < datetime.combine(meeting.held_on, datetime.min.time()) < meeting.finished_at
        items = db.session.scalars(select(ActionItem)).all()
        assert len(items) >= 6
        for item in items:
            assert all(f.created_at < item.created_at for f in item.findings), item.title
            assert item.created_at.date() > item.walk.starts_at.date()
            moments = [e.created_at for e in item.events]
            assert moments == sorted(moments), item.title  # the timeline reads in order
            assert item.created_at <= moments[0] and moments[-1] <= meeting.finished_at, item.title
            assert item.updated_at == moments[-1]
            if item.due_date is not None:
                assert item.due_date > item.created_at.date(), item.title
            if item.resolved_at is not None:
                done = [e.created_at for e in item.events if e.to_status is not None and e.to_status.value == "done"]
                assert item.resolved_at == done[-1]
        decisions = db.session.scalars(select(MeetingDecision)).all()
        assert len(decisions) >= 4
        for decision in decisions:
            # A decision comes after everything it reviewed, at the meeting, and is the last word.
            reviewed = [e for e in decision.action_item.events if e.id != decision.event_id]
            assert decision.event.created_at.date() == meeting.held_on
            assert all(e.created_at <= decision.event.created_at for e in reviewed)
            if decision.new_due_date is not None:
                assert decision.new_due_date > meeting.held_on
        assert meeting.walk.status == WalkStatus.FOLLOWED_UP


def test_the_demo_shows_overdue_and_untriaged_work(app, seeded):
    """What a demo is for: an item past its due date, a walk waiting for triage, one of each status."""
    with app.app_context():
        today = seeded.date()
        assert any(item.is_overdue(today) for item in db.session.scalars(select(ActionItem)))
        untriaged = db.session.scalars(
            select(Finding).where(~Finding.action_items.any(), Finding.no_action.is_(False))
        ).all()
        assert untriaged and {f.walk.status for f in untriaged} == {WalkStatus.COMPLETED}


def test_every_seed_text_is_composed_and_drawn_with_its_letters():
    """The photo captions had "Hyresbost□ders": Pillow's built-in font has no å, ä, ö. Every seed text is
    in composed form (NFC: no letter made of a base and a combining mark, which fonts render apart)
    and every letter of it has a glyph in the caption font."""
    font = seed.caption_font(64)
    if font is None:
        pytest.skip("no TrueType font with Swedish letters installed (fonts-dejavu-core)")
    missing_glyph = _drawn("\u0378", font)  # an unassigned code point: the font's .notdef box
    for text in _seed_texts():
        assert unicodedata.is_normalized("NFC", text), text
        for letter in set(re.sub(r"[\s\W]", "", text)):
            assert _drawn(letter, font) != missing_glyph, f"{letter!r} in {text!r}"
    builtin = ImageFont.load_default(64)  # the cause, shown: the built-in font draws ä as its box
    assert _drawn("ä", builtin) == _drawn("\u0378", builtin)


def _drawn(letter: str, font) -> bytes:
    """The pixels of one letter drawn in the font (Pillow 13's font masks no longer give bytes themselves)."""
    image = Image.new("L", (96, 96))
    ImageDraw.Draw(image).text((8, 8), letter, font=font, fill=255)
    return image.tobytes()


def _pdf_words(response) -> set[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return set(re.findall(r"\w+", unicodedata.normalize("NFC", text)))


def test_the_seeded_protocols_pdf_text_round_trips(app, client, seeded):
    """Every word of the seeded walks' texts comes back out of the protocol PDF as it went in."""
    client.post("/login", data={"email": "samordnare@example.com", "password": seed.DEMO_PASSWORD})
    with app.app_context():
        meeting_id = db.session.scalar(select(FollowUpMeeting.id))
        walk2_id = db.session.scalar(select(Walk.id).filter_by(title="Trygghetsvandring Norremark"))
        decisions = [d.text for d in db.session.scalars(select(MeetingDecision))]
    meeting_pdf = client.get(f"/followup/protocol.pdf?meeting={meeting_id}")
    walk_pdf = client.get(f"/followup/protocol.pdf?walk={walk2_id}")
    assert meeting_pdf.status_code == walk_pdf.status_code == 200
    words = _pdf_words(meeting_pdf) | _pdf_words(walk_pdf)
    assert "Hyresbostäders" in words
    wanted = [text for row in seed.WALK1_FINDINGS + seed.WALK2_FINDINGS for text in row[1:3]] + decisions
    missing = {w for text in wanted for w in re.findall(r"\w+", text)} - words
    assert missing == set()


def test_seed_demo_twice_in_a_row_fails_cleanly_or_not_at_all(app, runner, seeded):
    """--if-empty leaves a seeded database alone."""
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "already has walks" in result.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Walk.id))) == 3
        assert inspect(db.engine).has_table("action_events")
        assert db.session.scalar(select(db.func.max(ActionEvent.created_at))) <= seeded + timedelta(seconds=1)
