"""Follow-up pages: meetings (step through the open items), protocols on screen and as PDF, the dashboard."""

import base64
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from fieldwalk.actions import operations as actions
from fieldwalk.actions.queries import get_party, party_choices
from fieldwalk.errors import OperationError
from fieldwalk.extensions import db
from fieldwalk.followup import operations
from fieldwalk.followup.charts import Bar, MapPoint, bar_chart, findings_map
from fieldwalk.followup.dashboard import year_figures
from fieldwalk.followup.forms import CommitmentForm, DecisionForm, FinishForm, MeetingForm
from fieldwalk.followup.pdf import render_pdf
from fieldwalk.followup.queries import (
    Scope,
    get_meeting_or_404,
    items_to_review,
    list_meetings,
    period_error,
    quarter_of,
    summarize,
)
from fieldwalk.followup.tiles import TileBackground
from fieldwalk.labels import TRANSITION_VERBS, label
from fieldwalk.models import ActionStatus, PromiseActivity, PromiseCommitment
from fieldwalk.permissions import can_admin, can_follow_up
from fieldwalk.photo_service import photo_store
from fieldwalk.query_args import query_id, query_int
from fieldwalk.walks.map_data import walk_map_data
from fieldwalk.walks.queries import get_walk_or_404, list_walks

bp = Blueprint("followup", __name__, url_prefix="/followup")


@bp.before_request
@login_required
def _staff_only():
    """Follow-up is the coordinators' work: everyone else gets 403 (anonymous users log in first)."""
    if not can_follow_up(current_user):
        abort(403)


def _meeting_form() -> MeetingForm:
    form = MeetingForm()
    form.walk.choices = [SelectChoice(0, _("Välj vandring"))] + [
        SelectChoice(w.id, f"{w.title} ({w.starts_at:%Y-%m-%d})") for w in list_walks(current_user)]
    if request.method == "GET":
        start, end = quarter_of(date.today())
        form.period_start.data, form.period_end.data, form.held_on.data = start, end, date.today()
        walk_id = query_id("walk")
        if walk_id:
            form.scope.data, form.walk.data = "walk", walk_id
    return form


@bp.route("/", methods=["GET", "POST"])
def index():
    """Follow-up meetings held and under way, and the form to start one."""
    form = _meeting_form()
    error = None
    if form.validate_on_submit():
        by_walk = form.scope.data == "walk"
        walk = get_walk_or_404(form.walk.data, current_user) if by_walk and form.walk.data else None
        try:
            meeting = operations.create_meeting(
                current_user, held_on=form.held_on.data, walk=walk, title=form.title.data or "",
                attendees=form.attendees.data or "",
                period_start=None if by_walk else form.period_start.data,
                period_end=None if by_walk else form.period_end.data)
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            error = exc.message
        else:
            return redirect(url_for("followup.meeting", meeting_id=meeting.id))
    status = 422 if error else (400 if form.errors else 200)
    return render_template("followup/index.html", form=form, meetings=list_meetings(), error=error), status


def _meeting_items(meeting):
    """The meeting's agenda in a stable order: items to review plus those it already decided on."""
    items = {i.id: i for i in items_to_review(Scope.of_meeting(meeting))}
    items.update({d.action_item.id: d.action_item for d in meeting.decisions})
    return sorted(items.values(), key=lambda i: (i.walk_id, i.id))


@bp.route("/meetings/<int:meeting_id>")
def meeting(meeting_id: int):
    """The agenda: every item to go through, with what was decided so far, and the finish form."""
    meeting = get_meeting_or_404(meeting_id)
    items = _meeting_items(meeting)
    decided = {d.action_item_id: d for d in meeting.decisions}
    return render_template("followup/meeting.html", meeting=meeting, items=items, decided=decided,
                           finish_form=FinishForm(formdata=None, notes=meeting.notes))


