"""Mail about action items through a real SMTP server: cron reminders once per item and period, change notices."""

import email
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import date
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from fieldwalk.actions import operations
from fieldwalk.extensions import db
from fieldwalk.models import (
    ActionItem,
    ActionStatus,
    FailedJob,
    Finding,
    Reminder,
    ReminderKind,
    ResponsibleParty,
    Role,
    User,
)

TODAY = "2026-11-23"  # a Monday, ISO week 2026-W48
GATA, POLIS = "Gatu- och parkavdelningen", "Polisen, kommunpolis"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _outbox_mails(app) -> list[email.message.EmailMessage]:
    outbox = Path(app.config["MAIL_OUTBOX"])
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


@dataclass
class Mail:
    recipients: list[str]
    subject: str
    body: str


class Inbox:
    """An aiosmtpd handler that keeps every accepted message and refuses the addresses in `refuse`."""

    def __init__(self):
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append(
            Mail(sorted(envelope.rcpt_tos), str(message["Subject"]), message.get_body(("plain",)).get_content())
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]


@pytest.fixture
def inbox(app, monkeypatch):
    """A real SMTP server on a free local port; the app sends through it (no TLS)."""
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "BASE_URL", "https://trygg.example.se/fieldwalk")
    try:
        yield handler
    finally:
        controller.stop()


def _party(name: str) -> ResponsibleParty:
    return db.session.scalar(select(ResponsibleParty).filter_by(name=name))


@pytest.fixture
def due_items(app, auth, make_walk):
    """Two parties with overdue, soon-due, later and finished items; a party without address; an inactive one."""
    auth.make_user(Role.RESPONSIBLE, GATA, email="anna@example.com", name="Anna Ansvarig")
    auth.make_user(Role.RESPONSIBLE, GATA, email="gata-park@example.com")  # same as the party's address
    gone_id, _ = auth.make_user(Role.RESPONSIBLE, GATA, email="olle@example.com")
    auth.make_user(Role.COORDINATOR, email="sam@example.com")
    walk_id = make_walk(title="Kvällsvandring Norr")
    with app.app_context():
        db.session.get(User, gone_id).active = False
        db.session.add_all(
            [
                ResponsibleParty(name="Brf Tallen", email=""),
                ResponsibleParty(name="Nedlagd förvaltning", email="nedlagd@example.com", active=False),
            ]
        )
        db.session.flush()
        rows = [
            ("Byt trasig lampa", GATA, date(2026, 11, 10), ActionStatus.ASSIGNED),
            ("Sanera klotter vid skolan", GATA, date(2026, 11, 23), ActionStatus.IN_PROGRESS),
            ("Klipp häcken", GATA, date(2026, 12, 7), ActionStatus.NEW),
            ("Ny beläggning", GATA, date(2026, 12, 8), ActionStatus.ASSIGNED),
            ("Laga bänken", GATA, date(2026, 11, 1), ActionStatus.DONE),
            ("Rensa buskage", GATA, date(2026, 10, 1), ActionStatus.CLOSED),
            ("Utan datum", GATA, None, ActionStatus.ASSIGNED),
            ("Kameraövervakning", POLIS, date(2026, 11, 20), ActionStatus.ASSIGNED),
            ("Belys entrén", "Brf Tallen", date(2026, 11, 1), ActionStatus.ASSIGNED),
            ("Gammal åtgärd", "Nedlagd förvaltning", date(2026, 11, 1), ActionStatus.ASSIGNED),
            ("Avvisat fartgupp", "Trafikverket", date(2026, 11, 1), ActionStatus.REJECTED),
        ]
        for title, party, due, status in rows:
            db.session.add(
                ActionItem(walk_id=walk_id, title=title, responsible_party=_party(party), due_date=due, status=status)
            )
        db.session.commit()
    return [title for title, *_rest in rows]


def _reminders(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return sorted((r.action_item.title, r.kind.value, r.period) for r in db.session.scalars(select(Reminder)))


def _item_id(app, title: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ActionItem.id).filter_by(title=title))


def _send(runner, day: str = TODAY):
    return runner.invoke(args=["send-reminders", "--date", day])


