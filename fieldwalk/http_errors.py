"""HTTP errors: the domain's OperationError, the error pages and JSON errors in the user's language, and
the handlers that turn both (and any other exception) into an answer."""

from collections.abc import Callable
from uuid import uuid4

from flask import Flask, flash, g, jsonify, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Aborter, HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from fieldwalk.transactions import database_busy, rollback

# Seconds a client is asked to wait after the database was too busy to take its write (the phone's outbox
# sends again after its own back-off, at least this long).
BUSY_RETRY_AFTER_S = 5
BUSY_TEXT = _l("Just nu sparar många samtidigt. Det du skickade sparades inte; försök igen om en stund.")


class OperationError(Exception):
    """A state change that is not allowed; `message` is already translated for the user, `status` is the
    answer's HTTP status (422 invalid input, 409 not in this state, 403 not this user's …)."""

    def __init__(self, message: str, status: int = 422, code: str = "invalid"):
        super().__init__(str(message))
        self.message = str(message)
        self.status = status
        self.code = code


def wants_json() -> bool:
    """True for API calls and clients that ask for JSON rather than a page."""
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def request_id() -> str:
    """This request's reference for logs and error answers: the request log's (g.request_id), else one
    made here once."""
    if not g.get("request_id"):
        g.request_id = uuid4().hex
    return g.request_id


def error_json(code: str, message: str, status: int, **extra):
    """The API's error answer: {"error": {"code", "message", "request_id", …}} with the status."""
    return jsonify(error={"code": code, "message": str(message), **extra, "request_id": request_id()}), status


# The page of each status in the interface language: a heading, and the text shown when the code that
# refused the request gave no reason of its own. Werkzeug's English ("403 Forbidden: You don't have the
# permission …") never reaches a page.
ERROR_HEADINGS = {
    400: _l("Begäran gick inte att behandla"),
    401: _l("Du behöver logga in"),
    403: _l("Ingen behörighet"),
    404: _l("Sidan finns inte"),
    405: _l("Det går inte att göra så här"),
    409: _l("Det går inte just nu"),
    413: _l("Det du skickade är för stort"),
    415: _l("Den sortens innehåll tas inte emot"),
    422: _l("Uppgifterna kunde inte tas emot"),
    429: _l("För många försök"),
    500: _l("Något gick fel"),
    503: _l("Tjänsten är tillfälligt otillgänglig"),
}
ERROR_TEXTS = {
    400: _l("Begäran kunde inte behandlas. Kontrollera uppgifterna och försök igen."),
    401: _l("Logga in och försök igen."),
    403: _l("Du har inte behörighet till den här sidan."),
    404: _l("Sidan finns inte. Länken kan vara gammal."),
    405: _l("Det går inte att göra så här."),
    409: _l(
        "Det du försökte göra går inte i det läge det är nu, kanske för att någon annan just ändrade det. "
        "Ladda om sidan och försök igen."
    ),
    413: _l("Det du skickade är för stort. Skicka färre eller mindre foton åt gången."),
    415: _l("Den sortens innehåll tas inte emot här."),
    422: _l("Uppgifterna kunde inte tas emot. Kontrollera dem och försök igen."),
    429: _l("Du har försökt för många gånger. Vänta en stund och försök igen."),
    500: _l("Något gick fel hos oss. Försök igen om en stund."),
    503: _l("Tjänsten är tillfälligt otillgänglig. Försök igen om en stund."),
}
CSRF_TEXT = _l("Formuläret har gått ut eller skickades från en annan sida. Ladda om sidan och försök igen.")


class FieldwalkAborter(Aborter):
    """flask.abort, marking the error when our code gave it a description (a reason written for the
    user, in their language); other errors (Werkzeug's, extensions') get our text for their status."""

    def __call__(self, code, *args, **kwargs):
        """Raise the HTTP error for `code`, marked as ours when a description was given."""
        try:
            super().__call__(code, *args, **kwargs)
        except HTTPException as error:
            if args or kwargs.get("description"):
                error.fieldwalk_description = True  # type: ignore[attr-defined]  # our mark, read with getattr
            raise


def error_message(error: HTTPException) -> str:
    """What the page (or JSON error) says: the reason our code gave, else our text for the status."""
    if getattr(error, "fieldwalk_description", False) and error.description:
        return str(error.description)
    limit = getattr(error, "limit", None)  # Flask-Limiter: the limit's own error_message is ours
    if limit is not None and getattr(limit, "error_message", None) and error.description:
        return str(error.description)
    if isinstance(error, CSRFError):
        return str(CSRF_TEXT)
    fallback = ERROR_TEXTS[500] if error.code is None or error.code >= 500 else ERROR_TEXTS[400]
    return str(ERROR_TEXTS.get(error.code or 500, fallback))


