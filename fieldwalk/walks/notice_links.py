"""The link in every outcome mail that stops further mails to that address, without logging in.

A guest's session is gone by the time the mail arrives (weeks later, maybe on another device), so the mail
itself carries the authority: a signed token of the person and of a digest of the address it was sent to
(the address itself is not in the link). It stays valid as long as that address is the one kept; once it is
removed or changed, the link only says so. No expiry: a mail may be read months later."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from fieldwalk.extensions import db
from fieldwalk.links import external_url
from fieldwalk.models import User

SALT = "stop-finding-notices"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _digest(address: str) -> str:
    return hashlib.sha256(address.strip().casefold().encode()).hexdigest()[:16]


def stop_link(user: User, address: str) -> str:
    """The address (on BASE_URL) that stops the mails about `user`'s findings to `address`."""
    token = _serializer().dumps({"id": user.id, "to": _digest(address)})
    return external_url("walks.stop_notices", token=token)


def read_stop_token(token: str) -> tuple[User | None, bool]:
    """(the person, whether the address of the link is still theirs); (None, False) for a forged link or a
    person no longer here (erased)."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None, False
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) and isinstance(data.get("id"), int) else None
    if user is None or user.erased_at is not None:
        return None, False
    address = user.notify_email
    return user, address is not None and _digest(address) == data.get("to")
