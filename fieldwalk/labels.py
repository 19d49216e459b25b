"""Translated display labels for the domain's enums, shared by templates, forms and exports."""

from flask_babel import lazy_gettext as _l
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it

from fieldwalk.models import (
    ActionStatus,
    EventKind,
    PositionSource,
    Priority,
    PromiseKind,
    Role,
    Severity,
    WalkStatus,
)

LABELS = {
    WalkStatus.PLANNED: _l("Planerad"),
    WalkStatus.ONGOING: _l("Pågår"),
    WalkStatus.COMPLETED: _l("Genomförd"),
    WalkStatus.FOLLOWED_UP: _l("Uppföljd"),
    ActionStatus.NEW: _l("Ny"),
    ActionStatus.ASSIGNED: _l("Tilldelad"),
    ActionStatus.IN_PROGRESS: _l("Pågår"),
    ActionStatus.DONE: _l("Åtgärdad"),
    ActionStatus.CLOSED: _l("Avslutad"),
    ActionStatus.REJECTED: _l("Avvisad"),
    Severity.LOW: _l("Låg"),
    Severity.MEDIUM: _l("Medel"),
    Severity.HIGH: _l("Hög"),
    Priority.LOW: _l("Låg"),
    Priority.MEDIUM: _l("Medel"),
    Priority.HIGH: _l("Hög"),
    PositionSource.GPS: _l("GPS"),
    PositionSource.MAP: _l("vald på kartan"),
    PositionSource.PHOTO: _l("från fotot"),
    PositionSource.NONE: _l("ingen position"),
    EventKind.CREATED: _l("Skapad"),
    EventKind.STATUS: _l("Status ändrad"),
    EventKind.COMMENT: _l("Kommentar"),
    EventKind.EDITED: _l("Ändrad"),
    Role.ADMIN: _l("Administratör"),
    Role.COORDINATOR: _l("Samordnare"),
    Role.RESPONSIBLE: _l("Ansvarig"),
    Role.PARTICIPANT: _l("Deltagare"),
    PromiseKind.WALKS: _l("Genomförda trygghetsvandringar"),
    PromiseKind.QUARTERLY_FOLLOWUP: _l("Kvartal med avslutat uppföljningsmöte"),
    PromiseKind.RESOLVED_ACTIONS: _l("Åtgärdade åtgärder"),
    PromiseKind.RESOLVED_WITHIN: _l("Andel åtgärdade inom ett antal dagar"),
}

# The button text for moving an action item into a status (what the user does, not where it ends).
TRANSITION_VERBS = {
    ActionStatus.NEW: _l("Återöppna som ny"),
    ActionStatus.ASSIGNED: _l("Tilldela"),
    ActionStatus.IN_PROGRESS: _l("Påbörja"),
    ActionStatus.DONE: _l("Markera som åtgärdad"),
    ActionStatus.CLOSED: _l("Avsluta (verifierad)"),
    ActionStatus.REJECTED: _l("Avvisa"),
}


def label(value) -> str:
    """The translated label of an enum member (or the value itself for anything else)."""
    return str(LABELS.get(value, value))


# Every label as text, per locale: the catalogues do not change while the process runs (Flask-Babel keeps
# them loaded the same way), so a render reads its labels from one dict.
_LABEL_MAPS: dict[str, dict] = {}


def label_map(locale: str) -> dict:
    """Every enum member's label as text in `locale`, which must be the locale in force (fieldwalk.render_texts)."""
    labels = _LABEL_MAPS.get(locale)
    if labels is None:
        labels = _LABEL_MAPS[locale] = {member: str(text) for member, text in LABELS.items()}
    return labels


def choices(enum_cls) -> list[SelectChoice]:
    """The enum's members as choices of a form's select or radio field."""
    return [SelectChoice(m.value, LABELS[m]) for m in enum_cls]
