"""Declarative base, naming convention and column helpers shared by every model."""

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Naive UTC now: every *_at column holds UTC; Flask-Babel converts to Europe/Stockholm for display."""
    return datetime.now(UTC).replace(tzinfo=None)


def enum_type(enum_cls: type[enum.Enum]) -> Enum:
    """A portable VARCHAR column storing the enum's value (not its name), without a native DB enum."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
