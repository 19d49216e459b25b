"""The domain model, split by area; importing this package registers every table."""

from fieldwalk.models.actions import (
    LIST_ORDER,
    OPEN_RANK_SQL,
    ActionEvent,
    ActionItem,
    ActionStatus,
    EventKind,
    Priority,
    ResponsibleParty,
    action_item_findings,
)
from fieldwalk.models.audit import AuditEntry
from fieldwalk.models.base import Base, utcnow
from fieldwalk.models.findings import (
    Category,
    Finding,
    FindingAgreement,
    FindingNotice,
    NoticeOutcome,
    Photo,
    PositionSource,
    Severity,
)
from fieldwalk.models.followup import (
    FollowUpMeeting,
    MeetingDecision,
    PromiseCommitment,
    PromiseKind,
    ProtocolFile,
    ProtocolFileState,
    Reminder,
    ReminderKind,
)
from fieldwalk.models.jobs import FailedJob
from fieldwalk.models.people import Role, User
from fieldwalk.models.walks import SuggestedPlace, Walk, WalkStatus, walk_participants

__all__ = [
    "LIST_ORDER",
    "OPEN_RANK_SQL",
    "ActionEvent",
    "AuditEntry",
    "FailedJob",
    "ActionItem",
    "ActionStatus",
    "Base",
    "Category",
    "EventKind",
    "Finding",
    "FindingAgreement",
    "FindingNotice",
    "FollowUpMeeting",
    "MeetingDecision",
    "NoticeOutcome",
    "Photo",
    "PromiseKind",
    "PromiseCommitment",
    "ProtocolFile",
    "ProtocolFileState",
    "Reminder",
    "ReminderKind",
    "PositionSource",
    "Priority",
    "ResponsibleParty",
    "Role",
    "Severity",
    "SuggestedPlace",
    "User",
    "Walk",
    "WalkStatus",
    "action_item_findings",
    "utcnow",
    "walk_participants",
]
