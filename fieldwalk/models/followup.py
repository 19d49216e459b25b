"""Follow-up: meetings that review action items, the reminders sent about them, and the yearly promise."""

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwalk.models.base import Base, enum_type, utcnow

if TYPE_CHECKING:
    from fieldwalk.models.actions import ActionEvent, ActionItem, ResponsibleParty
    from fieldwalk.models.findings import Category
    from fieldwalk.models.people import User
    from fieldwalk.models.walks import Walk


class FollowUpMeeting(Base):
    """An uppföljningsmöte: reviews the open action items of one walk or of a period (e.g. a quarter)."""

    __tablename__ = "followup_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    walk_id: Mapped[int | None] = mapped_column(ForeignKey("walks.id"), index=True)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    held_on: Mapped[date] = mapped_column(index=True)
    attendees: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    walk: Mapped[Optional["Walk"]] = relationship()
    created_by: Mapped[Optional["User"]] = relationship()
    decisions: Mapped[list["MeetingDecision"]] = relationship(
        back_populates="meeting", order_by="MeetingDecision.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<FollowUpMeeting {self.id} {self.title!r}>"


class MeetingDecision(Base):
    """What a follow-up meeting decided about one action item; the change itself is an ActionEvent."""

    __tablename__ = "meeting_decisions"
    __table_args__ = (UniqueConstraint("meeting_id", "action_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("followup_meetings.id", ondelete="CASCADE"), index=True)
    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("action_events.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    new_due_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[FollowUpMeeting] = relationship(back_populates="decisions")
    action_item: Mapped["ActionItem"] = relationship()
    event: Mapped[Optional["ActionEvent"]] = relationship()


class ReminderKind(enum.StrEnum):
    """Why a reminder was sent."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"


class Reminder(Base):
    """One reminder about one action item in one period: the record that stops a second mail."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("action_item_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_parties.id"))
    kind: Mapped[ReminderKind] = mapped_column(enum_type(ReminderKind))
    period: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    action_item: Mapped["ActionItem"] = relationship()
    party: Mapped[Optional["ResponsibleParty"]] = relationship()


class PromiseKind(enum.StrEnum):
    """What a medborgarlöfte commitment promises; each kind is counted from the data in followup.promises."""

    WALKS = "walks"  # at least `target` walks held in the year
    QUARTERLY_FOLLOWUP = "quarterly_followup"  # a finished follow-up meeting in each of `target` quarters
    RESOLVED_ACTIONS = "resolved_actions"  # at least `target` action items resolved in the year
    RESOLVED_WITHIN = "resolved_within"  # `target` % of the year's items resolved within `days` days


class PromiseCommitment(Base):
    """One line of the year's medborgarlöfte (citizen promise): its kind, target and, where the kind
    needs them, the days allowed and the category it is limited to (e.g. klotter sanerat inom 2 dagar)."""

    __tablename__ = "promise_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PromiseKind] = mapped_column(enum_type(PromiseKind))
    target: Mapped[int]
    days: Mapped[int | None]
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    area: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    category: Mapped[Optional["Category"]] = relationship()

    def __repr__(self) -> str:
        return f"<PromiseCommitment {self.year} {self.kind.value} {self.target}>"


class ProtocolFileState(enum.StrEnum):
    """Where a protocol PDF job is: waiting for a worker, being made, ready to download, or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ProtocolFile(Base):
    """A protocol PDF made by a background job for the person who asked: its scope (a meeting, a walk or a
    period, in a language), how far the job has come, and the stored file (a key in the protocol store, so
    any app server can serve what the worker made). Removed with its file PROTOCOL_PDF_KEEP_HOURS after it
    was asked for."""

    __tablename__ = "protocol_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("followup_meetings.id", ondelete="CASCADE"))
    walk_id: Mapped[int | None] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    locale: Mapped[str] = mapped_column(String(10))
    state: Mapped[ProtocolFileState] = mapped_column(enum_type(ProtocolFileState), default=ProtocolFileState.QUEUED)
    # Progress: the data is read (items and findings counted), then the PDF is laid out in `parts`, of which
    # `parts_done` are; `pages` so far.
    items: Mapped[int | None]
    findings: Mapped[int | None]
    parts: Mapped[int | None]
    parts_done: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int | None]
    file_key: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200), default="protokoll.pdf")
    size: Mapped[int | None]  # bytes
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    requested_by: Mapped["User"] = relationship()
    meeting: Mapped[FollowUpMeeting | None] = relationship()
    walk: Mapped[Optional["Walk"]] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.state in (ProtocolFileState.QUEUED, ProtocolFileState.RUNNING)

    def scope_args(self) -> dict[str, str]:
        """The protocol's query arguments (?meeting=, ?walk= or ?from=&to=), as the protocol page takes them."""
        if self.meeting_id:
            return {"meeting": str(self.meeting_id)}
        if self.walk_id:
            return {"walk": str(self.walk_id)}
        assert self.period_start and self.period_end  # a period row has both
        return {"from": self.period_start.isoformat(), "to": self.period_end.isoformat()}

    def __repr__(self) -> str:
        return f"<ProtocolFile {self.id} {self.state.value}>"
