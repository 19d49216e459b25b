"""Reads of findings, categories and photos that several views share."""

from flask import abort
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Category, Finding, Photo, User
from fieldwalk.permissions import can_view_event, can_view_finding


def active_categories() -> list[Category]:
    """Categories offered when logging a finding, in their display order."""
    return list(db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.id)
    ))


def get_finding_or_404(finding_id: int, user: User) -> Finding:
    """The finding, or 404 when it does not exist or the user may not see it (no hint which)."""
    finding = db.session.get(Finding, finding_id)
    if finding is None or not can_view_finding(user, finding):
        abort(404)
    return finding


def get_photo_or_404(photo_id: int, user: User) -> Photo:
    """The photo, or 404 unless the user may see the finding or action item it belongs to."""
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        abort(404)
    if photo.finding is not None:
        allowed = can_view_finding(user, photo.finding)
    elif photo.event is not None:
        allowed = can_view_event(user, photo.event)
    else:
        allowed = False
    if not allowed:
        abort(404)
    return photo
