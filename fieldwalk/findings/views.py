"""Finding pages: the phone capture form, a finding's page, triage, and the access-checked photo view."""

import uuid
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from wtforms import SelectChoice

from fieldwalk.errors import OperationError
from fieldwalk.extensions import db
from fieldwalk.findings import operations
from fieldwalk.findings.forms import FindingForm, NoActionForm
from fieldwalk.findings.queries import active_categories, get_finding_or_404, get_photo_or_404, public_events
from fieldwalk.models import OPEN_STATUSES, Category, PositionSource, Severity
from fieldwalk.permissions import can_log_finding, can_triage
from fieldwalk.photo_service import photo_store, process_uploads, recover_text_fields
from fieldwalk.walks.queries import get_walk_or_404
from fieldwalk.web import error_response, wants_json

bp = Blueprint("findings", __name__)


def _device_time(value: str | None) -> datetime | None:
    """The phone's clock at capture, as naive UTC; ignored when unreadable or impossible."""
    if not value:
        return None
    try:
        return operations.device_time_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _capture_page(walk, form, categories, status=200, error=None):
    if wants_json():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        message = error or next((e[0] for e in errors.values() if e), _("Kontrollera formuläret."))
        return jsonify(error={"code": "invalid", "message": message, "fields": errors}), status
    return render_template("findings/capture.html", walk=walk, form=form, categories=categories,
                           error=error), status


@bp.route("/walks/<int:walk_id>/findings/new", methods=["GET", "POST"])
@login_required
def capture(walk_id: int):
    """Log a finding: works as a plain form without JavaScript, with progress and GPS with it."""
    walk = get_walk_or_404(walk_id, current_user)
    if request.method == "GET" and not can_log_finding(current_user, walk):
        abort(403, _("Den här vandringen tar inte emot fler fynd."))
    categories = active_categories()
    form = FindingForm()
    form.category.choices = [SelectChoice(c.id, c.name_sv) for c in categories]
    if request.method == "GET":
        form.uuid.data = str(uuid.uuid4())
        form.reporter_name.data = current_user.name
        form.reporter_org.data = current_user.organisation
        return _capture_page(walk, form, categories)
    if not form.validate_on_submit():
        return _capture_page(walk, form, categories, status=400)
    notices: list[str] = []
    try:
        photos = process_uploads(form.photos.data or [])
        source = form.position_source.data
        finding, created = operations.create_finding(
            walk, current_user,
            category=db.session.get(Category, form.category.data),
            description=form.description.data or "",
            severity=Severity(form.severity.data),
            lat=form.lat.data, lon=form.lon.data, accuracy_m=form.accuracy_m.data,
            position_source=PositionSource(source) if source in ("gps", "map") else None,
            place=form.place.data or "",
            reporter_name=form.reporter_name.data or "", reporter_org=form.reporter_org.data or "",
            device_created_at=_device_time(form.device_created_at.data),
            uuid=form.uuid.data or None, photos=photos, notices=notices,
        )
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        if error.code.startswith("photo_"):
            form.photos.errors = [error.message]
        elif error.code == "invalid_uuid":  # the same answer as the form's own uuid check
            form.uuid.errors = [error.message]
        return _capture_page(walk, form, categories, status=error.status, error=error.message)
    flash(_("Fyndet är sparat.") if created else _("Fyndet var redan sparat."), "success")
    for notice in notices:
        flash(notice, "warning")
    url = url_for("walks.detail", walk_id=walk.id) + f"#finding-{finding.id}"
    if wants_json():
        return jsonify(id=finding.id, uuid=finding.uuid, url=url, warnings=notices), 201 if created else 200
    return redirect(url)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """A capture post over the size limit gets the capture form back with its text, not a bare 413."""
    # Werkzeug refuses such a body before parsing it (even before the CSRF check reads the token),
    # so the typed fields are read here from the raw body; the photo bytes are read and dropped.
    if request.endpoint != "findings.capture" or not current_user.is_authenticated:
        return error_response(error)
    try:
        walk = get_walk_or_404(request.view_args["walk_id"], current_user)
    except HTTPException as refused:
        return error_response(refused)
    categories = active_categories()
    form = FindingForm(formdata=recover_text_fields())
    form.category.choices = [SelectChoice(c.id, c.name_sv) for c in categories]
    config = current_app.config
    message = _("Det du skickade är för stort: högst %(n)d foton på högst %(mb)d MB vardera per fynd.",
                n=config["PHOTO_MAX_PER_FINDING"], mb=config["PHOTO_MAX_BYTES"] // (1024 * 1024))
    form.photos.errors = [message]
    return _capture_page(walk, form, categories, status=413, error=message)


@bp.route("/findings/<int:finding_id>")
@login_required
def detail(finding_id: int):
    """One finding with its photos, position, and what is being done about it."""
    finding = get_finding_or_404(finding_id, current_user)
    return render_template("findings/detail.html", finding=finding, walk=finding.walk,
                           no_action_form=NoActionForm(), public_events=public_events, open_statuses=OPEN_STATUSES)


@bp.post("/findings/<int:finding_id>/no-action")
@login_required
def no_action(finding_id: int):
    """Mark a finding as needing no action (or undo it)."""
    finding = get_finding_or_404(finding_id, current_user)
    if not can_triage(current_user, finding.walk):
        abort(403)
    form = NoActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.set_no_action(finding, current_user, request.form.get("undo") != "1", form.note.data or "")
    except OperationError as error:
        db.session.rollback()
        form.note.errors = [error.message]  # shown at the field, with what was typed kept
        return render_template("findings/detail.html", finding=finding, walk=finding.walk,
                               no_action_form=form), error.status
    db.session.commit()
    flash(_("Fyndet är uppdaterat."), "success")
    return redirect(url_for("findings.detail", finding_id=finding.id))


@bp.route("/photos/<int:photo_id>/<any(full, thumb):variant>.jpg")
@login_required
def photo(photo_id: int, variant: str):
    """Serve a stored photo to someone allowed to see it; never from a path the web server executes."""
    item = get_photo_or_404(photo_id, current_user)
    path = photo_store().path(item.sha256, variant)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", etag=item.sha256 + variant,
                         max_age=86400, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response
