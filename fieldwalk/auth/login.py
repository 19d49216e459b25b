"""Flask-Login's part: the session's user by session token, and where an anonymous request is sent."""

from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from fieldwalk.extensions import db, login
from fieldwalk.http_errors import error_json, wants_json
from fieldwalk.models import User

login.login_view = "auth.login"
login.login_message = _l("Logga in för att fortsätta.")
login.login_message_category = "info"


# Made once, the token a parameter: a statement built anew is also keyed anew for SQLAlchemy's compiled cache.
_BY_SESSION_TOKEN = select(User).where(User.session_token == bindparam("session_token"))


@login.user_loader
def load_user(session_token: str) -> User | None:
    """Flask-Login's session (or remember cookie) → user lookup, by the user's current session token."""
    user = db.session.scalar(_BY_SESSION_TOKEN, {"session_token": session_token})
    return user if user is not None and user.active else None


@login.unauthorized_handler
def unauthorized():
    """JSON clients get 401; people get the login page and come back afterwards."""
    if wants_json():
        return error_json("unauthorized", login.login_message, 401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