def test_send_reminders_twice_mails_each_party_once(app, runner, inbox, due_items):
    first = _send(runner)
    assert first.exit_code == 0, first.output
    assert "sent 2 mails about 4 items; 1 parties without address" in first.output
    assert "Brf Tallen" in first.output

    assert sorted(m.recipients for m in inbox.mails) == [
        ["anna@example.com", "gata-park@example.com"],
        ["kommunpolis@example.com"],
    ]
    gata = inbox.to("anna@example.com")[0]
    assert gata.subject == f"Påminnelse: åtgärder för {GATA}"
    expected = ["Byt trasig lampa", "Sanera klotter vid skolan", "Klipp häcken"]
    for title in due_items:
        assert (title in gata.body) == (title in expected), title
    # Overdue first, then due soon, each with walk, due date, days overdue and an absolute link.
    assert gata.body.index("Försenade (1)") < gata.body.index("Byt trasig lampa") < gata.body.index("Snart dags")
    assert gata.body.index("Snart dags") < gata.body.index("Sanera klotter vid skolan")
    assert "Klart senast: 10 nov. 2026 (13 dagar försenad)" in gata.body
    assert "Klart senast: 23 nov. 2026 (ska vara klar i dag)" in gata.body
    assert "Vandring: Kvällsvandring Norr" in gata.body
    assert f"https://trygg.example.se/fieldwalk/actions/{_item_id(app, 'Byt trasig lampa')}" in gata.body
    polis = inbox.to("kommunpolis@example.com")[0]
    assert "Kameraövervakning" in polis.body and "3 dagar försenad" in polis.body
    assert "Byt trasig lampa" not in polis.body

    assert _reminders(app) == [
        ("Byt trasig lampa", "overdue", "2026-W48"),
        ("Kameraövervakning", "overdue", "2026-W48"),
        ("Klipp häcken", "due_soon", "2026-W48"),
        ("Sanera klotter vid skolan", "due_soon", "2026-W48"),
    ]

    second = _send(runner)
    assert second.exit_code == 0, second.output
    assert "sent 0 mails about 0 items" in second.output
    assert len(inbox.mails) == 2 and len(_reminders(app)) == 4


def test_becoming_overdue_and_a_new_period_remind_again(app, runner, inbox, due_items):
    _send(runner)
    inbox.mails.clear()
    # Tuesday of the same week: only the item that has just become overdue is new.
    assert _send(runner, "2026-11-24").exit_code == 0
    assert [m.recipients for m in inbox.mails] == [["anna@example.com", "gata-park@example.com"]]
    assert "Sanera klotter vid skolan" in inbox.mails[0].body and "Byt trasig lampa" not in inbox.mails[0].body
    inbox.mails.clear()
    # The next week everything still open and due is reminded of once more.
    result = _send(runner, "2026-11-30")
    assert result.exit_code == 0 and "2026-W49" in result.output
    gata = inbox.to("anna@example.com")[0].body
    for title in ("Byt trasig lampa", "Sanera klotter vid skolan", "Klipp häcken", "Ny beläggning"):
        assert title in gata
    assert "Laga bänken" not in gata and "Utan datum" not in gata
    assert len(inbox.to("kommunpolis@example.com")) == 1


def test_a_party_without_address_is_retried_once_it_has_one(app, runner, inbox, due_items):
    _send(runner)
    assert not any("Belys entrén" in m.body for m in inbox.mails)
    with app.app_context():
        _party("Brf Tallen").email = "styrelsen@tallen.example.com"
        db.session.commit()
    inbox.mails.clear()
    result = _send(runner)
    assert "sent 1 mails about 1 items; 0 parties without address" in result.output
    assert [m.recipients for m in inbox.mails] == [["styrelsen@tallen.example.com"]]
    assert "Belys entrén" in inbox.mails[0].body


