"""Reads of findings, categories and photos that several views share."""

import math
from dataclasses import dataclass

from flask import abort, current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it

from fieldwalk.coordinates import EARTH_RADIUS_M, distance_m
from fieldwalk.extensions import db
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    Category,
    EventKind,
    Finding,
    FindingAgreement,
    User,
    Walk,
)
from fieldwalk.permissions import can_see_nearby_details, can_see_nearby_finding, can_view_finding


def active_categories() -> list[Category]:
    """Categories offered when logging a finding, in their display order."""
    return list(
        db.session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.id))
    )


# The active categories' ids and names in English and in Swedish, in their display order: made once (a statement
# built anew is also keyed anew for SQLAlchemy's compiled cache on each execution).
_ACTIVE_CATEGORY_NAMES = {
    english: select(Category.id, Category.name_en if english else Category.name_sv)
    .where(Category.active.is_(True))
    .order_by(Category.sort_order, Category.id)
    for english in (True, False)
}


def category_choices(empty_label: str, locale: str) -> list[SelectChoice]:
    """The active categories as select choices in their display order, named in `locale` (as Category.name),
    with 0 standing for all (labelled empty_label): the list filters' category field, ids and names read
    without ORM objects."""
    rows = db.session.execute(_ACTIVE_CATEGORY_NAMES[locale.startswith("en")])
    return [SelectChoice(0, empty_label)] + [SelectChoice(id, text) for id, text in rows]


def get_finding_or_404(finding_id: int, user: User) -> Finding:
    """The finding, or 404 when it does not exist or the user may not see it (no hint which). Its walk, which the
    permission check reads, comes in the same statement."""
    finding = db.session.get(Finding, finding_id, options=[joinedload(Finding.walk)])
    if finding is None or not can_view_finding(user, finding):
        abort(404)
    return finding


@dataclass
class NearbyEntry:
    """One possible duplicate in the capture form's box: a finding, or an open action item (shown through
    its first finding, which an agreement goes to)."""

    finding: Finding  # the finding an agreement is recorded on
    distance_m: float
    walk_id: int  # the walk the box is shown on
    item: ActionItem | None = None
    details: bool = False  # the user may see the photo and the description
    agreements: int = 0
    agreed: bool = False
    own: bool = False


def _bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """Latitude and longitude ranges that hold every point within radius_m (a little more near the poles)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 0.01)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def nearby(walk: Walk, user: User, category: Category, lat: float, lon: float) -> list[NearbyEntry]:
    """Findings of the walk and open action items of any walk, of this category, within DUPLICATE_RADIUS_M
    of (lat, lon), nearest first, as far as the user may see them (permissions.can_see_nearby_finding).

    The database narrows by a latitude/longitude box (an index-friendly range on SQLite and PostgreSQL
    alike); the exact great-circle distance is then computed here.
    """
    config = current_app.config
    radius = config["DUPLICATE_RADIUS_M"]
    south, north, west, east = _bounding_box(lat, lon, radius)
    candidates = db.session.scalars(
        select(Finding)
        .where(Finding.category_id == category.id, Finding.lat.between(south, north), Finding.lon.between(west, east))
        .options(
            selectinload(Finding.action_items).selectinload(ActionItem.findings),
            selectinload(Finding.photos),
            selectinload(Finding.walk).selectinload(Walk.participants),
        )
        .order_by(Finding.id)
        .limit(500)
    )
    entries: list[NearbyEntry] = []
    seen_items: set[int] = set()
    for finding in candidates:
        if finding.lat is None or finding.lon is None:  # the box query leaves these out already
            continue
        distance = distance_m((lat, lon), (finding.lat, finding.lon))
        if distance > radius or not can_see_nearby_finding(user, walk, finding):
            continue
        open_items = [i for i in finding.action_items if i.is_open]
        if finding.walk_id == walk.id:
            entries.append(NearbyEntry(finding, distance, walk.id, item=open_items[0] if open_items else None))
            seen_items.update(i.id for i in open_items)
            continue
        for item in open_items:
            if item.id not in seen_items:
                seen_items.add(item.id)
                entries.append(NearbyEntry(item.findings[0], distance, walk.id, item=item))
    entries.sort(key=lambda e: e.distance_m)
    entries = entries[: config["DUPLICATE_MAX_RESULTS"]]
    mine = set(
        db.session.scalars(
            select(FindingAgreement.finding_id).where(
                FindingAgreement.user_id == user.id, FindingAgreement.finding_id.in_([e.finding.id for e in entries])
            )
        )
    )
    for entry in entries:
        entry.details = can_see_nearby_details(user, entry.finding)
        entry.agreements = (
            sum(f.agreement_count for f in entry.item.findings)
            if entry.item is not None
            else entry.finding.agreement_count
        )
        entry.agreed = entry.finding.id in mine
        entry.own = entry.finding.reporter_id == user.id
    return entries


def public_events(item: ActionItem) -> list[ActionEvent]:
    """An item's history as a participant may read it: status moves and comments, no internal notes."""
    return [e for e in item.events if not e.internal and e.kind in (EventKind.STATUS, EventKind.COMMENT)]
