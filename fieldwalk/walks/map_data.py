"""The data the walk map shows: findings and suggested places as plain JSON-able dicts."""

from flask import current_app, url_for
from flask_babel import get_locale

from fieldwalk.labels import label
from fieldwalk.models import Finding, SuggestedPlace, Walk


def walk_map_data(
    walk: Walk, findings: list[Finding] | None = None, places: list[SuggestedPlace] | None = None
) -> dict:
    """Points for Leaflet, embedded in the page as JSON (no inline script needed): the walk's findings and
    suggested places, or only those given (e.g. the findings behind one action item)."""
    locale = str(get_locale())
    lat, lon = (float(v) for v in current_app.config["MAP_CENTER"].split(","))
    if walk.meeting_lat is not None and walk.meeting_lon is not None:
        lat, lon = walk.meeting_lat, walk.meeting_lon
    return {
        "center": [lat, lon],
        "tiles": current_app.config["TILE_URL"],
        "attribution": current_app.config["TILE_ATTRIBUTION"],
        "meeting": [walk.meeting_lat, walk.meeting_lon] if walk.meeting_lat is not None else None,
        "findings": [
            {
                "id": f.id,
                "lat": f.lat,
                "lon": f.lon,
                "icon": f.category.icon,
                "title": f"{f.category.name(locale)} · {label(f.severity)}",
                "text": f.description[:140],
                "positive": f.category.is_positive,
                "url": url_for("findings.detail", finding_id=f.id),
            }
            for f in (walk.findings if findings is None else findings)
            if f.has_position
        ],
        "places": [
            {"lat": p.lat, "lon": p.lon, "text": p.text[:140], "checked": p.checked_at is not None}
            for p in (walk.suggested_places if places is None else places)
            if p.lat is not None
        ],
    }
