"""The export tables: which columns an action item or finding export has, and one row per object.

Column titles are Swedish (translated like any other text); times are converted from the stored
naive UTC to local time (Europe/Stockholm, the app's time zone) here, once for every format.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from flask_babel import get_locale, to_user_timezone
from flask_babel import lazy_gettext as _l

from fieldwalk.exports.formats import BOOL, DATE, DATETIME, FLOAT, INT, URL, Column
from fieldwalk.labels import label
from fieldwalk.links import external_url
from fieldwalk.models import ActionItem, Finding

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


def _local(value: datetime | None) -> datetime | None:
    return to_user_timezone(value) if value is not None else None


def action_rows(items: Iterable[ActionItem], today: date) -> Iterator[tuple]:
    """One row per action item, in ACTION_COLUMNS order; the position is its first positioned finding's."""
    locale = str(get_locale())
    for item in items:
        categories = list(dict.fromkeys(f.category.name(locale) for f in item.findings))
        located = next((f for f in item.findings if f.has_position), None)
        yield (
            item.id,
            item.title,
            item.description,
            label(item.status),
            label(item.priority),
            item.responsible_party.name if item.responsible_party else "",
            item.due_date,
            item.is_overdue(today),
            item.walk.title,
            item.walk.area,
            ", ".join(categories),
            len(item.findings),
            _local(item.created_at),
            _local(item.resolved_at),
            located.lat if located else None,
            located.lon if located else None,
            external_url("actions.detail", item_id=item.id),
        )


def finding_columns(with_reporter: bool) -> tuple[Column, ...]:
    """The finding export's columns; who logged a finding (personal data) only when asked for."""
    return FINDING_COLUMNS + (REPORTER_COLUMNS if with_reporter else ())


def finding_rows(findings: Iterable[tuple[Finding, int, list[int]]], with_reporter: bool) -> Iterator[tuple]:
    """One row per (finding, number of photos, action item ids), in finding_columns order."""
    locale = str(get_locale())
    for finding, photos, item_ids in findings:
        row: tuple = (
            finding.id,
            finding.uuid,
            finding.walk.title,
            finding.walk.area,
            finding.category.name(locale),
            finding.description,
            label(finding.severity),
            finding.place,
            finding.lat,
            finding.lon,
            finding.accuracy_m,
            label(finding.position_source),
            _local(finding.created_at),
            photos,
            ", ".join(str(i) for i in item_ids),
            finding.no_action,
            external_url("findings.detail", finding_id=finding.id),
        )
        if with_reporter:
            row += (finding.reporter_name, finding.reporter_org)
        yield row
