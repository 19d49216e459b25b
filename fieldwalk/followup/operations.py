"""Changes made in follow-up: meetings, their decisions on action items, and the yearly promise."""

from datetime import date, timedelta

from flask_babel import gettext as _

from fieldwalk import timeline
from fieldwalk.actions import operations as actions
from fieldwalk.audit import record
from fieldwalk.dates import format_day
from fieldwalk.extensions import db
from fieldwalk.followup.queries import period_error
from fieldwalk.http_errors import OperationError
from fieldwalk.models import (
    ActionItem,
    ActionStatus,
    Category,
    FollowUpMeeting,
    MeetingDecision,
    PromiseCommitment,
    PromiseKind,
    ResponsibleParty,
    User,
    Walk,
    WalkStatus,
    utcnow,
)
from fieldwalk.permissions import can_edit_promise, can_follow_up
from fieldwalk.walks.operations import end_guest_sessions


def _require_promise_editor(actor: User) -> None:
    # The views ask the same predicate; checked here so no path differs.
    if not can_edit_promise(actor):
        raise OperationError(
            _("Bara administratörer och samordnare ändrar medborgarlöftet."), status=403, code="forbidden"
        )


def _require_staff(actor: User) -> None:
    if not can_follow_up(actor):
        raise OperationError(_("Bara samordnare håller uppföljningsmöten."), status=403)


def create_meeting(
    actor: User,
    *,
    held_on: date,
    walk: Walk | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    title: str = "",
    attendees: str = "",
) -> FollowUpMeeting:
    """A follow-up meeting about one walk or one period."""
    _require_staff(actor)
    if (walk is None) == (period_start is None):
        raise OperationError(_("Välj en vandring eller en period."), status=422)
    if period_start is not None:  # a period, not a walk
        problem = period_error(period_start, period_end or period_start - timedelta(days=1))
        if problem:
            raise OperationError(problem, status=422)
    if not title.strip():
        title = (
            _("Uppföljning av %(walk)s", walk=walk.title)
            if walk is not None
            else _("Uppföljning %(start)s – %(end)s", start=format_day(period_start), end=format_day(period_end))
        )
    meeting = FollowUpMeeting(
        title=title.strip()[:200],
        walk=walk,
        period_start=period_start,
        period_end=period_end if walk is None else None,
        held_on=held_on,
        attendees=attendees.strip(),
        created_by=actor,
    )
    db.session.add(meeting)
    db.session.flush()
    record("followup.meeting", meeting, actor=actor, detail=meeting.title)
    return meeting


def record_decision(
    meeting: FollowUpMeeting,
    item: ActionItem,
    actor: User,
    *,
    text: str,
    to: ActionStatus | None = None,
    due_date: date | None = None,
    party: ResponsibleParty | None = None,
) -> MeetingDecision:
    """Record what the meeting decided: a status change, new due date and/or new party, always on the
    item's timeline; each change goes through the action item operation that checks its own rule."""
    _require_staff(actor)
    if meeting.finished_at is not None:
        raise OperationError(_("Mötet är avslutat; beslut kan inte längre ändras."), status=409)
    text = text.strip()
    new_party = party is not None and party != item.responsible_party
    if not text and to is None and due_date in (None, item.due_date) and not new_party:
        raise OperationError(_("Skriv ett beslut, välj en ny status eller ett nytt datum."), status=422)
    if due_date is not None and due_date != item.due_date and due_date < meeting.held_on:
        raise OperationError(_("Det nya datumet kan inte vara före mötesdatumet."), status=422)
    decision = db.session.scalar(db.select(MeetingDecision).filter_by(meeting_id=meeting.id, action_item_id=item.id))
    if (
        decision is not None
        and decision.text == text
        and to in (None, item.status)
        and due_date in (None, item.due_date)
        and not new_party
    ):
        return decision  # the same decision sent again (Back and save): nothing new to record
    note = timeline.meeting(meeting.held_on)  # "Uppföljningsmöte <date>" in each reader's language
    if due_date is not None and due_date != item.due_date:
        actions.update_action_item(item, actor, due_date=due_date)
    if to is not None and to != item.status:
        event = actions.transition(item, to, actor, text=text, responsible_party=party, note=note)
    else:
        if new_party:  # a new owner without a new status is still the meeting's decision
            actions.update_action_item(item, actor, responsible_party=party)
        event = actions.add_comment(item, actor, text, note=note)
    if decision is None:
        decision = MeetingDecision(meeting=meeting, action_item=item)
        db.session.add(decision)
    decision.text, decision.event, decision.new_due_date = text, event, due_date
    db.session.flush()
    return decision


