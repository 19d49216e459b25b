"""Recording the audit log: one call per auditable action, written in the request's transaction."""

from flask import has_request_context, request
from flask_login import current_user

from fieldwalk.extensions import db
from fieldwalk.models import AuditEntry, User


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
