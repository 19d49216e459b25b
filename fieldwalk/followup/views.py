"""Follow-up pages: meetings (step through the open items), protocols on screen and as PDF, the dashboard."""

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wsgi import wrap_file

from fieldwalk.actions import operations as actions
from fieldwalk.actions.forms import ActionItemForm
from fieldwalk.actions.queries import get_party
from fieldwalk.auth.forms import EmptyForm
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings_ops
from fieldwalk.findings.forms import NoActionForm
from fieldwalk.followup import operations, protocol_files
from fieldwalk.followup.charts import Bar, bar_chart
from fieldwalk.followup.dashboard import year_figures
from fieldwalk.followup.forms import CommitmentForm, DecisionForm, FinishForm, MeetingForm
from fieldwalk.followup.layout import render_pdf
from fieldwalk.followup.promises import year_progress
from fieldwalk.followup.protocol import (
    attachment_header,
    protocol_context,
    protocol_file_name,
    protocol_pdf_html,
    protocol_title,
)
from fieldwalk.followup.queries import (
    Scope,
    get_meeting_or_404,
    items_to_review,
    list_meetings,
    period_error,
    quarter_of,
)
from fieldwalk.gc_threshold import fewer_gc_passes
from fieldwalk.http_errors import OperationError, on_operation_error, redirect_on_error, rerender_on_error
from fieldwalk.models import ActionStatus, Category, Finding, PromiseCommitment, PromiseKind, ProtocolFileState
from fieldwalk.permissions import can_edit_promise, can_follow_up
from fieldwalk.query_args import link_args, query_id, query_ids, query_int
from fieldwalk.walks.map_data import walk_map_data
from fieldwalk.walks.queries import get_walk_or_404

bp = Blueprint("followup", __name__, url_prefix="/followup")


@bp.before_request
@login_required
def _staff_only():
    """Follow-up is the coordinators' work: everyone else gets 403 (anonymous users log in first)."""
    if not can_follow_up(current_user):
        abort(403)


def _meeting_form() -> MeetingForm:
    form = MeetingForm(user=current_user)
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

    def page(error: OperationError | None = None):
        message = error.message if error else None
        return render_template("followup/index.html", form=form, meetings=list_meetings(), error=message)

    if form.validate_on_submit():
        assert form.held_on.data is not None  # DataRequired
        by_walk = form.scope.data == "walk"
        walk = get_walk_or_404(form.walk.data, current_user) if by_walk and form.walk.data else None
        on_operation_error(page)
        meeting = operations.create_meeting(
            current_user,
            held_on=form.held_on.data,
            walk=walk,
            title=form.title.data or "",
            attendees=form.attendees.data or "",
            period_start=None if by_walk else form.period_start.data,
            period_end=None if by_walk else form.period_end.data,
        )
        return redirect(url_for("followup.meeting", meeting_id=meeting.id))
    return page(), 400 if form.errors else 200


def _meeting_items(meeting):
    """The meeting's agenda in a stable order: items to review plus those it already decided on."""
    items = {i.id: i for i in items_to_review(Scope.of_meeting(meeting))}
    items.update({d.action_item.id: d.action_item for d in meeting.decisions})
    return sorted(items.values(), key=lambda i: (i.walk_id, i.id))


@bp.route("/meetings/<int:meeting_id>")
def meeting(meeting_id: int):
    """The agenda: findings nobody has decided on yet, every item to go through with what was decided so
    far, and the finish form."""
    meeting = get_meeting_or_404(meeting_id)
    items = _meeting_items(meeting)
    decided = {d.action_item_id: d for d in meeting.decisions}
    return render_template(
        "followup/meeting.html",
        meeting=meeting,
        items=items,
        decided=decided,
        untriaged=Scope.of_meeting(meeting).untriaged_findings(),
        finish_form=FinishForm(formdata=None, notes=meeting.notes),
    )


def _triage_page(meeting, finding, untriaged, item_form=None, none_form=None, error=None, status=200):
    item_form = item_form or ActionItemForm(formdata=None, prefix="item")
    if item_form.title.data is None:  # proposed like the action item form proposes
        item_form.propose([finding])
    position = next(n for n, f in enumerate(untriaged) if f.id == finding.id)
    return render_template(
        "followup/triage.html",
        meeting=meeting,
        finding=finding,
        untriaged=untriaged,
        position=position,
        same_walk=[f for f in untriaged if f.walk_id == finding.walk_id and f.id != finding.id],
        also=set(query_ids("also", request.form)) if request.method == "POST" else set(),
        item_form=item_form,
        none_form=none_form or NoActionForm(formdata=None, prefix="none"),
        error=error,
        next=untriaged[position + 1] if position + 1 < len(untriaged) else None,
    ), status


