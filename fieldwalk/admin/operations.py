"""Administrative state changes: accounts and roles, reference data, personal-data export and erasure."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from fieldwalk import jobs
from fieldwalk.audit import email_fingerprint, record
from fieldwalk.auth.queries import get_user_by_email
from fieldwalk.extensions import db
from fieldwalk.followup.protocol_files import protocol_store
from fieldwalk.http_errors import OperationError
from fieldwalk.links import external_url
from fieldwalk.mail import OutboxMail, outbox_mails_mentioning
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    AuditEntry,
    EventKind,
    FailedJob,
    Finding,
    FollowUpMeeting,
    Photo,
    ProtocolFile,
    Reminder,
    SuggestedPlace,
    User,
    utcnow,
    walk_participants,
)
from fieldwalk.permissions import can_admin
from fieldwalk.timeline import event_text

ERASED_NAME = "borttagen deltagare"
ERASED_TEXT = "[borttaget]"
# Kinds of action event whose text the actor typed (created/edited events hold generated text only).
_TYPED_EVENT_KINDS = (EventKind.COMMENT, EventKind.STATUS)
_EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_PATTERN = re.compile(r"\+?\d[\d\s\-/().]{5,}\d")


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
        user.end_sessions()  # the person logs in again with the new rights (or not at all)
        record(
            "user.role_changed",
            user,
            detail=f"{before[0].value}/{before[1]}/{before[2]} → {after[0].value}/{after[1]}/{after[2]}",
        )
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


def _iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


@dataclass
class PersonTraces:
    """Every row and file that holds a person's personal data: what export_person shows and erase_person blanks."""

    names: list[str]  # the account name and the names they typed into forms
    findings: list[Finding] = field(default_factory=list)
    events: list[ActionEvent] = field(default_factory=list)
    items: list[ActionItem] = field(default_factory=list)  # assigned to them or created by them
    places: list[SuggestedPlace] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    meetings: list[FollowUpMeeting] = field(default_factory=list)  # attendee lists naming them
    mails: list[OutboxMail] = field(default_factory=list)
    failed_jobs: list[FailedJob] = field(default_factory=list)  # mail to or about them that never went out


def _word_pattern(terms: list[str]) -> re.Pattern | None:
    terms = [t.strip() for t in terms if t and len(t.strip()) >= 2]
    if not terms:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms), re.IGNORECASE)


def _recipients(reminder: Reminder) -> list[str]:
    return [r.strip() for r in reminder.recipients.split(",") if r.strip()]