def error_page(status: int, message: str):
    """The error page for a status with a message; a 5xx page also names the request's reference."""
    heading = ERROR_HEADINGS.get(status, ERROR_HEADINGS[500 if status >= 500 else 400])
    reference = request_id() if status >= 500 else None
    # Not passed as `error`: the page's message partial shows a form's `error`, which would print the
    # message twice.
    return render_template(
        "errors/error.html", code=status, heading=heading, message=message, reference=reference
    ), status


def _http_error_answer(error: HTTPException):
    message = error_message(error)
    status = error.code or 500  # an HTTPException raised without a code is a server error
    if not wants_json():
        return error_page(status, message)
    # A refused CSRF token has its own code, so a client knows to fetch a new one (GET /api/v1/session).
    code = "csrf_failed" if isinstance(error, CSRFError) else error.name.lower().replace(" ", "_")
    messages = (getattr(error, "data", None) or {}).get("messages")
    if not messages:
        return error_json(code, message, status)
    # The API's input validation (webargs): which field, what is wrong — {"json": {"field": [...]}}, or
    # {"json": [...]} when the whole body is wrong.
    fields: dict = {}
    for location, found in messages.items():
        fields.update(found if isinstance(found, dict) else {location: found})
    return error_json(code, ERROR_TEXTS[422], status, fields=fields)


def error_response(error):
    """The app's error page (or JSON error) for an HTTP error; anything else becomes a plain 500."""
    if isinstance(error, SecurityError):  # a Host outside TRUSTED_HOSTS: no links to build a page with
        return str(ERROR_TEXTS[400]), 400, {"Content-Type": "text/plain; charset=utf-8"}
    if isinstance(error, HTTPException) and (error.code or 500) < 500:
        return _http_error_answer(error)
    # A server error may have left the session in a failed transaction: end it before the page (its
    # menu, the user's language) reads anything.
    rollback()
    if database_busy(getattr(error, "original_exception", None) or error):
        return _busy_answer()
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    try:
        return _http_error_answer(error)
    except Exception:  # the database itself is gone: no page to build, still an answer
        return str(ERROR_TEXTS[500]), 500, {"Content-Type": "text/plain; charset=utf-8"}


def _busy_answer():
    """The database could not take the write in time (SQLite's busy timeout ran out behind other writers; a
    PostgreSQL deadlock or serialization failure): nothing was stored, and sending it again will work, so a
    503 with Retry-After (the phone's outbox sends again) instead of a 500."""
    headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
    busy = ServiceUnavailable(description=str(BUSY_TEXT))
    busy.fieldwalk_description = True  # type: ignore[attr-defined]  # our mark, read with getattr
    try:
        answer = make_response(_http_error_answer(busy))
    except Exception:  # no page to build (the database is what is busy): still an answer
        answer = make_response((str(BUSY_TEXT), 503, {"Content-Type": "text/plain; charset=utf-8"}))
    answer.headers.update(headers)
    return answer


def on_operation_error(page: Callable[[OperationError], ResponseReturnValue]) -> None:
    """How this request answers when an operation refuses: `page(error)`, e.g. the form again with what
    was typed and the message (the answer gets the error's status unless `page` redirects)."""
    g.operation_error_page = page


def rerender_on_error(template: str, **context) -> None:
    """On an operation's refusal, the form's page again: `template` with the message as `error` (the form
    in `context` keeps what was typed)."""
    on_operation_error(lambda error: render_template(template, error=error.message, **context))


def redirect_on_error(url: str) -> None:
    """On an operation's refusal, back to `url` with the message (for one-click buttons without a form)."""

    def back(error: OperationError):
        flash(error.message, "error")
        return redirect(url, 303)

    on_operation_error(back)


def operation_error_response(error: OperationError):
    """An operation refused: nothing of the request is stored; the view's page for it (on_operation_error),
    else the error page, or JSON, with the error's message and status."""
    rollback()
    if wants_json() and "operation_error_page" not in g:
        return error_json(error.code, error.message, error.status)
    page = g.pop("operation_error_page", None)
    if page is None:
        return error_page(error.status, error.message)
    response = make_response(page(error))
    if not 300 <= response.status_code < 400:  # a redirect stays one
        response.status_code = error.status
    return response


def init_app(app: Flask) -> None:
    """abort() with our descriptions, and the error pages and JSON errors for every error."""
    app.aborter = FieldwalkAborter()
    app.register_error_handler(HTTPException, error_response)
    app.register_error_handler(OperationError, operation_error_response)
    app.register_error_handler(500, error_response)