def _step_page(meeting, items, position, form, error=None, status=200):
    item = items[position]
    transitions = actions.allowed_transitions(current_user, item)
    form.to.choices = [SelectChoice("", _("Oförändrad (%(status)s)", status=label(item.status)))] + [
        SelectChoice(t.value, f"{label(t)} – {TRANSITION_VERBS[t]}") for t in transitions]
    form.responsible_party.choices = party_choices(_("Behåll nuvarande"))
    before = next((p for f in item.findings for p in f.photos), None)
    after = next((p for e in reversed(item.events) if not e.internal for p in reversed(e.photos)), None)
    return render_template(
        "followup/step.html", meeting=meeting, item=item, form=form, error=error, items=items,
        position=position, before=before, after=after,
        previous=items[position - 1] if position else None,
        next=items[position + 1] if position + 1 < len(items) else None,
        decision=next((d for d in meeting.decisions if d.action_item_id == item.id), None),
        map_data=walk_map_data(item.walk, findings=item.findings, places=[]),
        positioned=[f for f in item.findings if f.has_position],
    ), status


@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>", methods=["GET", "POST"])
def step(meeting_id: int, item_id: int):
    """One item in meeting mode: findings, position, before and after photo, and the decision form."""
    meeting = get_meeting_or_404(meeting_id)
    items = _meeting_items(meeting)  # a decided item stays on the agenda, so positions are stable
    position = next((n for n, i in enumerate(items) if i.id == item_id), None)
    if position is None:
        abort(404)
    item = items[position]
    form = DecisionForm()
    if request.method == "GET":
        return _step_page(meeting, items, position, form)
    form.to.choices = [SelectChoice("", "")] + [SelectChoice(s.value, s.value) for s in ActionStatus]
    form.responsible_party.choices = party_choices("")
    if not form.validate_on_submit():
        return _step_page(meeting, items, position, form, error=_("Kontrollera formuläret."), status=400)
    to = (form.to.data or "").strip()  # Optional() lets " " through without the choice check
    try:
        operations.record_decision(
            meeting, item, current_user, text=form.text.data or "",
            to=ActionStatus(to) if to else None, due_date=form.due_date.data,
            party=get_party(form.responsible_party.data))
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        return _step_page(meeting, items, position, form, error=exc.message, status=exc.status)
    flash(_("Beslutet är sparat."), "success")
    if position + 1 < len(items):
        return redirect(url_for("followup.step", meeting_id=meeting.id, item_id=items[position + 1].id))
    return redirect(url_for("followup.meeting", meeting_id=meeting.id) + "#finish")


@bp.post("/meetings/<int:meeting_id>/finish")
def finish(meeting_id: int):
    """End the meeting and go to its protocol."""
    meeting = get_meeting_or_404(meeting_id)
    form = FinishForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.finish_meeting(meeting, current_user, notes=form.notes.data or "")
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("followup.meeting", meeting_id=meeting.id)), 303
    flash(_("Mötet är avslutat. Här är protokollet."), "success")
    return redirect(url_for("followup.protocol", meeting=meeting.id))


def _protocol_scope():
    """The protocol's subject from the query: ?meeting=, ?walk= or ?from=&to= (a period)."""
    args = request.args
    meeting_id, walk_id = query_id("meeting"), query_id("walk")
    if meeting_id:
        meeting = get_meeting_or_404(meeting_id)
        return Scope.of_meeting(meeting), meeting
    if walk_id:
        return Scope(walk=get_walk_or_404(walk_id, current_user)), None
    try:
        start, end = date.fromisoformat(args.get("from", "")), date.fromisoformat(args.get("to", ""))
    except ValueError:
        abort(400, _("Ange en vandring, ett möte eller en period (from och to som ÅÅÅÅ-MM-DD)."))
    problem = period_error(start, end)
    if problem:
        abort(400, problem)
    return Scope(start=start, end=end), None


