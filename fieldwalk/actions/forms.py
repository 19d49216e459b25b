"""Forms for creating, editing, moving and commenting on action items."""

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

from fieldwalk.labels import choices
from fieldwalk.models import ActionStatus, Priority


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

    text = TextAreaField(_l("Kommentar"), validators=[Length(max=5000)])
    photo = FileField(_l("Foto"))
    internal = BooleanField(_l("Intern anteckning (syns bara för samordnare och din egen organisation)"))


class ActionFilterForm(FlaskForm):
    """The filters above the action item list (GET, no CSRF)."""

    class Meta:
        csrf = False

    walk = SelectField(_l("Vandring"), coerce=int, validators=[Optional()])
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Alla"))] + choices(ActionStatus),
                         validators=[Optional()])
    category = SelectField(_l("Kategori"), coerce=int, validators=[Optional()])
    party = SelectField(_l("Ansvarig part"), coerce=int, validators=[Optional()])
    overdue = BooleanField(_l("Bara försenade"))
