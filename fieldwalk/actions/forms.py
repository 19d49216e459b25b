"""Forms for creating, editing, moving and commenting on action items, and the list's filters."""

from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString  # type: ignore[import-untyped]
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import Choice, SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import Select

from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.actions.queries import assignee_choices, get_party, get_user, party_choices
from fieldwalk.findings.queries import category_choices
from fieldwalk.form_fields import Form
from fieldwalk.labels import TRANSITION_VERBS, choices
from fieldwalk.local_time import local_today
from fieldwalk.models import ActionStatus, Finding, Priority, Severity, User
from fieldwalk.permissions import is_party_member
from fieldwalk.query_args import choice_id, shown_value
from fieldwalk.walks.queries import walk_choices

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


OPEN = "open"  # the status filter's value for every open status at once
# The walk filter offers the newest walks (and the chosen one): an older walk's page links to its items.
FILTER_WALKS = 30


class FilterSelect(Select):
    """WTForms' select, with its options written directly: the same HTML as Select.render_option
    (`selected value="…"`, html_params' sorted order) without html_params' formatter per option, which was
    a tenth of the action list's time. An option with attributes of its own takes WTForms' path."""

    @classmethod
    def render_option(cls, choice, **kwargs):  # type: ignore[override]  # WTForms 3.3 passes a Choice; types-WTForms (3.2) lacks it
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = str(choice.label) if isinstance(choice.label, LazyString) else choice.label  # translated once
        return Markup(f'<option {selected}value="{escape(value)}">{escape(label or choice.value)}</option>')


class FilterSelectField(SelectField):
    """A SelectField whose choices are a list of SelectChoice without optgroups, as the filters build them: read
    as they are, where WTForms normalizes the list again for each of has_groups, iter_choices and pre_validate
    (three passes over ~30 walks per select on every request of the list). Selected and valid as WTForms
    decides: the choice's value coerced equals the field's data."""

    widget = FilterSelect()

    def has_groups(self) -> bool:
        return False

    def iter_choices(self):
        coerce, data = self.coerce, self.data
        choices: list[SelectChoice] = self.choices or []  # type: ignore[assignment]  # always SelectChoice here
        return [Choice(c.value, c.label, coerce(c.value) == data, c.render_kw) for c in choices]

    def _iter_choices_normalized(self):
        return self.iter_choices()

    def process_formdata(self, valuelist):
        """The value from the query string; one that is not an id at all (?walk=abc) is an error of our own
        that quotes it, where WTForms says "Invalid Choice: could not coerce." (in Swedish, garbled)."""
        if not valuelist:
            return
        try:
            self.data = self.coerce(valuelist[0])
        except ValueError:
            raise ValueError(
                _(
                    "”%(value)s” är inget giltigt val. Välj ett av alternativen i listan.",
                    value=shown_value(valuelist[0]),
                )
            ) from None


class ActionFilterForm(Form):
    """The filters above the action item list (GET, no CSRF)."""

    class Meta:
        csrf = False

    walk = FilterSelectField(_l("Vandring"), coerce=choice_id, validators=[Optional()])
    status = FilterSelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Alla")), SelectChoice(OPEN, _l("Öppna (ny, tilldelad, pågår)"))]
        + choices(ActionStatus),
        validators=[Optional()],
    )
    category = FilterSelectField(_l("Kategori"), coerce=choice_id, validators=[Optional()])
    party = FilterSelectField(_l("Ansvarig part"), coerce=choice_id, validators=[Optional()])
    overdue = BooleanField(_l("Bara försenade"))

    def __init__(self, *args, user: User, **kwargs):
        """The newest walks `user` may see (and the chosen one), the active categories and parties."""
        super().__init__(*args, **kwargs)
        locale = str(get_locale())
        chosen = self.walk.data if isinstance(self.walk.data, int) else None
        self.walk.choices = [SelectChoice(0, _("Alla"))] + [
            SelectChoice(id, title) for id, title in walk_choices(user, FILTER_WALKS, also=chosen)
        ]
        self.category.choices = category_choices(_("Alla"), locale)
        self.party.choices = party_choices(_("Alla"))

    def query_filters(self) -> dict:
        """The filters as keyword arguments of action_items_query; a value that is not valid is ignored."""
        status = self.status.data if self.status.data in {s.value for s in ActionStatus} else None
        return {
            "walk_id": self.walk.data if not self.walk.errors else None,
            "status": ActionStatus(status) if status else None,
            "open_only": self.status.data == OPEN,
            "category_id": self.category.data if not self.category.errors else None,
            "party_id": self.party.data if not self.party.errors else None,
            "overdue": bool(self.overdue.data),
        }


def action_filter_form(args, user: User) -> ActionFilterForm:
    """The list's filters read from the query string, validated against the choices the user has.

    The action item list and its exports both read their filters here, so a download holds exactly
    the items the list shows.
    """
    if not args and is_party_member(user):
        # A party's member opens the list to see what is left to do: their party's open items.
        args = MultiDict({"status": OPEN})
    form = ActionFilterForm(args, user=user)
    form.used_args = args  # what the list and its download links filter by (the default included)
    form.validate()
    return form
