"""Reads of walks that several views share."""

from datetime import datetime

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import selectinload, undefer

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Role, User, Walk, WalkStatus
from fieldwalk.permissions import can_view_walk, is_staff

# What a walk's page (and its API list of findings) shows of every finding, loaded with the walk: a fixed
# number of statements however many findings it has.
WITH_FINDINGS = (
    selectinload(Walk.findings).options(
        selectinload(Finding.photos), selectinload(Finding.action_items), selectinload(Finding.category)
    ),
    selectinload(Walk.suggested_places),
    selectinload(Walk.participants),
)


def get_walk_or_404(walk_id: int, user: User, options=()) -> Walk:
    """The walk, or 404 when it does not exist or the user may not see it (no hint which); ``options`` are
    loader options for what the caller will read (e.g. WITH_FINDINGS)."""
    walk = db.session.get(Walk, walk_id, options=options)
    if walk is None or not can_view_walk(user, walk):
        abort(404)
    return walk


def walks_query(user: User, status: WalkStatus | None = None) -> Select:
    """The walks the user may see (permissions.can_view_walk in SQL), newest first."""
    query = select(Walk).order_by(Walk.starts_at.desc(), Walk.id.desc())
    if status is not None:
        query = query.where(Walk.status == status)
    if not is_staff(user):
        if user.role == Role.PARTICIPANT:
            query = query.where(Walk.participants.any(User.id == user.id))
        else:
            query = query.where(false())
    return query


WALKS_PER_PAGE = 50


def walks_page(user: User, status: WalkStatus | None, page: int) -> Pagination:
    """One page of the walks the user may see, newest first, with their number of findings (the walks index)."""
    query = walks_query(user, status).options(undefer(Walk.finding_count))
    return db.paginate(query, page=page, per_page=WALKS_PER_PAGE, error_out=False)


def list_walks(user: User, status: WalkStatus | None = None) -> list[Walk]:
    """The walks the user may see, newest first."""
    return [w for w in db.session.scalars(walks_query(user, status)) if can_view_walk(user, w)]


def walk_choices(user: User, limit: int, also: int | None = None) -> list[tuple[int, str]]:
    """(id, title) of the ``limit`` newest walks the user may see, newest first, and of walk ``also`` when the
    user may see it and it is older: a bounded list for a filter (a kommun has years of walks), one statement."""
    query = walks_query(user).with_only_columns(Walk.id, Walk.title)
    if also:
        newest = query.with_only_columns(Walk.id).limit(limit).scalar_subquery()
        query = query.where(or_(Walk.id.in_(newest), Walk.id == also))
    else:
        query = query.limit(limit)
    return [(row.id, row.title) for row in db.session.execute(query)]


def get_walk_by_code(code: str) -> Walk | None:
    """The walk a join link points to, if the code is known."""
    return db.session.scalar(select(Walk).where(Walk.join_code == code))


def count_findings_since(walk: Walk, since: datetime) -> int:
    """How many of the walk's findings reached the server at or after `since` (naive UTC)."""
    return db.session.execute(
        select(func.count(Finding.id)).where(Finding.walk_id == walk.id, Finding.created_at >= since)
    ).scalar_one()
