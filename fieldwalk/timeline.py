"""What the system writes into an action item's timeline, stored as a code with parameters and written out
in the reader's language when shown ("Tilldelad Trafikverket" to a Swedish reader, "Assigned to
Trafikverket" to an English one, the meeting's date in each one's style).

An event's `text` is only ever what a person typed; the system's line is `code` + `params`. Every place
that shows events (the action item page, the follow-up step, the protocol and its PDF, mails, the
personal-data export) calls `event_text`.
"""

from datetime import date
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l

from fieldwalk.dates import format_day
from fieldwalk.labels import label
from fieldwalk.models import ActionEvent, Priority

# code → the message; its %(name)s placeholders are the note's params.
MESSAGES = {
    "assigned": _l("Tilldelad %(party)s"),
    "party_changed": _l("Ansvarig part: %(party)s"),
    "edited": _l("Ändrade %(fields)s"),
    "meeting": _l("Uppföljningsmöte %(date)s"),
}
MEETING_WITH_TEXT = _l("Uppföljningsmöte %(date)s: %(text)s")
# The details of an item an "edited" note names (the keys are update_action_item's field names).
FIELD_NAMES = {
    "title": _l("rubrik"),
    "description": _l("beskrivning"),
    "responsible_party": _l("ansvarig part"),
    "assignee": _l("handläggare"),
    "due_date": _l("klart senast"),
    "priority": _l("prioritet"),
}
DATE_PARAMS = ("date", "due_date")  # ISO dates, shown in the reader's date style


class Note(NamedTuple):
    """A system line of a timeline event, before it is stored on the event."""

    code: str
    params: dict[str, Any]


def assigned(party) -> Note:
    """The item was given to a responsible party when it was made."""
    return Note("assigned", {"party": party.name})


def party_changed(party) -> Note:
    """A status move that also handed the item to another party."""
    return Note("party_changed", {"party": party.name})


def meeting(held_on: date) -> Note:
    """A follow-up meeting's decision (its typed text stays the event's text)."""
    return Note("meeting", {"date": held_on.isoformat()})


def with_party(note: Note | None, party) -> Note:
    """The note of a move that also changed the party (a meeting's decision, or a plain move)."""
    if note is None:
        return party_changed(party)
    return Note(note.code, {**note.params, "party": party.name})


def edited(item, changed: list[str]) -> Note:
    """Which details of the item changed, with the new value of those that are no personal data or
    long text (the due date, the party, the priority); names of people are left out so that erasing a
    person does not have to rewrite other people's events."""
    params: dict[str, Any] = {"fields": list(changed)}
    if "due_date" in changed:
        params["due_date"] = item.due_date.isoformat() if item.due_date else None
    if "responsible_party" in changed:
        params["party"] = item.responsible_party.name if item.responsible_party else None
    if "priority" in changed:
        params["priority"] = item.priority.value if item.priority else None
    return Note("edited", params)


def _day(value) -> str:
    try:
        return format_day(date.fromisoformat(value))
    except (TypeError, ValueError):  # not an ISO date (written by hand into the database): as it is
        return str(value or "–")


def _values(params: dict[str, Any]) -> dict[str, str]:
    return {
        key: _day(value) if key in DATE_PARAMS else str(value if value is not None else "–")
        for key, value in params.items()
    }


def _changed_fields(params: dict[str, Any]) -> str:
    parts = []
    for name in params.get("fields") or []:
        part = str(FIELD_NAMES.get(name, name))
        if name == "due_date" and "due_date" in params:
            part += " → " + (_day(params["due_date"]) if params["due_date"] else "–")
        elif name == "responsible_party" and "party" in params:
            part += " → " + (params["party"] or "–")
        elif name == "priority" and params.get("priority") in set(Priority):
            part += " → " + str(label(Priority(params["priority"]))).lower()
        parts.append(part)
    return ", ".join(parts)


def note_lines(code: str | None, params: dict[str, Any] | None, text: str = "") -> list[str]:
    """The system's lines for a code and its params, in the current language, with the typed text."""
    params = params or {}
    message = MESSAGES.get(code or "")
    if message is None:  # no system line (a comment), or a code this version does not know
        return [text] if text else []
    values = _values(params)
    lines = []
    if code == "meeting" and params.get("party"):  # the meeting also gave the item to another party
        lines.append(str(MESSAGES["party_changed"]) % values)
    if code == "edited":
        values["fields"] = _changed_fields(params)
    if code == "meeting" and text:
        lines.append(str(MEETING_WITH_TEXT) % {**values, "text": text})
        return lines
    lines.append(str(message) % values)
    if text:
        lines.append(text)
    return lines


def event_text(event: ActionEvent) -> str:
    """The event's text as the reader sees it: the system's line in their language, then what was typed."""
    return "\n".join(note_lines(event.code, event.params, event.text or ""))
