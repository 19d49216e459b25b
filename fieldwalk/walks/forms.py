"""Forms for planning a walk and suggesting places before it."""

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from fieldwalk.coordinates import CoordinatePairs, lat_field, lon_field
from fieldwalk.form_fields import Form, email_field


class WalkForm(CoordinatePairs, Form):
    """Create or edit a walk."""

    title = StringField(_l("Rubrik"), validators=[DataRequired(), Length(max=200)])
    area = StringField(_l("Område"), validators=[Length(max=200)])
    starts_at = DateTimeLocalField(
        _l("Datum och tid"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message=_l("Ange datum och tid, t.ex. 2026-11-24 18:00."))],
    )
    meeting_point = StringField(_l("Samlingsplats"), validators=[Length(max=200)])
    meeting_lat = lat_field(_l("Samlingsplatsens latitud"))
    meeting_lon = lon_field(_l("Samlingsplatsens longitud"))
    route = TextAreaField(_l("Rutt"), validators=[Length(max=5000)])
    description = TextAreaField(_l("Beskrivning"), validators=[Length(max=5000)])
    organiser = StringField(_l("Arrangör"), validators=[Length(max=200)])
    invited_organisations = TextAreaField(_l("Inbjudna organisationer"), validators=[Length(max=2000)])

    coordinate_pairs = (("meeting_lat", "meeting_lon"),)


class SuggestedPlaceForm(CoordinatePairs, Form):
    """A place someone wants the walk to visit (förmöte input)."""

    text = TextAreaField(_l("Vad upplevs som otryggt här?"), validators=[DataRequired(), Length(max=2000)])
    place = StringField(_l("Plats (adress eller beskrivning)"), validators=[Length(max=200)])
    lat = lat_field(_l("Latitud"))
    lon = lon_field(_l("Longitud"))
    suggested_by = StringField(_l("Ditt namn (frivilligt)"), validators=[Length(max=120)])


def notify_email_field() -> EmailField:
    """An optional address for the mail that says a finding was resolved or rejected (no log-in address)."""
    return email_field(
        _l("E-post för besked om dina fynd (frivilligt)"),
        required=False,
        description=_l(
            "Vi mejlar dig en gång per fynd när det är åtgärdat eller inte ska åtgärdas, med skälet. "
            "Adressen används till inget annat och du kan ta bort den när du vill."
        ),
    )


class JoinForm(Form):
    """Join a walk from its link or QR code: a name, an organisation and, if wanted, an address for news."""

    name = StringField(_l("Ditt namn"), validators=[DataRequired(message=_l("Skriv ditt namn.")), Length(max=120)])
    organisation = StringField(
        _l("Organisation (frivilligt)"),
        validators=[Length(max=120)],
        description=_l("T.ex. boende, polisen, fastighetsägare eller förening."),
    )
    notify_email = notify_email_field()


class JoinAccountForm(Form):
    """Join a walk when logged in already: only the optional address for news about one's findings."""

    notify_email = notify_email_field()


class NotifyEmailForm(Form):
    """Change or remove the address for news about one's findings (empty: removed)."""

    notify_email = notify_email_field()
