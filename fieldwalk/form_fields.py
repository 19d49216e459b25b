"""Form fields several forms share."""

from flask_babel import lazy_gettext as _l
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
