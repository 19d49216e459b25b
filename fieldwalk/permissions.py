"""Who may do what: every access rule of the app as a named predicate, used by views, the API, operations
and templates alike. The lists narrow in SQL first by the same rules (walks/queries.list_walks, the action
list's query in actions/queries.py); a change to a rule here must be made there too.
Who may make which status move of an action item is the workflow table in actions/workflow.py, asked by
may_move.

Roles: admin and samordnare (staff) see and manage everything; ansvarig sees the action items of
their own responsible party (and the findings and photos behind them); deltagare — with an account
or as a guest who joined by the walk's link — sees only the walks they take part in.
"""

from datetime import datetime, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import exists, inspect, select

from fieldwalk.actions import workflow
from fieldwalk.extensions import db
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Finding,
    Role,
    User,
    Walk,
    WalkStatus,
    utcnow,
    walk_participants,
)

STAFF = (Role.ADMIN, Role.COORDINATOR)


def is_staff(user: User) -> bool:
    """Admins and coordinators plan walks, triage findings and manage action items."""
    return user.is_authenticated and user.role in STAFF


def is_admin(user: User) -> bool:
    """Admins manage users, categories and responsible parties, and read the audit log."""
    return user.is_authenticated and user.role == Role.ADMIN


def is_party_member(user: User) -> bool:
    """A member of a responsible party (ansvarig) with a party set."""
    return user.is_authenticated and user.role == Role.RESPONSIBLE and user.responsible_party_id is not None


def is_member_of(user: User, party) -> bool:
    """The user is an active member of this responsible party (may be named handläggare of its items)."""
    return user.active and user.role == Role.RESPONSIBLE and party is not None and user.responsible_party_id == party.id


def can_manage_walks(user: User) -> bool:
    """Create and edit walks, change their status, manage the join link, check off suggested places."""
    return is_staff(user)


def is_participant_of(user: User, walk: Walk) -> bool:
    """The user joined this walk (by its link) or was added to it.

    A walk whose participants are loaded (the pages load them; a join or leave changes the list) is answered
    from the list; otherwise one EXISTS query on walk_participants asks for this one user, once per request,
    instead of loading every participant of the walk for each capture and photo of an evening of 60 phones.
    """
    if not user.is_authenticated:
        return False
    state = inspect(walk)
    if "participants" not in state.unloaded or not state.persistent:
        return any(p.id == user.id for p in walk.participants)
    asked = g.setdefault("fieldwalk_participant_of", {}) if has_app_context() else {}
    key = (walk.id, user.id)
    if key not in asked:
        found = select(walk_participants.c.user_id).where(
            walk_participants.c.walk_id == walk.id, walk_participants.c.user_id == user.id
        )
        asked[key] = bool(db.session.scalar(select(exists(found))))
    return asked[key]


def can_view_walk(user: User, walk: Walk) -> bool:
    """See a walk, its findings and their photos."""
    return is_staff(user) or (user.is_authenticated and user.role == Role.PARTICIPANT and is_participant_of(user, walk))


def can_log_finding(user: User, walk: Walk, device_created_at: datetime | None = None) -> bool:
    """Participants log findings while a walk is planned or ongoing; staff until it is followed up.

    A finding made on a phone (device_created_at, naive UTC) before the walk was set to genomförd is
    accepted late, for LATE_FINDING_GRACE_DAYS after closing: the phone may have had no network.
    """
    if is_staff(user):
        return walk.status != WalkStatus.FOLLOWED_UP
    if not can_view_walk(user, walk):
        return False
    if walk.is_open:
        return True
    return (
        walk.status == WalkStatus.COMPLETED
        and walk.closed_at is not None
        and device_created_at is not None
        and device_created_at < walk.closed_at
        and utcnow() <= walk.closed_at + timedelta(days=current_app.config["LATE_FINDING_GRACE_DAYS"])
    )


def can_edit_finding(user: User, finding: Finding) -> bool:
    """The person who logged a finding corrects it (text, category, severity, place, position) and adds or
    removes its photos while the walk still takes their findings: a participant while it is planned or
    ongoing, staff until it is followed up. Nobody edits someone else's finding here."""
    return user.is_authenticated and finding.reporter_id == user.id and can_log_finding(user, finding.walk)


def can_add_photos(user: User, finding: Finding) -> bool:
    """Staff and the finding's reporter add photos while findings are taken; a finding accepted late (made
    before the walk closed) still takes its photos, sent right after it."""
    return can_log_finding(user, finding.walk, finding.device_created_at) and (
        is_staff(user) or finding.reporter_id == user.id
    )


def can_keep_offline(user: User, walk: Walk, page: str) -> bool:
    """A copy of the page may stay on the phone for use without network: the capture form for whoever
    may log findings on the walk (it shows only their own name); the walk page only for its
    participants — staff see reporter names, the join link and management buttons there, so a shared
    phone must not keep it."""
    if page == "capture":
        return can_log_finding(user, walk)
    return page == "walk" and not is_staff(user) and can_view_walk(user, walk)


def can_suggest_place(user: User, walk: Walk) -> bool:
    """Invitees add places to look at before the walk starts."""
    return can_view_walk(user, walk) and walk.status == WalkStatus.PLANNED


def can_triage(user: User, walk: Walk) -> bool:
    """Turn findings into action items or mark them as needing no action."""
    return is_staff(user)


