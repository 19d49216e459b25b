"""Domain errors that views and the API turn into a message and a 4xx answer."""

from flask_babel import lazy_gettext as _l

# PostgreSQL cannot store (or even compare) a NUL character: refused on the way in and before a flush.
NUL_MESSAGE = _l("Texten innehåller ett otillåtet tecken (NUL, tecken 0). Ta bort det och försök igen.")


class OperationError(Exception):
    """A state change that is not allowed; `message` is already translated for the user."""

    def __init__(self, message: str, status: int = 422, code: str = "invalid"):
        super().__init__(str(message))
        self.message = str(message)
        self.status = status
        self.code = code
