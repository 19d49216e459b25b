"""Recording the audit log: one call per auditable action, written in the request's transaction.

The log says what happened to which object (ids, statuses), never copies of text a person typed:
erasing a person (admin.operations.erase_person) then only has to blank their name and address.
"""

import hashlib
import hmac

from flask import current_app, has_request_context, request
from flask_login import current_user

from fieldwalk.extensions import db
from fieldwalk.models import AuditEntry, User


def email_fingerprint(address: str) -> str:
    """A keyed hash (HMAC-SHA256 with SECRET_KEY) of an e-mail address as typed at a log-in, normalised.

    Failed log-ins for one address can be counted and found again (and blanked when that person is
    erased) without the audit log holding the address, or anything a guessable unkeyed hash would reveal.
    """
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, address.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"hmac:{digest[:32]}"


def record(action: str, obj=None, *, detail: str = "", actor: User | None = None) -> AuditEntry:
    """Add an audit entry for `action` on `obj` by `actor` (the logged-in user unless given)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        actor_id=actor.id if actor is not None and actor.id is not None else None,
        actor_name=actor.name if actor is not None else "",
        action=action,
        object_type=obj.__tablename__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        detail=detail,
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
