"""Admin pages: users and roles, categories, responsible parties, audit log, failed jobs, personal data."""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldwalk.actions.queries import get_party
from fieldwalk.admin import operations
from fieldwalk.admin.forms import CategoryForm, NewUserForm, PartyForm, UserForm
from fieldwalk.audit import record
from fieldwalk.auth.forms import EmptyForm
from fieldwalk.extensions import db
from fieldwalk.http_errors import redirect_on_error, rerender_on_error
from fieldwalk.models import AuditEntry, Category, FailedJob, ResponsibleParty, Role, User
from fieldwalk.permissions import can_admin
from fieldwalk.query_args import query_page
from fieldwalk.transactions import commit, savepoint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def admins_only():
    """Every page here is for administrators."""
    if not can_admin(current_user):
        abort(403)


@bp.route("/users")
def users():
    """Every account, guests last."""
    rows = db.session.scalars(select(User).order_by(User.email.is_(None), User.name)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int | None = None):
    """Create an account, or change a user's name, role, party and whether it is active."""
    account = db.get_or_404(User, user_id) if user_id else None
    form = (UserForm if account else NewUserForm)(obj=account)
    if request.method == "GET":
        form.role.data = (account.role if account else Role.PARTICIPANT).value
        form.responsible_party.data = account.responsible_party_id or 0 if account else 0
        form.active.data = account.active if account else True
    if form.validate_on_submit():
        fields = {
            "name": (form.name.data or "").strip(),
            "organisation": (form.organisation.data or "").strip(),
            "role": Role(form.role.data),
            "responsible_party": get_party(form.responsible_party.data),
            "active": bool(form.active.data),
        }
        rerender_on_error("admin/user.html", form=form, account=account)
        if account:
            operations.update_user(account, current_user, **fields)
        else:
            operations.create_account(current_user, form.email.data, **fields)
        flash(_("Kontot är sparat."), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, account=account, error=None), 400 if form.errors else 200


@bp.get("/users/<int:user_id>/export.json")
def export(user_id: int):
    """Download everything stored about a person (GDPR art. 15)."""
    data = operations.export_person(db.get_or_404(User, user_id))
    response = jsonify(data)
    response.headers["Content-Disposition"] = f'attachment; filename="person-{user_id}.json"'
    return response


@bp.post("/users/<int:user_id>/erase")
def erase(user_id: int):
    """Erase a person's personal data; their findings remain, attributed to 'borttagen deltagare'."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    redirect_on_error(url_for("admin.users"))
    erasure = operations.erase_person(db.get_or_404(User, user_id), current_user)
    commit()  # the outbox mails go once the erasure is stored
    operations.finish_erasure(erasure)
    flash(_("Personuppgifterna är raderade."), "success")
    return redirect(url_for("admin.users"))


def _reference_page(model, form_class, obj_id, template, back, fill=None, read=None, taken=None):
    """Create or edit one row of reference data (a category or a responsible party). `taken(form, obj)` says
    why the typed values clash with another row where no unique constraint can (None when they do not)."""
    obj = db.get_or_404(model, obj_id) if obj_id else None
    form = form_class(obj=obj)
    if fill:
        fill(form, obj)
    if form.validate_on_submit():
        clash = taken(form, obj) if taken else None
        if clash:
            return render_template(template, form=form, obj=obj, error=clash), 409
        try:
            with savepoint():  # a name (or slug) another row has: refused, the typed values kept
                obj = obj or model()
                form.populate_obj(obj)
                if read:
                    read(form, obj)
                db.session.add(obj)
                db.session.flush()
        except IntegrityError:
            message = _("Det finns redan en post med det namnet. Välj ett annat namn.")
            return render_template(template, form=form, obj=obj if obj_id else None, error=message), 409
        record(f"{model.__tablename__}.saved", obj)
        flash(_("Sparat."), "success")
        return redirect(url_for(back))
    return render_template(template, form=form, obj=obj), 400 if form.errors else 200


@bp.route("/categories")
def categories():
    """Finding categories with icon and default party."""
    rows = db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)).all()
    return render_template("admin/categories.html", categories=rows)


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category(category_id: int | None = None):
    """Create or edit a category."""

    def fill(form, obj):
        if request.method == "GET":
            form.default_party_id.data = obj.default_party_id or 0 if obj else 0

    def read(form, obj):
        obj.default_party_id = form.default_party_id.data or None
        if not obj.slug:
            obj.slug = f"category-{db.session.execute(select(db.func.count(Category.id))).scalar_one() + 1}"

    def taken(form, obj):
        # In Python, not SQL: SQLite's lower() leaves Å, Ä and Ö as they are; there are only a few categories.
        # "Ny  kat" and "Ny kat" look the same on the phone's category grid: runs of spaces count as one.
        def key(name: str | None) -> str:
            return " ".join((name or "").split()).casefold()

        typed = {key(form.name_sv.data), key(form.name_en.data)}
        others = db.session.execute(select(Category.id, Category.name_sv, Category.name_en)).all()
        if any(typed & {key(sv), key(en)} for id_, sv, en in others if obj is None or id_ != obj.id):
            return _("Det finns redan en kategori med det namnet. Välj ett annat namn.")
        return None

    return _reference_page(
        Category, CategoryForm, category_id, "admin/category.html", "admin.categories", fill, read, taken
    )


@bp.route("/parties")
def parties():
    """Responsible parties."""
    rows = db.session.scalars(select(ResponsibleParty).order_by(ResponsibleParty.name)).all()
    return render_template("admin/parties.html", parties=rows)


@bp.route("/parties/new", methods=["GET", "POST"])
@bp.route("/parties/<int:party_id>", methods=["GET", "POST"])
def party(party_id: int | None = None):
    """Create or edit a responsible party."""
    return _reference_page(ResponsibleParty, PartyForm, party_id, "admin/party.html", "admin.parties")


@bp.route("/audit")
def audit():
    """The audit log, newest first."""
    page = db.paginate(
        select(AuditEntry).order_by(AuditEntry.id.desc()), page=query_page(), per_page=100, error_out=False
    )
    return render_template("admin/audit.html", page=page)


# What a failed job was, by its function; other jobs show the function's path.
JOB_KINDS = {"fieldwalk.mail.send_mail": _l("E-post"), "fieldwalk.notifications.remind": _l("Påminnelser")}


@bp.get("/jobs")
def failed_jobs():
    """Jobs that failed on every attempt (mail that did not go out), newest first."""
    page = db.paginate(
        select(FailedJob).order_by(FailedJob.id.desc()), page=query_page(), per_page=100, error_out=False
    )
    return render_template("admin/jobs.html", page=page, kinds=JOB_KINDS)


@bp.post("/jobs/<int:job_id>/retry")
def retry_job(job_id: int):
    """Run a failed job again (after the response, or on the worker)."""
    return _on_failed_job(job_id, operations.retry_failed_job, _("Jobbet körs igen."))


@bp.post("/jobs/<int:job_id>/dismiss")
def dismiss_job(job_id: int):
    """Remove a failed job from the list."""
    return _on_failed_job(job_id, operations.dismiss_failed_job, _("Jobbet är borttaget ur listan."))


def _on_failed_job(job_id: int, operation, message: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    operation(db.get_or_404(FailedJob, job_id), current_user)
    flash(message, "success")
    return redirect(url_for("admin.failed_jobs"))
