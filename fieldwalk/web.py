"""Request-wide wiring: locale and timezone, login loading, template helpers, error pages."""

from datetime import date
from pathlib import Path
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
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from fieldwalk import permissions
from fieldwalk.coordinates import format_position
from fieldwalk.extensions import db, login
from fieldwalk.labels import LABELS, TRANSITION_VERBS, label
from fieldwalk.links import external_url
from fieldwalk.models import User
from fieldwalk.walks.map_data import walk_map_data

login.login_view = "auth.login"
login.login_message = _l("Logga in för att fortsätta.")
login.login_message_category = "info"


def wants_json() -> bool:
    """True for API calls and clients that ask for JSON rather than a page."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


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
    if wants_json():
        body = {"code": error.name.lower().replace(" ", "_"), "message": error.description}
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages:  # the API's input validation (webargs): which field, what is wrong
            body["message"] = str(ERROR_TEXTS[422])
            body["fields"] = {}
            # {"json": {"field": [...]}}, or {"json": [...]} when the whole body is wrong
            for location, found in messages.items():
                body["fields"].update(found if isinstance(found, dict) else {location: found})
        return jsonify(error=body), error.code
    return render_template("errors/error.html", error=error), error.code


ERROR_TEXTS = {
    400: _l("Begäran kunde inte behandlas. Kontrollera uppgifterna och försök igen."),
    403: _l("Du har inte behörighet till den här sidan."),
    404: _l("Sidan finns inte. Länken kan vara gammal."),
    405: _l("Det går inte att göra så här."),
    413: _l("Det du skickade är för stort. Skicka färre eller mindre foton åt gången."),
    422: _l("Uppgifterna kunde inte tas emot. Kontrollera dem och försök igen."),
    500: _l("Något gick fel hos oss. Försök igen om en stund."),
}


class BodyLimitedRequest(Request):
    """Only multipart bodies (forms with photos) may be as large as MAX_CONTENT_LENGTH; JSON and other
    bodies are text and get MAX_FORM_MEMORY_SIZE, so a JSON post cannot make the app hold 200 MB."""

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
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
    app.request_class = BodyLimitedRequest
    vendor = Path(app.static_folder or "") / "vendor" / "leaflet" / "leaflet.js"

    @app.context_processor
    def helpers():
        return {
            "can": permissions,
            "label": label,
            "LABELS": LABELS,
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
    app.jinja_env.filters["position"] = lambda item: format_position(item.lat, item.lon)
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else ""
    app.jinja_env.filters["datetime"] = (
        lambda value, fmt="medium": format_datetime(value, fmt) if value else ""
    )
    # "måndag 23 november 2026 18:30": a walk's time as people say it, in Swedish local time.
    app.jinja_env.filters["when"] = (
        lambda value: f"{format_date(value, 'full')} {format_datetime(value, 'HH:mm')}" if value else ""
    )

    app.register_error_handler(HTTPException, error_response)
    app.register_error_handler(500, error_response)


def error_response(error):
    """The app's error page (or JSON error) for an HTTP error; anything else becomes a plain 500."""
    if isinstance(error, SecurityError):  # a Host outside TRUSTED_HOSTS: no links to build a page with
        return str(ERROR_TEXTS[400]), 400, {"Content-Type": "text/plain; charset=utf-8"}
    if not isinstance(error, HTTPException):
        from werkzeug.exceptions import InternalServerError
        error = InternalServerError()
    if error.code in ERROR_TEXTS and (not error.description or error.description == type(error).description):
        error.description = str(ERROR_TEXTS[error.code])
    return _error_page(error)
