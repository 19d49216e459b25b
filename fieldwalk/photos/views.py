"""The one route that serves stored photos, for findings and action items alike."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort, request
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import wrap_file

from fieldwalk.extensions import db
from fieldwalk.models import Photo, User
from fieldwalk.permissions import can_view_event, can_view_finding
from fieldwalk.photos.service import photo_store

ONE_DAY = 86400

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
    """Serve a stored photo to someone allowed to see it; never from a path the web server executes.

    The bytes are streamed through this route from either store (an S3 object too, rather than a redirect to
    a presigned URL): every request is checked here, no address that works without a session ever reaches a
    browser (a history, a forwarded link, a cache), the bucket need not be reachable from phones, and the CSP
    stays 'self'. The ETag is the content's name, so a revalidation is answered 304.
    """
    item = get_photo_or_404(photo_id, current_user)
    try:
        stream, size = photo_store().open(item.sha256, variant)
    except FileNotFoundError:
        abort(404)
    response = Response(wrap_file(request.environ, stream), mimetype="image/jpeg", direct_passthrough=True)
    response.content_length = size
    response.set_etag(item.sha256 + variant)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = f"private, max-age={ONE_DAY}, immutable"
    response.expires = datetime.now(UTC) + timedelta(seconds=ONE_DAY)
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:  # 416: the stream is not sent, so close it here
        stream.close()
        raise
