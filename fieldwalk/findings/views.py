"""Finding pages: the phone capture form, editing one's own finding, a finding's page, and triage."""

import uuid
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from fieldwalk.extensions import db
from fieldwalk.findings import operations
from fieldwalk.findings.forms import FindingEditForm, FindingForm, NoActionForm
from fieldwalk.findings.queries import get_finding_or_404, public_events
from fieldwalk.http_errors import OperationError, error_json, error_response, on_operation_error, wants_json
from fieldwalk.models import Finding
from fieldwalk.permissions import can_edit_finding, can_log_finding, can_triage, can_view_finding
from fieldwalk.photos.service import photo_limits, process_uploads, recover_text_fields
from fieldwalk.walks.queries import get_walk_or_404

bp = Blueprint("findings", __name__)


def _form_page(template, form, status=200, error=None, **context):
    """The capture or edit form again (or, for the enhanced form, its errors as JSON)."""
    if wants_json():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        message = error or next((e[0] for e in errors.values() if e), _("Kontrollera formuläret."))
        return error_json("invalid", message, status, fields=errors)
    return render_template(template, form=form, error=error, **_photo_settings(), **context), status


def _photo_settings() -> dict:
    """What the phone needs to prepare photos as the server will keep them (static/js/photo-prep.js): the
    long side the server stores (never shrink below it) and the server's own JPEG quality (not below it;
    a step above added a fifth to the upload for a difference the server's re-encoding at its quality
    takes away again: 1.67 against 1.37 MB for two 12 MP photos in tests/browser/test_capture_throttled.py)."""
    limits = photo_limits()
    vendor = Path(current_app.static_folder or "") / "vendor" / "exifr" / "lite.umd.js"
    return {
        "photo_max_count": current_app.config["PHOTO_MAX_PER_FINDING"],
        "photo_side": limits.max_long_side,
        "photo_quality": limits.quality / 100,
        "exifr_available": vendor.exists(),
    }


def _capture_page(walk, form, categories, status=200, error=None, saved=None):
    return _form_page("findings/capture.html", form, status, error, walk=walk, categories=categories, saved=saved)


def _just_saved(walk) -> object | None:
    """The finding named by ?saved= after a save, when it is on this walk and the user may see it."""
    saved_id = request.args.get("saved", type=int)
    finding = db.session.get(Finding, saved_id) if saved_id is not None and 0 < saved_id < 2**31 else None
    if finding is None or finding.walk_id != walk.id or not can_view_finding(current_user, finding):
        return None
    return finding


@bp.route("/walks/<int:walk_id>/findings/new", methods=["GET", "POST"])
@login_required
def capture(walk_id: int):
    """Log a finding: works as a plain form without JavaScript, with progress and GPS with it."""
    walk = get_walk_or_404(walk_id, current_user)
    if request.method == "GET" and not can_log_finding(current_user, walk):
        abort(403, _("Den här vandringen tar inte emot fler fynd."))
    form = FindingForm()
    categories = form.categories
    if request.method == "GET":
        form.uuid.data = str(uuid.uuid4())
        form.reporter_name.data = current_user.name
        form.reporter_org.data = current_user.organisation
        return _capture_page(walk, form, categories, saved=_just_saved(walk))
    if not form.validate_on_submit():
        return _capture_page(walk, form, categories, status=400)
    notices: list[str] = []

    def refused(error: OperationError):
        if error.code.startswith("photo_"):
            form.photos.errors = [error.message]
        elif error.code == "invalid_uuid":  # the same answer as the form's own uuid check
            form.uuid.errors = [error.message]
        return _capture_page(walk, form, categories, error=error.message)

    on_operation_error(refused)
    photos = process_uploads(form.photos.data or [])
    finding, created = operations.create_finding(walk, current_user, form.to_input(), photos=photos, notices=notices)
    flash(_("Fyndet är sparat.") if created else _("Fyndet var redan sparat."), "success")
    for notice in notices:
        flash(notice, "warning")
    # Back to a fresh form: on a walk the next finding is usually a few steps away. The page names the
    # saved finding with a link to it (capture.html), so nothing is hidden by not showing the walk.
    url = url_for("findings.capture", walk_id=walk.id, saved=finding.id)
    if wants_json():
        return jsonify(id=finding.id, uuid=finding.uuid, url=url, warnings=notices), 201 if created else 200
    return redirect(url)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@login_required
