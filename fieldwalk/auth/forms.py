"""Forms for logging in and choosing a language."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectField
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3's; types-WTForms (3.2) lacks it
from wtforms.validators import DataRequired, EqualTo, ValidationError

from fieldwalk.auth.passwords import password_problem
from fieldwalk.form_fields import Form, email_field


class LoginForm(Form):
    """E-mail and password."""

    email = email_field(_l("E-postadress"))
    password = PasswordField(_l("Lösenord"), validators=[DataRequired()])
    next = HiddenField()


class LanguageForm(Form):
    """The language switch in the page footer."""

    language = SelectField(_l("Språk"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")])
    next = HiddenField()


class EmptyForm(Form):
    """A one-click POST button: only the CSRF token."""


class LogoutForm(Form):
    """Log out; outbox.js sets keep_outbox when findings not yet sent are still on the device."""

    keep_outbox = HiddenField()


def _new_password_fields():
    """The new password, typed twice, checked against the password rules (length, common passwords)."""
    return (
        PasswordField(_l("Nytt lösenord"), validators=[DataRequired(), PasswordRules()]),
        PasswordField(
            _l("Nytt lösenord igen"),
            validators=[DataRequired(), EqualTo("new_password", message=_l("Lösenorden är inte lika."))],
        ),
    )


class PasswordRules:
    """A new password by the rules of auth.passwords.password_problem, for the form's `user`."""

    def __call__(self, form, field):
        user = form.user
        problem = password_problem(field.data or "", user.email, user.name)
        if problem:
            raise ValidationError(problem)


class _NewPasswordForm(Form):
    """A form that sets `user`'s password."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


class PasswordChangeForm(_NewPasswordForm):
    """Change one's own password."""

    current_password = PasswordField(_l("Nuvarande lösenord"), validators=[DataRequired()])
    new_password, new_password_again = _new_password_fields()

    def validate_new_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("Det nya lösenordet måste skilja sig från det nuvarande."))


class ResetRequestForm(Form):
    """Ask for a password reset link by e-mail."""

    email = email_field(_l("E-postadress"))


class ResetPasswordForm(_NewPasswordForm):
    """Choose a new password from a reset link."""

    new_password, new_password_again = _new_password_fields()