@bp.route("/meetings/<int:meeting_id>/findings/<int:finding_id>", methods=["GET", "POST"])
def triage(meeting_id: int, finding_id: int):
    """A finding nobody has decided on, in meeting mode: make an action item of it (and of others from the
    same walk), or mark that no action is needed and why; then on to the next one."""
    meeting = get_meeting_or_404(meeting_id)
    scope = Scope.of_meeting(meeting)
    untriaged = scope.untriaged_findings()
    finding = next((f for f in untriaged if f.id == finding_id), None)
    if finding is None:
        done = db.session.get(Finding, finding_id)
        if done is None or done.walk_id not in {w.id for w in scope.walks}:
            abort(404)
        flash(_("Fyndet har redan ett beslut."), "info")  # e.g. decided in another tab
        return redirect(url_for("followup.meeting", meeting_id=meeting.id) + "#untriaged")
    if request.method == "GET":
        return _triage_page(meeting, finding, untriaged)
    if meeting.finished_at is not None:
        return _triage_page(meeting, finding, untriaged, error=_("Mötet är avslutat."), status=409)
    item_form, none_form = ActionItemForm(prefix="item"), NoActionForm(prefix="none")
    no_action = request.form.get("decision") == "no_action"

    def refused(error: OperationError):
        if no_action:
            none_form.note.errors = list(none_form.note.errors) or [error.message]
        return _triage_page(meeting, finding, untriaged, item_form=item_form, none_form=none_form, error=error.message)

    on_operation_error(refused)
    if no_action:
        if not none_form.validate_on_submit():
            raise OperationError(_("Kontrollera formuläret."), status=400)
        findings_ops.set_no_action(finding, current_user, True, none_form.note.data or "")
        message = _("Fyndet är markerat: ingen åtgärd behövs.")
    else:
        if not item_form.validate_on_submit():
            raise OperationError(_("Kontrollera de markerade fälten."), status=400)
        others = [
            f
            for f in untriaged
            if f.id in set(query_ids("also", request.form)) and f.walk_id == finding.walk_id and f.id != finding.id
        ]
        actions.create_action_item([finding, *others], current_user, item_form.to_input())
        message = _("Åtgärden är skapad.")
    flash(message, "success")
    remaining = scope.untriaged_findings()
    if remaining:
        ids = [f.id for f in untriaged]
        after = set(ids[ids.index(finding.id) + 1 :])
        later = [f for f in remaining if f.id in after]  # on down the list, then round to those skipped
        return redirect(url_for("followup.triage", meeting_id=meeting.id, finding_id=(later or remaining)[0].id))
    return redirect(url_for("followup.meeting", meeting_id=meeting.id) + "#untriaged")


