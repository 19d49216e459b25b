"""The export tables: which columns an action item or finding export has, and one row per object.

Column titles are Swedish (translated like any other text); times are converted from the stored
naive UTC to local time (Europe/Stockholm, the app's time zone) here, once for every format.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row

from fieldwalk.exports.formats import BOOL, DATE, DATETIME, FLOAT, INT, URL, Column
from fieldwalk.exports.queries import ItemFindings
from fieldwalk.labels import label
from fieldwalk.links import external_url
from fieldwalk.models import ActionItem, ActionStatus, PositionSource, Priority, Severity

ACTION_COLUMNS = (
    Column("id", _l("Id"), INT, 7),
    Column("title", _l("Rubrik"), width=36),
    Column("description", _l("Beskrivning"), width=48),
    Column("status", _l("Status"), width=12),
    Column("priority", _l("Prioritet"), width=10),
    Column("responsible_party", _l("Ansvarig part"), width=28),
    Column("due_date", _l("Klart senast"), DATE, 13),
    Column("overdue", _l("Försenad"), BOOL, 10),
    Column("walk", _l("Vandring"), width=28),
    Column("area", _l("Område"), width=20),
    Column("categories", _l("Kategorier"), width=28),
    Column("findings", _l("Antal fynd"), INT, 11),
    Column("created_at", _l("Skapad"), DATETIME, 17),
    Column("resolved_at", _l("Åtgärdad"), DATETIME, 17),
    Column("lat", _l("Latitud"), FLOAT, 11),
    Column("lon", _l("Longitud"), FLOAT, 11),
    Column("url", _l("Länk"), URL, 40),
)

FINDING_COLUMNS = (
    Column("id", _l("Id"), INT, 7),
    Column("uuid", _l("UUID"), width=38),
    Column("walk", _l("Vandring"), width=28),
    Column("area", _l("Område"), width=20),
    Column("category", _l("Kategori"), width=24),
    Column("description", _l("Beskrivning"), width=48),
    Column("severity", _l("Allvarlighet"), width=12),
    Column("place", _l("Plats"), width=24),
    Column("lat", _l("Latitud"), FLOAT, 11),
    Column("lon", _l("Longitud"), FLOAT, 11),
    Column("accuracy_m", _l("Noggrannhet (m)"), FLOAT, 15),
    Column("position_source", _l("Positionskälla"), width=15),
    Column("created_at", _l("Loggad"), DATETIME, 17),
    Column("photos", _l("Antal foton"), INT, 11),
    Column("action_items", _l("Åtgärder"), width=14),
    Column("no_action", _l("Ingen åtgärd"), BOOL, 12),
    Column("url", _l("Länk"), URL, 40),
)
REPORTER_COLUMNS = (
    Column("reporter_name", _l("Rapporterad av"), width=24),
    Column("reporter_org", _l("Organisation"), width=24),
)


def _local_times() -> Callable[[datetime | None], datetime | None]:
    """Flask-Babel's to_user_timezone for stored naive UTC times, the time zone looked up once per export (not
    for each of 20,000 times)."""
    zone = get_timezone()

    def local(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return zone.normalize((value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone))

    return local


LINK_MARKER = 1_234_567_891  # an id no base URL holds: the link of one id, cut at it, is every id's link


def _links(endpoint: str, key: str) -> Callable[[int], str]:
    """external_url(endpoint, key=id) for every id, built once: one route build per row cost more than the rest
    of the row."""
    head, tail = external_url(endpoint, **{key: LINK_MARKER}).split(str(LINK_MARKER))
    return lambda object_id: f"{head}{object_id}{tail}"


def _labels(enum_cls) -> dict:
    return {member: label(member) for member in enum_cls}


def action_rows(items: Iterable[tuple[Row, ItemFindings]], categories: dict[int, str], today: date) -> Iterator[tuple]:
    """One row per (item's columns, its findings) of exports.queries.stream_items, in ACTION_COLUMNS order;
    categories: names by id. The position is its first positioned finding's."""
    statuses, priorities, local, link = (
        _labels(ActionStatus),
        _labels(Priority),
        _local_times(),
        _links("actions.detail", "item_id"),
    )
    for item, found in items:
        yield (
            item.id,
            item.title,
            item.description,
            statuses[item.status],
            priorities[item.priority],
            item.party_name or "",
            item.due_date,
            ActionItem.overdue(item.status, item.due_date, today),
            item.walk_title,
            item.walk_area,
            ", ".join(categories[c] for c in found.category_ids),
            found.count,
            local(item.created_at),
            local(item.resolved_at),
            found.lat,
            found.lon,
            link(item.id),
        )


def finding_columns(with_reporter: bool) -> tuple[Column, ...]:
    """The finding export's columns; who logged a finding (personal data) only when asked for."""
    return FINDING_COLUMNS + (REPORTER_COLUMNS if with_reporter else ())


def finding_rows(
    findings: Iterable[tuple[Row, list[int]]], categories: dict[int, str], with_reporter: bool
) -> Iterator[tuple]:
    """One row per (finding's columns, its action item ids) of exports.queries.list_findings, in
    finding_columns order; categories: names by id."""
    severities, sources, local, link = (
        _labels(Severity),
        _labels(PositionSource),
        _local_times(),
        _links("findings.detail", "finding_id"),
    )
    for finding, item_ids in findings:
        row: tuple = (
            finding.id,
            finding.uuid,
            finding.walk_title,
            finding.walk_area,
            categories[finding.category_id],
            finding.description,
            severities[finding.severity],
            finding.place,
            finding.lat,
            finding.lon,
            finding.accuracy_m,
            sources[finding.position_source],
            local(finding.created_at),
            finding.photos,
            ", ".join(str(i) for i in item_ids),
            finding.no_action,
            link(finding.id),
        )
        if with_reporter:
            row += (finding.reporter_name, finding.reporter_org)
        yield row
