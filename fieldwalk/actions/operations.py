"""State changes of action items; each function is one user action. Which status moves exist and who
may make them is the table in actions/workflow.py; transition() applies it (with permissions.may_move)
and records the move."""

from datetime import date

from flask_babel import gettext as _

from fieldwalk import timeline
from fieldwalk.actions import workflow
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.audit import record
from fieldwalk.extensions import db
from fieldwalk.http_errors import OperationError
from fieldwalk.labels import label
from fieldwalk.local_time import local_today
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    EventKind,
    Finding,
    ResponsibleParty,
    User,
    utcnow,
)
from fieldwalk.notifications import notify_change, record_outcomes
from fieldwalk.permissions import (
    can_assign,
    can_change_party,
    can_comment_action,
    can_edit_action,
    can_set_due_date,
    can_set_priority,
    can_triage,
    is_member_of,
    is_party_member,
    may_move,
)
from fieldwalk.photos.pipeline import ProcessedPhoto
from fieldwalk.photos.service import attach_photo

S = ActionStatus
# The details update_action_item may change, each with the rule that decides who may change it.
EDITABLE_FIELDS = {
    "title": can_edit_action,
    "description": can_edit_action,
    "responsible_party": can_change_party,
    "assignee": can_assign,
    "due_date": can_set_due_date,
    "priority": can_set_priority,
}


def allowed_transitions(user: User, item: ActionItem) -> list[ActionStatus]:
    """The statuses this user may move this item to now (drives buttons, views and the API)."""
    return [to for to in workflow.moves_from(item.status) if may_move(user, item, to)]


def _refuse_past_due_date(due_date: date | None) -> None:
    # Today is allowed; "today" is the kommun's own calendar day, not the server's UTC one.
    if due_date is not None and due_date < local_today():
        raise OperationError(
            _("Klart senast kan inte vara ett datum som redan har passerat."), status=422, code="due_date_past"
        )


def _check_assignee(party: ResponsibleParty | None, assignee: User | None) -> None:
    """A handläggare is an active member of the item's responsible party."""
    if assignee is None:
        return
    if party is None or not is_member_of(assignee, party):
        raise OperationError(
            _("Handläggaren måste vara en aktiv medlem av den ansvariga parten."),
            status=422,
            code="assignee_not_member",
        )


def _record(
    item: ActionItem,
    actor: User,
    kind: EventKind,
    text: str = "",
    from_status: ActionStatus | None = None,
    to_status: ActionStatus | None = None,
    photo: ProcessedPhoto | None = None,
    internal: bool = False,
    note: timeline.Note | None = None,
) -> ActionEvent:
    # `text` is what the actor typed; the system's own line is the note (rendered in each reader's language).
    event = ActionEvent(
        action_item=item,
        actor=actor,
        actor_name=actor.name,
        kind=kind,
        text=text,
        code=note.code if note else None,
        params=note.params if note else None,
        from_status=from_status,
        to_status=to_status,
        internal=internal,
        party_id=actor.responsible_party_id if is_party_member(actor) else None,
    )
    db.session.add(event)
    # The audit entry holds the move, not a copy of the text (that lives on the event, and is erasable there).
    record(
        f"action.{kind.value}",
        item,
        actor=actor,
        detail=f"{from_status.value if from_status else ''}→{to_status.value if to_status else ''}",
    )
    if photo is not None:
        attach_photo(photo, event=event)
    if kind == EventKind.STATUS:  # every status change, the assignment at creation included
        notify_change(item, actor, event)
    return event


def create_action_item(findings: list[Finding], actor: User, data: ActionItemInput) -> ActionItem:
    """Turn one or more findings of one walk into an action item; assigned at once if a party is given."""
    if not findings:
        raise OperationError(_("Välj minst ett fynd."), status=422)
    walks = {f.walk_id for f in findings}
    if len(walks) != 1:
        raise OperationError(_("Alla fynd i en åtgärd måste höra till samma vandring."), status=422)
    if not can_triage(actor, findings[0].walk):
        raise OperationError(_("Du får inte skapa åtgärder."), status=403)
    _refuse_past_due_date(data.due_date)
    _check_assignee(data.responsible_party, data.assignee)
    responsible_party = data.responsible_party
    item = ActionItem(
        walk=findings[0].walk,
        title=data.title.strip(),
        description=data.description.strip(),
        responsible_party=responsible_party,
        assignee=data.assignee,
        due_date=data.due_date,
        priority=data.priority,
        created_by=actor,
        findings=list(findings),
        status=S.NEW,
    )
    db.session.add(item)
    for finding in findings:
        finding.no_action = False
    _record(item, actor, EventKind.CREATED, to_status=S.NEW)
    if responsible_party is not None:
        item.status = S.ASSIGNED
        _record(
            item,
            actor,
            EventKind.STATUS,
            from_status=S.NEW,
            to_status=S.ASSIGNED,
            note=timeline.assigned(responsible_party),
        )
    db.session.flush()
    return item


