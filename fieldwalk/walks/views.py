"""Walk pages: list, plan, edit, view with map and findings, status, suggested places."""

import io
from datetime import timedelta

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required, login_user

from fieldwalk.audit import record
from fieldwalk.auth.forms import EmptyForm
from fieldwalk.auth.limits import too_many_attempts
from fieldwalk.coordinates import format_position
from fieldwalk.extensions import csrf, db, limiter
from fieldwalk.http_errors import redirect_on_error
from fieldwalk.labels import label
from fieldwalk.links import external_url
from fieldwalk.models import SuggestedPlace, User, Walk, WalkStatus, utcnow
from fieldwalk.permissions import (
    can_join,
    can_manage_walks,
    can_set_notify_email,
    can_suggest_place,
    is_participant_of,
    is_party_member,
)
from fieldwalk.query_args import query_page
from fieldwalk.walks import operations
from fieldwalk.walks.forms import JoinAccountForm, JoinForm, NotifyEmailForm, SuggestedPlaceForm, WalkForm
from fieldwalk.walks.map_data import walk_map_data
from fieldwalk.walks.notice_links import read_stop_token
from fieldwalk.walks.queries import WITH_FINDINGS, count_findings_since, get_walk_by_code, get_walk_or_404, walks_page

bp = Blueprint("walks", __name__)

WALK_FIELDS = (
    "title",
    "area",
    "meeting_point",
    "meeting_lat",
    "meeting_lon",
    "route",
    "description",
    "organiser",
    "invited_organisations",
)


def _walk_fields(form: WalkForm) -> dict:
    fields = {name: getattr(form, name).data for name in WALK_FIELDS}
    for name in ("title", "area", "meeting_point", "route", "description", "organiser", "invited_organisations"):
        fields[name] = (fields[name] or "").strip()
    fields["starts_at"] = to_utc(form.starts_at.data)  # typed in Swedish local time, stored in UTC
    return fields


def _walk_to_manage(walk_id: int, button: bool = False):
    """The walk for a coordinator's page or one-click button: 404 unseen, 403 not staff, 400 no CSRF token."""
    walk = get_walk_or_404(walk_id, current_user)
    if not can_manage_walks(current_user):
        abort(403)
    if button and not EmptyForm().validate_on_submit():
        abort(400)
    return walk


@bp.route("/")
@login_required
def index():
    """Walks the user may see, grouped by status on the page (a party member starts at their items)."""
    if is_party_member(current_user):
        return redirect(url_for("actions.index"))
    status = request.args.get("status")
    chosen = WalkStatus(status) if status in {s.value for s in WalkStatus} else None
    return render_template(
        "walks/index.html",
        page=walks_page(current_user, chosen, query_page()),
        chosen=chosen,
        statuses=list(WalkStatus),
    )


@bp.route("/walks/new", methods=["GET", "POST"])
@login_required
def create():
    """Plan a new walk."""
    if not can_manage_walks(current_user):
        abort(403)
    form = WalkForm()
    if form.validate_on_submit():
        walk = operations.create_walk(current_user, **_walk_fields(form))
        flash(_("Vandringen är planerad."), "success")
        return redirect(url_for("walks.detail", walk_id=walk.id))
    return render_template("walks/form.html", form=form, walk=None), 400 if form.errors else 200


@bp.route("/walks/<int:walk_id>/edit", methods=["GET", "POST"])
@login_required
def edit(walk_id: int):
    """Change a walk's details."""
    walk = _walk_to_manage(walk_id)
    form = WalkForm(obj=walk)
    if request.method == "GET":
        form.starts_at.data = to_user_timezone(walk.starts_at).replace(tzinfo=None)
    if form.validate_on_submit():
        operations.update_walk(walk, current_user, **_walk_fields(form))
        flash(_("Ändringarna är sparade."), "success")
        return redirect(url_for("walks.detail", walk_id=walk.id))
    return render_template("walks/form.html", form=form, walk=walk), 400 if form.errors else 200


@bp.route("/walks/<int:walk_id>")
@login_required
def detail(walk_id: int):
    """The walk: details, status, map of findings and suggested places, and the findings list."""
    walk = get_walk_or_404(walk_id, current_user, WITH_FINDINGS)
    form = SuggestedPlaceForm() if can_suggest_place(current_user, walk) else None
    return _detail_page(walk, form)


