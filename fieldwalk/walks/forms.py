"""Forms for planning a walk and suggesting places before it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, FloatField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

LAT = [Optional(), NumberRange(min=-90, max=90, message=_l("Latituden måste vara mellan -90 och 90."))]
LON = [Optional(), NumberRange(min=-180, max=180, message=_l("Longituden måste vara mellan -180 och 180."))]


class WalkForm(FlaskForm):
    """Create or edit a walk."""

    title = StringField(_l("Rubrik"), validators=[DataRequired(), Length(max=200)])
    area = StringField(_l("Område"), validators=[Length(max=200)])
    starts_at = DateTimeLocalField(
        _l("Datum och tid"), format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message=_l("Ange datum och tid, t.ex. 2026-11-24 18:00."))],
    )
    meeting_point = StringField(_l("Samlingsplats"), validators=[Length(max=200)])
    meeting_lat = FloatField(_l("Samlingsplatsens latitud"), validators=LAT)
    meeting_lon = FloatField(_l("Samlingsplatsens longitud"), validators=LON)
    route = TextAreaField(_l("Rutt"), validators=[Length(max=5000)])
    description = TextAreaField(_l("Beskrivning"), validators=[Length(max=5000)])
    organiser = StringField(_l("Arrangör"), validators=[Length(max=200)])
    invited_organisations = TextAreaField(_l("Inbjudna organisationer"), validators=[Length(max=2000)])

    def validate_meeting_lon(self, field):
        """Both coordinates or neither."""
        if (field.data is None) != (self.meeting_lat.data is None):
            raise ValueError(_l("Ange både latitud och longitud, eller ingen av dem."))


class SuggestedPlaceForm(FlaskForm):
    """A place someone wants the walk to visit (förmöte input)."""

    text = TextAreaField(_l("Vad upplevs som otryggt här?"), validators=[DataRequired(), Length(max=2000)])
    place = StringField(_l("Plats (adress eller beskrivning)"), validators=[Length(max=200)])
    lat = FloatField(_l("Latitud"), validators=LAT)
    lon = FloatField(_l("Longitud"), validators=LON)
    suggested_by = StringField(_l("Ditt namn (frivilligt)"), validators=[Length(max=120)])

    def validate_lon(self, field):
        """Both coordinates or neither."""
        if (field.data is None) != (self.lat.data is None):
            raise ValueError(_l("Ange både latitud och longitud, eller ingen av dem."))
