"""The JSON API under /api/v1/ (flask-smorest): the same operations and permissions as the HTML views."""

from flask import Flask
from flask_smorest import Api

from fieldwalk.api.schemas import ErrorSchema


class FieldwalkApi(Api):
    """flask-smorest's Api, minus its app-wide error handler: http_errors answers errors (JSON under /api/)."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" error response: each operation lists the statuses it can answer (api/views.py).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


api = FieldwalkApi()


def init_app(app: Flask) -> None:
    """Serve the OpenAPI document at /api/v1/openapi.json (no UI: nothing is loaded from a CDN)."""
    app.config.setdefault("API_TITLE", "fieldwalk API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    from fieldwalk.api.views import bp

    api.init_app(app)
    # How a client authenticates, for generators: the session cookie set by POST /login (form fields email
    # and password), and on every write the CSRF token from GET /api/v1/session in a header.
    api.spec.components.security_scheme(
        "session",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config["SESSION_COOKIE_NAME"],
            "description": "The session cookie that POST /login (form fields email, password) sets.",
        },
    )
    api.spec.components.security_scheme(
        "csrf",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": "The csrf_token of GET /api/v1/session; required on every POST.",
        },
    )
    api.register_blueprint(bp)
