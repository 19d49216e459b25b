"""What a follow-up covers (one walk, or a period such as a quarter) and the figures a protocol shows."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property

from flask import abort
from flask_babel import gettext as _
from flask_babel import to_utc
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload, subqueryload

from fieldwalk.extensions import db
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Category,
    EventKind,
    Finding,
    FollowUpMeeting,
    Walk,
)
from fieldwalk.query_args import EARLIEST, LATEST

# A protocol shows every item in scope with its findings, photos and timeline. Collections come by
# subqueryload (one statement each, whatever the number of items; selectinload would send one per 500),
# what each row points to by joinedload.
FINDING_IN_FULL = (
    subqueryload(Finding.photos),
    subqueryload(Finding.action_items),
    joinedload(Finding.category),
    joinedload(Finding.walk),
)
EVERY_ITEM_IN_FULL = (
    subqueryload(ActionItem.findings).options(*FINDING_IN_FULL),
    subqueryload(ActionItem.events).subqueryload(ActionEvent.photos),
    joinedload(ActionItem.walk),
    joinedload(ActionItem.responsible_party),
    joinedload(ActionItem.assignee),
)


def quarter_of(day: date) -> tuple[date, date]:
    """First and last day of the quarter the day falls in."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1) - timedelta(days=1)
    return start, end


def period_error(start: date, end: date) -> str | None:
    """Why start..end is not a usable period (None when it is)."""
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
        return _(
            "Perioden måste ligga mellan %(first)s och %(last)s.", first=EARLIEST.isoformat(), last=LATEST.isoformat()
        )
    if end < start:
        return _("Periodens slut måste vara samma dag som starten eller senare.")
    return None


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period [start 00:00, end+1 00:00) in Swedish local time, as naive UTC like the *_at columns."""
    return to_utc(datetime.combine(start, time())), to_utc(datetime.combine(end + timedelta(days=1), time()))


@dataclass(frozen=True)
class Scope:
    """One walk, or the period start..end (inclusive dates, Swedish time)."""

    walk: Walk | None = None
    start: date | None = None
    end: date | None = None

    @classmethod
    def of_meeting(cls, meeting: FollowUpMeeting) -> "Scope":
        return cls(walk=meeting.walk, start=meeting.period_start, end=meeting.period_end)

    def _period_bounds(self) -> tuple[datetime, datetime]:
        """utc_bounds of a period scope (one without a walk, which always has both dates)."""
        if self.start is None or self.end is None:
            raise ValueError("a scope needs a walk or both dates")
        return utc_bounds(self.start, self.end)

    @cached_property
    def walks(self) -> list[Walk]:
        """The walks held in scope, oldest first."""
        if self.walk is not None:
            return [self.walk]
        low, high = self._period_bounds()
        return list(
            db.session.scalars(
                select(Walk).where(Walk.starts_at >= low, Walk.starts_at < high).order_by(Walk.starts_at)
            )
        )

    def _in_scope(self):
        """The condition on ActionItem of the items in scope."""
        if self.walk is not None:
            return ActionItem.walk_id == self.walk.id
        low, high = self._period_bounds()
        # What a participant reads in the timeline (findings.queries.public_events): a status move or a
        # public comment. An edit (a new title, a due date moved) is not the quarter's work on the item.
        changed = select(ActionEvent.action_item_id).where(
            ActionEvent.created_at >= low,
            ActionEvent.created_at < high,
            ActionEvent.internal.is_(False),
            ActionEvent.kind.in_((EventKind.STATUS, EventKind.COMMENT)),
        )
        return or_(ActionItem.walk_id.in_([w.id for w in self.walks]), ActionItem.id.in_(changed))

    @cached_property
    def _items(self) -> list[ActionItem]:
        query = select(ActionItem).options(*EVERY_ITEM_IN_FULL).where(self._in_scope())
        return list(db.session.scalars(query.order_by(ActionItem.walk_id, ActionItem.id)))

    def action_items(self) -> list[ActionItem]:
        """A walk's items; for a period the items of the walks held in it, and the items of earlier walks
        whose timeline changed in it (a status move or a public comment), so the quarter's work shows."""
        return list(self._items)

    def earlier_items(self) -> list[ActionItem]:
        """The items in scope that come from walks outside it (changed during the period)."""
        ids = {w.id for w in self.walks}
        return [i for i in self._items if i.walk_id not in ids]

    def findings(self) -> list[Finding]:
        """The findings of the walks in scope, then those behind the items from earlier walks (every item's
        findings are listed, so its numbers always point into the same protocol)."""
        walk_ids = {w.id for w in self.walks}
        # The items are read in full with their findings: only the walks' findings without an item in scope
        # are read again here (reading them all twice was a third of a quarter's protocol at 10,000 items).
        through_items = {f.id: f for item in self._items for f in item.findings}
        own = [f for f in through_items.values() if f.walk_id in walk_ids]
        own += db.session.scalars(
            select(Finding)
            .where(Finding.walk_id.in_(walk_ids), ~Finding.action_items.any(self._in_scope()))
            .options(*FINDING_IN_FULL)
        )
        found = sorted(own, key=lambda f: (f.walk_id, f.created_at, f.id))
        seen = {f.id for f in found}
        for item in self.earlier_items():
            for finding in item.findings:
                if finding.id not in seen:
                    seen.add(finding.id)
                    found.append(finding)
        return found

    def untriaged_findings(self) -> list[Finding]:
        """Findings of the walks in scope that nobody has decided on: no action item, not "ingen åtgärd"."""
        ids = [w.id for w in self.walks]
        return list(
            db.session.scalars(
                select(Finding)
                .where(Finding.walk_id.in_(ids), Finding.no_action.is_(False), ~Finding.action_items.any())
                .order_by(Finding.walk_id, Finding.created_at, Finding.id)
                .options(*FINDING_IN_FULL)
            )
        )

    def description(self) -> str:
        """The one line a protocol's reader needs to know what it covers."""
        if self.walk is not None:
            return _("Omfattning: alla fynd från vandringen och alla åtgärder som gjorts av dem.")
        return _(
            "Omfattning: vandringar som hölls under perioden (%(walks)d st) med alla deras fynd och åtgärder, "
            "samt åtgärder från tidigare vandringar som ändrades under perioden (%(earlier)d st) med sina fynd.",
            walks=len(self.walks),
            earlier=len(self.earlier_items()),
        )