def _detail_page(walk, place_form, status=200, notify_form=None):
    if notify_form is None and can_set_notify_email(current_user):
        notify_form = NotifyEmailForm(formdata=None, notify_email=current_user.notify_email)
    return render_template(
        "walks/detail.html",
        walk=walk,
        map_data=walk_map_data(walk),
        place_form=place_form,
        next_status=walk.status.following,
        notify_form=notify_form,
    ), status


@bp.post("/walks/<int:walk_id>/notify-email")
@login_required
def notify_email(walk_id: int):
    """A participant sets, changes or removes the address for news about their findings (empty: removed)."""
    walk = get_walk_or_404(walk_id, current_user, WITH_FINDINGS)
    if not (can_set_notify_email(current_user) and is_participant_of(current_user, walk)):
        abort(403)
    form = NotifyEmailForm()  # the remove button sends it empty
    if not form.validate_on_submit():
        place_form = SuggestedPlaceForm(formdata=None) if can_suggest_place(current_user, walk) else None
        return _detail_page(walk, place_form, status=400, notify_form=form)
    operations.set_notify_email(current_user, current_user, form.notify_email.data)
    flash(
        _("Vi mejlar besked om dina fynd till %(address)s.", address=current_user.notify_email)
        if current_user.notify_email
        else _("Din e-postadress för besked är borttagen."),
        "success",
    )
    return redirect(url_for("walks.detail", walk_id=walk.id) + "#notify")


@bp.route("/notices/stop/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the authority (no session); a mail client's one-click POST has no CSRF token
def stop_notices(token: str):
    """The link in an outcome mail: GET asks (mail scanners open links; opening must not unsubscribe), a
    POST (the button, or RFC 8058's List-Unsubscribe-Post from the mail client) stops the mails."""
    user, current = read_stop_token(token)
    if user is None:
        abort(404, _("Länken är inte giltig. Kopiera hela länken från mejlet."))
    stopped = request.method == "POST" and current
    if stopped:
        operations.stop_notices(user)
    return render_template("walks/stop_notices.html", token=token, ask=current and not stopped, stopped=stopped)


@bp.get("/walks/<int:walk_id>/close")
@login_required
def confirm_close(walk_id: int):
    """Ask before setting a walk to genomförd: phones may still hold findings that were never sent."""
    walk = _walk_to_manage(walk_id)
    to = walk.status.following
    if to is None or not to.closes_walk:
        abort(409, _("Bara en pågående vandring kan sättas till genomförd."))
    recent = count_findings_since(walk, utcnow() - timedelta(hours=1))
    return render_template(
        "walks/close.html",
        walk=walk,
        recent=recent,
        to=to,
        grace_days=current_app.config["LATE_FINDING_GRACE_DAYS"],
    )


@bp.post("/walks/<int:walk_id>/status")
@login_required
def set_status(walk_id: int):
    """Move the walk to its next (or previous) status."""
    walk = _walk_to_manage(walk_id, button=True)
    try:
        to = WalkStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    redirect_on_error(url_for("walks.detail", walk_id=walk.id))
    operations.set_walk_status(walk, to, current_user)
    flash(_("Vandringen har nu status %(status)s.", status=label(walk.status)), "success")
    return redirect(url_for("walks.detail", walk_id=walk.id))


@bp.post("/walks/<int:walk_id>/places")
@login_required
def suggest_place(walk_id: int):
    """Add a suggested place before the walk."""
    walk = get_walk_or_404(walk_id, current_user, WITH_FINDINGS)
    if not can_suggest_place(current_user, walk):
        abort(403)
    form = SuggestedPlaceForm()
    if form.validate_on_submit():
        operations.add_suggested_place(
            walk,
            current_user,
            text=(form.text.data or "").strip(),
            place=(form.place.data or "").strip(),
            lat=form.lat.data,
            lon=form.lon.data,
            suggested_by=(form.suggested_by.data or "").strip() or current_user.name,
            suggested_by_id=current_user.id,
        )
        flash(_("Tack! Platsen är tillagd på vandringens karta."), "success")
        return redirect(url_for("walks.detail", walk_id=walk.id) + "#places")
    return _detail_page(walk, form, status=400)


@bp.post("/walks/<int:walk_id>/places/<int:place_id>/check")
@login_required
def check_place(walk_id: int, place_id: int):
    """Check off a suggested place as visited (or undo)."""
    walk = _walk_to_manage(walk_id, button=True)
    place = db.session.get(SuggestedPlace, place_id)
    if place is None or place.walk_id != walk.id:
        abort(404)
    operations.set_place_checked(place, request.form.get("checked") == "1", current_user)
    return redirect(url_for("walks.detail", walk_id=walk.id) + "#places")


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["JOIN_RATE_LIMIT"], error_message=too_many_attempts)  # no code guessing
def join(code: str):
    """The join link and QR code: a name and an organisation, then straight to logging a finding."""
    walk = get_walk_by_code(code)
    if walk is None or not can_join(walk):
        return render_template("walks/join_closed.html"), 404 if walk is None else 410
    guest = not current_user.is_authenticated
    form = JoinForm() if guest else JoinAccountForm() if can_set_notify_email(current_user) else EmptyForm()
    if form.validate_on_submit():
        user = operations.join_walk(
            walk,
            None if guest else current_user,
            name=(form.name.data or "") if guest else "",
            organisation=(form.organisation.data or "") if guest else "",
            notify_email=form.notify_email.data if "notify_email" in form else None,
            locale=session.get("locale") if guest else None,
        )
        record("walk.join", walk, actor=user)
        if guest:
            login_user(user, remember=True)  # a phone that drops the tab mid-walk keeps the guest in
        return redirect(url_for("findings.capture", walk_id=walk.id))
    # A refusal says so at the top too: on a phone the field's own message is below the fold.
    error = _("Kontrollera de markerade fälten.") if form.errors else None
    return render_template("walks/join.html", walk=walk, form=form, guest=guest, error=error), 400 if error else 200


