"""Forms for creating, editing, moving and commenting on action items (the list's filters: actions/filters.py)."""

from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it
from wtforms.validators import DataRequired, Length, Optional

from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.actions.queries import assignee_choices, get_party, get_user, party_choices
from fieldwalk.form_fields import Form
from fieldwalk.labels import TRANSITION_VERBS, choices
from fieldwalk.local_time import local_today
from fieldwalk.models import ActionStatus, Finding, Priority, Severity, User
from fieldwalk.query_args import choice_id

DEFAULT_DUE_DAYS = 90  # Many kommuner aim to finish their own actions within about six months.


def default_due_date() -> date:
    """The due date a new action item's form proposes: DEFAULT_DUE_DAYS after today in the kommun."""
    return local_today() + timedelta(days=DEFAULT_DUE_DAYS)


class ActionItemForm(Form):
    """Create or edit an action item, choosing among the active parties and their active members (the
    operation checks the member belongs)."""

    title = StringField(_l("Vad ska göras?"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Beskrivning"), validators=[Length(max=5000)])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])
    assignee = SelectField(_l("Handläggare"), coerce=lambda value: _person_id(value), validators=[Optional()])
    due_date = DateField(_l("Klart senast"), validators=[Optional()])
    priority = SelectField(_l("Prioritet"), choices=choices(Priority), default=Priority.MEDIUM.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.responsible_party.choices = party_choices(_("Ingen ännu"))
        self.assignee.choices = assignee_choices(_("Ingen vald"))

    def propose(self, findings: list[Finding]) -> None:
        """Fill a new item's form from the findings it is made of: a title from the first one's category
        and place, their descriptions, the category's default party, the default due date, and high
        priority when any of them is of high severity."""
        first = findings[0]
        name = first.category.name(str(get_locale()))
        self.title.data = f"{name}: {first.place or first.description[:60]}".strip(": ")
        self.description.data = "\n".join(f.description for f in findings if f.description)
        self.responsible_party.data = first.category.default_party_id or 0
        self.due_date.data = default_due_date()
        self.priority.data = (
            Priority.HIGH if any(f.severity == Severity.HIGH for f in findings) else Priority.MEDIUM
        ).value

    def to_input(self) -> ActionItemInput:
        """The validated details as the operations take them."""
        return ActionItemInput(
            title=(self.title.data or "").strip(),
            description=(self.description.data or "").strip(),
            responsible_party=get_party(self.responsible_party.data),
            assignee=get_user(self.assignee.data),
            due_date=self.due_date.data,
            priority=Priority(self.priority.data),
        )


class TransitionForm(Form):
    """Move an action item to another status, with a note and optionally a photo."""

    to = HiddenField(validators=[DataRequired()])
    text = TextAreaField(_l("Kommentar"), validators=[Length(max=5000)])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])
    photo = FileField(_l("Foto (t.ex. efter åtgärd)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.responsible_party.choices = party_choices("")


class CommentForm(Form):
    """The one form on an action item's page: a comment, optionally a status change (only the moves this
    user may make are offered), optionally a photo, optionally internal."""

    text = TextAreaField(_l("Kommentar"), validators=[Length(max=5000)])
    to = SelectField(_l("Ändra status (valfritt)"), validators=[Optional()])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])
    photo = FileField(_l("Foto (t.ex. efter åtgärd)"))
    internal = BooleanField(_l("Intern anteckning (syns bara för samordnare och din egen organisation)"))

    def __init__(self, *args, **kwargs):
        """As posted, any status is accepted: whether this user may make this move is the operation's decision."""
        super().__init__(*args, **kwargs)
        self.to.choices = any_status_choices()
        self.responsible_party.choices = party_choices("")

    def offer(self, moves: list[ActionStatus], keep_party_label: str) -> "CommentForm":
        """The status moves offered on the page (the operation decides again) and the parties for an assignment."""
        self.to.choices = [SelectChoice("", _("Ingen ändring"))] + [
            SelectChoice(m.value, str(TRANSITION_VERBS[m])) for m in moves
        ]
        self.responsible_party.choices = party_choices(keep_party_label)
        return self


def any_status_choices() -> list[SelectChoice]:
    """Every status (or none) as the choices a posted status field is checked against."""
    return [SelectChoice("", "")] + [SelectChoice(s.value, s.value) for s in ActionStatus]


def _person_id(value) -> int:
    # The edit form is filled from the item, whose assignee is a User; the submitted form sends an id.
    return value.id if isinstance(value, User) else choice_id(value)