def items_to_review(scope: Scope) -> list[ActionItem]:
    """The items a follow-up meeting steps through: open ones, and resolved ones still to be verified."""
    items = [i for i in scope.action_items() if i.status in ActionStatus.TO_REVIEW]
    return sorted(items, key=lambda i: (not i.is_open, i.due_date or date.max, i.id))


@dataclass
class Summary:
    """The figures at the top of a protocol."""

    findings_total: int
    findings_by_category: list[tuple[Category, int]]  # most frequent first
    items_total: int
    items_by_status: dict[ActionStatus, int]
    resolved: int
    resolved_share: float | None  # 0..1, None without items
    overdue: int
    median_days_to_resolution: float | None


def days_to_resolution(item: ActionItem) -> float | None:
    """Days from the item's creation to its resolution (åtgärdad)."""
    if not item.is_resolved or item.resolved_at is None:
        return None
    return (item.resolved_at - item.created_at).total_seconds() / 86400


def summarize(findings: list[Finding], items: list[ActionItem], today: date) -> Summary:
    """Findings by category, items by status, resolved share, overdue count, median days to resolution."""
    by_category = Counter(f.category for f in findings)
    by_status = Counter(i.status for i in items)
    resolved = sum(by_status[s] for s in ActionStatus.RESOLVED)
    durations = [d for d in map(days_to_resolution, items) if d is not None]
    return Summary(
        findings_total=len(findings),
        findings_by_category=sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0].sort_order, kv[0].id)),
        items_total=len(items),
        items_by_status={s: by_status[s] for s in ActionStatus},
        resolved=resolved,
        resolved_share=resolved / len(items) if items else None,
        overdue=sum(1 for i in items if i.is_overdue(today)),
        median_days_to_resolution=statistics.median(durations) if durations else None,
    )


def get_meeting_or_404(meeting_id: int) -> FollowUpMeeting:
    """The meeting (staff only reach the views that call this)."""
    meeting = db.session.get(FollowUpMeeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def list_meetings() -> list[FollowUpMeeting]:
    """Every follow-up meeting, newest first."""
    return list(
        db.session.scalars(
            select(FollowUpMeeting)
            .options(selectinload(FollowUpMeeting.decisions), selectinload(FollowUpMeeting.walk))
            .order_by(FollowUpMeeting.held_on.desc(), FollowUpMeeting.id.desc())
        )
    )