def _data_uri(photo) -> str | None:
    """The thumbnail inlined for the PDF; None when its file is missing (e.g. a partial restore): the
    protocol is still made, without that photo."""
    try:
        data = photo_store().read(photo.sha256, "thumb")
    except FileNotFoundError:
        current_app.logger.warning("Protocol: the file of photo %s is missing", photo.id)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def _protocol(pdf: bool):
    scope, meeting = _protocol_scope()
    findings = scope.findings()
    items = scope.action_items()
    numbers = {f.id: n for n, f in enumerate(findings, 1)}
    points = [MapPoint(numbers[f.id], f.lat, f.lon, f.category.is_positive) for f in findings if f.has_position]
    decisions = {d.action_item_id: d for d in meeting.decisions} if meeting else {}
    context = dict(
        scope=scope, meeting=meeting, findings=findings, items=items, numbers=numbers, decisions=decisions,
        summary=summarize(findings, items, date.today()), walks=scope.walks,
        map_svg=findings_map(points, _("Karta över fynden, numrerade som i listan"),
                             background=TileBackground.from_config(),
                             attribution=current_app.config["PROTOCOL_TILES_ATTRIBUTION"],
                             max_zoom=current_app.config["PROTOCOL_TILES_MAX_ZOOM"]),
        without_position=len(findings) - len(points), statuses=list(ActionStatus), pdf=pdf,
        photo_src=_data_uri if pdf else (lambda p: url_for("findings.photo", photo_id=p.id, variant="thumb")),
        query=request.args.to_dict(),
    )
    if pdf:
        css = (current_app.static_folder + "/css/report.css")
        with open(css, encoding="utf-8") as stylesheet:
            html = render_template("followup/protocol_pdf.html", stylesheet=stylesheet.read(), **context)
        name = f"protokoll-{meeting.held_on if meeting else date.today()}.pdf"
        return render_pdf(html), 200, {"Content-Type": "application/pdf",
                                       "Content-Disposition": f'attachment; filename="{name}"'}
    return render_template("followup/protocol.html", **context)


@bp.route("/protocol")
def protocol():
    """The protocol on screen (printable): summary, map, every item with photos and timeline."""
    return _protocol(pdf=False)


@bp.route("/protocol.pdf")
def protocol_pdf():
    """The same protocol as a PDF, made on the server without a browser or network."""
    return _protocol(pdf=True)


@bp.route("/dashboard")
def dashboard():
    """Medborgarlöfte: promise vs actual for a year, resolution rate and time, recurring categories."""
    year = query_int("year", date.today().year, 2000, 2100)
    figures = year_figures(year)
    promise_chart = bar_chart(
        [Bar(p.commitment.text, p.actual, p.commitment.target, f"{p.actual} / {p.commitment.target}")
         for p in figures.commitments], _("Löfte och utfall %(year)d", year=year)) if figures.commitments else None
    quarter_chart = bar_chart(
        [Bar(_("K%(q)d skapade", q=q), created) for q, (created, _r) in enumerate(figures.per_quarter, 1)] +
        [Bar(_("K%(q)d åtgärdade", q=q), resolved) for q, (_c, resolved) in enumerate(figures.per_quarter, 1)],
        _("Åtgärder skapade och åtgärdade per kvartal %(year)d", year=year))
    return render_template("followup/dashboard.html", figures=figures, year=year, promise_chart=promise_chart,
                           quarter_chart=quarter_chart, can_edit=can_admin(current_user))


@bp.route("/promise", methods=["GET", "POST"])
def promise():
    """The admin records the year's medborgarlöfte, one line per commitment with a target."""
    if not can_admin(current_user):
        abort(403)
    year = query_int("year", date.today().year, 2000, 2100)
    form = CommitmentForm()
    if request.method == "GET":
        form.year.data = year
    error = None
    if form.validate_on_submit():
        try:
            operations.add_commitment(current_user, year=form.year.data, text=form.text.data,
                                      activity=PromiseActivity(form.activity.data), target=form.target.data,
                                      area=form.area.data or "")
            db.session.commit()
        except OperationError as exc:
            db.session.rollback()
            error = exc.message
        else:
            flash(_("Löftet är sparat."), "success")
            return redirect(url_for("followup.promise", year=form.year.data))
    # A typed year that failed its range check (even 99999999999999999999) is never used in a query.
    shown = form.year.data if form.year.data and not form.year.errors else year
    commitments = db.session.scalars(db.select(PromiseCommitment).filter_by(year=shown)
                                     .order_by(PromiseCommitment.id)).all()
    status = 422 if error else (400 if form.errors else 200)
    return render_template("followup/promise.html", form=form, commitments=commitments, error=error,
                           year=shown), status


@bp.post("/promise/<int:commitment_id>/delete")
def remove_commitment(commitment_id: int):
    """Take a line out of the promise."""
    if not can_admin(current_user):
        abort(403)
    commitment = db.get_or_404(PromiseCommitment, commitment_id)
    year = commitment.year
    operations.remove_commitment(current_user, commitment)
    db.session.commit()
    flash(_("Raden är borttagen."), "success")
    return redirect(url_for("followup.promise", year=year))

