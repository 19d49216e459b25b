"""fieldwalk: trygghetsvandringar from walk to finding to action to follow-up. create_app wires it up."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> "Flask":
    """Build the Flask app: configuration, extensions, blueprints. Nothing else happens here (nor on importing
    the package: a process that lays out a PDF's part imports fieldwalk.followup.layout and no Flask)."""
    from flask import Flask

    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from fieldwalk.config import load_config

    load_config(app, test_config)

    from fieldwalk import (
        api,
        body_limits,
        cli,
        converters,
        health,
        http_errors,
        jobs,
        locales,
        notifications,
        request_log,
        security,
        template_filters,
        transactions,
    )
    from fieldwalk.actions.views import bp as actions_bp
    from fieldwalk.admin.views import bp as admin_bp
    from fieldwalk.auth import login as _login_setup  # noqa: F401  (Flask-Login's user loader and 401)
    from fieldwalk.auth.views import bp as auth_bp
    from fieldwalk.exports.views import bp as exports_bp
    from fieldwalk.extensions import babel, compress, csrf, db, login, migrate
    from fieldwalk.findings.views import bp as findings_bp
    from fieldwalk.followup.views import bp as followup_bp
    from fieldwalk.photos.views import bp as photos_bp
    from fieldwalk.pwa import bp as pwa_bp
    from fieldwalk.walks.views import bp as walks_bp

    request_log.init_app(app)  # first: the request id exists before any other before_request function runs
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    login.init_app(app)
    babel.init_app(app, locale_selector=locales.select_locale, timezone_selector=locales.select_timezone)
    converters.init_app(app)  # before any blueprint's routes
    body_limits.init_app(app)
    template_filters.init_app(app)
    http_errors.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    notifications.init_app(app)
    api.init_app(app)
    health.init_app(app)
    for blueprint in (auth_bp, walks_bp, findings_bp, actions_bp, admin_bp, exports_bp, followup_bp, photos_bp, pwa_bp):
        app.register_blueprint(blueprint)
    transactions.init_app(app)  # last: its after-request commit runs before every other one
    return app
