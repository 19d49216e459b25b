"""Action events: the system's lines as a code with parameters (rendered in the reader's language).

The texts the system wrote before ("Tilldelad Trafikverket", "Ändrade klart senast", "Uppföljningsmöte
2026-11-20: …", "Ansvarig part: …", and their English forms when an English-speaking user made the
change) become codes; what a person typed after them stays the event's text. A text that is not
recognised stays as it is. Downgrading writes the Swedish lines back into the text.

Revision ID: 0010_event_codes
Revises: 0007_session_tokens
Create Date: 2026-12-02 08:40:00

"""
import re
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_event_codes"
down_revision = "0009_agreements_notices"
branch_labels = None
depends_on = None

# The field names "Ändrade …" / "Changed …" listed, in both languages (as update_action_item wrote them).
FIELDS = {
    "rubrik": "title", "beskrivning": "description", "ansvarig part": "responsible_party",
    "handläggare": "assignee", "klart senast": "due_date", "prioritet": "priority",
    "title": "title", "description": "description", "responsible party": "responsible_party",
    "case officer": "assignee", "due date": "due_date", "priority": "priority",
}
SWEDISH_FIELDS = {"title": "rubrik", "description": "beskrivning", "responsible_party": "ansvarig part",
                  "assignee": "handläggare", "due_date": "klart senast", "priority": "prioritet"}
ASSIGNED = re.compile(r"(?:Tilldelad|Assigned to) (?P<party>[^\n]+)")
EDITED = re.compile(r"(?:Ändrade|Changed) (?P<fields>[^\n]+)")
PARTY = re.compile(r"(?:Ansvarig part|Responsible party): (?P<party>[^\n]+)(?:\n(?P<rest>.*))?", re.S)
# The meeting's date as format_date(…, "short") wrote it: 2026-11-20 in Swedish, 11/20/26 in English.
MEETING = re.compile(r"(?:Uppföljningsmöte|Follow-up meeting) "
                     r"(?:(?P<iso>\d{4}-\d{2}-\d{2})|(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{2}))"
                     r"(?:: (?P<text>.*))?", re.S)

events = sa.table(
    "action_events",
    sa.column("id", sa.Integer()), sa.column("kind", sa.String()), sa.column("to_status", sa.String()),
    sa.column("text", sa.Text()), sa.column("code", sa.String(40)), sa.column("params", sa.JSON()),
)


def _meeting(text: str):
    """(params, typed text) of a meeting line, or None."""
    found = MEETING.fullmatch(text)
    if not found:
        return None
    try:
        held = (date.fromisoformat(found["iso"]) if found["iso"]
                else date(2000 + int(found["y"]), int(found["m"]), int(found["d"])))
    except ValueError:
        return None
    return {"date": held.isoformat()}, found["text"] or ""


def recognise(kind: str, to_status: str | None, text: str):
    """(code, params, typed text) for a system text this migration knows, else None."""
    text = text or ""
    if kind == "status" and to_status == "assigned" and (found := ASSIGNED.fullmatch(text)):
        return "assigned", {"party": found["party"]}, ""
    if kind == "edited" and (found := EDITED.fullmatch(text)):
        names = found["fields"].split(", ")
        if all(name in FIELDS for name in names):
            return "edited", {"fields": [FIELDS[name] for name in names]}, ""
        return None
    if kind in ("status", "comment"):
        party = PARTY.fullmatch(text) if kind == "status" else None
        rest = (party["rest"] or "") if party else text
        meeting = _meeting(rest)
        if meeting is not None:
            params, typed = meeting
            return "meeting", {**params, **({"party": party["party"]} if party else {})}, typed
        if party:
            return "party_changed", {"party": party["party"]}, rest
    return None


def swedish_text(code: str, params: dict, text: str) -> str:
    """The Swedish text the system wrote before codes (for downgrading)."""
    lines = []
    if code == "assigned":
        lines.append(f"Tilldelad {params.get('party', '')}")
    elif code == "edited":
        names = ", ".join(SWEDISH_FIELDS.get(name, name) for name in params.get("fields") or [])
        lines.append(f"Ändrade {names}")
    elif code in ("party_changed", "meeting"):
        if params.get("party"):
            lines.append(f"Ansvarig part: {params['party']}")
        if code == "meeting":
            lines.append(f"Uppföljningsmöte {params.get('date', '')}" + (f": {text}" if text else ""))
            return "\n".join(lines)
    if text:
        lines.append(text)
    return "\n".join(lines)


def upgrade():
    with op.batch_alter_table("action_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.kind, events.c.to_status, events.c.text)
                              .where(events.c.kind.in_(("status", "comment", "edited")))).all()
    for event_id, kind, to_status, text in rows:
        found = recognise(kind, to_status, text)
        if found is not None:
            code, params, typed = found
            connection.execute(events.update().where(events.c.id == event_id)
                               .values(code=code, params=params, text=typed))


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.code, events.c.params, events.c.text)
                              .where(events.c.code.is_not(None))).all()
    for event_id, code, params, text in rows:
        connection.execute(events.update().where(events.c.id == event_id)
                           .values(text=swedish_text(code, params or {}, text or "")))
    with op.batch_alter_table("action_events", schema=None) as batch_op:
        batch_op.drop_column("params")
        batch_op.drop_column("code")
