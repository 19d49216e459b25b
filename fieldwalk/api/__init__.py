"""The JSON API under /api/v1/ (flask-smorest): the same operations and permissions as the HTML views."""

from flask import Flask
from flask_smorest import Api

from fieldwalk.api.schemas import ErrorSchema


class FieldwalkApi(Api):
    """flask-smorest's Api, minus its app-wide error handler: fieldwalk.web answers errors (JSON under /api/)."""

    ERROR_SCHEMA = ErrorSchema

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
    api.register_blueprint(bp)
