"""Signed, expiring password-reset tokens that stop working once the password has changed."""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from fieldwalk.extensions import db
from fieldwalk.models import User

SALT = "password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_reset_token(user: User) -> str:
    """A token for this user, bound to the current password hash so it can be used only once."""
    return _serializer().dumps({"id": user.id, "pw": (user.password_hash or "")[-16:]})


def read_reset_token(token: str) -> User | None:
    """The user the token was made for, or None when it is forged, expired or already used."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or not user.active or (user.password_hash or "")[-16:] != data.get("pw"):
        return None
    return user