def transition(
    item: ActionItem,
    to: ActionStatus,
    actor: User,
    *,
    text: str = "",
    responsible_party: ResponsibleParty | None = None,
    photo: ProcessedPhoto | None = None,
    note: timeline.Note | None = None,
) -> ActionEvent:
    """Move an item to another status, recording who, when, from, to, why and an optional photo;
    `note` is the system's line about the move (e.g. the follow-up meeting that decided it)."""
    text = text.strip()
    if not workflow.exists(item.status, to):
        raise OperationError(
            _("En åtgärd med status %(from)s kan inte bli %(to)s.", **{"from": label(item.status), "to": label(to)}),
            status=409,
            code="illegal_transition",
        )
    if not may_move(actor, item, to):
        raise OperationError(_("Du får inte göra den ändringen."), status=403, code="forbidden")
    if (
        responsible_party is not None
        and responsible_party != item.responsible_party
        and not can_change_party(actor, item)
    ):
        raise OperationError(_("Du får inte byta ansvarig part för den här åtgärden."), status=403, code="forbidden")
    if workflow.needs_text(item.status, to) and not text and note is None:  # a meeting's decision is its own reason
        message = _("Ange varför åtgärden avvisas.") if to == S.REJECTED else _("Ange varför åtgärden öppnas igen.")
        raise OperationError(message, status=422, code="text_required")
    if responsible_party is not None and responsible_party != item.responsible_party:
        item.responsible_party = responsible_party
        if item.assignee is not None and not is_member_of(item.assignee, responsible_party):
            item.assignee = None  # the person worked for the party that no longer has the item
        note = timeline.with_party(note, responsible_party)
    if to == S.ASSIGNED and item.responsible_party is None:
        raise OperationError(_("Välj en ansvarig part för att tilldela åtgärden."), status=422, code="party_required")
    from_status = item.status
    item.status = to
    if to == S.DONE:
        item.resolved_at = utcnow()
    elif to not in S.RESOLVED:  # avslutad keeps the day it was åtgärdad
        item.resolved_at = None
    event = _record(
        item, actor, EventKind.STATUS, text=text, from_status=from_status, to_status=to, photo=photo, note=note
    )
    db.session.flush()
    record_outcomes(item)  # the reporters who asked are told once the finding's items are all finished
    return event


def add_comment(
    item: ActionItem,
    actor: User,
    text: str,
    photo: ProcessedPhoto | None = None,
    internal: bool = False,
    note: timeline.Note | None = None,
) -> ActionEvent:
    """Add a comment, optionally with a photo (e.g. the after-photo), to the item's timeline; `note` is
    the system's line it carries (a follow-up meeting's decision)."""
    if not can_comment_action(actor, item):
        raise OperationError(_("Du får inte kommentera den här åtgärden."), status=403)
    if not text.strip() and photo is None and note is None:
        raise OperationError(_("Skriv en kommentar eller bifoga ett foto."), status=422)
    event = _record(item, actor, EventKind.COMMENT, text=text.strip(), photo=photo, internal=internal, note=note)
    db.session.flush()
    return event


def update_action_item(item: ActionItem, actor: User, **fields) -> ActionEvent | None:
    """Change an item's details (some of them, or all: ActionItemInput.changes()); each changed field is
    checked against its own rule, then all are recorded as one event. Nothing is changed when any one of
    them is not the actor's to change."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:  # status moves go through transition(); anything else is not a detail of an item
        raise TypeError(f"update_action_item cannot change {', '.join(sorted(unknown))}")
    if (
        "responsible_party" in fields
        and "assignee" not in fields
        and item.assignee is not None
        and fields["responsible_party"] != item.responsible_party
    ):
        # A new party without a named person: the old party's handläggare does not follow the item.
        party = fields["responsible_party"]
        if party is None or not is_member_of(item.assignee, party):
            fields["assignee"] = None
    changed = [name for name, value in fields.items() if getattr(item, name) != value]
    if not all(EDITABLE_FIELDS[name](actor, item) for name in (changed or fields)):
        raise OperationError(_("Du får inte ändra den här åtgärden."), status=403, code="forbidden")
    if not changed:
        return None
    if "due_date" in changed:
        _refuse_past_due_date(fields["due_date"])
    if {"assignee", "responsible_party"} & set(changed):
        _check_assignee(fields.get("responsible_party", item.responsible_party), fields.get("assignee", item.assignee))
    for name in changed:
        setattr(item, name, fields[name])
    event = _record(item, actor, EventKind.EDITED, note=timeline.edited(item, changed))
    if {"responsible_party", "assignee"} & set(changed):
        notify_change(item, actor, event)
    db.session.flush()
    return event
