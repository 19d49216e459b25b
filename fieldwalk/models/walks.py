"""Walks (trygghetsvandringar) and the places suggested before them (förmöte input)."""

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Optional

from sqlalchemy import Column, DateTime, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwalk.models.base import Base, enum_type, utcnow

if TYPE_CHECKING:
    from fieldwalk.models.findings import Finding
    from fieldwalk.models.people import User


class WalkStatus(enum.StrEnum):
    """planerad → pågår → genomförd → uppföljd: the walk's workflow is the order of the members; a walk
    moves one step forward or back at a time (walks.operations.set_walk_status)."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    FOLLOWED_UP = "followed_up"

    OPEN: ClassVar[frozenset["WalkStatus"]]
    """Not yet held (planerad, pågår): the join link admits people and participants log findings."""
    HELD: ClassVar[frozenset["WalkStatus"]]
    """The walk took place (genomförd, uppföljd): what a period's follow-up and medborgarlöfte count."""

    @property
    def following(self) -> "WalkStatus | None":
        """The next step of the workflow, or None after the last (uppföljd)."""
        flow = list(WalkStatus)
        index = flow.index(self)
        return flow[index + 1] if index + 1 < len(flow) else None

    def is_one_step_from(self, other: "WalkStatus") -> bool:
        """The two are neighbours in the workflow (a move between them is one step forward or back)."""
        flow = list(WalkStatus)
        return abs(flow.index(self) - flow.index(other)) == 1

    @property
    def closes_walk(self) -> bool:
        """Setting the walk to this status ends it (genomförd): late findings count from then, and the
        page asks for confirmation first."""
        return self == WalkStatus.COMPLETED


WalkStatus.OPEN = frozenset({WalkStatus.PLANNED, WalkStatus.ONGOING})
WalkStatus.HELD = frozenset(WalkStatus) - WalkStatus.OPEN


def new_join_code() -> str:
    """A short unguessable code for the walk's join link and QR code."""
    return secrets.token_urlsafe(9)


class Walk(Base):
    """One safety walk: when and where, who organises it, and its findings."""

    __tablename__ = "walks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    meeting_point: Mapped[str] = mapped_column(String(200), default="")
    meeting_lat: Mapped[float | None]
    meeting_lon: Mapped[float | None]
    route: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    organiser: Mapped[str] = mapped_column(String(200), default="")
    invited_organisations: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[WalkStatus] = mapped_column(enum_type(WalkStatus), default=WalkStatus.PLANNED)
    join_code: Mapped[str] = mapped_column(String(32), unique=True, default=new_join_code)
    join_enabled: Mapped[bool] = mapped_column(default=True)
    # When the walk was set to genomförd: findings made on a phone before then are still accepted
    # for a while (LATE_FINDING_GRACE_DAYS); None while the walk is open.
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped[Optional["User"]] = relationship()
    findings: Mapped[list["Finding"]] = relationship(
        back_populates="walk", order_by="Finding.created_at", cascade="all, delete-orphan"
    )
    suggested_places: Mapped[list["SuggestedPlace"]] = relationship(
        back_populates="walk", order_by="SuggestedPlace.created_at", cascade="all, delete-orphan"
    )
    participants: Mapped[list["User"]] = relationship(secondary="walk_participants")

    if TYPE_CHECKING:
        finding_count: Mapped[int]  # a deferred column_property, mapped in models/findings.py (it counts Finding)

    @property
    def is_open(self) -> bool:
        """Not yet held (planerad or pågår): participants join and log findings, places are checked off."""
        return self.status in WalkStatus.OPEN

    def __repr__(self) -> str:
        return f"<Walk {self.id} {self.title!r} {self.status.value}>"


walk_participants = Table(
    "walk_participants",
    Base.metadata,
    Column("walk_id", ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),  # my walks
    Column("joined_at", DateTime, nullable=False, default=utcnow),
)


class SuggestedPlace(Base):
    """A place someone asked the walk to look at, given before the walk; checked off when visited."""

    __tablename__ = "suggested_places"

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    suggested_by: Mapped[str] = mapped_column(String(120), default="")
    # Who typed it (the name above is free text): erasing that person finds their suggestions by this.
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    walk: Mapped[Walk] = relationship(back_populates="suggested_places")

    def __repr__(self) -> str:
        return f"<SuggestedPlace {self.id} walk={self.walk_id}>"
