"""People: user accounts and their roles."""

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from fieldwalk.models.base import Base, enum_type, utcnow

if TYPE_CHECKING:
    from fieldwalk.models.actions import ResponsibleParty


class Role(enum.StrEnum):
    """What a user account may do; the rules themselves live in fieldwalk.permissions."""

    ADMIN = "admin"
    COORDINATOR = "samordnare"
    RESPONSIBLE = "ansvarig"
    PARTICIPANT = "deltagare"


def new_session_token() -> str:
    """A random name for a user's sessions; replacing it ends every session and remember cookie at once."""
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    """A person with an account: coordinator, member of a responsible party, admin or participant."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Guests who joined a walk by its link have no e-mail and no password.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_type(Role), default=Role.PARTICIPANT)
    responsible_party_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_parties.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    # Where a participant asked to be told that their findings were resolved or rejected (optional, removable;
    # not a log-in address, so a guest stays a guest).
    notify_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an admin erased the person's data (admin.operations.erase_person); the row stays for ids.
    erased_at: Mapped[datetime | None]
    # Flask-Login's alternative id: the session and the remember cookie carry this, not the user id.
    # None only until the row is flushed (the default is applied on insert), hence the Optional type.
    session_token: Mapped[str | None] = mapped_column(
        String(64), unique=True, nullable=False, default=new_session_token
    )

    responsible_party: Mapped[Optional["ResponsibleParty"]] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password: scrypt unless PASSWORD_HASH_METHOD says otherwise."""
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()  # a new password logs out every device that knew the old one

    def get_id(self) -> str:
        """What Flask-Login stores in the session and the remember cookie: the current session token."""
        if self.session_token is None:  # not flushed yet
            self.session_token = new_session_token()
        return self.session_token

    def end_sessions(self) -> None:
        """Log the user out everywhere: every session and remember cookie made before stops working."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash (never for guests)."""
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def is_guest(self) -> bool:
        """A participant who joined a walk by its link, without an account."""
        return self.email is None

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
