"""Download routes for exports (CSV, XLSX, GeoJSON) of the action item and finding lists."""

import json
from datetime import date

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user, login_required

from fieldwalk.actions.forms import action_filter_form
from fieldwalk.actions.queries import action_items_query
from fieldwalk.audit import record
from fieldwalk.exports import formats
from fieldwalk.exports.queries import BadFilter, finding_filters, list_findings, with_export_loads
from fieldwalk.exports.tables import ACTION_COLUMNS, action_rows, finding_columns, finding_rows
from fieldwalk.extensions import db
from fieldwalk.models import utcnow
from fieldwalk.permissions import can_list_actions, can_see_reporter, is_staff

bp = Blueprint("exports", __name__, url_prefix="/exports")

FORMAT = "<any(csv, xlsx, geojson):fmt>"  # any other suffix is not a route: 404


def _download(fmt: str, columns, rows, *, basename: str, sheet_title: str) -> Response:
    """The table in the asked-for format, as an attachment named fieldwalk-<basename>-<local date>.<fmt>."""
    if fmt == "csv":
        body, media_type = formats.to_csv(columns, rows), formats.CSV_MEDIA_TYPE
    elif fmt == "xlsx":
        body, media_type = formats.to_xlsx(columns, rows, sheet_title), formats.XLSX_MEDIA_TYPE
    else:
        collection = formats.to_geojson(columns, rows, name=f"fieldwalk-{basename}")
        body = json.dumps(collection, ensure_ascii=False, allow_nan=False).encode("utf-8")
        media_type = formats.GEOJSON_MEDIA_TYPE
    day = to_user_timezone(utcnow()).date().isoformat()
    response = Response(body, content_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="fieldwalk-{basename}-{day}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"  # may hold personal data: not for shared caches
    return response


def _audit(action: str, fmt: str, rows: int) -> None:
    """Who downloaded which list is on record (the finding export holds personal data)."""
    record(action, detail=f"{fmt} ?{request.query_string.decode('utf-8', 'replace')} rows={rows}"[:500])


@bp.get(f"/actions.{FORMAT}")
@login_required
def actions(fmt: str):
    """The action item list as a file, with exactly the list's filters (walk, status, category, party, overdue)."""
    if not can_list_actions(current_user):
        abort(403)
    form = action_filter_form(request.args, current_user)
    query = with_export_loads(action_items_query(current_user, every_row=True, **form.query_filters()))
    rows = action_rows(list(db.session.scalars(query)), today=date.today())
    _audit("export.actions", fmt, len(rows))
    return _download(fmt, ACTION_COLUMNS, rows, basename="atgarder", sheet_title=_("Åtgärder"))


@bp.get(f"/findings.{FORMAT}")
@login_required
def findings(fmt: str):
    """Findings as a file (staff), filtered by walk, category and from/to dates (YYYY-MM-DD, local time)."""
    if not is_staff(current_user):
        abort(403)
    try:
        filters = finding_filters(request.args)
    except BadFilter as exc:
        abort(400, exc.message)
    with_reporter = can_see_reporter(current_user)
    if fmt == "geojson":  # a map layer is shared further than a list: names only when asked for (?reporters=1)
        with_reporter = with_reporter and request.args.get("reporters") == "1"
    rows = finding_rows(list_findings(filters), with_reporter)
    _audit("export.findings", fmt, len(rows))
    return _download(fmt, finding_columns(with_reporter), rows, basename="fynd", sheet_title=_("Fynd"))
