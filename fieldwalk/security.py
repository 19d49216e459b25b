"""HTTP hardening: security headers and Content-Security-Policy, proxy headers, rate limits, NUL refused."""

from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldwalk.extensions import limiter
from fieldwalk.web import ERROR_TEXTS, wants_json


def tile_source(tile_url: str) -> str:
    """The CSP source that admits the configured map tiles ({s}.tile… becomes *.tile…)."""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}"


NUL_MESSAGE = _l("Texten innehåller ett otillåtet tecken (NUL, tecken 0). Ta bort det och försök igen.")


def _nul_in(value) -> bool:
    """True when a string, or any key or string inside a JSON value, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
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
        body = request.get_json(silent=True)
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
        return jsonify(error={"code": "unprocessable_entity", "message": str(ERROR_TEXTS[422]),
                              "fields": {name.replace("\x00", "?"): str(NUL_MESSAGE) for name in fields}}), 422
    names = ", ".join(name.replace("\x00", "?") for name in fields)
    abort(400, _("Fältet %(names)s: %(message)s", names=names, message=NUL_MESSAGE))


def init_app(app: Flask) -> None:
    """Wrap the app with ProxyFix when behind proxies, add headers, set up the rate limiter."""
    proxies = app.config["PROXY_FIX"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
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
    app.before_request(refuse_nul)
