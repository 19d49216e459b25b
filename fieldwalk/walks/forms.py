"""Forms for planning a walk and suggesting places before it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from fieldwalk.coordinates import CoordinatePairs, lat_field, lon_field


class WalkForm(CoordinatePairs, FlaskForm):
    """Create or edit a walk."""

    title = StringField(_l("Rubrik"), validators=[DataRequired(), Length(max=200)])
    area = StringField(_l("Område"), validators=[Length(max=200)])
    starts_at = DateTimeLocalField(
        _l("Datum och tid"), format="%Y-%m-%dT%H:%M",
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


class SuggestedPlaceForm(CoordinatePairs, FlaskForm):
    """A place someone wants the walk to visit (förmöte input)."""

    text = TextAreaField(_l("Vad upplevs som otryggt här?"), validators=[DataRequired(), Length(max=2000)])
    place = StringField(_l("Plats (adress eller beskrivning)"), validators=[Length(max=200)])
    lat = lat_field(_l("Latitud"))
    lon = lon_field(_l("Longitud"))
    suggested_by = StringField(_l("Ditt namn (frivilligt)"), validators=[Length(max=120)])



class JoinForm(FlaskForm):
    """Join a walk from its link or QR code: just a name and an organisation."""

    name = StringField(_l("Ditt namn"), validators=[DataRequired(message=_l("Skriv ditt namn.")), Length(max=120)])
    organisation = StringField(_l("Organisation (frivilligt)"), validators=[Length(max=120)],
                               description=_l("T.ex. boende, polisen, fastighetsägare eller förening."))
