"""Who may do what: every access rule of the app, used by views, the API and templates alike."""

from fieldwalk.models import ActionItem, ActionStatus, Role, User, Walk, WalkStatus

STAFF = (Role.ADMIN, Role.COORDINATOR)


def is_staff(user: User) -> bool:
    """Admins and coordinators plan walks, triage findings and manage action items."""
    return user.is_authenticated and user.role in STAFF


def can_manage_walks(user: User) -> bool:
    """Create and edit walks, change their status, check off suggested places."""
    return is_staff(user)


def can_view_walk(user: User, walk: Walk) -> bool:
    """See a walk, its findings and their photos."""
    return user.is_authenticated


def can_log_finding(user: User, walk: Walk) -> bool:
    """Participants log findings while a walk is planned or ongoing; staff until it is followed up."""
    if not can_view_walk(user, walk):
        return False
    if is_staff(user):
        return walk.status != WalkStatus.FOLLOWED_UP
    return walk.status in (WalkStatus.PLANNED, WalkStatus.ONGOING)


def can_suggest_place(user: User, walk: Walk) -> bool:
    """Invitees add places to look at before the walk starts."""
    return can_view_walk(user, walk) and walk.status == WalkStatus.PLANNED


def can_triage(user: User, walk: Walk) -> bool:
    """Turn findings into action items or mark them as needing no action."""
    return is_staff(user)


def can_view_action(user: User, item: ActionItem) -> bool:
    """Staff see every action item; a responsible party's members see their party's items."""
    if is_staff(user):
        return True
    if user.is_authenticated and user.role == Role.RESPONSIBLE:
        return user.responsible_party_id is not None and (
            user.responsible_party_id == item.responsible_party_id
        )
    return can_view_walk(user, item.walk)


def can_edit_action(user: User, item: ActionItem) -> bool:
    """Change an action item's title, text, responsible party, due date and priority."""
    return is_staff(user)


def can_comment_action(user: User, item: ActionItem) -> bool:
    """Add a comment (and a photo) to an action item's timeline."""
    return is_staff(user) or (
        user.is_authenticated
        and user.role == Role.RESPONSIBLE
        and user.responsible_party_id == item.responsible_party_id
        and item.responsible_party_id is not None
    )


# The status moves a responsible party's member may make; everything else is the coordinator's.
_RESPONSIBLE_MOVES = {
    (ActionStatus.ASSIGNED, ActionStatus.IN_PROGRESS),
    (ActionStatus.ASSIGNED, ActionStatus.DONE),
    (ActionStatus.IN_PROGRESS, ActionStatus.DONE),
}


def may_move(user: User, item: ActionItem, to: ActionStatus) -> bool:
    """The role part of a status change: only staff close (verify), reject or re-open items."""
    if is_staff(user):
        return True
    return can_comment_action(user, item) and (item.status, to) in _RESPONSIBLE_MOVES