def test_monthly_period(app, runner, inbox, due_items, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_PERIOD", "month")
    _send(runner)
    assert {period for _title, _kind, period in _reminders(app)} == {"2026-11"}
    inbox.mails.clear()
    _send(runner, "2026-11-27")  # another week, the same month: only what is newly overdue or due soon
    [mail] = inbox.mails
    assert "Sanera klotter vid skolan" in mail.body and "Ny beläggning" in mail.body
    assert "Byt trasig lampa" not in mail.body and "Klipp häcken" not in mail.body
    inbox.mails.clear()
    _send(runner, "2026-12-01")
    assert "Byt trasig lampa" in inbox.to("anna@example.com")[0].body


def test_a_refused_mail_is_retried_and_the_others_go_out(app, runner, inbox, due_items):
    inbox.refuse.add("kommunpolis@example.com")
    result = _send(runner)
    assert result.exit_code == 1
    assert f"Could not mail {POLIS!r}" in result.output
    assert "sent 1 mails about 3 items" in result.output
    assert [m.recipients for m in inbox.mails] == [["anna@example.com", "gata-park@example.com"]]
    assert "Kameraövervakning" not in [title for title, _kind, _period in _reminders(app)]
    inbox.refuse.clear()
    inbox.mails.clear()
    result = _send(runner)
    assert result.exit_code == 0, result.output
    assert [m.recipients for m in inbox.mails] == [["kommunpolis@example.com"]]


def test_without_mail_server_reminders_go_to_the_outbox(app, runner, due_items):
    result = _send(runner)
    assert result.exit_code == 0, result.output
    files = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    assert len(files) == 2
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {m["To"] for m in messages} == {"gata-park@example.com, anna@example.com", "kommunpolis@example.com"}


# --- Notices about changes -------------------------------------------------------------------------


@pytest.fixture
def assigned_item(app, client, auth, make_walk, category_id):
    """A coordinator (logged in) made an item for Gatu- och parkavdelningen, which has members Anna and Bertil."""
    auth.make_user(Role.RESPONSIBLE, GATA, email="anna@example.com", name="Anna Ansvarig")
    auth.make_user(Role.RESPONSIBLE, GATA, email="bertil@example.com", name="Bertil Ansvarig")

    def make(title: str = "Byt trasig lampa") -> int:
        auth.login(Role.COORDINATOR)
        walk_id = make_walk()
        client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": "Mörkt"})
        with app.app_context():
            finding_id = db.session.scalar(select(Finding.id).filter_by(walk_id=walk_id))
            party_id = _party(GATA).id
        response = client.post(
            "/actions/new",
            data={
                "finding": finding_id,
                "title": title,
                "priority": "high",
                "responsible_party": party_id,
                "due_date": "2026-12-31",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        response.close()  # the mail goes once the answer is out
        return _item_id(app, title)

    return make


def test_assignment_and_status_change_mail_the_party(app, client, inbox, assigned_item):
    item_id = assigned_item()
    created = inbox.mails[-1]
    assert created.recipients == ["anna@example.com", "bertil@example.com", "gata-park@example.com"]
    assert created.subject == "Tilldelad åtgärd: Byt trasig lampa"
    assert f"har tilldelat en åtgärd till {GATA}" in created.body and "Status: Ny → Tilldelad" in created.body
    inbox.mails.clear()
    response = client.post(f"/actions/{item_id}/transition", data={"to": "rejected", "text": "Ingen budget i år"})
    assert response.status_code == 302
    response.close()
    [mail] = inbox.mails
    assert "anna@example.com" in mail.recipients and mail.subject == "Ny status för åtgärd: Byt trasig lampa"
    assert "Status: Tilldelad → Avvisad" in mail.body and "Ingen budget i år" in mail.body
    assert "Test samordnare" in mail.body
    assert f"https://trygg.example.se/fieldwalk/actions/{item_id}" in mail.body


def test_a_member_is_not_mailed_about_their_own_change(app, client, auth, inbox, assigned_item):
    item_id = assigned_item()
    with app.app_context():
        party_id = _party(GATA).id
    member_id = auth.login(Role.RESPONSIBLE, GATA)
    with app.app_context():
        member_email = db.session.get(User, member_id).email
        assert db.session.get(User, member_id).responsible_party_id == party_id
    inbox.mails.clear()
    response = client.post(f"/actions/{item_id}/transition", data={"to": "in_progress", "text": "Beställt"})
    assert response.status_code == 302
    response.close()
    [mail] = inbox.mails
    assert member_email not in mail.recipients
    assert mail.recipients == ["anna@example.com", "bertil@example.com", "gata-park@example.com"]


def test_the_assignee_alone_gets_the_notice(app, client, inbox, assigned_item):
    item_id = assigned_item()
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        item.assignee = db.session.scalar(select(User).filter_by(email="bertil@example.com"))
        db.session.commit()
    inbox.mails.clear()
    client.post(f"/actions/{item_id}/transition", data={"to": "done", "text": "Lampan bytt"}).close()
    assert [m.recipients for m in inbox.mails] == [["bertil@example.com"]]


def test_moving_to_another_party_mails_the_new_party(app, client, inbox, assigned_item):
    item_id = assigned_item()
    with app.app_context():
        polis_id = _party(POLIS).id
    inbox.mails.clear()
    response = client.post(
        f"/actions/{item_id}/edit",
        data={"title": "Byt trasig lampa", "priority": "high", "responsible_party": polis_id},
    )
    assert response.status_code == 302
    response.close()
    [mail] = inbox.mails
    assert mail.recipients == ["kommunpolis@example.com"] and f"till {POLIS}" in mail.body
    inbox.mails.clear()
    client.post(
        f"/actions/{item_id}/edit", data={"title": "Byt lampan", "priority": "low", "responsible_party": polis_id}
    ).close()
    assert inbox.mails == []  # other edits are not worth a mail


def test_a_rolled_back_change_mails_nobody(app, client, inbox, assigned_item):
    item_id = assigned_item()
    inbox.mails.clear()
    response = client.post(f"/actions/{item_id}/transition", data={"to": "closed"})  # not from tilldelad
    assert response.status_code == 409
    response.close()
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        coordinator = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        operations.transition(item, ActionStatus.IN_PROGRESS, coordinator)  # queued …
        db.session.rollback()  # … and undone
        db.session.commit()  # a later commit in the same session must not send it either
        assert db.session.get(ActionItem, item_id).status == ActionStatus.ASSIGNED
    assert inbox.mails == []


def test_a_mail_server_that_is_down_does_not_break_the_change(app, client, assigned_item, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    item_id = assigned_item()
    response = client.post(f"/actions/{item_id}/transition", data={"to": "in_progress"})
    assert response.status_code == 302
    response.close()
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status == ActionStatus.IN_PROGRESS
        failed = db.session.scalars(select(FailedJob.summary)).all()
    # Every attempt failed (the tests retry nothing): the mails are listed for the admin.
    assert (
        "gata-park@example.com, anna@example.com, bertil@example.com: Ny status för åtgärd: Byt trasig lampa" in failed
    )


class SilentServer:
    """A mail server that accepts connections and never says a word (a hung relay, a firewall's tarpit)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:  # closed
                return
            self.accepted.append(connection)

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (a close alone would not, on Linux)
        self.sock.close()
        self.thread.join(5)
        for connection in self.accepted:
            connection.close()


def test_a_mail_server_that_never_answers_does_not_hold_the_answer(app, client, assigned_item, monkeypatch):
    item_id = assigned_item()  # (its mail went to the outbox)
    server = SilentServer()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 30)
    try:
        started = time.monotonic()
        response = client.post(f"/actions/{item_id}/transition", data={"to": "in_progress", "text": "Beställt"})
        answered = time.monotonic() - started
        assert response.status_code == 302
        # Sending inside the request would wait the full 30 s for the greeting; the answer is out long before.
        assert answered < 10, answered
        assert not server.accepted  # nobody has even connected to the mail server yet
    finally:
        server.close()  # the job then finds the server gone and fails at once instead of in 30 s
    response.close()
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status == ActionStatus.IN_PROGRESS
        [failed] = db.session.scalars(select(FailedJob)).all()
    assert failed.summary.endswith(": Ny status för åtgärd: Byt trasig lampa") and failed.queue == "in-process"


def test_a_notice_is_a_complete_mail_with_text_and_html(app, client, auth, assigned_item, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_FROM", "Trygghetsvandring Växjö <trygghet@vaxjo.example.se>")
    monkeypatch.setitem(app.config, "BASE_URL", "https://trygg.example.se/fieldwalk")
    item_id = assigned_item('Lampa <script>alert("x")</script> & mer')
    [mail] = [m for m in _outbox_mails(app) if "Tilldelad" in m["Subject"]]
    assert mail["From"] == "Trygghetsvandring Växjö <trygghet@vaxjo.example.se>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Date"].datetime.tzinfo is not None and abs(mail["Date"].datetime.timestamp() - time.time()) < 600
    assert re.fullmatch(r"<[^@<>\s]+@trygg\.example\.se>", mail["Message-ID"])
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert 'Åtgärd: Lampa <script>alert("x")</script> & mer' in text
    assert "<script>" not in html and "Lampa &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; mer" in html
    link = f"https://trygg.example.se/fieldwalk/actions/{item_id}"
    assert link in text and f'<a href="{link}">{link}</a>' in html
    assert '<html lang="sv">' in html


def test_reminder_kinds_are_stored_per_item(app, runner, inbox, due_items):
    _send(runner)
    with app.app_context():
        reminder = db.session.scalar(select(Reminder).join(Reminder.action_item).filter_by(title="Byt trasig lampa"))
        assert reminder.kind == ReminderKind.OVERDUE and reminder.party.name == GATA
        assert reminder.recipients == "gata-park@example.com, anna@example.com"


def test_demo_data_mails_nobody_until_reminders_are_sent(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    outbox = Path(app.config["MAIL_OUTBOX"])
    assert not list(outbox.glob("*.eml"))
    result = runner.invoke(args=["send-reminders"])  # today, whatever day the test runs
    assert result.exit_code == 0, result.output
    assert "Byt trasiga armaturer" not in "".join(f.read_text() for f in outbox.glob("*.eml"))  # closed
    assert any("gata-park@example.com" in f.read_text() for f in outbox.glob("*.eml"))


def test_a_wrong_period_setting_is_a_clear_error(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_PERIOD", "fortnight")
    result = _send(runner)
    assert result.exit_code == 1 and "REMINDER_PERIOD must be 'week' or 'month'" in result.output
