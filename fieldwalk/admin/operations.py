"""Administrative state changes: accounts and roles, reference data, personal-data export and erasure."""

from flask_babel import gettext as _
from sqlalchemy import select

from fieldwalk.audit import record
from fieldwalk.auth.queries import get_user_by_email
from fieldwalk.errors import OperationError
from fieldwalk.extensions import db
from fieldwalk.models import ActionEvent, AuditEntry, Finding, User, walk_participants
from fieldwalk.permissions import can_admin

ERASED_NAME = "borttagen deltagare"


def _require_admin(actor: User) -> None:
    # The admin blueprint checks this too; here it holds for every caller (CLI, jobs, future views).
    if not can_admin(actor):
        raise OperationError(_("Bara administratörer hanterar konton."), status=403, code="forbidden")


def update_user(user: User, admin: User, **fields) -> User:
    """Change a user's details; a role or activation change is written to the audit log."""
    _require_admin(admin)
    if user.id == admin.id and (fields.get("role") != user.role or not fields.get("active", True)):
        raise OperationError(_("Du kan inte ändra din egen roll eller stänga ditt eget konto."), status=409)
    before = (user.role, user.responsible_party_id, user.active)
    for name, value in fields.items():
        setattr(user, name, value)
    after = (user.role, user.responsible_party_id, user.active)
    if before != after:
        record("user.role_changed", user, detail=f"{before[0].value}/{before[1]}/{before[2]} → "
                                                  f"{after[0].value}/{after[1]}/{after[2]}")
    db.session.flush()
    return user


def create_account(admin: User, email: str, **fields) -> User:
    """Add an account without a password (the person chooses one via the reset link)."""
    _require_admin(admin)
    email = email.strip().lower()
    if get_user_by_email(email) is not None:
        raise OperationError(_("Det finns redan ett konto med den e-postadressen."), status=409)
    user = User(email=email, **fields)
    db.session.add(user)
    db.session.flush()
    record("user.created", user, detail=user.role.value)
    return user


def export_person(user: User) -> dict:
    """Everything we hold about a person (GDPR art. 15), as JSON-able data."""
    findings = db.session.scalars(select(Finding).where(Finding.reporter_id == user.id)).all()
    events = db.session.scalars(select(ActionEvent).where(ActionEvent.actor_id == user.id)).all()
    walks = db.session.execute(select(walk_participants.c.walk_id, walk_participants.c.joined_at)
                               .where(walk_participants.c.user_id == user.id)).all()
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id)).all()
    record("person.exported", user)
    return {
        "user": {"id": user.id, "name": user.name, "email": user.email, "organisation": user.organisation,
                 "role": user.role.value, "created_at": user.created_at.isoformat() + "Z",
                 "guest": user.is_guest},
        "walks_joined": [{"walk_id": w, "joined_at": at.isoformat() + "Z"} for w, at in walks],
        "findings": [{"id": f.id, "walk_id": f.walk_id, "reporter_name": f.reporter_name,
                      "reporter_org": f.reporter_org, "description": f.description,
                      "created_at": f.created_at.isoformat() + "Z"} for f in findings],
        "action_events": [{"id": e.id, "action_item_id": e.action_item_id, "text": e.text,
                           "created_at": e.created_at.isoformat() + "Z"} for e in events],
        "audit_log": [{"at": a.at.isoformat() + "Z", "action": a.action, "ip": a.ip} for a in audit],
    }


def erase_person(user: User, admin: User) -> None:
    """Remove a person's personal data (GDPR art. 17); their findings stay, as 'borttagen deltagare'."""
    _require_admin(admin)
    if user.id == admin.id:
        raise OperationError(_("Du kan inte radera dina egna uppgifter här."), status=409)
    for finding in db.session.scalars(select(Finding).where(Finding.reporter_id == user.id)):
        finding.reporter_name, finding.reporter_org = ERASED_NAME, ""
    for event in db.session.scalars(select(ActionEvent).where(ActionEvent.actor_id == user.id)):
        event.actor_name = ERASED_NAME
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id)):
        entry.actor_name, entry.ip = ERASED_NAME, ""
    user.name, user.organisation, user.email, user.password_hash = ERASED_NAME, "", None, None
    user.active = False
    record("person.erased", user, detail=f"user {user.id}")
    db.session.flush()
