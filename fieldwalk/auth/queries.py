"""Reads of user accounts that several views and operations share."""

from sqlalchemy import func, select

from fieldwalk.extensions import db
from fieldwalk.models import User


def get_user_by_email(email: str) -> User | None:
    """The account with this e-mail address, compared without case and surrounding spaces."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