@bp.post("/walks/<int:walk_id>/participants/<int:user_id>/remove")
@login_required
def remove_participant(walk_id: int, user_id: int):
    """Take a participant out of the walk (a guest is logged out at once); their findings stay."""
    walk = _walk_to_manage(walk_id, button=True)
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    operations.remove_participant(walk, person, current_user)  # refused: the error page with its status
    flash(_("%(name)s är borttagen från vandringen och kommer inte längre åt den.", name=person.name), "success")
    return redirect(url_for("walks.detail", walk_id=walk.id) + "#join")


def _invitable_walk(walk_id: int) -> Walk:
    """A walk the user manages whose join link is open (the QR code and the invitation show that link)."""
    walk = _walk_to_manage(walk_id)
    if not walk.join_enabled:
        abort(404)
    return walk


@bp.get("/walks/<int:walk_id>/qr.svg")
@login_required
def qr_code(walk_id: int):
    """The join link as a QR code (SVG) to print on the invitation or show at the meeting point."""
    walk = _invitable_walk(walk_id)
    out = io.BytesIO()
    segno.make(external_url("walks.join", code=walk.join_code), error="m").save(
        out, kind="svg", scale=8, border=2, title=walk.title
    )
    response = make_response(out.getvalue())
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/walks/<int:walk_id>/join-link/revoke")
@login_required
def confirm_revoke(walk_id: int):
    """Ask before revoking the join link: printed invitations and QR codes stop working."""
    walk = _walk_to_manage(walk_id)
    return render_template("walks/revoke.html", walk=walk)


@bp.post("/walks/<int:walk_id>/join-link")
@login_required
def join_link(walk_id: int):
    """Revoke the walk's join link, or open a new one."""
    walk = _walk_to_manage(walk_id, button=True)
    enabled = request.form.get("enabled") == "1"
    operations.set_join_link(walk, enabled, current_user)
    record("walk.join_link", walk, detail="enabled" if enabled else "revoked")
    flash(_("En ny länk är öppen.") if enabled else _("Länken är återkallad och fungerar inte längre."), "success")
    return redirect(url_for("walks.detail", walk_id=walk.id) + "#join")


@bp.get("/walks/<int:walk_id>/invitation")
@login_required
def invitation(walk_id: int):
    """A printable A4 invitation: title, time, meeting point, the QR code and the short join link."""
    walk = _invitable_walk(walk_id)
    return render_template(
        "walks/invitation.html",
        walk=walk,
        join_url=external_url("walks.join", code=walk.join_code),
        position=format_position(walk.meeting_lat, walk.meeting_lon)
        if walk.meeting_lat is not None and walk.meeting_lon is not None
        else "",
    )
