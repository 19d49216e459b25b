"""Log in, log out and switch language."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from fieldwalk.audit import email_fingerprint, record
from fieldwalk.auth.forms import (
    LanguageForm,
    LoginForm,
    LogoutForm,
    PasswordChangeForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from fieldwalk.auth.limits import account_key, failed_login, too_many_attempts, too_many_for_account
from fieldwalk.auth.passwords import check_login
from fieldwalk.auth.queries import get_user_by_email
from fieldwalk.auth.tokens import make_reset_token, read_reset_token
from fieldwalk.extensions import limiter
from fieldwalk.links import external_url
from fieldwalk.mail import queue_mail
from fieldwalk.transactions import commit

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, default: str) -> str:
    """Only follow redirects within this site: a path, without what browsers read as a slash (backslash,
    tabs and newlines are dropped or turned into / by them) and parseable (http://[x is not)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or not target.isprintable()
        or "\\" in target
    ):
        return default
    try:
        netloc = urlsplit(target).netloc
    except ValueError:
        return default
    return default if netloc else target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], error_message=too_many_attempts)
# Per account, wherever the attempts come from: failures only, in widening windows (a back-off).
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    key_func=account_key,
    methods=["POST"],
    deduct_when=failed_login,
    error_message=too_many_for_account,
)
def login():
    """The login page."""
    if current_user.is_authenticated:
        return redirect(url_for("walks.index"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        user = get_user_by_email(form.email.data or "")
        if check_login(user, form.password.data or ""):
            login_user(user)
            record("auth.login", user, actor=user)
            return redirect(safe_next(form.next.data, url_for("walks.index")))
        record("auth.login_failed", user, detail=email_fingerprint(form.email.data or ""))
        commit()  # kept although the answer is a refusal (401): the failed attempt is on record
        form.password.errors = [*form.password.errors, _("Fel e-postadress eller lösenord.")]
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Log out (a POST with CSRF, so no link can log someone out)."""
    form = LogoutForm()
    if form.validate_on_submit():
        current_user.end_sessions()  # a copied session or remember cookie dies with this one
        session.clear()  # nothing of this person stays for the next one on a shared phone
        logout_user()  # after clear(): it marks the remember cookie for deletion in the new session
        flash(_("Du är utloggad."), "info")
        response = redirect(url_for("auth.login"))
        # A shared phone: nothing of this person's may stay for the next one — the HTTP cache and the
        # service worker's caches ("cache"), and IndexedDB and the worker itself ("storage"). But
        # "storage" would also empty the outbox, and a finding not yet sent must never be lost: while
        # the outbox holds findings (the log-out button asked first and says so, outbox.js), only the
        # caches are cleared; those findings are sent only in their maker's session, and the next
        # person sees how many wait, never what they say.
        keep_outbox = form.keep_outbox.data == "1"
        response.headers["Clear-Site-Data"] = '"cache"' if keep_outbox else '"cache", "storage"'
        return response
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language for this session (and the account, when logged in)."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.language.data
        if current_user.is_authenticated:
            current_user.locale = form.language.data
    return redirect(safe_next(form.next.data, url_for("walks.index")))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password (guests have none)."""
    if current_user.is_guest:
        abort(404)
    form = PasswordChangeForm(user=current_user)
    if form.validate_on_submit():
        if current_user.check_password(form.current_password.data):
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)  # also ends every session, this one included
            record("auth.password_changed", user)
            commit()
            login_user(user)  # … so this browser logs in again with the new session token
            flash(_("Lösenordet är bytt."), "success")
            return redirect(url_for("walks.index"))
        form.current_password.errors = [*form.current_password.errors, _("Fel lösenord.")]
    return render_template("account/password.html", form=form), 400 if form.errors else 200


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], error_message=too_many_attempts)
# Per typed address, known or not (no oracle): nobody can fill someone's mailbox with reset mails.
@limiter.limit(
    lambda: current_app.config["RESET_ACCOUNT_RATE_LIMIT"],
    key_func=account_key,
    methods=["POST"],
    error_message=too_many_for_account,
)
def reset_request():
    """Ask for a reset link; the answer is the same whether the address is known or not."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = get_user_by_email(form.email.data or "")
        known = user if user is not None and user.active else None
        if known is not None and known.email:  # found by its address, so it has one
            link = external_url("auth.reset_password", token=make_reset_token(known))
            minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
            queue_mail(
                known.email,
                _("Nytt lösenord till fieldwalk"),
                _(
                    "Hej %(name)s!\n\nÖppna länken för att välja ett nytt lösenord. Den gäller i %(minutes)d "
                    "minuter och kan användas en gång:\n\n%(link)s\n\nHar du inte bett om detta kan du "
                    "strunta i mejlet.",
                    name=known.name,
                    minutes=minutes,
                    link=link,
                ),
                str(get_locale()),
            )
        # One audit row either way (unknown: without the typed address), so both answers cost the same.
        record("auth.reset_requested", known, actor=known)
        flash(_("Om adressen finns hos oss har vi skickat en länk för att välja nytt lösenord."), "info")
        return redirect(url_for("auth.login"))
    return render_template("account/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an e-mailed link; expired or used links are refused clearly."""
    user = read_reset_token(token)
    if user is None:
        return render_template("account/reset_invalid.html"), 400
    form = ResetPasswordForm(user=user)
    if form.validate_on_submit():
        user.set_password(form.new_password.data)
        record("auth.password_reset", user, actor=user)
        flash(_("Lösenordet är bytt. Logga in med det nya."), "success")
        return redirect(url_for("auth.login"))
    return render_template("account/reset_password.html", form=form), 400 if form.errors else 200