def finish_meeting(meeting: FollowUpMeeting, actor: User, notes: str = "") -> None:
    """Close the meeting; a completed walk it followed up becomes 'uppföljd'."""
    _require_staff(actor)
    if meeting.finished_at is not None:
        raise OperationError(_("Mötet är redan avslutat."), status=409)
    meeting.finished_at = utcnow()
    meeting.notes = notes.strip()
    if meeting.walk is not None and meeting.walk.status == WalkStatus.COMPLETED:
        meeting.walk.status = WalkStatus.FOLLOWED_UP
        end_guest_sessions(meeting.walk)
    record("followup.finish", meeting, actor=actor, detail=meeting.title)
    db.session.flush()


def _commitment_fields(
    kind: PromiseKind, target: int, days: int | None, category: Category | None
) -> tuple[int | None, Category | None]:
    """Check the target against the kind; the days and category that kind uses (others are dropped)."""
    if target < 1:
        raise OperationError(_("Målet måste vara minst 1."), status=422)
    if kind == PromiseKind.QUARTERLY_FOLLOWUP and target > 4:
        raise OperationError(_("Ett år har fyra kvartal: målet är 1–4 kvartal."), status=422)
    if kind != PromiseKind.RESOLVED_WITHIN:
        return None, None
    if target > 100:
        raise OperationError(_("Målet är en andel i procent: 1–100."), status=422)
    if days is None or not 0 <= days <= 365:
        raise OperationError(_("Ange inom hur många dagar (0–365) åtgärderna ska vara klara."), status=422)
    return days, category


def add_commitment(
    actor: User,
    *,
    year: int,
    text: str,
    kind: PromiseKind,
    target: int,
    days: int | None = None,
    category: Category | None = None,
    area: str = "",
) -> PromiseCommitment:
    """One line of the year's medborgarlöfte."""
    _require_promise_editor(actor)
    days, category = _commitment_fields(kind, target, days, category)
    commitment = PromiseCommitment(
        year=year, text=text.strip(), kind=kind, target=target, days=days, category=category, area=area.strip()
    )
    db.session.add(commitment)
    db.session.flush()
    record("promise.add", commitment, actor=actor, detail=f"{year}: {commitment.text} ({target})")
    return commitment


def update_commitment(
    actor: User,
    commitment: PromiseCommitment,
    *,
    year: int,
    text: str,
    kind: PromiseKind,
    target: int,
    days: int | None = None,
    category: Category | None = None,
    area: str = "",
) -> PromiseCommitment:
    """Change a line of the promise (its wording, kind, target, days, category or area)."""
    _require_promise_editor(actor)
    days, category = _commitment_fields(kind, target, days, category)
    commitment.year, commitment.text, commitment.kind, commitment.target = year, text.strip(), kind, target
    commitment.days, commitment.category, commitment.area = days, category, area.strip()
    db.session.flush()
    record("promise.edit", commitment, actor=actor, detail=f"{year}: {commitment.text} ({target})")
    return commitment


def remove_commitment(actor: User, commitment: PromiseCommitment) -> None:
    """Take a line out of the promise (e.g. entered by mistake)."""
    _require_promise_editor(actor)
    record("promise.remove", commitment, actor=actor, detail=f"{commitment.year}: {commitment.text}")
    db.session.delete(commitment)
    db.session.flush()
