"""The installable app: web app manifest and the service worker, served from the site root (its scope)."""

from flask import Blueprint, current_app, jsonify, send_from_directory, url_for

bp = Blueprint("pwa", __name__)


@bp.route("/manifest.webmanifest")
def manifest():
    """Name, icons and colours for "Lägg till på hemskärmen"."""
    response = jsonify(
        name="fieldwalk – trygghetsvandringar", short_name="fieldwalk", lang="sv", start_url="/",
        scope="/", display="standalone", background_color="#ffffff", theme_color="#0a4fb3",
        icons=[{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": "any maskable"} for size in (192, 512)],
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker must come from the root to control every page; never cached stale."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
