"""The installable app: web app manifest and the service worker, served from the site root (its scope),
and the static files' version: a hash of everything under static/ that the worker and every static URL
carry, so a deploy reaches every installed phone on its next visit."""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

bp = Blueprint("pwa", __name__)

_VERSION_KEY = "fieldwalk.static_version"
_PLACEHOLDER = "__STATIC_VERSION__"  # in static/js/sw.js, replaced when /sw.js is served
_OFFLINE_PLACEHOLDER = '"__OFFLINE_PAGE__"'  # in static/js/sw.js: the offline page as a JS string
VERSIONED_MAX_AGE = 365 * 24 * 3600  # a versioned URL never changes content: a new version is a new URL


def compute_static_version(folder: str | Path) -> str:
    """A 12-hex-digit hash of every file under the static folder (vendored files included): names and
    bytes, so any changed, added or removed file gives a new version."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:12]


def refresh_static_version(app: Flask) -> str:
    """(Re)compute the version of app.static_folder: at start, and in debug mode on every request."""
    version = compute_static_version(app.static_folder) if app.static_folder else "none"
    app.extensions[_VERSION_KEY] = version
    return version


def static_version() -> str:
    """The version of the static files this process serves."""
    return current_app.extensions[_VERSION_KEY]


@bp.record_once
def _compute_at_start(state) -> None:
    refresh_static_version(state.app)


@bp.before_app_request
def _follow_edits_in_debug() -> None:
    # `flask run --debug` reloads on Python changes only; a developer editing CSS should see it at once.
    if current_app.debug:
        refresh_static_version(current_app)


@bp.app_url_defaults
def _version_static_urls(endpoint: str, values: dict) -> None:
    """url_for('static', filename=…) → /static/…?v=<version>."""
    if endpoint == "static" and "v" not in values:
        values["v"] = static_version()


@bp.after_app_request
def _cache_versioned_static(response: Response) -> Response:
    """A static file asked for with the current version may be kept for a year; any other static URL
    (no version, an old page's version) is revalidated (Flask's default no-cache)."""
    if request.endpoint == "static" and response.status_code == 200 and request.args.get("v") == static_version():
        response.headers["Cache-Control"] = f"public, max-age={VERSIONED_MAX_AGE}, immutable"
    return response


# The icons the manifest names (drawn by scripts/make_icons.py): "any" is shown as it is, "maskable" is
# full-bleed with the artwork inside the safe zone, since a launcher may cut it to a circle or a squircle.
ICONS = [(f"icons/icon-{size}.png", size, "any") for size in (192, 512)] + [
    (f"icons/maskable-{size}.png", size, "maskable") for size in (192, 512)
]
APPLE_TOUCH_ICON = ("icons/apple-touch-icon.png", 180)  # linked from base.html; iOS ignores the manifest's


@bp.route("/manifest.webmanifest")
def manifest():
    """Name, icons and colours for "Lägg till på hemskärmen", the description in the session's language."""
    locale = get_locale()
    response = jsonify(
        # A fixed id: the installed app stays the same app if start_url ever changes.
        id="/",
        name="fieldwalk – trygghetsvandringar",
        short_name="fieldwalk",
        description=_("Logga iakttagelser under en trygghetsvandring och följ upp åtgärderna."),
        lang=str(locale) if locale else "sv",
        dir="ltr",
        start_url="/",
        scope="/",
        display="standalone",
        background_color="#ffffff",
        theme_color="#0a4fb3",
        icons=[
            {
                "src": url_for("static", filename=path),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for path, size, purpose in ICONS
        ],
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"  # part of the app shell: the worker keeps it
    response.vary.add("Cookie")  # the description follows the session's language
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker from the root (to control every page), carrying the static version: a deploy
    changes its bytes, so the browser installs the new worker, which drops the old shell cache."""
    source = (Path(current_app.static_folder or "") / "js" / "sw.js").read_text(encoding="utf-8")
    source = source.replace(_PLACEHOLDER, static_version()).replace(_OFFLINE_PLACEHOLDER, json.dumps(_offline_page()))
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _offline_page() -> str:
    """The page the worker shows for a page that is neither reachable nor kept: Swedish, then English."""
    texts = []
    for locale in ("sv", "en"):
        with force_locale(locale):
            texts.append(
                {
                    "lang": locale,
                    "heading": _("Ingen uppkoppling"),
                    "message": _(
                        "Den här sidan finns inte sparad på telefonen. Fynd som väntar på telefonen skickas "
                        "när den har nät igen."
                    ),
                    "retry": _("Försök igen"),
                }
            )
    return render_template("offline.html", texts=texts, version=static_version())
