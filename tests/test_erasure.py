"""GDPR erasure leaves nothing of the person behind: every column of every table, every file, the mail outbox."""

import email
import io
import re
from datetime import date
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, AuditEntry, Finding, ResponsibleParty, Role, User, Walk, WalkStatus
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

GATA = "Gatu- och parkavdelningen"
# The account holder: a resident with an account who later joins the street department (ansvarig).
P_NAME, P_EMAIL, P_ORG, P_PHONE = (
    "Petra Raderasdotter",
    "petra.raderas@example.org",
    "Raderasekens samfällighet",
    "070-123 45 67",
)
# The guest who joined by the walk's link.
G_NAME, G_ORG, G_PHONE = "Gustav Raderasson", "Raderasbergets brf", "073-987 65 43"
G_NEWS = "gustav.raderas@example.net"  # left at joining, for news about his findings
# A name the account holder typed into a form instead of her account name.
P_TYPED_NAME = "Petra R. Fotograf"


def _needles(*values: str) -> list[str]:
    """The strings to look for: as typed, and phone numbers also as bare digits."""
    result = []
    for value in values:
        result.append(value)
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 7:
            result.append(digits)
    return result


P_NEEDLES = _needles(P_NAME, P_EMAIL, P_ORG, P_PHONE, P_TYPED_NAME)
G_NEEDLES = _needles(G_NAME, G_ORG, G_PHONE, G_NEWS)


def _database_hits(needles: list[str]) -> set[tuple[str, object, str]]:
    """(table, primary key, column) of every value in the database that contains one of the needles."""
    hits = set()
    lowered = [n.lower() for n in needles]
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            key = row.get("id")
            for column, value in row.items():
                text = str(value).lower()
                if any(n in text for n in lowered):
                    hits.add((table.name, key, column))
    return hits


def _file_text(path: Path) -> bytes:
    """A file's raw bytes, plus the decoded headers and body of a mail (bodies are base64/quoted-printable)."""
    data = path.read_bytes()
    if path.suffix == ".eml":
        message = email.message_from_bytes(data, policy=policy.default)
        parts = [part.get_content() for part in message.walk() if not part.is_multipart()]  # text and HTML
        decoded = "\n".join(f"{k}: {v}" for k, v in message.items()) + "\n" + "\n".join(parts)
        data += b"\n" + decoded.encode("utf-8")
    return data.lower()


def _file_hits(roots: list[Path], needles: list[str]) -> set[Path]:
    """Every file under the roots whose bytes (or decoded mail text) contain one of the needles."""
    hits = set()
    for root in roots:
        for path in (p for p in root.rglob("*") if p.is_file()):
            data = _file_text(path)
            if any(n.lower().encode("utf-8") in data for n in needles):
                hits.add(path)
    return hits


def _search_roots(app, tmp_path: Path) -> list[Path]:
    """The test's photo folder and outbox (under tmp_path) and, on SQLite, the database file, its -wal and -shm."""
    roots = [tmp_path]
    if db.engine.dialect.name == "sqlite":
        roots.append(Path(db.engine.url.database).parent)
    return roots


