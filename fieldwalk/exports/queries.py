"""Reads behind the exports: the findings filters and query, and eager loading for both lists."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import to_utc
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defaultload, joinedload

from fieldwalk.exports.formats import CHUNK_ROWS
from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, Category, Finding, Photo, Walk, action_item_findings
from fieldwalk.query_args import EARLIEST, LATEST, parse_id


class BadFilter(ValueError):
    """A filter value that cannot be used; its message says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FindingFilters:
    """Which findings to export: of one walk, of one category, logged from/to a local date."""

    walk_id: int | None = None
    category_id: int | None = None
    start: date | None = None
    end: date | None = None


def _shown(value: str) -> str:
    return value[:40]


def _object_id(args, name: str, model, message: str) -> int | None:
    value = args.get(name, "").strip()
    if value in ("", "0"):  # 0 is "Alla", as in the action item list
        return None
    number = parse_id(value)
    if number is None or db.session.get(model, number) is None:
        raise BadFilter(message % {"value": _shown(value)})
    return number


def _date(args, name: str) -> date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise BadFilter(
            _(
                "Datumet ”%(value)s” går inte att läsa. Skriv det som ÅÅÅÅ-MM-DD, till exempel 2026-11-23.",
                value=_shown(value),
            )
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise BadFilter(
            _(
                "Datumet %(value)s ligger utanför %(first)s–%(last)s.",
                value=day.isoformat(),
                first=EARLIEST.isoformat(),
                last=LATEST.isoformat(),
            )
        )
    return day


def finding_filters(args) -> FindingFilters:
    """Read walk, category, from and to (YYYY-MM-DD) from the query string; BadFilter says what is wrong."""
    filters = FindingFilters(
        walk_id=_object_id(args, "walk", Walk, _("Det finns ingen vandring med id ”%(value)s”.")),
        category_id=_object_id(args, "category", Category, _("Det finns ingen kategori med id ”%(value)s”.")),
        start=_date(args, "from"),
        end=_date(args, "to"),
    )
    if filters.start and filters.end and filters.start > filters.end:
        raise BadFilter(
            _(
                "Från-datumet (%(start)s) är senare än till-datumet (%(end)s).",
                start=filters.start.isoformat(),
                end=filters.end.isoformat(),
            )
        )
    return filters


def _filtered(query: Select, filters: FindingFilters) -> Select:
    if filters.walk_id:
        query = query.where(Finding.walk_id == filters.walk_id)
    if filters.category_id:
        query = query.where(Finding.category_id == filters.category_id)
    # created_at is naive UTC: a local day runs from local midnight to the next, converted to UTC.
    if filters.start:
        query = query.where(Finding.created_at >= to_utc(datetime.combine(filters.start, time())))
    if filters.end:
        query = query.where(Finding.created_at < to_utc(datetime.combine(filters.end + timedelta(days=1), time())))
    return query


def findings_query(filters: FindingFilters) -> Select:
    """(finding, number of photos) for the findings the filters select, oldest first."""
    photo_counts = (
        select(Photo.finding_id, func.count(Photo.id).label("n"))
        .where(Photo.finding_id.is_not(None))
        .group_by(Photo.finding_id)
        .subquery()
    )
    query = (
        select(Finding, func.coalesce(photo_counts.c.n, 0))
        .outerjoin(photo_counts, photo_counts.c.finding_id == Finding.id)
        .options(joinedload(Finding.walk), joinedload(Finding.category))
        .order_by(Finding.created_at, Finding.id)
    )
    return _filtered(query, filters)


def in_chunks(query: Select) -> Select:
    """The query read CHUNK_ROWS rows at a time (a streamed export): its collections must come by
    selectinload, one statement per chunk."""
    return query.execution_options(yield_per=CHUNK_ROWS)


def stream_items(session: Session, query: Select) -> Iterator[ActionItem]:
    """The action items of the query, read in chunks on the session of a streamed response."""
    return iter(session.scalars(in_chunks(with_export_loads(query))))


def count_rows(query: Select) -> int:
    """How many rows the query returns (for the audit record, before the rows are streamed)."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def count_findings(filters: FindingFilters) -> int:
    return db.session.scalar(_filtered(select(func.count(Finding.id)), filters)) or 0


def list_findings(session: Session, filters: FindingFilters) -> Iterator[tuple[Finding, int, list[int]]]:
    """(finding, number of photos, ids of its action items) for each finding the filters select, read in
    chunks on the session of a streamed response; the action item ids of all of them first (a few integers
    each)."""
    item_ids: dict[int, list[int]] = {}
    links = (
        select(action_item_findings.c.finding_id, action_item_findings.c.action_item_id)
        .where(action_item_findings.c.finding_id.in_(_filtered(select(Finding.id), filters)))
        .order_by(action_item_findings.c.action_item_id)
    )
    for finding_id, item_id in session.execute(links):
        item_ids.setdefault(finding_id, []).append(item_id)
    for finding, count in session.execute(in_chunks(findings_query(filters))):
        yield finding, count, item_ids.get(finding.id, [])


def with_export_loads(query: Select) -> Select:
    """The action item query with what an export row reads besides the findings, walk, party and
    handläggare it loads: the findings' categories (no photos)."""
    return query.options(defaultload(ActionItem.findings).joinedload(Finding.category))