def can_see_reporter(user: User) -> bool:
    """A participant's name and organisation are personal data: staff only."""
    return is_staff(user)


def can_view_action(user: User, item: ActionItem) -> bool:
    """Staff see every action item; a responsible party's members see their party's items."""
    return is_staff(user) or (is_party_member(user) and user.responsible_party_id == item.responsible_party_id)


def can_list_actions(user: User) -> bool:
    """The action item list is for staff and responsible parties."""
    return is_staff(user) or is_party_member(user)


def can_view_finding(user: User, finding: Finding) -> bool:
    """Via the walk, or via an action item the user may see (a party sees the 'before' of its items)."""
    return can_view_walk(user, finding.walk) or any(can_view_action(user, i) for i in finding.action_items)


def can_see_nearby(user: User, walk: Walk) -> bool:
    """The capture form's "already reported nearby?" box is for whoever may log a finding on the walk."""
    return can_log_finding(user, walk)


def has_open_item(finding: Finding) -> bool:
    """The finding is behind an action item that is still being worked on (ny, tilldelad, pågår)."""
    return any(item.is_open for item in finding.action_items)


def can_see_nearby_finding(user: User, walk: Walk, finding: Finding) -> bool:
    """Which findings the box on walk `walk` may offer: the walk's own findings (every participant sees those
    on the walk page) and, from any walk, findings behind an open action item. For the latter a person who
    may not see that walk gets only the public summary (see nearby_details) — never photos, descriptions or
    reporters."""
    if finding.walk_id == walk.id:
        return not finding.no_action and (not finding.action_items or has_open_item(finding))
    return has_open_item(finding)


def can_see_nearby_details(user: User, finding: Finding) -> bool:
    """Thumbnail and description in the box: only for those who may open the finding itself."""
    return can_view_finding(user, finding)


def can_agree(user: User, walk: Walk, finding: Finding) -> bool:
    """Say "Jag håller med" about a finding the box offers, while logging findings on the walk; not one's own."""
    return can_see_nearby(user, walk) and finding.reporter_id != user.id and can_see_nearby_finding(user, walk, finding)


def can_follow_outcome(user: User, finding: Finding) -> bool:
    """See the status and the public (non-internal) comments of every action item made from a finding: its
    reporter ("what happened to my finding"), the walk's participants and staff. A responsible party's member
    keeps seeing only their own party's items (can_view_action)."""
    return user.is_authenticated and (finding.reporter_id == user.id or can_view_walk(user, finding.walk))


def can_set_notify_email(user: User) -> bool:
    """A participant (guest or account) may leave an address to be told their findings' outcome."""
    return user.is_authenticated and user.role == Role.PARTICIPANT


def can_view_event(user: User, event: ActionEvent) -> bool:
    """Internal notes are for staff and for the party that wrote them."""
    if not can_view_action(user, event.action_item):
        return False
    return (
        not event.internal
        or is_staff(user)
        or (event.party_id is not None and event.party_id == user.responsible_party_id)
    )


def can_edit_action(user: User, item: ActionItem) -> bool:
    """Open an action item's edit form and change its title and description."""
    return is_staff(user)


# Field-level rules: each detail of an action item has its own predicate, checked by the operation
# that changes it (update_action_item, transition), so the edit form, a status move with extra
# fields, the API and the CLI all get the same answer.
def can_change_party(user: User, item: ActionItem) -> bool:
    """Hand an item to another responsible party (a party never re-routes its own items)."""
    return is_staff(user)


def can_set_due_date(user: User, item: ActionItem) -> bool:
    """Set or move an item's due date."""
    return is_staff(user)


def can_assign(user: User, item: ActionItem) -> bool:
    """Choose the person (handläggare) who works on an item."""
    return is_staff(user)


def can_set_priority(user: User, item: ActionItem) -> bool:
    """Change an item's priority."""
    return is_staff(user)


def can_comment_action(user: User, item: ActionItem) -> bool:
    """Add a comment (and a photo) to an action item's timeline."""
    return is_staff(user) or (is_party_member(user) and user.responsible_party_id == item.responsible_party_id)


def movers(user: User, item: ActionItem) -> frozenset[workflow.Mover]:
    """Which of the workflow table's movers the user is for this item."""
    if is_staff(user):
        return frozenset({workflow.Mover.STAFF})
    if can_comment_action(user, item):  # a member of the item's own party
        return frozenset({workflow.Mover.PARTY})
    return frozenset()


def may_move(user: User, item: ActionItem, to: ActionStatus) -> bool:
    """Move the item from its status to `to`: the workflow table (actions/workflow.py) says who may."""
    return workflow.permits(item.status, to, movers(user, item))


def can_follow_up(user: User) -> bool:
    """Hold follow-up meetings, read protocols and the medborgarlöfte dashboard, export findings."""
    return is_staff(user)


def can_edit_promise(user: User) -> bool:
    """Write the year's medborgarlöfte: the coordinators who follow it up, and admins."""
    return is_staff(user)


def can_join(walk: Walk) -> bool:
    """The walk's link admits new participants while enabled and until the walk is over."""
    return walk.join_enabled and walk.is_open


def can_admin(user: User) -> bool:
    """Users, categories, responsible parties, audit log, personal-data export and erasure."""
    return is_admin(user)
