"""Action item pages: the filtered list, create from findings, the item with its timeline, changes."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from fieldwalk.actions import operations, workflow
from fieldwalk.actions.filters import ActionFilters
from fieldwalk.actions.forms import ActionItemForm, CommentForm, TransitionForm
from fieldwalk.actions.queries import (
    WITH_FINDINGS_AND_EVENTS,
    ListRowPagination,
    action_items_query,
    get_action_or_404,
    get_party,
)
from fieldwalk.extensions import db
from fieldwalk.http_errors import OperationError, on_operation_error, rerender_on_error
from fieldwalk.models import ActionStatus, Finding
from fieldwalk.permissions import can_edit_action, can_list_actions, can_triage, can_view_walk
from fieldwalk.photos.service import process_uploads
from fieldwalk.query_args import query_id, query_ids, query_page

bp = Blueprint("actions", __name__, url_prefix="/actions")


def _one_photo(upload):
    photos = process_uploads([upload] if upload else [])
    return photos[0] if photos else None


@bp.route("/")
@login_required
def index():
    """Action items with filters: walk, status, category, responsible party, overdue."""
    if not can_list_actions(current_user):
        abort(403)
    filters = ActionFilters(request.args, current_user)
    query = action_items_query(current_user, **filters.query_filters(), with_findings=False)
    page = ListRowPagination(page=query_page(), per_page=50, error_out=False, select=query, session=db.session)
    # Only the filters travel on to the pager and the download links (a stray ?fmt= or ?_external= would
    # clash with url_for's own arguments).
    return render_template("actions/index.html", filters=filters, page=page, filter_args=filters.link_args())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Turn the chosen findings (?finding=1&finding=2) into one action item."""
    ids = query_ids("finding", request.values)
    walk_id = query_id("walk")
    if not ids and walk_id:
        flash(_("Välj minst ett fynd."), "error")
        return redirect(url_for("walks.detail", walk_id=walk_id) + "#findings")
    findings = list(db.session.scalars(select(Finding).where(Finding.id.in_(ids)))) if ids else []
    if not findings or len(findings) != len(set(ids)):
        abort(404)
    walk = findings[0].walk
    if not can_view_walk(current_user, walk):
        abort(404)
    if not can_triage(current_user, walk):
        abort(403)
    form = ActionItemForm()
    if request.method == "GET":
        form.propose(findings)
    page = {"form": form, "findings": findings, "walk": walk, "item": None}
    if form.validate_on_submit():
        rerender_on_error("actions/form.html", **page)
        item = operations.create_action_item(findings, current_user, form.to_input())
        flash(_("Åtgärden är skapad."), "success")
        return redirect(url_for("actions.detail", item_id=item.id))
    return render_template("actions/form.html", error=None, **page), 400 if form.errors else 200


def _detail_page(item, comment_form=None, error=None, status=200):
    transitions = operations.allowed_transitions(current_user, item)
    keep = _("Behåll nuvarande") if item.responsible_party else _("Välj ansvarig part")
    comment_form = (comment_form or CommentForm(formdata=None)).offer(transitions, keep)
    return render_template(
        "actions/detail.html",
        item=item,
        walk=item.walk,
        error=error,
        transitions=transitions,
        may_assign=ActionStatus.ASSIGNED in transitions,
        comment_form=comment_form,
        text_needed_sometimes=any(workflow.needs_text(item.status, to) for to in transitions),
    ), status


@bp.route("/<int:item_id>")
@login_required
def detail(item_id: int):
    """An action item: its findings with before-photos, status, the timeline and the one form to add to it."""
    return _detail_page(get_action_or_404(item_id, current_user, WITH_FINDINGS_AND_EVENTS))


@bp.post("/<int:item_id>/transition")
@login_required
def transition(item_id: int):
    """Move the item to another status (kept for scripts and old pages; the item page posts to comment)."""
    item = get_action_or_404(item_id, current_user)
    form = TransitionForm()
    typed = CommentForm()  # the item page's form, filled with what was posted: a refusal keeps the text

    def refused(message: str, status: int = 200):
        return _detail_page(item, comment_form=typed, error=message, status=status)

    if not form.validate_on_submit():
        return refused(_("Kontrollera formuläret."), 400)
    try:
        to = ActionStatus(form.to.data or "")
    except ValueError:
        return refused(_("Okänd status."), 400)
    on_operation_error(lambda error: refused(error.message))
    operations.transition(
        item,
        to,
        current_user,
        text=form.text.data or "",
        responsible_party=get_party(form.responsible_party.data),
        photo=_one_photo(form.photo.data),
    )
    flash(_("Status ändrad."), "success")
    return redirect(url_for("actions.detail", item_id=item.id))


@bp.post("/<int:item_id>/comment")
@login_required
def comment(item_id: int):
    """The item page's one form: a comment and/or photo, and optionally a status change with it."""
    item = get_action_or_404(item_id, current_user)
    form = CommentForm()  # any status: whether this user may make this move is the operation's decision
    if not form.validate_on_submit():
        return _detail_page(item, comment_form=form, error=_("Kontrollera formuläret."), status=400)
    to = (form.to.data or "").strip()
    on_operation_error(lambda error: _detail_page(item, comment_form=form, error=error.message))
    photo = _one_photo(form.photo.data)
    if to:
        if form.internal.data:
            raise OperationError(
                _(
                    "En statusändring syns för alla. Ta bort markeringen för intern "
                    "anteckning eller spara anteckningen utan statusändring."
                ),
                status=422,
            )
        operations.transition(
            item,
            ActionStatus(to),
            current_user,
            text=form.text.data or "",
            responsible_party=get_party(form.responsible_party.data),
            photo=photo,
        )
    else:
        operations.add_comment(item, current_user, form.text.data or "", photo=photo, internal=bool(form.internal.data))
    flash(_("Status ändrad.") if to else _("Kommentaren är sparad."), "success")
    return redirect(url_for("actions.detail", item_id=item.id) + "#timeline")


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    """Change title, text, responsible party, due date and priority; recorded on the timeline."""
    item = get_action_or_404(item_id, current_user)
    if not can_edit_action(current_user, item):
        abort(403)
    form = ActionItemForm(obj=item)
    if request.method == "GET":
        form.responsible_party.data = item.responsible_party_id or 0
        form.assignee.data = item.assignee_id or 0
        form.priority.data = item.priority.value
    page = {"form": form, "findings": item.findings, "walk": item.walk, "item": item}
    if form.validate_on_submit():
        rerender_on_error("actions/form.html", **page)
        operations.update_action_item(item, current_user, **form.to_input().changes())
        flash(_("Ändringarna är sparade."), "success")
        return redirect(url_for("actions.detail", item_id=item.id))
    return render_template("actions/form.html", error=None, **page), 400 if form.errors else 200
