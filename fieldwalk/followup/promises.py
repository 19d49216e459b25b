"""The medborgarlöfte counted from the data: what each kind of commitment has reached, with a per-quarter
breakdown, for the dashboard and the protocols alike (the one place these figures are computed)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fieldwalk.extensions import db
from fieldwalk.followup.queries import utc_bounds
from fieldwalk.local_time import local_date, local_today
from fieldwalk.models import (
    ActionItem,
    ActionStatus,
    EventKind,
    Finding,
    FollowUpMeeting,
    PromiseCommitment,
    PromiseKind,
    Walk,
    WalkStatus,
)

QUARTERS = (1, 2, 3, 4)


def quarter_number(day: date) -> int:
    """1..4: the quarter the day falls in."""
    return (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    """The first day of the quarter."""
    return date(year, 3 * (quarter - 1) + 1, 1)


@dataclass
class QuarterFigure:
    """One quarter of a commitment: what to show, and whether it kept the promise (None: not judged)."""

    quarter: int
    text: str
    ok: bool | None = None


@dataclass
class CommitmentProgress:
    """How far one commitment has come this year."""

    commitment: PromiseCommitment
    actual: int | None  # walks, quarters or items; a percentage for RESOLVED_WITHIN; None: nothing to judge yet
    quarters: list[QuarterFigure]
    detail: str = ""

    @property
    def target(self) -> int:
        return self.commitment.target

    @property
    def is_share(self) -> bool:
        return self.commitment.kind == PromiseKind.RESOLVED_WITHIN

    @property
    def met(self) -> bool:
        return self.actual is not None and self.actual >= self.target

    @property
    def shown(self) -> str:
        """ "2 / 4", or "83 % / 90 %" for a share."""
        if self.is_share:
            actual = f"{self.actual} %" if self.actual is not None else "–"
            return f"{actual} / {self.target} %"
        return f"{self.actual} / {self.target}"

    @property
    def missing_quarters(self) -> list[int]:
        """The quarters that did not keep the promise (past quarters only)."""
        return [q.quarter for q in self.quarters if q.ok is False]


def walks_held(year: int, area: str = "") -> list[Walk]:
    """The walks of the year that took place (genomförd or uppföljd), optionally in one area."""
    low, high = utc_bounds(date(year, 1, 1), date(year, 12, 31))
    query = select(Walk).where(Walk.starts_at >= low, Walk.starts_at < high, Walk.status.in_(WalkStatus.HELD))
    if area:
        query = query.where(Walk.area == area)
    return list(db.session.scalars(query))


def meetings_held(year: int, area: str = "") -> list[FollowUpMeeting]:
    """Finished follow-up meetings held in the year; with an area, those about a walk there or a period
    (a period meeting covers every area)."""
    meetings = db.session.scalars(
        select(FollowUpMeeting).where(
            FollowUpMeeting.finished_at.is_not(None),
            FollowUpMeeting.held_on.between(date(year, 1, 1), date(year, 12, 31)),
        )
    )
    return [m for m in meetings if not area or m.walk is None or m.walk.area == area]


def resolution_times(item: ActionItem) -> tuple[datetime, datetime | None]:
    """When the item was created and when it was last marked åtgärdad, read from its timeline (None:
    not resolved now). Items without those events (made before timelines) fall back to their columns."""
    created = next((e.created_at for e in item.events if e.kind == EventKind.CREATED), item.created_at)
    if not item.is_resolved:
        return created, None
    done = [e.created_at for e in item.events if e.kind == EventKind.STATUS and e.to_status == ActionStatus.DONE]
    return created, (done[-1] if done else item.resolved_at)


def days_taken(item: ActionItem) -> int | None:
    """Calendar days (the kommun's) from creation to resolution: 0 when fixed the same day."""
    created, resolved = resolution_times(item)
    return None if resolved is None else (local_date(resolved) - local_date(created)).days


def _items_created(year: int, area: str, category_id: int | None) -> list[ActionItem]:
    low, high = utc_bounds(date(year, 1, 1), date(year, 12, 31))
    query = (
        select(ActionItem)
        .join(Walk, ActionItem.walk_id == Walk.id)
        .where(ActionItem.created_at >= low, ActionItem.created_at < high)
        .options(selectinload(ActionItem.events))
        .order_by(ActionItem.id)
    )
    if area:
        query = query.where(Walk.area == area)
    if category_id:
        query = query.where(ActionItem.findings.any(Finding.category_id == category_id))
    return list(db.session.scalars(query))


def _counts_by_quarter(days: list[date]) -> list[QuarterFigure]:
    counts = {q: 0 for q in QUARTERS}
    for day in days:
        counts[quarter_number(day)] += 1
    return [QuarterFigure(q, str(counts[q])) for q in QUARTERS]


def _quarterly(c: PromiseCommitment, year: int, today: date) -> CommitmentProgress:
    held = {quarter_number(m.held_on) for m in meetings_held(year, c.area)}
    quarters = []
    for q in QUARTERS:
        if q in held:
            quarters.append(QuarterFigure(q, _("möte hållet"), True))
        elif quarter_start(year, q) > today:
            quarters.append(QuarterFigure(q, _("inte än"), None))
        else:
            quarters.append(QuarterFigure(q, _("inget möte"), False))
    return CommitmentProgress(c, len(held), quarters)


def _resolved_within(c: PromiseCommitment, year: int, today: date) -> CommitmentProgress:
    """The share of the year's items resolved within c.days calendar days; an item counts once it is
    resolved or its days have run out (one created yesterday is not a failure yet); rejected items are
    not counted (nothing was to be done)."""
    allowed = c.days or 0
    judged = {q: [0, 0] for q in QUARTERS}  # quarter → [within, judged]
    for item in _items_created(year, c.area, c.category_id):
        if item.status == ActionStatus.REJECTED:
            continue
        created, _resolved = resolution_times(item)
        taken = days_taken(item)
        if taken is None and local_date(created) + timedelta(days=allowed) >= today:
            continue  # still has time
        cell = judged[quarter_number(local_date(created))]
        cell[1] += 1
        cell[0] += taken is not None and taken <= allowed
    quarters = [
        QuarterFigure(
            q,
            _("%(within)d av %(total)d", within=w, total=t) if t else "–",
            round(100 * w / t) >= c.target if t else None,
        )
        for q, (w, t) in judged.items()
    ]
    within, total = sum(w for w, _t in judged.values()), sum(t for _w, t in judged.values())
    detail = ngettext(
        "%(within)d av %(num)d åtgärd klar inom %(days)d dagar",
        "%(within)d av %(num)d åtgärder klara inom %(days)d dagar",
        total,
        within=within,
        days=allowed,
    )
    return CommitmentProgress(c, round(100 * within / total) if total else None, quarters, detail)


def progress(c: PromiseCommitment, year: int | None = None, today: date | None = None) -> CommitmentProgress:
    """How far the commitment has come in its year (counted up to today in the kommun)."""
    year, today = year or c.year, today or local_today()
    if c.kind == PromiseKind.QUARTERLY_FOLLOWUP:
        return _quarterly(c, year, today)
    if c.kind == PromiseKind.RESOLVED_WITHIN:
        return _resolved_within(c, year, today)
    if c.kind == PromiseKind.WALKS:
        walks = walks_held(year, c.area)
        return CommitmentProgress(c, len(walks), _counts_by_quarter([local_date(w.starts_at) for w in walks]))
    low, high = utc_bounds(date(year, 1, 1), date(year, 12, 31))
    query = (
        select(ActionItem)
        .join(Walk, ActionItem.walk_id == Walk.id)
        .where(
            ActionItem.status.in_(ActionStatus.RESOLVED), ActionItem.resolved_at >= low, ActionItem.resolved_at < high
        )
    )
    if c.area:
        query = query.where(Walk.area == c.area)
    resolved = list(db.session.scalars(query))
    days = [local_date(i.resolved_at) for i in resolved if i.resolved_at is not None]  # all of them (the query)
    return CommitmentProgress(c, len(resolved), _counts_by_quarter(days))


def list_commitments(year: int) -> list[PromiseCommitment]:
    """The year's commitments in the order they were entered."""
    return list(
        db.session.scalars(
            select(PromiseCommitment)
            .where(PromiseCommitment.year == year)
            .options(selectinload(PromiseCommitment.category))
            .order_by(PromiseCommitment.id)
        )
    )


def year_progress(year: int, today: date | None = None) -> list[CommitmentProgress]:
    """Every commitment of the year with its progress."""
    return [progress(c, year, today) for c in list_commitments(year)]
