"""The medborgarlöfte dashboard's figures for one year: promise vs actual, resolution, recurring categories."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import to_user_timezone
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.followup.promises import CommitmentProgress, meetings_held, walks_held, year_progress
from fieldwalk.followup.queries import days_to_resolution, utc_bounds
from fieldwalk.models import (
    ActionItem,
    ActionStatus,
    Category,
    Finding,
    Walk,
)


@dataclass
class Recurring:
    """A category found in an area this year: how often, on how many walks, and whether last year too."""

    category: Category
    findings: int
    walks: int
    last_year: bool

    @property
    def recurring(self) -> bool:
        return self.walks >= 2 or self.last_year


@dataclass
class YearFigures:
    year: int
    commitments: list[CommitmentProgress]
    walks_held: int
    meetings_held: int
    quarters_with_meeting: list[bool]  # Q1..Q4
    items_created: int
    items_resolved: int
    resolved_share: float | None
    median_days: float | None
    per_quarter: list[tuple[int, int]]  # (created, resolved) for Q1..Q4
    areas: dict[str, list[Recurring]] = field(default_factory=dict)


def _quarter(day: date) -> int:
    return (day.month - 1) // 3


def _local_day(value) -> date:
    return to_user_timezone(value).date()


def _category_counts(year: int) -> dict[tuple[str, int], tuple[int, set[int]]]:
    low, high = utc_bounds(date(year, 1, 1), date(year, 12, 31))
    rows = db.session.execute(
        select(Walk.area, Finding.category_id, Finding.walk_id)
        .join(Walk, Finding.walk_id == Walk.id)
        .where(Walk.starts_at >= low, Walk.starts_at < high)
    )
    counts: dict[tuple[str, int], tuple[int, set[int]]] = {}
    for area, category_id, walk_id in rows:
        n, walks = counts.get((area, category_id), (0, set()))
        counts[(area, category_id)] = (n + 1, walks | {walk_id})
    return counts


def year_figures(year: int) -> YearFigures:
    """Everything the dashboard shows for the year, counted from the data (nothing entered by hand)."""
    meetings = meetings_held(year)
    low, high = utc_bounds(date(year, 1, 1), date(year, 12, 31))
    items = list(
        db.session.scalars(select(ActionItem).where(ActionItem.created_at >= low, ActionItem.created_at < high))
    )
    resolved_in_year = list(
        db.session.scalars(
            select(ActionItem).where(
                ActionItem.status.in_(ActionStatus.RESOLVED),
                ActionItem.resolved_at >= low,
                ActionItem.resolved_at < high,
            )
        )
    )

    per_quarter = [[0, 0] for _ in range(4)]
    for item in items:
        per_quarter[_quarter(_local_day(item.created_at))][0] += 1
    for item in resolved_in_year:
        per_quarter[_quarter(_local_day(item.resolved_at))][1] += 1
    resolved = [i for i in items if i.is_resolved]
    durations = [d for d in map(days_to_resolution, items) if d is not None]

    this_year, last_year = _category_counts(year), _category_counts(year - 1)
    categories = {c.id: c for c in db.session.scalars(select(Category))}
    areas: dict[str, list[Recurring]] = defaultdict(list)
    for (area, category_id), (n, walks) in this_year.items():
        areas[area].append(Recurring(categories[category_id], n, len(walks), (area, category_id) in last_year))
    for rows in areas.values():
        rows.sort(key=lambda r: (not r.recurring, -r.findings, r.category.sort_order))

    quarters = [False] * 4
    for meeting in meetings:
        quarters[_quarter(meeting.held_on)] = True
    return YearFigures(
        year=year,
        commitments=year_progress(year),
        walks_held=len(walks_held(year)),
        meetings_held=len(meetings),
        quarters_with_meeting=quarters,
        items_created=len(items),
        items_resolved=len(resolved),
        resolved_share=len(resolved) / len(items) if items else None,
        median_days=statistics.median(durations) if durations else None,
        per_quarter=[(c, r) for c, r in per_quarter],
        areas=dict(sorted(areas.items())),
    )
