"""Forms for logging and triaging findings."""

import uuid as uuid_module

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import FloatField, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from fieldwalk.coordinates import CoordinatePairs, lat_field, lon_field
from fieldwalk.labels import choices
from fieldwalk.models import Severity

# Also the answer to a uuid that belongs to a finding of another walk (it must not tell that one exists).
INVALID_UUID_MESSAGE = _l("Ogiltigt formulär-id; ladda om sidan.")


class FindingFieldsForm(CoordinatePairs, FlaskForm):
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


class FindingEditForm(FindingFieldsForm):
    """Correct one's own finding: its fields, new photos, and the stored photos to remove (choices = their ids)."""

    remove_photos = SelectMultipleField(_l("Ta bort foton"), coerce=int, validate_choice=True)


class NoActionForm(FlaskForm):
    """Mark a finding as needing no action, with a short note."""

    note = TextAreaField(_l("Varför behövs ingen åtgärd?"), validators=[Length(max=2000)])