def _post_finding(client, walk_id: int, category: int, description: str, **extra):
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        data={
            "category": category,
            "description": description,
            "severity": "high",
            "photos": [(io.BytesIO(jpeg_bytes((800, 600))), "IMG_0001.jpg")],
            **extra,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _login(client, address: str, password: str) -> int:
    client.delete_cookie("remember_token")
    with client.session_transaction() as session:
        session.clear()
    return client.post("/login", data={"email": address, "password": password}).status_code


# Where each table's rows appear in the export (by their id).
EXPORT_SECTION = {"users": "user", "audit_entries": "audit_log"}


def _export_ids(data: dict, table: str) -> set:
    section = data[EXPORT_SECTION.get(table, table)]
    return {section["id"]} if isinstance(section, dict) else {row["id"] for row in section}


@pytest.mark.committed  # looks into the SQLite file after a checkpoint from another connection
def test_erasure_leaves_nothing_of_the_person(app, client, auth, runner, make_walk, category_id, tmp_path):
    walk_id = make_walk(status=WalkStatus.PLANNED, title="Kvällsvandring Raderas")
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
        party_id = db.session.scalar(select(ResponsibleParty.id).filter_by(name=GATA))

    # The guest joins by the link, suggests a place and logs a finding with a photo and their phone number.
    client.delete_cookie("remember_token")
    assert (
        client.post(f"/join/{code}", data={"name": G_NAME, "organisation": G_ORG, "notify_email": G_NEWS}).status_code
        == 302
    )
    assert (
        client.post(
            f"/walks/{walk_id}/places", data={"text": f"Mörk gångtunnel, ring {G_PHONE}", "place": "Tunneln vid skolan"}
        ).status_code
        == 302
    )
    _post_finding(client, walk_id, category_id(), f"Trasig lampa. Ring mig på {G_PHONE}")

    # The account holder fails to log in twice, then logs in, joins the same walk by its link, suggests
    # a place under a typed name, and logs a finding with a photo and her phone number.
    p_id, _email = auth.make_user(Role.PARTICIPANT, email=P_EMAIL, name=P_NAME, organisation=P_ORG)
    assert _login(client, P_EMAIL, "fel lösenord") == 401
    assert _login(client, "Petra.Raderas@Example.org", "fel igen") == 401
    assert _login(client, P_EMAIL, PASSWORD) == 302
    assert client.post(f"/join/{code}").status_code == 302
    assert (
        client.post(
            f"/walks/{walk_id}/places",
            data={
                "text": f"Buskage vid busshållplatsen, hör av er på {P_PHONE}",
                "place": "Busshållplatsen",
                "suggested_by": P_TYPED_NAME,
            },
        ).status_code
        == 302
    )
    _post_finding(
        client,
        walk_id,
        category_id(),
        f"Mörkt vid entrén, jag nås på {P_PHONE}",
        reporter_name=P_TYPED_NAME,
        reporter_org=P_ORG,
        place="Entrén",
    )

    # She becomes a member of the street department (ansvarig).
    auth.login(Role.ADMIN)
    assert (
        client.post(
            f"/admin/users/{p_id}",
            data={
                "name": P_NAME,
                "organisation": P_ORG,
                "role": "ansvarig",
                "responsible_party": party_id,
                "active": "y",
            },
        ).status_code
        == 302
    )

    # A coordinator makes an overdue action item of her finding for the department: she gets the notice.
    auth.login(Role.COORDINATOR)
    assert client.post(f"/walks/{walk_id}/status", data={"status": "ongoing"}).status_code == 302
    with app.app_context():
        finding_id = db.session.scalar(select(Finding.id).filter_by(reporter_id=p_id))
    assert (
        client.post(
            "/actions/new",
            data={"finding": finding_id, "title": "Belys entrén", "priority": "high", "responsible_party": party_id},
        ).status_code
        == 302
    )
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id).filter_by(title="Belys entrén"))
        db.session.get(ActionItem, item_id).due_date = date(2026, 11, 10)  # overdue (no form takes a past date)
        db.session.commit()

    # She comments (with her phone number) and moves the item; the party's mailbox gets a notice naming her.
    assert _login(client, P_EMAIL, PASSWORD) == 302
    assert (
        client.post(
            f"/actions/{item_id}/comment", data={"text": f"Jag tittar på det i morgon, ring {P_PHONE}"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/actions/{item_id}/transition", data={"to": "in_progress", "text": f"Beställt, frågor till {P_PHONE}"}
        ).status_code
        == 302
    )
    # She asks for a new password (a mail to her) and the weekly reminder goes out (to her too).
    client.post("/reset", data={"email": P_EMAIL}).close()  # the mail goes once the answer is out
    result = runner.invoke(args=["send-reminders", "--date", "2026-11-23"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        roots = _search_roots(app, tmp_path)
        g_id = db.session.scalar(select(User.id).filter_by(name=G_NAME))
        assert db.session.scalar(select(AuditEntry.id).filter_by(action="auth.login_failed")) is not None
        # Before erasure: the person is all over the place, and the export covers every place.
        p_hits, g_hits = _database_hits(P_NEEDLES), _database_hits(G_NEEDLES)
        assert {t for t, _k, _c in p_hits} >= {
            "users",
            "findings",
            "suggested_places",
            "action_events",
            "reminders",
            "audit_entries",
        }
        assert {t for t, _k, _c in g_hits} >= {"users", "findings", "suggested_places"}
        if db.engine.dialect.name == "sqlite":
            # As after a while in use: the automatic checkpoint has moved the pages into the database file.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            assert P_NAME.encode() in Path(db.engine.url.database).read_bytes()
        p_files = _file_hits(roots, P_NEEDLES)
        assert any(p.suffix == ".eml" for p in p_files)
    auth.login(Role.ADMIN)
    for person_id, hits, files in ((p_id, p_hits, p_files), (g_id, g_hits, set())):
        export = client.get(f"/admin/users/{person_id}/export.json")
        assert export.status_code == 200
        data = export.json
        for table, key, column in hits:
            assert key in _export_ids(data, table), f"{table}.{column} row {key} is not in the export"
        exported_mails = {m["file"] for m in data["mails"]}
        for path in files:
            if path.suffix == ".eml":
                assert path.name in exported_mails, f"{path.name} is not in the export"
    assert data["user"]["name"] == G_NAME and data["findings"][0]["photos"]

    # Erase both.
    for person_id in (p_id, g_id):
        assert client.post(f"/admin/users/{person_id}/erase").status_code == 302

    with app.app_context():
        assert _database_hits(P_NEEDLES + G_NEEDLES) == set()
        finding = db.session.scalar(select(Finding).filter_by(reporter_id=p_id))
        assert finding.description == "[borttaget]" and len(finding.photos) == 1  # the observation stays
        assert finding.place == "Entrén"
        assert db.session.get(ActionItem, item_id).title == "Belys entrén"
        # Failed log-ins are kept as events, without the typed address (not even its keyed hash).
        failed = db.session.scalars(select(AuditEntry).filter_by(action="auth.login_failed")).all()
        assert len(failed) == 2 and all(e.detail == "" for e in failed)
        assert _file_hits(roots, P_NEEDLES + G_NEEDLES) == set()
    # The walk's pages no longer show them.
    auth.login(Role.COORDINATOR)
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert P_NAME not in page and G_NAME not in page and P_PHONE not in page


def test_a_failed_log_in_stores_a_keyed_hash_not_the_address(app, client):
    """The audit log says that someone failed to log in as an address, without storing what they typed."""
    from fieldwalk.audit import email_fingerprint

    assert client.post("/login", data={"email": "Ann.Annan@Example.org", "password": "fel"}).status_code == 401
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="auth.login_failed"))
        assert "annan" not in entry.detail.lower()
        assert entry.detail == email_fingerprint(" ann.annan@example.org")  # the same address, however typed
        assert entry.detail != email_fingerprint("ann.annan@example.com")


def test_erasure_also_cleans_rows_written_before_the_rules(app, client, auth, make_walk, tmp_path):
    """Rows from older versions (address in a failed log-in, comment copies in the audit log, suggestions
    without suggested_by_id) and other people's texts naming the person (meeting attendees, mails) are cleaned."""
    from datetime import date

    from fieldwalk.mail import send_mail
    from fieldwalk.models import FollowUpMeeting, SuggestedPlace

    name, address = "Åsa Legacysson", "asa.legacy@example.org"
    person_id, _email = auth.make_user(Role.PARTICIPANT, email=address, name=name)
    walk_id = make_walk(status=WalkStatus.PLANNED)
    with app.app_context():
        db.session.add_all(
            [
                AuditEntry(action="auth.login_failed", object_type="users", object_id=person_id, detail=address),
                AuditEntry(
                    action="action.comment",
                    actor_id=person_id,
                    actor_name=name,
                    object_type="action_items",
                    object_id=1,
                    detail="→ Ring mig på 070-555 66 77",
                ),
                SuggestedPlace(walk_id=walk_id, text="Mörkt, ring 070-555 66 77", suggested_by=name.upper()),
                SuggestedPlace(walk_id=walk_id, text="Klotter", suggested_by="Någon annan"),
                FollowUpMeeting(title="Q4", held_on=date(2026, 12, 1), attendees=f"{name}, Sara Samordnare, Anna"),
            ]
        )
        db.session.commit()
        with app.test_request_context():
            send_mail(address, "Hej", f"Hej {name}!")
            send_mail("annan@example.org", "Möte", f"Närvarande: {name}")
            send_mail("annan@example.org", "Annat", "Inget om henne")
    auth.login(Role.ADMIN)
    data = client.get(f"/admin/users/{person_id}/export.json").json
    assert len(data["suggested_places"]) == 1 and len(data["followup_meetings"]) == 1 and len(data["mails"]) == 2
    assert {a["action"] for a in data["audit_log"]} >= {"auth.login_failed", "action.comment"}
    assert client.post(f"/admin/users/{person_id}/erase").status_code == 302
    with app.app_context():
        needles = _needles(name, address, "070-555 66 77")
        assert _database_hits(needles) == set()
        assert db.session.scalar(select(FollowUpMeeting)).attendees == "borttagen deltagare, Sara Samordnare, Anna"
        assert db.session.scalar(select(SuggestedPlace).filter_by(text="Klotter")).suggested_by == "Någon annan"
        assert _file_hits(_search_roots(app, tmp_path), needles) == set()
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # the unrelated mail stays


def test_a_deactivated_account_can_still_be_erased(app, client, auth):
    """Someone who left (account closed) asks for erasure: the button is there until the data is gone."""
    person_id, _email = auth.make_user(Role.RESPONSIBLE, GATA, email="slutat@example.org", name="Sluta Tsson")
    with app.app_context():
        db.session.get(User, person_id).active = False
        db.session.commit()
    auth.login(Role.ADMIN)
    erase_url = f"/admin/users/{person_id}/erase"
    assert erase_url in client.get("/admin/users").get_data(as_text=True)
    assert client.post(erase_url).status_code == 302
    with app.app_context():
        assert db.session.get(User, person_id).erased_at is not None
    assert erase_url not in client.get("/admin/users").get_data(as_text=True)
    assert client.post(erase_url).status_code == 302  # erasing again is harmless
