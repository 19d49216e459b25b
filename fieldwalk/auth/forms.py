"""Forms for logging in and choosing a language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-postadress"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Lösenord"), validators=[DataRequired()])
    next = HiddenField()


class LanguageForm(FlaskForm):
    """The language switch in the page footer."""

    language = SelectField(_l("Språk"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")])
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A one-click POST button: only the CSRF token."""
