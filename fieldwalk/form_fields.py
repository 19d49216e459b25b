"""The forms' base class and form fields several forms share."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length, Optional


def strip_whitespace(value):
    """The typed text without the spaces around it (a phone keyboard's autocomplete adds one)."""
    return value.strip() if isinstance(value, str) else value


def email_field(label, *, required: bool = True, description=None) -> EmailField:
    """An e-mail address: spaces around it dropped, at most 254 characters, a message that shows the form."""
    return EmailField(
        label,
        validators=[
            DataRequired() if required else Optional(),
            Length(max=254),
            Email(message=_l("Skriv en e-postadress som namn@exempel.se.")),
        ],
        filters=[strip_whitespace],
        description=description,
    )


# WTForms' own Swedish for a posted choice that is not one of the options is garbled ("Felaktigt val; kunde
# inte ceorce:a"): ours instead, in both languages. Only a crafted post sends one (a select offers ids only).
NOT_A_CHOICE = _l("Ogiltigt val. Välj ett av alternativen i listan.")
_OWN_MESSAGES = {
    "Invalid Choice: could not coerce.": NOT_A_CHOICE,
    "Invalid choice(s): one or more data inputs could not be coerced.": NOT_A_CHOICE,
    "Not a valid choice.": NOT_A_CHOICE,
}


class _Translations:
    """WTForms' messages in the request's language (Flask-WTF's), a few of them ours."""

    def gettext(self, string: str) -> str:
        own = _OWN_MESSAGES.get(string)
        return str(own) if own is not None else wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_translations.ngettext(singular, plural, n)


class Form(FlaskForm):
    """Every form of the app: Flask-WTF's (CSRF, the request's data) with WTForms' messages as _Translations
    gives them."""

    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS


_TRANSLATIONS = _Translations()
