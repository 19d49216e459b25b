"""Reads behind the exports: the findings filters, and both lists' rows as columns read in chunks."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import to_utc
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from fieldwalk.exports.formats import CHUNK_ROWS
from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, Category, Finding, Photo, ResponsibleParty, Walk, action_item_findings
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


# What a finding export row reads, as columns (no ORM objects: no identity map, no lazy loads for 10,000 rows).
FINDING_FIELDS = (
    Finding.id,
    Finding.uuid,
    Walk.title.label("walk_title"),
    Walk.area.label("walk_area"),
    Finding.category_id,
    Finding.description,
    Finding.severity,
    Finding.place,
    Finding.lat,
    Finding.lon,
    Finding.accuracy_m,
    Finding.position_source,
    Finding.created_at,
    Finding.no_action,
    Finding.reporter_name,
    Finding.reporter_org,
)

# What an action item export row reads of the item, its walk and its party, as columns.
ACTION_FIELDS = (
    ActionItem.id,
    ActionItem.title,
    ActionItem.description,
    ActionItem.status,
    ActionItem.priority,
    ResponsibleParty.name.label("party_name"),
    ActionItem.due_date,
    Walk.title.label("walk_title"),
    Walk.area.label("walk_area"),
    ActionItem.created_at,
    ActionItem.resolved_at,
)


def findings_query(filters: FindingFilters) -> Select:
    """The export columns of the findings the filters select with their number of photos ("photos"), oldest
    first."""
    photo_counts = (
        select(Photo.finding_id, func.count(Photo.id).label("n"))
        .where(Photo.finding_id.is_not(None))
        .group_by(Photo.finding_id)
        .subquery()
    )
    query = (
        select(*FINDING_FIELDS, func.coalesce(photo_counts.c.n, 0).label("photos"))
        .join(Walk, Walk.id == Finding.walk_id)
        .outerjoin(photo_counts, photo_counts.c.finding_id == Finding.id)
        .order_by(Finding.created_at, Finding.id)
    )
    return _filtered(query, filters)


def in_chunks(query: Select) -> Select:
    """The query read CHUNK_ROWS rows at a time (a streamed export; a server-side cursor on PostgreSQL)."""
    return query.execution_options(yield_per=CHUNK_ROWS)


def category_names(session: Session, locale: str) -> dict[int, str]:
    """Every category's name in the locale, by id (a few dozen rows: one statement per export)."""
    return {category.id: category.name(locale) for category in session.scalars(select(Category))}


@dataclass(slots=True)
class ItemFindings:
    """What an action item export row says about the item's findings: how many, their categories (in the
    order of the findings, each once) and the position of the first one that has one (as Finding.has_position)."""

    count: int = 0
    category_ids: list[int] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None


def stream_items(session: Session, query: Select) -> Iterator[tuple[Row, ItemFindings]]:
    """(the item's ACTION_FIELDS, its ItemFindings) for each action item of the list query, in the list's
    order, read on the session of a streamed response. Three statements whatever the size: the findings of
    all the items (a few numbers each, gathered first), then the items' columns in chunks of CHUNK_ROWS."""
    gathered: dict[int, ItemFindings] = {}
    links = (
        select(action_item_findings.c.action_item_id, Finding.category_id, Finding.lat, Finding.lon)
        .join(Finding, Finding.id == action_item_findings.c.finding_id)
        .where(action_item_findings.c.action_item_id.in_(query.with_only_columns(ActionItem.id).order_by(None)))
        .order_by(action_item_findings.c.action_item_id, Finding.id)  # the order of ActionItem.findings
    )
    for item_id, category_id, lat, lon in session.execute(links):
        found = gathered.get(item_id)
        if found is None:
            found = gathered[item_id] = ItemFindings()
        found.count += 1
        if category_id not in found.category_ids:
            found.category_ids.append(category_id)
        if found.lat is None and lat is not None and lon is not None:
            found.lat, found.lon = lat, lon
    rows = (
        query.with_only_columns(*ACTION_FIELDS)
        .join(Walk, Walk.id == ActionItem.walk_id)
        .outerjoin(ResponsibleParty, ResponsibleParty.id == ActionItem.responsible_party_id)
    )
    nothing = ItemFindings()
    for row in session.execute(in_chunks(rows)):
        yield row, gathered.pop(row.id, nothing)


def count_rows(query: Select) -> int:
    """How many rows the query returns (for the audit record, before the rows are streamed)."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def count_findings(filters: FindingFilters) -> int:
    return db.session.scalar(_filtered(select(func.count(Finding.id)), filters)) or 0


def list_findings(session: Session, filters: FindingFilters) -> Iterator[tuple[Row, list[int]]]:
    """(the finding's FINDING_FIELDS and "photos", ids of its action items) for each finding the filters
    select, read in chunks on the session of a streamed response; the action item ids of all of them first
    (a few integers each)."""
    item_ids: dict[int, list[int]] = {}
    links = (
        select(action_item_findings.c.finding_id, action_item_findings.c.action_item_id)
        .where(action_item_findings.c.finding_id.in_(_filtered(select(Finding.id), filters)))
        .order_by(action_item_findings.c.action_item_id)
    )
    for finding_id, item_id in session.execute(links):
        item_ids.setdefault(finding_id, []).append(item_id)
    for row in session.execute(in_chunks(findings_query(filters))):
        yield row, item_ids.pop(row.id, [])