def find_person_traces(user: User) -> PersonTraces:
    """Find everything stored about a person: their rows, rows naming them, their failed log-ins, their mails.

    Suggested places are found by who typed them (suggested_by_id); rows from before that column existed
    are matched by the account name.
    """
    findings = db.session.scalars(select(Finding).where(Finding.reporter_id == user.id).order_by(Finding.id)).all()
    places = list(
        db.session.scalars(
            select(SuggestedPlace).where(SuggestedPlace.suggested_by_id == user.id).order_by(SuggestedPlace.id)
        )
    )
    account_name = user.name.strip().casefold()
    if account_name and user.name != ERASED_NAME:
        # Compared in Python: SQLite's lower() leaves Å, Ä and Ö alone.
        legacy = db.session.scalars(
            select(SuggestedPlace)
            .where(SuggestedPlace.suggested_by_id.is_(None), SuggestedPlace.suggested_by != "")
            .order_by(SuggestedPlace.id)
        )
        places += [p for p in legacy if p.suggested_by.strip().casefold() == account_name]
    names = [user.name, *(f.reporter_name for f in findings), *(p.suggested_by for p in places)]
    names = list(dict.fromkeys(n.strip() for n in names if n.strip() and n.strip() != ERASED_NAME))
    traces = PersonTraces(names=names, findings=list(findings), places=list(places))
    traces.events = list(
        db.session.scalars(select(ActionEvent).where(ActionEvent.actor_id == user.id).order_by(ActionEvent.id))
    )
    traces.items = list(
        db.session.scalars(
            select(ActionItem)
            .where(or_(ActionItem.assignee_id == user.id, ActionItem.created_by_id == user.id))
            .order_by(ActionItem.id)
        )
    )
    address = (user.email or "").lower()
    failed_login = AuditEntry.action == "auth.login_failed"
    about = [
        AuditEntry.actor_id == user.id,
        and_(AuditEntry.object_type == User.__tablename__, AuditEntry.object_id == user.id),
    ]
    if address:
        # The keyed hash of the address; entries written before the hash held the address itself.
        about.append(and_(failed_login, AuditEntry.detail.in_([email_fingerprint(address), address])))
        traces.reminders = [
            r
            for r in db.session.scalars(
                select(Reminder).where(func.lower(Reminder.recipients).contains(address)).order_by(Reminder.id)
            )
            if address in (x.lower() for x in _recipients(r))
        ]
    traces.audit = list(db.session.scalars(select(AuditEntry).where(or_(*about)).order_by(AuditEntry.id)))
    # Other people's texts (attendee lists, mails) are searched for full names only: a guest who typed
    # just "Anna" must not cost another Anna her place in a meeting's minutes.
    full_names = [n for n in names if len(n.split()) >= 2]
    pattern = _word_pattern(full_names)
    if pattern is not None:
        candidates = db.session.scalars(
            select(FollowUpMeeting)
            .where(or_(*(FollowUpMeeting.attendees.ilike(f"%{n}%") for n in full_names)))
            .order_by(FollowUpMeeting.id)
        )
        traces.meetings = [m for m in candidates if pattern.search(m.attendees)]
    # The address a participant left for news about their findings: the outcome mails went there.
    news = (user.notify_email or "").strip().lower()
    addresses = [a for a in dict.fromkeys([address, news]) if a]
    in_mails = _word_pattern([*full_names, *addresses])
    traces.mails = outbox_mails_mentioning(in_mails)
    if in_mails is not None:
        failed = db.session.scalars(select(FailedJob).order_by(FailedJob.id))
        traces.failed_jobs = [j for j in failed if in_mails.search(j.summary) or in_mails.search(j.arguments)]
    return traces


def _photos(photos: list[Photo]) -> list[dict]:
    return [
        {
            "id": p.id,
            "url": external_url("photos.photo", photo_id=p.id, variant="full"),
            "created_at": _iso(p.created_at),
        }
        for p in photos
    ]


