"""Reads of walks that several views share."""

from datetime import datetime

from flask import abort
from sqlalchemy import func, select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, User, Walk, WalkStatus
from fieldwalk.permissions import can_view_walk, is_staff


def get_walk_or_404(walk_id: int, user: User) -> Walk:
    """The walk, or 404 when it does not exist or the user may not see it (no hint which)."""
    walk = db.session.get(Walk, walk_id)
    if walk is None or not can_view_walk(user, walk):
        abort(404)
    return walk


def list_walks(user: User, status: WalkStatus | None = None) -> list[Walk]:
    """The walks the user may see, newest first."""
    query = select(Walk).order_by(Walk.starts_at.desc())
    if status is not None:
        query = query.where(Walk.status == status)
    if not is_staff(user):
        query = query.where(Walk.participants.any(User.id == user.id))
    return [w for w in db.session.scalars(query) if can_view_walk(user, w)]


def get_walk_by_code(code: str) -> Walk | None:
    """The walk a join link points to, if the code is known."""
    return db.session.scalar(select(Walk).where(Walk.join_code == code))


def count_findings_since(walk: Walk, since: datetime) -> int:
    """How many of the walk's findings reached the server at or after `since` (naive UTC)."""
    return db.session.execute(
        select(func.count(Finding.id)).where(Finding.walk_id == walk.id, Finding.created_at >= since)
    ).scalar_one()
