"""The one route that serves stored photos, for findings and action items alike."""

from flask import Blueprint, abort, send_file
from flask_login import current_user, login_required

from fieldwalk.extensions import db
from fieldwalk.models import Photo, User
from fieldwalk.permissions import can_view_event, can_view_finding
from fieldwalk.photos.service import photo_store

bp = Blueprint("photos", __name__)


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


@bp.route("/photos/<int:photo_id>/<any(full, thumb):variant>.jpg")
@login_required
def photo(photo_id: int, variant: str):
    """Serve a stored photo to someone allowed to see it; never from a path the web server executes."""
    item = get_photo_or_404(photo_id, current_user)
    path = photo_store().path(item.sha256, variant)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", etag=item.sha256 + variant, max_age=86400, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response
