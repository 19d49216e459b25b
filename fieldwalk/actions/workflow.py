"""The action item workflow: the one table of status moves and who may make each of them.

ny → tilldelad → pågår → åtgärdad → avslutad (verified at follow-up), avvisad from any open status, and
re-opening: from åtgärdad (not good enough at follow-up), avslutad or avvisad back to an open status.
permissions.may_move says which movers a user is for an item and asks here; actions.operations.transition
refuses a move that is not in the table (409) and one the actor may not make (403). The sets of statuses
(open, finished, resolved, to review) are on ActionStatus itself.
"""

import enum

from fieldwalk.models import ActionStatus


class Mover(enum.StrEnum):
    """Who makes a status move, as the table names them."""

    STAFF = "staff"  # samordnare and admin
    PARTY = "party"  # an active member of the item's own responsible party (ansvarig)


S = ActionStatus
BY_STAFF = frozenset({Mover.STAFF})
BY_STAFF_OR_PARTY = frozenset({Mover.STAFF, Mover.PARTY})

# from → to → who may make the move. Only staff assign, close (verify), reject or re-open items; the
# party reports progress on what it was given.
TRANSITIONS: dict[ActionStatus, dict[ActionStatus, frozenset[Mover]]] = {
    S.NEW: {S.ASSIGNED: BY_STAFF, S.REJECTED: BY_STAFF},
    S.ASSIGNED: {S.IN_PROGRESS: BY_STAFF_OR_PARTY, S.DONE: BY_STAFF_OR_PARTY, S.REJECTED: BY_STAFF},
    S.IN_PROGRESS: {S.DONE: BY_STAFF_OR_PARTY, S.REJECTED: BY_STAFF},
    S.DONE: {S.CLOSED: BY_STAFF, S.ASSIGNED: BY_STAFF},
    S.CLOSED: {S.ASSIGNED: BY_STAFF},
    S.REJECTED: {S.NEW: BY_STAFF},
}


def moves_from(status: ActionStatus) -> tuple[ActionStatus, ...]:
    """Every status an item in this status can be moved to, by anyone."""
    return tuple(TRANSITIONS[status])


def exists(from_status: ActionStatus, to: ActionStatus) -> bool:
    """The workflow has this move at all."""
    return to in TRANSITIONS[from_status]


def permits(from_status: ActionStatus, to: ActionStatus, movers: frozenset[Mover]) -> bool:
    """One of these movers may make this move."""
    return bool(TRANSITIONS[from_status].get(to, frozenset()) & movers)


def is_reopen(from_status: ActionStatus, to: ActionStatus) -> bool:
    """The move sends a finished item (åtgärdad, avslutad, avvisad) back to work."""
    return from_status in S.FINISHED and to in S.OPEN


def needs_text(from_status: ActionStatus, to: ActionStatus) -> bool:
    """Rejecting needs a reason and re-opening needs to say why."""
    return to == S.REJECTED or is_reopen(from_status, to)
