"""The domain model, split by area; importing this package registers every table."""

from fieldwalk.models.actions import (
    OPEN_STATUSES,
    ActionEvent,
    ActionItem,
    ActionStatus,
    EventKind,
    Priority,
    ResponsibleParty,
    action_item_findings,
)
from fieldwalk.models.base import Base, utcnow
from fieldwalk.models.findings import Category, Finding, Photo, PositionSource, Severity
from fieldwalk.models.people import Role, User
from fieldwalk.models.walks import SuggestedPlace, Walk, WalkStatus

__all__ = [
    "OPEN_STATUSES", "ActionEvent", "ActionItem", "ActionStatus", "Base", "Category", "EventKind",
    "Finding", "Photo", "PositionSource", "Priority", "ResponsibleParty", "Role", "Severity", "SuggestedPlace",
    "User", "Walk", "WalkStatus", "action_item_findings", "utcnow",
]
