"""Text no database can store: a NUL character (PostgreSQL cannot even compare one) or half of a UTF-16
surrogate pair (JSON's "\\ud800"; it cannot be encoded). Refused on the way in and before a flush."""

from flask_babel import lazy_gettext as _l

NUL_MESSAGE = _l("Texten innehåller ett otillåtet tecken (NUL eller en halv Unicode-kod). Ta bort det och försök igen.")


def unstorable(text: str) -> bool:
    """True when the text holds a NUL character or a lone surrogate."""
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)
