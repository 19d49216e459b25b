"""Request-wide wiring: locale and timezone, login loading, template helpers, error pages."""

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    current_app,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import Aborter, HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from fieldwalk import permissions
from fieldwalk.coordinates import format_position
from fieldwalk.dates import register_filters
from fieldwalk.extensions import db, login
from fieldwalk.labels import TRANSITION_VERBS, label
from fieldwalk.links import external_url
from fieldwalk.models import User
from fieldwalk.timeline import event_text
from fieldwalk.walks.map_data import walk_map_data

login.login_view = "auth.login"
login.login_message = _l("Logga in för att fortsätta.")
login.login_message_category = "info"


def wants_json() -> bool:
    """True for API calls and clients that ask for JSON rather than a page."""
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def select_locale() -> str:
    """The user's chosen language, else the session's, else Swedish."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Every kommun we serve is in Sweden."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@login.user_loader
def load_user(session_token: str) -> User | None:
    """Flask-Login's session (or remember cookie) → user lookup, by the user's current session token."""
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and user.active else None


@login.unauthorized_handler
def unauthorized():
    """JSON clients get 401; people get the login page and come back afterwards."""
    if wants_json():
        return jsonify(error={"code": "unauthorized", "message": str(login.login_message)}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _error_page(error: HTTPException):
    message = error_message(error)
    status = error.code or 500  # an HTTPException raised without a code is a server error
    if wants_json():
        # A refused CSRF token has its own code, so a client knows to fetch a new one (GET /api/v1/session).
        code = "csrf_failed" if isinstance(error, CSRFError) else error.name.lower().replace(" ", "_")
        body: dict[str, Any] = {"code": code, "message": message}
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages:  # the API's input validation (webargs): which field, what is wrong
            body["message"] = str(ERROR_TEXTS[422])
            body["fields"] = {}
            # {"json": {"field": [...]}}, or {"json": [...]} when the whole body is wrong
            for location, found in messages.items():
                body["fields"].update(found if isinstance(found, dict) else {location: found})
        return jsonify(error=body), status
    heading = ERROR_HEADINGS.get(status, ERROR_HEADINGS[500 if status >= 500 else 400])
    # Not passed as `error`: the page's flash partial shows a form's `error`, which would print Werkzeug's
    # "400 Bad Request: The browser (or proxy) …" above our heading.
    return render_template("errors/error.html", code=status, heading=heading, message=message), status


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


class BodyLimitedRequest(Request):
    """Only multipart bodies (forms with photos) may be as large as MAX_CONTENT_LENGTH; JSON and other
    bodies are text and get MAX_FORM_MEMORY_SIZE, so a JSON post cannot make the app hold 200 MB."""

    @property
    def max_content_length(self) -> int | None:
        """MAX_CONTENT_LENGTH for multipart/form-data, at most MAX_FORM_MEMORY_SIZE for anything else."""
        limit = Request.max_content_length.fget(self)  # type: ignore[attr-defined]
        if self._max_content_length is not None or limit is None or self.mimetype == "multipart/form-data":
            return limit
        text_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
        return limit if text_limit is None else min(limit, text_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in routes: ids beyond a 32-bit database integer cannot exist, so they are a 404 (not a
    database overflow error)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _referrer_path() -> str:
    """The path of the page a form was sent from; "/" when the Referer header is missing or unparseable."""
    try:
        return urlsplit(request.referrer or "/").path or "/"
    except ValueError:  # e.g. "http://[x": an unclosed IPv6 host
        return "/"


def init_app(app: Flask) -> None:
    """Register the id converter, request class, template helpers and error pages (before any blueprint's routes)."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.aborter = FieldwalkAborter()
    app.request_class = BodyLimitedRequest
    vendor = Path(app.static_folder or "") / "vendor" / "leaflet" / "leaflet.js"

    @app.context_processor
    def helpers():
        return {
            "can": permissions,
            "label": label,
            "TRANSITION_VERBS": TRANSITION_VERBS,
            "current_locale": str(get_locale()),
            "map_available": vendor.exists(),
            "today": date.today(),
            # After switching language, come back here; a page answering a POST is not reachable by
            # GET, so go back to the page the form was sent from.
            "back_here": request.full_path if request.method == "GET" else _referrer_path(),
        }

    app.jinja_env.globals["walk_map_data"] = walk_map_data  # the location partial's small map
    app.jinja_env.globals["external_url"] = external_url  # absolute links in pages come from BASE_URL too
    app.jinja_env.filters["label"] = label
    register_filters(app.jinja_env)
    app.jinja_env.filters["event_text"] = event_text  # a timeline event in the reader's language
    app.jinja_env.filters["position"] = lambda item: format_position(item.lat, item.lon)

    app.register_error_handler(HTTPException, error_response)
    app.register_error_handler(500, error_response)


def error_response(error):
    """The app's error page (or JSON error) for an HTTP error; anything else becomes a plain 500."""
    if isinstance(error, SecurityError):  # a Host outside TRUSTED_HOSTS: no links to build a page with
        return str(ERROR_TEXTS[400]), 400, {"Content-Type": "text/plain; charset=utf-8"}
    if not isinstance(error, HTTPException):
        from werkzeug.exceptions import InternalServerError

        error = InternalServerError()
    return _error_page(error)
