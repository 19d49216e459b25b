"""Forms for administering users, categories and responsible parties."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fieldwalk.actions.queries import party_choices
from fieldwalk.form_fields import Form, email_field
from fieldwalk.labels import choices
from fieldwalk.models import Role


class UserForm(Form):
    """A user's role, party and whether the account may log in."""

    name = StringField(_l("Namn"), validators=[DataRequired(), Length(max=120)])
    organisation = StringField(_l("Organisation"), validators=[Length(max=120)])
    role = SelectField(_l("Roll"), choices=choices(Role))
    responsible_party = SelectField(_l("Ansvarig part (för rollen Ansvarig)"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Kontot är aktivt"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.responsible_party.choices = party_choices(_("Ingen"))


class NewUserForm(UserForm):
    """A new account; the person sets a password through the e-mailed reset link."""

    email = email_field(_l("E-postadress"))


class CategoryForm(Form):
    """A finding category with its icon and default responsible party."""

    name_sv = StringField(_l("Namn på svenska"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Namn på engelska"), validators=[DataRequired(), Length(max=80)])
    icon = StringField(_l("Ikon (emoji)"), validators=[Length(max=16)])
    default_party_id = SelectField(_l("Ansvarig part som förval"), coerce=int, validators=[Optional()])
    sort_order = IntegerField(_l("Ordning"), default=0, validators=[InputRequired(), NumberRange(0, 1000)])
    is_positive = BooleanField(_l("Positivt fynd (bra plats)"))
    active = BooleanField(_l("Används"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_party_id.choices = party_choices(_("Ingen"))


class PartyForm(Form):
    """A responsible party: a department, a property owner, the police …"""

    name = StringField(_l("Namn"), validators=[DataRequired(), Length(max=200)])
    email = email_field(_l("E-postadress för påminnelser"), required=False)
    active = BooleanField(_l("Aktiv"), default=True)
