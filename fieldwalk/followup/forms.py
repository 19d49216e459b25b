"""Forms of follow-up: starting a meeting, a decision on one item, finishing, the yearly promise."""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fieldwalk.actions.forms import any_status_choices
from fieldwalk.actions.queries import party_choices
from fieldwalk.findings.queries import category_choices
from fieldwalk.form_fields import Form
from fieldwalk.labels import TRANSITION_VERBS, choices, label
from fieldwalk.models import ActionItem, ActionStatus, PromiseKind, User
from fieldwalk.query_args import choice_id
from fieldwalk.walks.queries import list_walks


class MeetingForm(Form):
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

    def __init__(self, *args, user: User, **kwargs):
        """The walks `user` may see, with their dates."""
        super().__init__(*args, **kwargs)
        self.walk.choices = [SelectChoice(0, _("Välj vandring"))] + [
            SelectChoice(w.id, f"{w.title} ({w.starts_at:%Y-%m-%d})") for w in list_walks(user)
        ]


class DecisionForm(Form):
    """What the meeting decided about one action item."""

    text = TextAreaField(_l("Beslut"), validators=[Length(max=5000)])
    to = SelectField(_l("Ny status"), validators=[Optional()])
    due_date = DateField(_l("Nytt klart-senast-datum"), validators=[Optional()])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        """As posted, any status is accepted: whether this move may be made is the operation's decision."""
        super().__init__(*args, **kwargs)
        self.to.choices = any_status_choices()
        self.responsible_party.choices = party_choices("")

    def offer(self, item: ActionItem, moves: list[ActionStatus]) -> None:
        """The page's choices: keep the item's status or make one of `moves`; keep its party or choose one."""
        self.to.choices = [SelectChoice("", _("Oförändrad (%(status)s)", status=label(item.status)))] + [
            SelectChoice(t.value, f"{label(t)} – {TRANSITION_VERBS[t]}") for t in moves
        ]
        self.responsible_party.choices = party_choices(_("Behåll nuvarande"))


class FinishForm(Form):
    """Closing a meeting, with notes for the protocol."""

    notes = TextAreaField(_l("Övriga anteckningar till protokollet"), validators=[Length(max=10000)])


class CommitmentForm(Form):
    """One line of the year's medborgarlöfte: its kind, target and, for "klara inom N dagar", the days and
    optionally one of the active categories."""

    year = IntegerField(_l("År"), validators=[InputRequired(), NumberRange(2000, 2100)])
    text = StringField(_l("Löfte"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Räknas automatiskt som"), choices=choices(PromiseKind))
    target = IntegerField(_l("Mål"), validators=[InputRequired(), NumberRange(1, 1000)])
    days = IntegerField(_l("Inom antal dagar"), validators=[Optional(), NumberRange(0, 365)])
    category_id = SelectField(_l("Kategori"), coerce=choice_id, validators=[Optional()])
    area = StringField(_l("Område (frivilligt, tomt = hela kommunen)"), validators=[Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale())
        self.category_id.choices = category_choices(_("Alla kategorier"), locale)
