"""Forms of follow-up: starting a meeting, a decision on one item, finishing, the yearly promise."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fieldwalk.labels import choices
from fieldwalk.models import PromiseKind
from fieldwalk.query_args import choice_id


class MeetingForm(FlaskForm):
    """A follow-up meeting about one walk or about a period (a quarter is proposed)."""

    scope = RadioField(
        _l("Vad följs upp?"),
        choices=[SelectChoice("period", _l("En period (t.ex. ett kvartal)")), SelectChoice("walk", _l("En vandring"))],
        default="period",
        validators=[InputRequired()],
    )
    period_start = DateField(_l("Från och med"), validators=[Optional()])
    period_end = DateField(_l("Till och med"), validators=[Optional()])
    walk = SelectField(_l("Vandring"), coerce=int, validators=[Optional()])
    held_on = DateField(_l("Mötesdatum"), validators=[DataRequired()])
    title = StringField(_l("Rubrik (frivilligt)"), validators=[Length(max=200)])
    attendees = TextAreaField(_l("Närvarande"), validators=[Length(max=2000)])


class DecisionForm(FlaskForm):
    """What the meeting decided about one action item."""

    text = TextAreaField(_l("Beslut"), validators=[Length(max=5000)])
    to = SelectField(_l("Ny status"), validators=[Optional()])
    due_date = DateField(_l("Nytt klart-senast-datum"), validators=[Optional()])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])


class FinishForm(FlaskForm):
    """Closing a meeting, with notes for the protocol."""

    notes = TextAreaField(_l("Övriga anteckningar till protokollet"), validators=[Length(max=10000)])


class CommitmentForm(FlaskForm):
    """One line of the year's medborgarlöfte: its kind, target and, for "klara inom N dagar", the days and
    optionally one category; category choices are filled in by the view."""

    year = IntegerField(_l("År"), validators=[InputRequired(), NumberRange(2000, 2100)])
    text = StringField(_l("Löfte"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Räknas automatiskt som"), choices=choices(PromiseKind))
    target = IntegerField(_l("Mål"), validators=[InputRequired(), NumberRange(1, 1000)])
    days = IntegerField(_l("Inom antal dagar"), validators=[Optional(), NumberRange(0, 365)])
    category_id = SelectField(_l("Kategori"), coerce=choice_id, validators=[Optional()])
    area = StringField(_l("Område (frivilligt, tomt = hela kommunen)"), validators=[Length(max=200)])
