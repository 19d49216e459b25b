"""HTTP hardening: security headers and Content-Security-Policy, proxy headers, rate limits."""

from urllib.parse import urlsplit

from flask import Flask
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldwalk.extensions import limiter


def tile_source(tile_url: str) -> str:
    """The CSP source that admits the configured map tiles ({s}.tile… becomes *.tile…)."""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}"


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
