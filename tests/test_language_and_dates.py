"""Language and dates (issue 10, point 12): one date style per kind in Swedish and en-GB, never US style;
the lines the system writes into a timeline are shown in the reader's language wherever events are shown,
while what people typed stays as typed; no English page shows Swedish system text, and no Swedish page
English dates."""

import email
import io
import re
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from babel.dates import format_date as babel_date
from flask import render_template_string
from flask_babel import force_locale
from sqlalchemy import select

from fieldwalk import dates
from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, Finding, FollowUpMeeting, ResponsibleParty, Role, User, Walk

MOMENT = datetime(2026, 12, 2, 17, 30, 5, 123456)  # stored as naive UTC: 18:30 in Stockholm
EXPECTED = {
    "sv": {
        "date": "2 dec. 2026",
        "datetime": "2 dec. 2026 18:30",
        "time": "18:30",
        "when": "onsdag 2 december 2026 18:30",
        "month": "december 2026",
        "machine_time": "2026-12-02T17:30:05Z",
    },
    "en": {
        "date": "2 Dec 2026",
        "datetime": "2 Dec 2026, 18:30",
        "time": "18:30",
        "when": "Wednesday, 2 December 2026, 18:30",
        "month": "December 2026",
        "machine_time": "2026-12-02T17:30:05Z",
    },
}
US_DATES = [r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}", r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", r"\d (AM|PM)\b", r" [AP]M\b"]
SV_MONTHS = (
    r"\b\d{1,2} (jan\.|feb\.|mars|apr\.|maj|juni|juli|aug\.|sep\.|okt\.|nov\.|dec\.|januari|februari|"
    r"april|augusti|september|oktober|november|december)"
)
EN_MONTHS = (
    r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b|\b(January|February|March|"
    r"April|May|June|July|August|September|October|November|December) \d"
)
SWEDISH_SYSTEM_TEXT = ["Tilldelad ", "Ändrade ", "Uppföljningsmöte ", "Ansvarig part: "]
SWEDISH_WORDS = (
    r"\b(Tilldelad|Ändrade|Uppföljningsmöte|Ansvarig|Pågår|Åtgärdad|Avslutad|Avvisad|klart senast|"
    r"Försenad|Historik|Vandringar|Åtgärder|Fynd)\b"
)


def en_day(day: date) -> str:
    return babel_date(day, "d MMM y", locale="en_GB")


def sv_day(day: date) -> str:
    return babel_date(day, "medium", locale="sv")


# ---------------------------------------------------------------- the filters, one style per kind


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_each_kind_of_date_in_both_languages(app, locale):
    with app.test_request_context(), force_locale(locale):
        for name, expected in EXPECTED[locale].items():
            assert dates.FILTERS[name](MOMENT) == expected, name
            # The template filter, also when an old template still passes a style: the same string.
            assert render_template_string("{{ v|" + name + " }}", v=MOMENT) == expected, name
            assert render_template_string("{{ v|" + name + "('short') }}", v=MOMENT) == expected, name
            for pattern in US_DATES:
                assert not re.search(pattern, expected), (name, expected)
        assert dates.format_day(date(2026, 5, 9)) == {"sv": "9 maj 2026", "en": "9 May 2026"}[locale]
        # Just after midnight in Stockholm is the next day, on a 24-hour clock.
        assert (
            dates.format_moment(datetime(2026, 6, 1, 22, 5))
            == {"sv": "2 juni 2026 00:05", "en": "2 Jun 2026, 00:05"}[locale]
        )
        assert dates.format_day(None) == dates.format_moment(None) == dates.machine_time(None) == ""


def test_machine_time_has_no_fractions(app):
    with app.test_request_context():
        assert dates.machine_time(MOMENT) == "2026-12-02T17:30:05Z"
        assert dates.machine_time(date(2026, 12, 2)) == "2026-12-02"


# ---------------------------------------------------------------- a story told by a Swedish coordinator


def _party(name: str) -> int:
    return db.session.scalar(select(ResponsibleParty.id).filter_by(name=name))


def _set_locale(app, user_id: int, locale: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


@pytest.fixture
def story(app, client, auth, make_walk, category_id):
    """A guest who reads English logged a finding (and left an address); a Swedish coordinator made an
    item of it (assigned), moved its due date, handed it to the police with a typed comment, and a
    follow-up meeting marked it åtgärdad with a typed decision."""
    walk_id = make_walk()
    reporter = app.test_client()
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    assert (
        reporter.post(
            f"/join/{code}",
            data={"name": "Gunnel Gäst", "organisation": "Boende", "notify_email": "gunnel@example.org"},
        ).status_code
        == 302
    )
    assert (
        reporter.post(
            f"/walks/{walk_id}/findings/new",
            data={
                "category": category_id(),
                "severity": "medium",
                "description": "Mörkt i tunneln",
                "place": "Tunneln",
            },
        ).status_code
        == 302
    )
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        finding_id, reporter_id = finding.id, finding.reporter_id
        streets, police = _party("Gatu- och parkavdelningen"), _party("Polisen, kommunpolis")
    _set_locale(app, reporter_id, "en")

    auth.login(Role.COORDINATOR)
    first_due, due = date.today() + timedelta(days=30), date.today() + timedelta(days=60)
    assert (
        client.post(
            "/actions/new",
            data={
                "finding": finding_id,
                "title": "Byt lampan",
                "priority": "medium",
                "responsible_party": streets,
                "due_date": first_due.isoformat(),
            },
        ).status_code
        == 302
    )
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    assert (
        client.post(
            f"/actions/{item_id}/edit",
            data={
                "title": "Byt lampan",
                "priority": "medium",
                "responsible_party": streets,
                "due_date": due.isoformat(),
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/actions/{item_id}/comment",
            data={"text": "Vi tittar på det i veckan", "to": "in_progress", "responsible_party": police},
        ).status_code
        == 302
    )
    response = client.post(
        "/followup/", data={"scope": "walk", "walk": walk_id, "held_on": date.today().isoformat(), "attendees": "Sara"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        meeting_id = db.session.scalar(select(FollowUpMeeting.id))
    response = client.post(
        f"/followup/meetings/{meeting_id}/items/{item_id}", data={"text": "Klart enligt mötet", "to": "done"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response.close()  # the reporter's mail goes once the answer is out
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status.value == "done"
    return {
        "walk": walk_id,
        "finding": finding_id,
        "item": item_id,
        "meeting": meeting_id,
        "due": due,
        "held_on": date.today(),
        "reporter": reporter,
    }


def _reader(app, auth, locale: str, role: Role = Role.COORDINATOR) -> None:
    """Log the client in as a new user of the role who reads the given language."""
    _set_locale(app, auth.login(role), locale)


def _text(html: str) -> str:
    """A page's visible text, roughly: scripts and tags out, whitespace single."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&nbsp;", " ").split())


def test_the_timeline_in_english_for_an_english_reader(app, client, auth, story):
    _reader(app, auth, "en")
    due, held = en_day(story["due"]), en_day(story["held_on"])
    page = _text(client.get(f"/actions/{story['item']}").get_data(as_text=True))
    for line in [
        "Assigned to Gatu- och parkavdelningen",
        f"Changed due date → {due}",
        "Responsible party: Polisen, kommunpolis",
        f"Follow-up meeting {held}: Klart enligt mötet",
        "Vi tittar på det i veckan",
    ]:  # typed text stays as typed
        assert line in page, line
    for text in SWEDISH_SYSTEM_TEXT:
        assert text not in page, text

    protocol = _text(client.get(f"/followup/protocol?walk={story['walk']}").get_data(as_text=True))
    assert "Assigned to Gatu- och parkavdelningen" in protocol
    assert f"Follow-up meeting {held}: Klart enligt mötet" in protocol
    assert not [t for t in SWEDISH_SYSTEM_TEXT if t in protocol]

    from pypdf import PdfReader

    pdf = client.get(f"/followup/protocol.pdf?walk={story['walk']}")
    assert pdf.status_code == 200
    printed = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Assigned to Gatu- och parkavdelningen" in printed
    assert f"Follow-up meeting {held}: Klart enligt mötet" in printed
    assert not [t for t in SWEDISH_SYSTEM_TEXT if t in printed]
    assert not [p for p in US_DATES + [SV_MONTHS] if re.search(p, printed)]

    step = _text(client.get(f"/followup/meetings/{story['meeting']}/items/{story['item']}").get_data(as_text=True))
    assert f"Follow-up meeting {held}: Klart enligt mötet" in step
    assert not [t for t in SWEDISH_SYSTEM_TEXT if t in step]


def test_the_same_timeline_in_swedish_for_a_swedish_reader(app, client, auth, story):
    _reader(app, auth, "sv")
    page = _text(client.get(f"/actions/{story['item']}").get_data(as_text=True))
    for line in [
        "Tilldelad Gatu- och parkavdelningen",
        f"Ändrade klart senast → {sv_day(story['due'])}",
        "Ansvarig part: Polisen, kommunpolis",
        f"Uppföljningsmöte {sv_day(story['held_on'])}: Klart enligt mötet",
        "Vi tittar på det i veckan",
    ]:
        assert line in page, line


def test_the_reporter_reads_the_public_history_in_english(app, story):
    html = story["reporter"].get(f"/findings/{story['finding']}").get_data(as_text=True)
    page = _text(html)
    assert f"Follow-up meeting {en_day(story['held_on'])}: Klart enligt mötet" in page
    assert "Vi tittar på det i veckan" in page
    assert not [t for t in SWEDISH_SYSTEM_TEXT if t in page]
    times = re.findall(r'<time datetime="([^"]+)"', html)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\dZ)?", t) for t in times), times


def test_the_reporters_mail_has_an_en_gb_date(app, story):
    outbox = Path(app.config["MAIL_OUTBOX"])
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    [mail] = [m for m in mails if m["To"] == "gunnel@example.org"]
    body = mail.get_body(("plain",)).get_content()
    with app.app_context():
        logged = db.session.get(Finding, story["finding"]).created_at
    with app.test_request_context(), force_locale("en"):
        day = dates.format_day(logged)
    assert f"on {day}" in body, body
    for pattern in US_DATES:
        assert not re.search(pattern, body), pattern


def test_the_personal_data_export_shows_events_in_the_readers_language(app, client, auth, story):
    with app.app_context():
        coordinator = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        coordinator_id = coordinator.id
    _reader(app, auth, "en", Role.ADMIN)
    data = client.get(f"/admin/users/{coordinator_id}/export.json").get_json()
    shown = [event["shown_as"] for event in data["action_events"]]
    assert "Assigned to Gatu- och parkavdelningen" in shown
    assert not [line for line in shown for text in SWEDISH_SYSTEM_TEXT if text in line], shown
    # (The mails it lists are as they were sent: in Swedish, the product language of mails to staff.)


# ---------------------------------------------------------------- a scan of the main pages


def _pages(story) -> list[str]:
    s = story
    return [
        "/",
        f"/walks/{s['walk']}",
        f"/walks/{s['walk']}/edit",
        f"/walks/{s['walk']}/findings/new",
        f"/findings/{s['finding']}",
        "/actions/",
        f"/actions/{s['item']}",
        f"/actions/{s['item']}/edit",
        "/followup/",
        f"/followup/meetings/{s['meeting']}",
        f"/followup/meetings/{s['meeting']}/items/{s['item']}",
        f"/followup/protocol?walk={s['walk']}",
        f"/followup/protocol?meeting={s['meeting']}",
        "/followup/promise",
        "/followup/dashboard",
    ]


@pytest.mark.parametrize("locale", ["en", "sv"])
def test_no_page_writes_dates_the_wrong_way(app, client, auth, story, locale):
    problems, shown = [], []

    def scan(path):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        text = _text(html)
        shown.append(text)
        patterns = (US_DATES + [SV_MONTHS]) if locale == "en" else [EN_MONTHS]
        problems.extend(f"{path}: {m.group(0)!r}" for p in patterns for m in re.finditer(p, text))
        problems.extend(
            f"{path}: datetime={t!r}"
            for t in re.findall(r'datetime="([^"]+)"', html)
            if not re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d)?Z)?", t)
        )
        if locale == "en":  # the system's words (typed texts and names in the story have none of these)
            problems.extend(f"{path}: {m.group(0)!r}" for m in re.finditer(SWEDISH_WORDS, text))

    _reader(app, auth, locale)
    for path in _pages(story):
        scan(path)
    _reader(app, auth, locale, Role.ADMIN)
    for path in ["/admin/audit", "/admin/users"]:
        scan(path)
    assert problems == []
    # The scan saw dates, written the reader's way (the item's due date, the meeting's day).
    day = en_day if locale == "en" else sv_day
    assert day(story["due"]) in " ".join(shown) and day(story["held_on"]) in " ".join(shown)
