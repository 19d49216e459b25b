"""Action items (åtgärder) made from findings, the parties responsible for them, and their history."""

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwalk.models.base import Base, enum_type, utcnow

if TYPE_CHECKING:
    from fieldwalk.models.findings import Finding, Photo
    from fieldwalk.models.people import User
    from fieldwalk.models.walks import Walk


class ActionStatus(enum.StrEnum):
    """ny → tilldelad → pågår → åtgärdad → avslutad, plus avvisad. Which moves there are and who may make
    them: the table in actions/workflow.py. The sets of statuses every part of the app asks about are
    here, on the enum (filled in below the class: an enum's body cannot name its own members)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CLOSED = "closed"
    REJECTED = "rejected"

    OPEN: ClassVar[frozenset["ActionStatus"]]
    """Still being worked on (ny, tilldelad, pågår): lists, reminders, overdue, the nearby box."""
    FINISHED: ClassVar[frozenset["ActionStatus"]]
    """No longer worked on (åtgärdad, avslutad, avvisad): a move back to an open status re-opens the item."""
    RESOLVED: ClassVar[frozenset["ActionStatus"]]
    """Carried out (åtgärdad, avslutad): resolved_at is set, the resolved share and days to resolution."""
    TO_REVIEW: ClassVar[frozenset["ActionStatus"]]
    """What a follow-up meeting steps through: the open items and the åtgärdade still to be verified."""


ActionStatus.OPEN = frozenset({ActionStatus.NEW, ActionStatus.ASSIGNED, ActionStatus.IN_PROGRESS})
ActionStatus.FINISHED = frozenset(ActionStatus) - ActionStatus.OPEN
ActionStatus.RESOLVED = frozenset({ActionStatus.DONE, ActionStatus.CLOSED})
ActionStatus.TO_REVIEW = ActionStatus.OPEN | {ActionStatus.DONE}


class Priority(enum.StrEnum):
    """How urgent an action item is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EventKind(enum.StrEnum):
    """What an action event records."""

    CREATED = "created"
    STATUS = "status"
    COMMENT = "comment"
    EDITED = "edited"


class ResponsibleParty(Base):
    """Who carries out action items: a kommun department, a property owner, the police, Trafikverket …"""

    __tablename__ = "responsible_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list["User"]] = relationship(back_populates="responsible_party")

    def __repr__(self) -> str:
        return f"<ResponsibleParty {self.id} {self.name!r}>"


action_item_findings = Table(
    "action_item_findings",
    Base.metadata,
    Column("action_item_id", ForeignKey("action_items.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves lookups by item; a finding's items (and "has no item yet") need their own index.
    Column("finding_id", ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True, index=True),
)


# The lists' order, "open first, then by due date (none last)", as SQL with the open statuses written out: the
# index below then serves it on SQLite and PostgreSQL (a CASE with bound parameters matches no index), so a
# page of the list reads its 50 rows instead of sorting every item.
OPEN_RANK_SQL = "CASE WHEN {status} IN ('new', 'assigned', 'in_progress') THEN 0 ELSE 1 END"


class ActionItem(Base):
    """What should be done about one or more findings, by whom and by when."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index(
            "ix_action_items_list_order",
            text(f"({OPEN_RANK_SQL.format(status='status')})"),
            text("(due_date IS NULL)"),
            "due_date",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    responsible_party_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_parties.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(index=True)
    priority: Mapped[Priority] = mapped_column(enum_type(Priority), default=Priority.MEDIUM)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus), default=ActionStatus.NEW, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None]

    walk: Mapped["Walk"] = relationship()
    responsible_party: Mapped[ResponsibleParty | None] = relationship()
    assignee: Mapped[Optional["User"]] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[Optional["User"]] = relationship(foreign_keys=[created_by_id])
    findings: Mapped[list["Finding"]] = relationship(
        secondary=action_item_findings, back_populates="action_items", order_by="Finding.id"
    )
    events: Mapped[list["ActionEvent"]] = relationship(back_populates="action_item", order_by="ActionEvent.id")

    if TYPE_CHECKING:
        agreement_total: Mapped[int | None]  # deferred column_property, mapped in findings.py (counts agreements)

    @property
    def agreement_count(self) -> int:
        """How many said "Jag håller med" about the item's findings (the box agrees with an item's first one):
        the count loaded with the row where a list undeferred agreement_total, else the findings' sum."""
        if "agreement_total" in self.__dict__:
            return self.agreement_total or 0
        return sum(f.agreement_count for f in self.findings)

    @property
    def is_open(self) -> bool:
        """Still being worked on (ny, tilldelad, pågår)."""
        return self.status in ActionStatus.OPEN

    @property
    def is_resolved(self) -> bool:
        """Carried out (åtgärdad or avslutad)."""
        return self.status in ActionStatus.RESOLVED

    def is_overdue(self, today: date) -> bool:
        """True when the item is still open and its due date has passed."""
        return ActionItem.overdue(self.status, self.due_date, today)

    @staticmethod
    def overdue(status: ActionStatus, due_date: date | None, today: date) -> bool:
        """is_overdue on an item's columns (an export reads 10,000 items' columns, not 10,000 items)."""
        return status in ActionStatus.OPEN and due_date is not None and due_date < today

    def __repr__(self) -> str:
        return f"<ActionItem {self.id} {self.status.value}>"


# The lists' ORDER BY, in the index's terms (open first, by due date with none last, then by id).
LIST_ORDER: tuple[Any, ...] = (
    literal_column(OPEN_RANK_SQL.format(status="action_items.status")),
    ActionItem.due_date.is_(None),
    ActionItem.due_date,
    ActionItem.id,
)


class ActionEvent(Base):
    """One change or comment on an action item; never edited or deleted."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    from_status: Mapped[ActionStatus | None] = mapped_column(enum_type(ActionStatus))
    to_status: Mapped[ActionStatus | None] = mapped_column(enum_type(ActionStatus))
    text: Mapped[str] = mapped_column(Text, default="")  # what the actor typed; never system text
    # What the system wrote, as a code and its parameters (fieldwalk.timeline renders it in the reader's
    # language): e.g. "assigned" {"party": "Trafikverket"}, "meeting" {"date": "2026-11-02"}.
    code: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    # An internal note is seen by coordinators and by the members of the party that wrote it.
    internal: Mapped[bool] = mapped_column(default=False)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_parties.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # a period's changed items

    action_item: Mapped[ActionItem] = relationship(back_populates="events")
    actor: Mapped[Optional["User"]] = relationship()
    photos: Mapped[list["Photo"]] = relationship(back_populates="event", order_by="Photo.id")

    @property
    def is_status_change(self) -> bool:
        """The event moved the item from one status to another (shown as "from → to")."""
        return self.kind == EventKind.STATUS

    def __repr__(self) -> str:
        return f"<ActionEvent {self.id} item={self.action_item_id} {self.kind.value}>"
