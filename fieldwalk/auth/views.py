"""Log in, log out and switch language."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from fieldwalk.audit import record
from fieldwalk.auth.forms import EmptyForm, LanguageForm, LoginForm
from fieldwalk.extensions import db, limiter
from fieldwalk.models import User

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, default: str) -> str:
    """Only follow redirects within this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return default


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """The login page."""
    if current_user.is_authenticated:
        return redirect(url_for("walks.index"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        )
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            record("auth.login", user, actor=user)
            db.session.commit()
            return redirect(safe_next(form.next.data, url_for("walks.index")))
        record("auth.login_failed", user, detail=form.email.data.strip().lower()[:254])
        db.session.commit()
        form.password.errors.append(_("Fel e-postadress eller lösenord."))
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Log out (a POST with CSRF, so no link can log someone out)."""
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language for this session (and the account, when logged in)."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.language.data
        if current_user.is_authenticated:
            current_user.locale = form.language.data
            db.session.commit()
    return redirect(safe_next(form.next.data, url_for("walks.index")))
