"""Forms for logging and triaging findings."""

import uuid as uuid_module
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import FloatField, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from fieldwalk.coordinates import CoordinatePairs, lat_field, lon_field
from fieldwalk.findings.inputs import FindingInput, device_time_utc
from fieldwalk.findings.queries import active_categories
from fieldwalk.form_fields import Form
from fieldwalk.labels import choices
from fieldwalk.models import Category, Finding, PositionSource, Severity

# Also the answer to a uuid that belongs to a finding of another walk (it must not tell that one exists).
INVALID_UUID_MESSAGE = _l("Ogiltigt formulär-id; ladda om sidan.")


class FindingFieldsForm(CoordinatePairs, Form):
    """What a finding says, shared by logging one and editing one: category, text, severity, photos, position."""

    category = RadioField(
        _l("Kategori"),
        coerce=int,
        validators=[DataRequired(message=_l("Välj en kategori."))],
        validate_choice=True,
    )
    description = TextAreaField(_l("Beskrivning"), validators=[Length(max=2000)])
    severity = RadioField(_l("Allvarlighet"), choices=choices(Severity), default=Severity.MEDIUM.value)
    photos = MultipleFileField(_l("Foton"))
    lat = lat_field(_l("Latitud"))
    lon = lon_field(_l("Longitud"))
    accuracy_m = FloatField(_l("Noggrannhet (m)"), validators=[Optional(), NumberRange(0, 100000)])
    position_source = HiddenField(default="map")
    place = StringField(_l("Plats med egna ord"), validators=[Length(max=200)])

    def __init__(self, *args, categories: list[Category] | None = None, **kwargs):
        """`categories` to choose from: the active ones unless given."""
        super().__init__(*args, **kwargs)
        self.categories = active_categories() if categories is None else categories
        self.category.choices = [SelectChoice(c.id, c.name_sv) for c in self.categories]

    def to_input(self, **logging: Any) -> FindingInput:
        """The validated fields as the operations take them (`logging`: the capture form's own fields)."""
        return FindingInput(
            category=next(c for c in self.categories if c.id == self.category.data),
            description=self.description.data or "",
            severity=Severity(self.severity.data),
            lat=self.lat.data,
            lon=self.lon.data,
            accuracy_m=self.accuracy_m.data,
            position_source=_position_source(self.position_source.data),
            place=self.place.data or "",
            **logging,
        )


def _position_source(value: str | None) -> PositionSource | None:
    """The form's hidden position_source: where the phone says the position came from."""
    return PositionSource(value) if value in ("gps", "map", "photo") else None


def _device_time(value: str | None) -> datetime | None:
    """The phone's clock at capture, as naive UTC; ignored when unreadable or impossible."""
    if not value:
        return None
    try:
        return device_time_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


class FindingForm(FindingFieldsForm):
    """Log a finding on a phone: the finding's fields plus who reports it and the phone's own id and clock."""

    reporter_name = StringField(_l("Ditt namn"), validators=[Length(max=120)])
    reporter_org = StringField(_l("Organisation"), validators=[Length(max=120)])
    device_created_at = HiddenField()
    uuid = HiddenField()

    def validate_uuid(self, field):
        """The client-made id must look like a UUID (it guards against double submits)."""
        if field.data:
            try:
                field.data = str(uuid_module.UUID(field.data))
            except ValueError:
                raise ValidationError(INVALID_UUID_MESSAGE) from None

    def to_input(self, **logging: Any) -> FindingInput:
        """The finding's fields plus the reporter, the phone's clock and its uuid."""
        return super().to_input(
            reporter_name=self.reporter_name.data or "",
            reporter_org=self.reporter_org.data or "",
            device_created_at=_device_time(self.device_created_at.data),
            uuid=self.uuid.data or None,
            **logging,
        )


class FindingEditForm(FindingFieldsForm):
    """Correct one's own finding: its fields, new photos, and the stored photos to remove (choices = their ids)."""

    remove_photos = SelectMultipleField(_l("Ta bort foton"), coerce=int, validate_choice=True)

    def __init__(self, *args, finding: Finding, **kwargs):
        """Filled from `finding` on GET; its category stays selectable after it was retired."""
        categories = active_categories()
        if finding.category not in categories:
            categories = [*categories, finding.category]
        super().__init__(*args, categories=categories, **kwargs)
        self.remove_photos.choices = [SelectChoice(p.id, str(p.id)) for p in finding.photos]


class NoActionForm(Form):
    """Mark a finding as needing no action, with a short note."""

    note = TextAreaField(_l("Varför behövs ingen åtgärd?"), validators=[Length(max=2000)])
