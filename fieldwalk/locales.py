"""The interface language and time zone of a request (Flask-Babel's selectors)."""

from flask import current_app, has_request_context, session
from flask_login import current_user

from fieldwalk.extensions import db


def select_locale() -> str:
    """The user's chosen language, else the session's, else Swedish."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    # A failed transaction (an error page being answered) is never asked for the user: the cookie's
    # language still holds.
    if db.session().is_active and current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Every kommun we serve is in Sweden."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
