"""HTTP hardening: security headers and Content-Security-Policy, proxy headers, rate limits, NUL refused,
caching rules for pages, and the Werkzeug debugger kept off the network."""

import ipaddress
from urllib.parse import urlsplit

import click
from flask import Flask, Response, abort, request
from flask.cli import get_debug_flag
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext as _
from flask_login import current_user
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldwalk import permissions
from fieldwalk.extensions import db, limiter
from fieldwalk.http_errors import ERROR_TEXTS, error_json, wants_json
from fieldwalk.models import Walk
from fieldwalk.storable_text import NUL_MESSAGE, unstorable

# Pages a phone may keep for use without network (endpoint → page kind in permissions.can_keep_offline).
OFFLINE_PAGES = {"findings.capture": "capture", "walks.detail": "walk"}


def tile_source(tile_url: str) -> str:
    """The CSP source that admits the configured map tiles ({s}.tile… becomes *.tile…)."""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}"


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def refuse_network_debugger() -> None:
    """Stop `flask run` before it listens when the debugger would be on a non-loopback address: the
    debugger runs any Python for whoever sees its page (a guest only needs to cause one error)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run" or "host" not in ctx.params:
        return
    debugger = ctx.params.get("debugger")
    if debugger is None:
        debugger = get_debug_flag()
    host = ctx.params["host"]
    if debugger and not is_loopback(host):
        raise click.UsageError(
            f"The Werkzeug debugger must not listen on {host}: anyone who reaches it can run code. "
            "Use --no-debug (as `make run-https` does) or --host 127.0.0.1."
        )


def _refuse_debugger_off_loopback():
    """Second lock for servers not started by `flask run`: a debugger wrapping the app (it marks the
    environ) on a non-loopback address gets no page at all, so no error can open it."""
    if "werkzeug.debug.preserve_context" in request.environ and not is_loopback(request.environ.get("SERVER_NAME", "")):
        return (
            "Refused: the Werkzeug debugger is on and the server listens on the network. Restart without --debug.",
            503,
            {"Content-Type": "text/plain; charset=utf-8"},
        )
    return None


def _offline_page(response: Response) -> bool:
    """This answer is a page the current user may keep on the phone (see OFFLINE_PAGES)."""
    page = OFFLINE_PAGES.get(request.endpoint or "")
    if page is None or request.method != "GET" or response.status_code != 200 or not current_user.is_authenticated:
        return False
    walk = db.session.get(Walk, (request.view_args or {}).get("walk_id"))
    return walk is not None and permissions.can_keep_offline(current_user, walk, page)


def cache_headers(response: Response) -> Response:
    """Nothing the app answers is stored by a browser or proxy (`no-store`: staff pages, reporter names,
    join links, exports, API data), except the pages a phone may keep offline: `private, no-cache` and
    `X-Fieldwalk-Offline: 1`, the only pages the service worker keeps. Static files and answers that set
    their own Cache-Control (photos, the service worker, the manifest) keep theirs."""
    if request.endpoint == "static" or "Cache-Control" in response.headers:
        return response
    if _offline_page(response):
        response.headers["Cache-Control"] = "private, no-cache"
        response.headers["X-Fieldwalk-Offline"] = "1"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def _nul_in(value) -> bool:
    """True when a string, or any key or string inside a JSON value, holds a NUL or a lone surrogate."""
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def _fields_with_nul() -> list[str]:
    """Where the request carries a NUL: path parts, query parameters, JSON members, url-encoded form fields.

    Multipart bodies (photos) are left to the view, which parses them with its own size handling; the
    text in them is checked before it is written (fieldwalk.extensions' flush guard).
    """
    fields = [name for name, value in (request.view_args or {}).items() if _nul_in(value)]
    fields += [name for name, value in request.args.items(multi=True) if _nul_in(name) or _nul_in(value)]
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the JSON parser goes: no client of ours sends that
            abort(400)
        if isinstance(body, dict):
            fields += [name for name, value in body.items() if _nul_in(name) or _nul_in(value)]
        elif _nul_in(body):
            fields.append("json")
    elif request.mimetype == "application/x-www-form-urlencoded":
        fields += [name for name, value in request.form.items(multi=True) if _nul_in(name) or _nul_in(value)]
    return fields


def refuse_nul():
    """Refuse a request with a NUL character in it (PostgreSQL cannot store or even compare one)."""
    fields = _fields_with_nul()
    if not fields:
        return None
    if wants_json():
        return error_json(
            "unprocessable_entity",
            ERROR_TEXTS[422],
            422,
            fields={name.replace("\x00", "?"): str(NUL_MESSAGE) for name in fields},
        )
    names = ", ".join(name.replace("\x00", "?") for name in fields)
    abort(400, _("Fältet %(names)s: %(message)s", names=names, message=NUL_MESSAGE))


# Answers that are not pages (the app shell's files, the manifest, the service worker, the probes) never
# write the session cookie. The browser fetches them alongside pages (the service worker's install, the
# page's <link rel=manifest>): one that started before a log-in and ended after it would answer with the
# session it began with and overwrite the new one — the person is logged out on the next click.
COOKIELESS_ENDPOINTS = frozenset({"static", "pwa.manifest", "pwa.service_worker", "health.healthz", "health.readyz"})


class PageSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, written only by answers in which they can have changed."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        return request.endpoint not in COOKIELESS_ENDPOINTS and super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    """Wrap the app with ProxyFix when behind proxies, add headers, set up the rate limiter, keep the
    debugger off the network."""
    refuse_network_debugger()
    app.session_interface = PageSessions()
    app.before_request(_refuse_debugger_off_loopback)
    app.after_request(cache_headers)
    proxies = app.config["PROXY_FIX"]
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    csp = {
        "default-src": "'self'",
        "script-src": "'self'",  # no inline scripts: page data travels in <script type=application/json>
        "style-src": "'self'",
        "img-src": ["'self'", "data:", "blob:", tile_source(app.config["TILE_URL"])],
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    Talisman(
        app,
        force_https=app.config["PRODUCTION"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=csp,
        frame_options="DENY",
        referrer_policy="same-origin",
        # Geolocation and camera are what the capture page is for; nothing else is needed.
        permissions_policy={"geolocation": "(self)", "camera": "(self)", "microphone": "()"},
        strict_transport_security=app.config["PRODUCTION"],
    )
    limiter.init_app(app)
    if app.config["PRODUCTION"] and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # Each gunicorn worker would count on its own: with 2 workers an attacker gets twice the tries.
        app.logger.warning(
            "Rate limits are counted in this process only (RATELIMIT_STORAGE_URI=memory://). "
            "With several workers or servers set FIELDWALK_REDIS_URL=redis://… (or only "
            "FIELDWALK_RATELIMIT_STORAGE_URI) "
            "so that the log-in, reset and join limits hold."
        )
    app.before_request(refuse_nul)