def export_person(user: User) -> dict:
    """Everything we hold about a person (GDPR art. 15), as JSON-able data: the same rows erase_person blanks."""
    traces = find_person_traces(user)
    walks = db.session.execute(
        select(walk_participants.c.walk_id, walk_participants.c.joined_at).where(walk_participants.c.user_id == user.id)
    ).all()
    record("person.exported", user)
    return {
        "user": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "notify_email": user.notify_email,
            "organisation": user.organisation,
            "role": user.role.value,
            "locale": user.locale,
            "active": user.active,
            "created_at": _iso(user.created_at),
            "guest": user.is_guest,
        },
        "names_typed": traces.names,
        "walks_joined": [{"walk_id": w, "joined_at": _iso(at)} for w, at in walks],
        "findings": [
            {
                "id": f.id,
                "walk_id": f.walk_id,
                "reporter_name": f.reporter_name,
                "reporter_org": f.reporter_org,
                "description": f.description,
                "place": f.place,
                "lat": f.lat,
                "lon": f.lon,
                "created_at": _iso(f.created_at),
                "photos": _photos(f.photos),
            }
            for f in traces.findings
        ],
        "suggested_places": [
            {
                "id": p.id,
                "walk_id": p.walk_id,
                "text": p.text,
                "place": p.place,
                "suggested_by": p.suggested_by,
                "lat": p.lat,
                "lon": p.lon,
                "created_at": _iso(p.created_at),
            }
            for p in traces.places
        ],
        "action_events": [
            {
                "id": e.id,
                "action_item_id": e.action_item_id,
                "kind": e.kind.value,
                "text": e.text,
                "code": e.code,
                "params": e.params,
                "shown_as": event_text(e),
                "created_at": _iso(e.created_at),
                "photos": _photos(e.photos),
            }
            for e in traces.events
        ],
        "action_items": [
            {
                "id": i.id,
                "title": i.title,
                "assignee": i.assignee_id == user.id,
                "created_by": i.created_by_id == user.id,
            }
            for i in traces.items
        ],
        # Other recipients of the same reminder are other people's data: only that it went to this person.
        "reminders": [
            {
                "id": r.id,
                "action_item_id": r.action_item_id,
                "kind": r.kind.value,
                "period": r.period,
                "sent_at": _iso(r.sent_at),
            }
            for r in traces.reminders
        ],
        "followup_meetings": [
            {"id": m.id, "title": m.title, "held_on": m.held_on.isoformat()} for m in traces.meetings
        ],
        "audit_log": [
            {
                "id": a.id,
                "at": _iso(a.at),
                "action": a.action,
                "object_type": a.object_type,
                "object_id": a.object_id,
                "by_this_person": a.actor_id == user.id,
                "ip": a.ip if a.actor_id == user.id else "",
            }
            for a in traces.audit
        ],
        "mails": [{"file": m.path.name, "written_at": m.written_at, "subject": m.subject} for m in traces.mails],
    }


def _scrub(text: str, names: re.Pattern | None) -> str:
    """A short text kept after erasure (a place label) without the person's names, any e-mail or phone number."""
    if names is not None:
        text = names.sub(ERASED_NAME, text)
    text = _EMAIL_PATTERN.sub(ERASED_TEXT, text)
    return _PHONE_PATTERN.sub(lambda m: ERASED_TEXT if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)


@dataclass
class Erasure:
    """What erase_person leaves for after the commit: the outbox files and protocol PDFs to delete."""

    mail_files: list[Path]
    protocol_files: list[str] = field(default_factory=list)  # keys in the protocol store


