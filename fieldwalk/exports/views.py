"""Download routes for exports (CSV, XLSX, GeoJSON) of the action item and finding lists."""

import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import force_locale, get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from fieldwalk.actions.filters import ActionFilters
from fieldwalk.actions.queries import action_items_query
from fieldwalk.audit import record
from fieldwalk.exports import formats
from fieldwalk.exports.queries import (
    BadFilter,
    category_names,
    count_findings,
    count_rows,
    finding_filters,
    list_findings,
    stream_items,
)
from fieldwalk.exports.tables import ACTION_COLUMNS, action_rows, finding_columns, finding_rows
from fieldwalk.extensions import db
from fieldwalk.models import utcnow
from fieldwalk.permissions import can_list_actions, can_see_reporter, is_staff

bp = Blueprint("exports", __name__, url_prefix="/exports")

FORMAT = "<any(csv, xlsx, geojson):fmt>"  # any other suffix is not a route: 404
XLSX_PIECE_BYTES = 64 * 1024


def _download(
    fmt: str, columns, rows: Callable[[Session], Iterable[tuple]], *, basename: str, sheet_title: str
) -> Response:
    """The table in the asked-for format, as an attachment named fieldwalk-<basename>-<local date>.<fmt>.

    The rows (made by rows(session)) are read while the answer is sent: CSV and GeoJSON go out in pieces as
    they are made; XLSX (a zip, written whole) is built row by row in a temporary file by openpyxl's write-only
    mode and then sent from it. Memory stays bounded either way."""

    def body(session: Session) -> Iterator[bytes]:
        if fmt == "csv":
            return formats.csv_chunks(columns, rows(session))
        if fmt == "xlsx":
            return _xlsx_file(columns, rows(session), sheet_title)
        return formats.geojson_chunks(columns, rows(session), name=f"fieldwalk-{basename}")

    media_type = {"csv": formats.CSV_MEDIA_TYPE, "xlsx": formats.XLSX_MEDIA_TYPE}.get(fmt, formats.GEOJSON_MEDIA_TYPE)
    day = to_user_timezone(utcnow()).date().isoformat()
    response = Response(_after_the_request(body), content_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="fieldwalk-{basename}-{day}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"  # may hold personal data: not for shared caches
    return response


def _after_the_request(body: Callable[[Session], Iterator[bytes]]) -> Iterator[bytes]:
    """The body made while the server reads it, on a session of its own (the request's is gone by then), each
    piece in an app context with the request's language pushed only while it is made: a context kept pushed
    between pieces would outlive the request for a client that stops reading (stream_with_context does)."""
    app, locale = current_app._get_current_object(), str(get_locale())  # type: ignore[attr-defined]

    def made() -> Iterator[bytes]:
        # Nothing yet: a server sends the headers with it (an empty piece is no chunk, PEP 3333), and a body
        # that is never read on (a test client reads one piece) opens no session.
        yield b""
        with app.app_context():
            session = db.session.session_factory()  # configured like the app's sessions
        with session:
            with app.app_context(), force_locale(locale):  # body() may run its first query at once
                pieces = iter(body(session))
            while True:
                with app.app_context(), force_locale(locale):
                    piece = next(pieces, None)
                if piece is None:
                    return
                yield piece

    return made()


def _xlsx_file(columns, rows: Iterable[tuple], sheet_title: str) -> Iterator[bytes]:
    """The workbook written to a temporary file (gone when closed), then read back in pieces."""
    with tempfile.TemporaryFile() as file:
        formats.xlsx_write(columns, rows, sheet_title, file)
        file.seek(0)
        while piece := file.read(XLSX_PIECE_BYTES):
            yield piece


def _audit(action: str, fmt: str, rows: int) -> None:
    """Who downloaded which list is on record (the finding export holds personal data)."""
    record(action, detail=f"{fmt} ?{request.query_string.decode('utf-8', 'replace')} rows={rows}"[:500])


@bp.get(f"/actions.{FORMAT}")
@login_required
def actions(fmt: str):
    """The action item list as a file, with exactly the list's filters (walk, status, category, party, overdue)."""
    if not can_list_actions(current_user):
        abort(403)
    filters = ActionFilters(request.args, current_user)
    query = action_items_query(current_user, **filters.query_filters())
    _audit("export.actions", fmt, count_rows(query))
    today, locale = date.today(), str(get_locale())
    return _download(
        fmt,
        ACTION_COLUMNS,
        lambda session: action_rows(stream_items(session, query), category_names(session, locale), today),
        basename="atgarder",
        sheet_title=_("Åtgärder"),
    )


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
    _audit("export.findings", fmt, count_findings(filters))
    locale = str(get_locale())
    return _download(
        fmt,
        finding_columns(with_reporter),
        lambda session: finding_rows(list_findings(session, filters), category_names(session, locale), with_reporter),
        basename="fynd",
        sheet_title=_("Fynd"),
    )
