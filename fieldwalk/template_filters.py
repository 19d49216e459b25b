"""What every template can use: permissions, labels, the locale, dates, positions, map data, links."""

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request
from flask_babel import get_locale

from fieldwalk import permissions, render_texts
from fieldwalk.actions import markup as action_markup
from fieldwalk.coordinates import format_position
from fieldwalk.dates import register_filters
from fieldwalk.labels import LABELS, TRANSITION_VERBS, label
from fieldwalk.links import external_url
from fieldwalk.timeline import event_text
from fieldwalk.walks.map_data import walk_map_data


def _referrer_path() -> str:
    """The path of the page a form was sent from; "/" when the Referer header is missing or unparseable."""
    try:
        return urlsplit(request.referrer or "/").path or "/"
    except ValueError:  # e.g. "http://[x": an unclosed IPv6 host
        return "/"


def init_app(app: Flask) -> None:
    """Register the template context, globals and filters."""
    vendor = Path(app.static_folder or "") / "vendor" / "leaflet" / "leaflet.js"

    @app.context_processor
    def helpers():
        return {
            "can": permissions,
            "label": label,
            "LABELS": LABELS,
            "TRANSITION_VERBS": TRANSITION_VERBS,
            "current_locale": str(get_locale()),
            render_texts.KEY: render_texts.RenderTexts(),
            "map_available": vendor.exists(),
            "today": date.today(),
            # After switching language, come back here; a page answering a POST is not reachable by
            # GET, so go back to the page the form was sent from.
            "back_here": request.full_path if request.method == "GET" else _referrer_path(),
        }

    app.jinja_env.globals["walk_map_data"] = walk_map_data  # the location partial's small map
    app.jinja_env.globals["external_url"] = external_url  # absolute links in pages come from BASE_URL too
    register_filters(app.jinja_env)
    render_texts.init_jinja(app.jinja_env)  # gettext, ngettext, label and date from the render's context
    action_markup.init_jinja(app.jinja_env)  # action_badges, action_status, action_rows
    app.jinja_env.filters["event_text"] = event_text  # a timeline event in the reader's language
    app.jinja_env.filters["position"] = lambda item: format_position(item.lat, item.lon)