def _step_page(meeting, items, position, form, error=None, status=200):
    item = items[position]
    transitions = actions.allowed_transitions(current_user, item)
    form.offer(item, transitions)
    before = next((p for f in item.findings for p in f.photos), None)
    after = next((p for e in reversed(item.events) if not e.internal for p in reversed(e.photos)), None)
    return render_template(
        "followup/step.html",
        meeting=meeting,
        item=item,
        form=form,
        error=error,
        items=items,
        position=position,
        before=before,
        after=after,
        previous=items[position - 1] if position else None,
        next=items[position + 1] if position + 1 < len(items) else None,
        decision=next((d for d in meeting.decisions if d.action_item_id == item.id), None),
        untriaged=Scope.of_meeting(meeting).untriaged_findings(),
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
    if not form.validate_on_submit():
        return _step_page(meeting, items, position, form, error=_("Kontrollera formuläret."), status=400)
    to = (form.to.data or "").strip()  # Optional() lets " " through without the choice check
    on_operation_error(lambda error: _step_page(meeting, items, position, form, error=error.message))
    operations.record_decision(
        meeting,
        item,
        current_user,
        text=form.text.data or "",
        to=ActionStatus(to) if to else None,
        due_date=form.due_date.data,
        party=get_party(form.responsible_party.data),
    )
    flash(_("Beslutet är sparat."), "success")
    if position + 1 < len(items):
        return redirect(url_for("followup.step", meeting_id=meeting.id, item_id=items[position + 1].id))
    untriaged = Scope.of_meeting(meeting).untriaged_findings()
    if untriaged:  # the items are done; the findings nobody decided on come before finishing
        return redirect(url_for("followup.triage", meeting_id=meeting.id, finding_id=untriaged[0].id))
    return redirect(url_for("followup.meeting", meeting_id=meeting.id) + "#finish")


@bp.post("/meetings/<int:meeting_id>/finish")
def finish(meeting_id: int):
    """End the meeting and go to its protocol."""
    meeting = get_meeting_or_404(meeting_id)
    form = FinishForm()
    if not form.validate_on_submit():
        abort(400)
    redirect_on_error(url_for("followup.meeting", meeting_id=meeting.id))
    operations.finish_meeting(meeting, current_user, notes=form.notes.data or "")
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


def _protocol(pdf: bool):
    scope, meeting = _protocol_scope()
    with fewer_gc_passes():  # a period's thousands of items, read and rendered
        context = protocol_context(scope, meeting, pdf, link_args())
        if pdf:
            return _protocol_pdf(scope, meeting, context)
        return render_template("followup/protocol.html", made_by_job=protocol_files.made_by_job(scope), **context)


def _protocol_pdf(scope: Scope, meeting, context: dict):
    """The protocol as a tagged PDF/UA file named for its walk or period, never kept by a cache."""
    html = protocol_pdf_html(scope, meeting, context, author=current_user.name)
    # Names, comments and photos of the walk: for the person who asked, not for shared caches.
    return (
        render_pdf(html),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": attachment_header(protocol_file_name(scope, meeting)),
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/protocol")
def protocol():
    """The protocol on screen (printable): summary, map, every item with photos and timeline."""
    return _protocol(pdf=False)


@bp.route("/protocol.pdf")
def protocol_pdf():
    """The same protocol as a PDF, made on the server without a browser or network: at once for a walk of
    ordinary size, else (every period, a very large walk) the page that has it made in the background."""
    scope, meeting = _protocol_scope()
    if protocol_files.made_by_job(scope):
        return render_template(
            "followup/protocol_file_ask.html", title=protocol_title(scope, meeting), query=link_args()
        )
    return _protocol_pdf(scope, meeting, protocol_context(scope, meeting, True, link_args()))


@bp.post("/protocol-files")
def protocol_file_create():
    """Have the protocol's PDF made by a job (the scope in the query, as for the protocol itself), or join
    the one already being made for this person; then follow it on its page."""
    if not EmptyForm().validate_on_submit():
        abort(400, _("Formuläret hade gått ut. Ladda om sidan och försök igen."))
    scope, meeting = _protocol_scope()
    row = protocol_files.request_protocol_file(current_user, scope, meeting, str(get_locale()))
    return redirect(url_for("followup.protocol_file", file_id=row.id), code=303)


@bp.route("/protocol-files/<int:file_id>")
def protocol_file(file_id: int):
    """How far the PDF has come (the page reloads itself while it is made; no JavaScript needed), and the
    download link when it is ready."""
    row = protocol_files.get_protocol_file_or_404(file_id, current_user)
    lost = protocol_files.is_lost(row)
    return render_template(
        "followup/protocol_file.html",
        row=row,
        lost=lost,
        expired=protocol_files.is_expired(row),
        expires_at=protocol_files.expires_at(row),
        states=ProtocolFileState,
        refresh=row.is_pending and not lost,
    )


@bp.route("/protocol-files/<int:file_id>/download")
def protocol_file_download(file_id: int):
    """The finished PDF, to the person who asked for it only, never kept by a cache."""
    row = protocol_files.get_protocol_file_or_404(file_id, current_user)
    if row.state == ProtocolFileState.FAILED or protocol_files.is_lost(row):
        abort(409, _("PDF:en kunde inte göras. Gör en ny från protokollet."))
    if row.state != ProtocolFileState.DONE or not row.file_key:
        abort(409, _("PDF:en är inte klar än."))
    if protocol_files.is_expired(row):
        abort(410, _("PDF:en har tagits bort. Gör en ny från protokollet."))
    try:
        stream, size = protocol_files.protocol_store().open_file(row.file_key)
    except FileNotFoundError:
        abort(410, _("PDF:en har tagits bort. Gör en ny från protokollet."))
    response = Response(wrap_file(request.environ, stream), mimetype="application/pdf", direct_passthrough=True)
    response.content_length = size
    response.headers["Content-Disposition"] = attachment_header(row.file_name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/dashboard")
def dashboard():
    """Medborgarlöfte: promise vs actual for a year, resolution rate and time, recurring categories."""
    year = query_int("year", date.today().year, 2000, 2100)
    figures = year_figures(year)
    promise_chart = (
        bar_chart(
            # Each bar is drawn against its own target (walks, quarters and percentages share no scale); a bar
            # stops at a target it passed, so its label stays on the chart.
            [
                Bar(p.commitment.text, 100 * min((p.actual or 0) / p.commitment.target, 1), 100, p.shown)
                for p in figures.commitments
            ],
            _("Löfte och utfall %(year)d", year=year),
        )
        if figures.commitments
        else None
    )
    quarter_chart = bar_chart(
        [Bar(_("K%(q)d skapade", q=q), created) for q, (created, _r) in enumerate(figures.per_quarter, 1)]
        + [Bar(_("K%(q)d åtgärdade", q=q), resolved) for q, (_c, resolved) in enumerate(figures.per_quarter, 1)],
        _("Åtgärder skapade och åtgärdade per kvartal %(year)d", year=year),
    )
    return render_template(
        "followup/dashboard.html",
        figures=figures,
        year=year,
        promise_chart=promise_chart,
        quarter_chart=quarter_chart,
        can_edit=can_edit_promise(current_user),
    )


def _commitment_form(commitment: PromiseCommitment | None = None) -> CommitmentForm:
    form = CommitmentForm(obj=commitment) if commitment else CommitmentForm()
    if commitment is not None and request.method == "GET":
        form.kind.data, form.category_id.data = commitment.kind.value, commitment.category_id or 0
    return form


def _save_commitment(form: CommitmentForm, commitment: PromiseCommitment | None) -> None:
    """Add or change the line."""
    fields: dict[str, Any] = dict(  # validated: the required ones are there
        year=form.year.data,
        text=form.text.data,
        kind=PromiseKind(form.kind.data),
        target=form.target.data,
        days=form.days.data,
        area=form.area.data or "",
        category=db.session.get(Category, form.category_id.data) if form.category_id.data else None,
    )
    if commitment is None:
        operations.add_commitment(current_user, **fields)
    else:
        operations.update_commitment(current_user, commitment, **fields)


@bp.route("/promise", methods=["GET", "POST"])
def promise():
    """Admins and coordinators record the year's medborgarlöfte, one line per commitment with a target."""
    if not can_edit_promise(current_user):
        abort(403)
    year = query_int("year", date.today().year, 2000, 2100)
    form = _commitment_form()
    if request.method == "GET":
        form.year.data = year

    def page(error: OperationError | None = None):
        # A typed year that failed its range check (even 99999999999999999999) is never used in a query.
        shown = form.year.data if form.year.data and not form.year.errors else year
        message = error.message if error else None
        return render_template(
            "followup/promise.html",
            form=form,
            progress=year_progress(shown),
            error=message,
            year=shown,
            commitment=None,
        )

    if form.validate_on_submit():
        on_operation_error(page)
        _save_commitment(form, None)
        flash(_("Löftet är sparat."), "success")
        return redirect(url_for("followup.promise", year=form.year.data))
    return page(), 400 if form.errors else 200


@bp.route("/promise/<int:commitment_id>/edit", methods=["GET", "POST"])
def edit_commitment(commitment_id: int):
    """Change one line of the promise."""
    if not can_edit_promise(current_user):
        abort(403)
    commitment = db.get_or_404(PromiseCommitment, commitment_id)
    form = _commitment_form(commitment)
    page = {"form": form, "commitment": commitment, "year": commitment.year}
    if form.validate_on_submit():
        rerender_on_error("followup/promise_edit.html", **page)
        _save_commitment(form, commitment)
        flash(_("Löftet är sparat."), "success")
        return redirect(url_for("followup.promise", year=commitment.year))
    return render_template("followup/promise_edit.html", error=None, **page), 400 if form.errors else 200


@bp.post("/promise/<int:commitment_id>/delete")
def remove_commitment(commitment_id: int):
    """Take a line out of the promise."""
    if not can_edit_promise(current_user):
        abort(403)
    commitment = db.get_or_404(PromiseCommitment, commitment_id)
    year = commitment.year
    operations.remove_commitment(current_user, commitment)
    flash(_("Raden är borttagen."), "success")
    return redirect(url_for("followup.promise", year=year))