def edit(finding_id: int):
    """Its reporter corrects a finding and adds or removes photos while the walk takes findings."""
    finding = get_finding_or_404(finding_id, current_user)
    walk = finding.walk
    if not can_edit_finding(current_user, finding):
        operations.require_edit_rights(current_user, finding)  # refused: the error page with its status
    form = FindingEditForm(obj=finding if request.method == "GET" else None, finding=finding)
    context = {"walk": walk, "finding": finding, "categories": form.categories}
    if request.method == "GET":
        form.category.data = finding.category_id
        form.severity.data = finding.severity.value
        form.position_source.data = finding.position_source.value
        return _form_page("findings/edit.html", form, **context)
    if not form.validate_on_submit():
        return _form_page("findings/edit.html", form, status=400, **context)
    notices: list[str] = []

    def refused(error: OperationError):
        if error.code.startswith("photo_") or error.code == "too_many_photos":
            form.photos.errors = [error.message]
        return _form_page("findings/edit.html", form, error=error.message, **context)

    on_operation_error(refused)
    operations.update_finding(
        finding,
        current_user,
        form.to_input(),
        add_photos=process_uploads(form.photos.data or []),
        remove_photo_ids=set(form.remove_photos.data or []),
        notices=notices,
    )
    flash(_("Fyndet är ändrat."), "success")
    for notice in notices:
        flash(notice, "warning")
    url = url_for("findings.detail", finding_id=finding.id)
    if wants_json():
        return jsonify(id=finding.id, uuid=finding.uuid, url=url, warnings=notices), 200
    return redirect(url)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """A capture post over the size limit gets the capture form back with its text, not a bare 413."""
    # Werkzeug refuses such a body before parsing it (even before the CSRF check reads the token),
    # so the typed fields are read here from the raw body; the photo bytes are read and dropped.
    if request.endpoint != "findings.capture" or not current_user.is_authenticated:
        return error_response(error)
    try:
        walk = get_walk_or_404((request.view_args or {})["walk_id"], current_user)  # the capture URL has it
    except HTTPException as refused:
        return error_response(refused)
    form = FindingForm(formdata=recover_text_fields())
    config = current_app.config
    message = _(
        "Det du skickade är för stort: högst %(n)d foton på högst %(mb)d MB vardera per fynd.",
        n=config["PHOTO_MAX_PER_FINDING"],
        mb=config["PHOTO_MAX_BYTES"] // (1024 * 1024),
    )
    form.photos.errors = [message]
    return _capture_page(walk, form, form.categories, status=413, error=message)


@bp.route("/findings/<int:finding_id>")
@login_required
def detail(finding_id: int):
    """One finding with its photos, position, and what is being done about it."""
    return _detail_page(get_finding_or_404(finding_id, current_user), NoActionForm())


def _detail_page(finding, no_action_form: NoActionForm, status: int = 200):
    return render_template(
        "findings/detail.html",
        finding=finding,
        walk=finding.walk,
        no_action_form=no_action_form,
        public_events=public_events,
    ), status


@bp.post("/findings/<int:finding_id>/no-action")
@login_required
def no_action(finding_id: int):
    """Mark a finding as needing no action (or undo it)."""
    finding = get_finding_or_404(finding_id, current_user)
    if not can_triage(current_user, finding.walk):
        abort(403)
    form = NoActionForm()
    if not form.validate_on_submit():  # e.g. a note over the length: said at the field, the text kept
        return _detail_page(finding, form, 400)

    def refused(error: OperationError):
        form.note.errors = [error.message]  # shown at the field, with what was typed kept
        return _detail_page(finding, form)

    on_operation_error(refused)
    operations.set_no_action(finding, current_user, request.form.get("undo") != "1", form.note.data or "")
    flash(_("Fyndet är uppdaterat."), "success")
    return redirect(url_for("findings.detail", finding_id=finding.id))
