"""Forms for creating, editing, moving and commenting on action items, and the list's filters."""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from fieldwalk.actions.queries import party_choices
from fieldwalk.findings.queries import active_categories
from fieldwalk.labels import choices
from fieldwalk.models import ActionStatus, Priority, User
from fieldwalk.query_args import choice_id
from fieldwalk.walks.queries import list_walks


class ActionItemForm(FlaskForm):
    """Create or edit an action item; party choices are filled in by the view."""

    title = StringField(_l("Vad ska göras?"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Beskrivning"), validators=[Length(max=5000)])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Klart senast"), validators=[Optional()])
    priority = SelectField(_l("Prioritet"), choices=choices(Priority), default=Priority.MEDIUM.value)


class TransitionForm(FlaskForm):
    """Move an action item to another status, with a note and optionally a photo."""

    to = HiddenField(validators=[DataRequired()])
    text = TextAreaField(_l("Kommentar"), validators=[Length(max=5000)])
    responsible_party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])
    photo = FileField(_l("Foto (t.ex. efter åtgärd)"))


class CommentForm(FlaskForm):
    """A comment on the timeline, optionally with a photo, optionally internal."""

    # Own ids: the item page shows this form next to TransitionForm, whose fields have the same names.
    text = TextAreaField(_l("Kommentar"), validators=[Length(max=5000)], id="comment-text")
    photo = FileField(_l("Foto"), id="comment-photo")
    internal = BooleanField(_l("Intern anteckning (syns bara för samordnare och din egen organisation)"))


class ActionFilterForm(FlaskForm):
    """The filters above the action item list (GET, no CSRF)."""

    class Meta:
        csrf = False

    walk = SelectField(_l("Vandring"), coerce=choice_id, validators=[Optional()])
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Alla"))] + choices(ActionStatus),
                         validators=[Optional()])
    category = SelectField(_l("Kategori"), coerce=choice_id, validators=[Optional()])
    party = SelectField(_l("Ansvarig part"), coerce=choice_id, validators=[Optional()])
    overdue = BooleanField(_l("Bara försenade"))

    def query_filters(self) -> dict:
        """The filters as keyword arguments of action_items_query; a value that is not valid is ignored."""
        status = self.status.data if self.status.data in {s.value for s in ActionStatus} else None
        return {
            "walk_id": self.walk.data if not self.walk.errors else None,
            "status": ActionStatus(status) if status else None,
            "category_id": self.category.data if not self.category.errors else None,
            "party_id": self.party.data if not self.party.errors else None,
            "overdue": bool(self.overdue.data),
        }


def action_filter_form(args, user: User) -> ActionFilterForm:
    """The list's filters read from the query string, validated against the choices the user has.

    The action item list and its exports both read their filters here, so a download holds exactly
    the items the list shows.
    """
    form = ActionFilterForm(args)
    locale = str(get_locale())
    form.walk.choices = [SelectChoice(0, _("Alla"))] + [SelectChoice(w.id, w.title) for w in list_walks(user)]
    form.category.choices = [SelectChoice(0, _("Alla"))] + [
        SelectChoice(c.id, c.name(locale)) for c in active_categories()]
    form.party.choices = party_choices(_("Alla"))
    form.validate()
    return form
