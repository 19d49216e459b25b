"""State changes of walks and suggested places; each function is one user action."""

from flask_babel import gettext as _
from sqlalchemy import select

from fieldwalk.audit import record
from fieldwalk.extensions import db
from fieldwalk.http_errors import OperationError
from fieldwalk.models import Role, SuggestedPlace, User, Walk, WalkStatus, utcnow, walk_participants
from fieldwalk.models.walks import new_join_code
from fieldwalk.permissions import (
    can_join,
    can_manage_walks,
    can_set_notify_email,
    can_suggest_place,
    is_participant_of,
)


def _require_manager(actor: User) -> None:
    # Checked here, not only in the views, so the HTML, the API and the CLI cannot differ.
    if not can_manage_walks(actor):
        raise OperationError(_("Bara samordnare planerar och ändrar vandringar."), status=403, code="forbidden")


def create_walk(actor: User, **fields) -> Walk:
    """Plan a new walk."""
    _require_manager(actor)
    walk = Walk(created_by=actor, **fields)
    db.session.add(walk)
    db.session.flush()
    return walk


def update_walk(walk: Walk, actor: User, **fields) -> Walk:
    """Change a walk's details (not its status)."""
    _require_manager(actor)
    if "status" in fields:
        raise TypeError("update_walk does not change the status; use set_walk_status")
    for name, value in fields.items():
        setattr(walk, name, value)
    db.session.flush()
    return walk


def set_walk_status(walk: Walk, to: WalkStatus, actor: User) -> Walk:
    """Move a walk one step forward (planerad → pågår → genomförd → uppföljd) or one step back."""
    _require_manager(actor)
    if not to.is_one_step_from(walk.status):
        raise OperationError(_("En vandring kan bara flyttas ett steg i taget."), status=409)
    walk.status = to
    if to.closes_walk and walk.closed_at is None:
        walk.closed_at = utcnow()  # from now on only findings made before this moment come in late
    elif to in WalkStatus.OPEN:
        walk.closed_at = None  # open again
    if to == WalkStatus.FOLLOWED_UP:
        end_guest_sessions(walk)
    db.session.flush()
    return walk


def _in_another_open_walk(user: User, walk: Walk) -> bool:
    """The user takes part in a walk other than this one that is not followed up yet."""
    return (
        db.session.scalar(
            select(walk_participants.c.walk_id)
            .join(Walk, Walk.id == walk_participants.c.walk_id)
            .where(walk_participants.c.user_id == user.id, Walk.id != walk.id, Walk.status != WalkStatus.FOLLOWED_UP)
            .limit(1)
        )
        is not None
    )


def end_guest_sessions(walk: Walk) -> None:
    """A followed-up walk logs its guests out (unless they are still in another walk): their link-made
    accounts were for this walk only, so their sessions and remember cookies stop working."""
    for user in walk.participants:
        if user.is_guest and not _in_another_open_walk(user, walk):
            user.end_sessions()


def remove_participant(walk: Walk, user: User, actor: User) -> None:
    """Take someone out of a walk: they lose access to it at once (a guest is logged out unless still in
    another walk); what they logged stays."""
    _require_manager(actor)
    if not is_participant_of(user, walk):
        raise OperationError(_("Personen är inte med i vandringen."), status=404)
    walk.participants.remove(user)
    if user.is_guest and not _in_another_open_walk(user, walk):
        user.end_sessions()
    record("walk.participant_removed", walk, actor=actor, detail=f"user {user.id}")
    db.session.flush()


def add_suggested_place(walk: Walk, actor: User, **fields) -> SuggestedPlace:
    """Record a place someone wants the walk to look at."""
    if walk.status != WalkStatus.PLANNED:
        raise OperationError(_("Platser kan bara föreslås innan vandringen har börjat."), status=409)
    if not can_suggest_place(actor, walk):
        raise OperationError(_("Du får inte föreslå platser för den här vandringen."), status=403, code="forbidden")
    place = SuggestedPlace(walk=walk, **fields)
    db.session.add(place)
    db.session.flush()
    return place


def set_place_checked(place: SuggestedPlace, checked: bool, actor: User) -> SuggestedPlace:
    """Check off (or un-check) a suggested place as visited during the walk."""
    _require_manager(actor)
    place.checked_at = utcnow() if checked else None
    place.checked_by_id = actor.id if checked else None
    db.session.flush()
    return place


def join_walk(
    walk: Walk,
    user: User | None,
    *,
    name: str = "",
    organisation: str = "",
    notify_email: str | None = None,
    locale: str | None = None,
) -> User:
    """Let someone take part in a walk by its link: a guest account is made when nobody is logged in (in the
    language they chose before joining, so that mail to them is in it too). An address given for news about
    their findings is kept (an empty one leaves an earlier one as it was)."""
    if not can_join(walk):
        raise OperationError(_("Länken till vandringen gäller inte längre."), status=410, code="join_closed")
    if user is None:
        user = User(name=name.strip(), organisation=organisation.strip(), role=Role.PARTICIPANT, locale=locale)
        db.session.add(user)
    if not is_participant_of(user, walk):
        walk.participants.append(user)
    db.session.flush()  # a new guest is active (and so may leave an address) once stored
    if notify_email and can_set_notify_email(user):
        user.notify_email = notify_email.strip()
        db.session.flush()
    return user


def set_join_link(walk: Walk, enabled: bool, actor: User) -> Walk:
    """Revoke the join link (the old link stops working at once) or open a new one."""
    _require_manager(actor)
    if not enabled:
        walk.join_code = new_join_code()  # a leaked link must never come back to life
    walk.join_enabled = enabled
    db.session.flush()
    return walk


def set_notify_email(user: User, actor: User, address: str | None) -> User:
    """Set or (None, empty) remove the address a participant is told their findings' outcome at; only their own."""
    if actor.id != user.id or not can_set_notify_email(actor):
        raise OperationError(_("Bara deltagaren själv ändrar sin e-post för besked."), status=403, code="forbidden")
    user.notify_email = (address or "").strip() or None
    db.session.flush()
    return user


def stop_notices(user: User) -> None:
    """The stop link of an outcome mail was used: no more mails about the person's findings (the address is
    removed, as by the person on the walk's page). The link is the authority, so the person is the actor."""
    user.notify_email = None
    record("user.notices_stopped", user, actor=user)
    db.session.flush()