def erase_person(user: User, admin: User) -> Erasure:
    """Remove a person's personal data (GDPR art. 17) from every row found by find_person_traces.

    What stays, and why: the observation itself (a finding's category, severity, position, photos and
    times; an action item's history of status moves), attributed to 'borttagen deltagare'. What goes:
    their name, organisation, e-mail address (and the one left for news about their findings) and
    password; every text they typed in their own words (finding descriptions, suggested places,
    comments and status notes) is replaced by '[borttaget]',
    because free text may hold anything (a phone number, an address, a neighbour's name) and cannot be
    told apart reliably. Short place labels ('Entrén') are kept, with names, e-mail addresses and phone
    numbers removed, so the place can still be acted on. Their address is removed from reminder
    recipient lists, their name from meeting attendee lists, the keyed hash of their address from
    failed log-ins; failed jobs (mails) to or about them are deleted, and (after the commit, see
    finish_erasure) so are the outbox mails to or about them.

    Storage: on SQLite, secure_delete (extensions.py) zeroes the old content and finish_erasure
    checkpoints and truncates the WAL. On PostgreSQL the old row versions stay in the table files as dead
    tuples until (auto)vacuum reclaims them and later writes reuse the space, and in WAL archives and
    backups until those age out: that is the documented limit of erasure there (run VACUUM on the tables
    to hasten it). Mails already delivered by SMTP are in the recipients' mailboxes, outside this app.
    """
    _require_admin(admin)
    if user.id == admin.id:
        raise OperationError(_("Du kan inte radera dina egna uppgifter här."), status=409)
    traces = find_person_traces(user)
    names = _word_pattern([*traces.names, *(a for a in (user.email, user.notify_email) if a)])
    address = (user.email or "").lower()
    for finding in traces.findings:
        finding.reporter_name, finding.reporter_org = ERASED_NAME, ""
        finding.description = ERASED_TEXT if finding.description.strip() else ""
        finding.place = _scrub(finding.place, names)
    for event in traces.events:
        event.actor_name = ERASED_NAME
        if event.kind in _TYPED_EVENT_KINDS and event.text.strip():
            event.text = ERASED_TEXT
    for place in traces.places:
        place.suggested_by, place.text = ERASED_NAME, ERASED_TEXT
        place.place = _scrub(place.place, names)
    for reminder in traces.reminders:
        reminder.recipients = ", ".join(r for r in _recipients(reminder) if r.lower() != address)
    for entry in traces.audit:
        if entry.actor_id == user.id:
            entry.actor_name, entry.ip = ERASED_NAME, ""
            if entry.action.startswith("action."):
                entry.detail = entry.detail.split(" ", 1)[0]  # entries from before the log kept comment copies
        if entry.action == "auth.login_failed":
            entry.detail, entry.ip = "", ""
    full_names = _word_pattern([n for n in traces.names if len(n.split()) >= 2])
    for failed in traces.failed_jobs:
        db.session.delete(failed)
    if full_names is not None:  # the meetings were found by full name, so it is set when there are any
        for meeting in traces.meetings:
            meeting.attendees = full_names.sub(ERASED_NAME, meeting.attendees)
    user.name, user.organisation, user.email, user.password_hash = ERASED_NAME, "", None, None
    user.notify_email = None
    user.locale, user.active, user.erased_at = None, False, utcnow()
    user.end_sessions()
    # Protocol PDFs made for anyone may carry the name (a timeline's actor, the attendees, a comment): they
    # are copies the app makes again on request, so every one goes.
    protocol_keys = [key for key in db.session.scalars(select(ProtocolFile.file_key)) if key]
    db.session.execute(delete(ProtocolFile))
    record("person.erased", user)
    db.session.flush()
    return Erasure(mail_files=[m.path for m in traces.mails], protocol_files=protocol_keys)


def finish_erasure(erasure: Erasure) -> None:
    """After the erasure is committed: delete the outbox mails and, on SQLite, empty the WAL of old pages."""
    # The erasure is committed: a file or checkpoint problem is logged for the operator, not shown as a 500.
    for path in erasure.mail_files:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            current_app.logger.warning("Erasure: could not delete the outbox mail %s: %s", path.name, error)
    if erasure.protocol_files:
        store = protocol_store()
        for key in erasure.protocol_files:
            try:
                store.delete(key)
            except Exception as error:  # the store down: logged for the operator (the row is gone already)
                current_app.logger.warning("Erasure: could not delete the protocol PDF %s: %s", key, error)
    if db.engine.dialect.name == "sqlite":
        try:
            with db.engine.connect() as connection:
                busy, _log, _done = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        except SQLAlchemyError as error:
            busy = error
        if busy:  # a reader was active; the next automatic checkpoint overwrites the pages instead
            current_app.logger.warning("Erasure: the SQLite WAL could not be truncated now (%s)", busy)


# --- Failed jobs: shown to the admin, who runs them again or dismisses them ----------------------------


def retry_failed_job(failed: FailedJob, admin: User) -> None:
    """Queue the job again with the same arguments (a new round of retries) and drop its record."""
    _require_admin(admin)
    record("job.retried", failed, actor=admin, detail=failed.function)
    jobs.run_again(failed)


def dismiss_failed_job(failed: FailedJob, admin: User) -> None:
    """Forget a failed job (it is not wanted any more, or was dealt with by other means)."""
    _require_admin(admin)
    record("job.dismissed", failed, actor=admin, detail=failed.function)
    db.session.delete(failed)
