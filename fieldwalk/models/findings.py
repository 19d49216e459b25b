"""Findings logged during a walk, their categories and photos."""

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from fieldwalk.models.actions import ActionItem, action_item_findings
from fieldwalk.models.base import Base, enum_type, utcnow
from fieldwalk.models.walks import Walk

if TYPE_CHECKING:
    from fieldwalk.models.actions import ActionEvent, ResponsibleParty
    from fieldwalk.models.people import User


class Severity(enum.StrEnum):
    """How much a finding affects the feeling of safety."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class PositionSource(enum.StrEnum):
    """Where a finding's position came from."""

    GPS = "gps"
    MAP = "map"
    PHOTO = "photo"
    NONE = "none"


class Category(Base):
    """A kind of finding (Belysning, Klotter …), editable by an administrator."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_sv: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    icon: Mapped[str] = mapped_column(String(16), default="")
    is_positive: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    default_party_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_parties.id"))

    default_party: Mapped[Optional["ResponsibleParty"]] = relationship()

    def name(self, locale: str) -> str:
        """The category's name in the given locale (Swedish unless English is asked for)."""
        return self.name_en if locale.startswith("en") else self.name_sv

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Finding(Base):
    """One observation from a walk: what, where, how serious, who logged it, with photos."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Client-generated id: sending the same finding twice (a retry) never makes two rows.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[Severity] = mapped_column(enum_type(Severity), default=Severity.MEDIUM)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    position_source: Mapped[PositionSource] = mapped_column(enum_type(PositionSource), default=PositionSource.NONE)
    place: Mapped[str] = mapped_column(String(200), default="")
    reporter_name: Mapped[str] = mapped_column(String(120), default="")
    reporter_org: Mapped[str] = mapped_column(String(120), default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_created_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Reached the server after the walk was closed (made before that on a phone without network).
    arrived_after_close: Mapped[bool] = mapped_column(default=False)
    no_action: Mapped[bool] = mapped_column(default=False)
    no_action_note: Mapped[str] = mapped_column(Text, default="")

    walk: Mapped["Walk"] = relationship(back_populates="findings")
    category: Mapped[Category] = relationship()
    reporter: Mapped[Optional["User"]] = relationship()
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="finding", order_by="Photo.id", cascade="all, delete-orphan"
    )
    action_items: Mapped[list["ActionItem"]] = relationship(secondary="action_item_findings", back_populates="findings")

    if TYPE_CHECKING:
        agreement_total: Mapped[int | None]  # a column_property, mapped below the class (it counts FindingAgreement)

    @property
    def agreement_count(self) -> int:
        """How many people said "Jag håller med" about this finding (agreement_total, loaded with the row)."""
        return self.agreement_total or 0

    @property
    def has_position(self) -> bool:
        """True when the finding has coordinates to show on a map."""
        return self.lat is not None and self.lon is not None

    def __repr__(self) -> str:
        return f"<Finding {self.id} walk={self.walk_id} {self.category_id}>"


class Photo(Base):
    """A stored, normalized photo of a finding or of an action event (e.g. the after-photo)."""

    __tablename__ = "photos"
    # The same upload twice on one finding (a retry, a double tap, even at the same moment) is one row.
    __table_args__ = (UniqueConstraint("finding_id", "source_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("action_events.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    finding: Mapped[Finding | None] = relationship(back_populates="photos")
    event: Mapped[Optional["ActionEvent"]] = relationship(back_populates="photos")
    if TYPE_CHECKING:
        warnings: list[str]  # set on an uploaded photo for the API's answer (PhotoUploadedSchema), never stored

    def __repr__(self) -> str:
        return f"<Photo {self.id} {self.sha256[:12]}>"


class FindingAgreement(Base):
    """One person's "Jag håller med" on an existing finding: one per person and finding (a second tap is one row)."""

    __tablename__ = "finding_agreements"
    __table_args__ = (UniqueConstraint("finding_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The walk the person was on when they agreed (a finding of an earlier walk can be confirmed on a later one).
    walk_id: Mapped[int | None] = mapped_column(ForeignKey("walks.id", ondelete="SET NULL"))
    # The photo the person added to the finding with their agreement (it is one of the finding's photos).
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    finding: Mapped[Finding] = relationship()
    user: Mapped["User"] = relationship()
    photo: Mapped[Optional["Photo"]] = relationship()

    def __repr__(self) -> str:
        return f"<FindingAgreement finding={self.finding_id} user={self.user_id}>"


class NoticeOutcome(enum.StrEnum):
    """What a reporter is told about their finding by mail."""

    RESOLVED = "resolved"
    REJECTED = "rejected"


class FindingNotice(Base):
    """The record that the reporter was mailed this outcome of this finding: it stops a second mail."""

    __tablename__ = "finding_notices"
    __table_args__ = (UniqueConstraint("finding_id", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[NoticeOutcome] = mapped_column(enum_type(NoticeOutcome))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<FindingNotice finding={self.finding_id} {self.outcome.value}>"


# Loaded with every finding in one statement (a correlated count), so lists show "3 håller med" without a
# query per card.
Finding.agreement_total = column_property(
    select(func.count(FindingAgreement.id))
    .where(FindingAgreement.finding_id == Finding.id)
    .correlate_except(FindingAgreement)
    .scalar_subquery()
)

# An item's agreements over all its findings in one correlated count, for the action list's rows (deferred:
# the list undefers it instead of loading 50 items' findings; ActionItem.agreement_count reads it when loaded).
ActionItem.agreement_total = column_property(
    select(func.count(FindingAgreement.id))
    .join(action_item_findings, action_item_findings.c.finding_id == FindingAgreement.finding_id)
    .where(action_item_findings.c.action_item_id == ActionItem.id)
    .correlate_except(FindingAgreement, action_item_findings)
    .scalar_subquery(),
    deferred=True,
)

# A walk's number of findings, for lists of walks (deferred: loaded where a list asks for it with undefer).
Walk.finding_count = column_property(
    select(func.count(Finding.id)).where(Finding.walk_id == Walk.id).correlate_except(Finding).scalar_subquery(),
    deferred=True,
)
