"""Serialise an export table (columns + rows) as CSV, XLSX or GeoJSON; no database access here.

Rows hold plain Python values: str, int, float, bool, date, timezone-aware local datetime, or None.
Each format writes them the way its readers expect (Swedish Excel, LibreOffice, QGIS).
"""

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

TEXT, INT, FLOAT, BOOL, DATE, DATETIME, URL = "text", "int", "float", "bool", "date", "datetime", "url"

# A spreadsheet runs a cell that starts with one of these as a formula (CSV/formula injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON_MEDIA_TYPE = "application/geo+json"
CHUNK_ROWS = 500  # rows serialised per piece of a streamed download


@dataclass(frozen=True)
class Column:
    """One column: a stable ASCII key (GeoJSON property), its translated title, its kind and width."""

    key: str
    title: str
    kind: str = TEXT
    width: int = 14


def defuse(text: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe when it would otherwise start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _yes_no(value: bool) -> str:
    return _("Ja") if value else _("Nej")


def csv_formatter(column: Column) -> Callable[[Any], str]:
    """The function that writes a value of the column as a CSV field; made once per column of an export (the
    per-kind choice and the translated Ja/Nej are looked up once, not for each of 10,000 rows)."""
    if column.kind == BOOL:
        yes, no = _yes_no(True), _yes_no(False)
        return lambda value: "" if value is None else yes if value else no
    if column.kind == DATETIME:
        return lambda value: "" if value is None else value.strftime("%Y-%m-%d %H:%M")
    if column.kind == DATE:
        return lambda value: "" if value is None else value.isoformat()
    if column.kind == INT:
        return lambda value: "" if value is None else str(value)
    if column.kind == FLOAT:
        return lambda value: "" if value is None else decimal_comma(value)
    return lambda value: "" if value is None else defuse(str(value))


def decimal_comma(value: float) -> str:
    """A decimal number as Swedish spreadsheets read it: at most 6 decimals (about 0.1 m for a coordinate, no
    float noise such as 14.804300000000001), trailing zeros dropped, a decimal comma."""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text).replace(".", ",")


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """CSV for Excel with a Swedish locale: UTF-8 with a BOM, `;` between fields, CRLF line ends, in pieces of
    CHUNK_ROWS rows (a download streams them; memory does not grow with the rows).

    The BOM makes Excel read å, ä and ö right, and `;` is the list separator Swedish Excel expects.
    Decimal numbers (coordinates, accuracy) have a decimal comma, so Swedish-locale Excel and LibreOffice
    read them as numbers, not text.
    Dates are ISO 8601 (YYYY-MM-DD, the Swedish standard); times are Swedish local time.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([defuse(str(c.title)) for c in columns])
    formatters = [csv_formatter(c) for c in columns]
    for number, row in enumerate(rows, start=1):
        writer.writerow([write(v) for write, v in zip(formatters, row, strict=True)])
        if number % CHUNK_ROWS == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def to_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole CSV (csv_chunks joined)."""
    return b"".join(csv_chunks(columns, rows))


def _set_text(cell: Any, value: Any) -> None:
    """Put text in a cell as a string cell, always: openpyxl would make "=…" a formula and "#N/A" an error
    cell. A string cell (data_type "s", a shared string in the file) is shown as it is and never evaluated by
    Excel or LibreOffice, so it needs no formula-guard apostrophe (CSV keeps it: there every field is parsed).
    """
    # openpyxl refuses control characters that XML 1.0 cannot hold; a pasted text may carry them.
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell.data_type = "s"


def xlsx_write(columns: Sequence[Column], rows: Iterable[Sequence[Any]], sheet_title: str, target: Any) -> None:
    """An Excel workbook written to target (a path or a binary file): bold frozen header with an autofilter,
    set widths, typed cells: numbers as numbers (decimals rounded to 6 places as in the CSV), dates and times
    as dates, text as string cells. openpyxl's write-only mode: each row goes to a temporary file as it is
    written, so memory does not grow with the rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title[:31])
    for col_number, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(col_number)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet)
        _set_text(cell, column.title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    last_row = 1
    makers = [_xlsx_maker(sheet, column) for column in columns]
    for row in rows:
        sheet.append([make(value) for make, value in zip(makers, row, strict=True)])
        last_row += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    book.save(target)


def _text_cell(sheet: Any, value: Any) -> Any:
    cell = WriteOnlyCell(sheet)
    _set_text(cell, value)
    return cell


def _plain_text(sheet: Any, value: Any) -> Any:
    """Text as the plain value where openpyxl makes it a string cell anyway (the common case: no cell object
    of ours per value), else a string cell of ours: text that openpyxl would take for a formula or an error."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith("=") or text in ERROR_CODES:
        return _text_cell(sheet, text)
    return text


def _xlsx_maker(sheet: Any, column: Column) -> Callable[[Any], Any]:
    """The function that makes a value of the column into what sheet.append takes, made once per column:
    numbers as numbers (decimals rounded to 6 places as in the CSV), dates and times as dates, text as string
    cells. openpyxl writes a plain value through one reused cell; a cell of ours only where the value needs a
    format (times, links) or must not be read as a formula."""
    if column.kind == BOOL:
        yes, no = _yes_no(True), _yes_no(False)
        return lambda value: None if value is None else yes if value else no
    if column.kind == DATETIME:

        def local_time(value: Any) -> Any:
            if value is None:
                return None
            cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))  # already local time; Excel has no time zones
            cell.number_format = "yyyy-mm-dd hh:mm"
            return cell

        return local_time
    if column.kind in (DATE, INT):
        return lambda value: value  # a date gets openpyxl's own format for dates: yyyy-mm-dd
    if column.kind == FLOAT:
        # No float noise (14.804300000000001); a non-finite number has no Excel value: left empty.
        return lambda value: None if value is None else round(value, 6) if math.isfinite(value) else None
    if column.kind == URL:

        def link(value: Any) -> Any:
            if value is None:
                return None
            cell = _text_cell(sheet, value)
            cell.hyperlink = str(cell.value)  # the link as _set_text cleaned it
            cell.style = "Hyperlink"
            return cell

        return link
    return lambda value: None if value is None else _plain_text(sheet, value)


def to_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[Any]], sheet_title: str) -> bytes:
    """The workbook of xlsx_write as bytes."""
    out = io.BytesIO()
    xlsx_write(columns, rows, sheet_title, out)
    return out.getvalue()


def _json_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind in (DATE, DATETIME):
        # ISO 8601, with the UTC offset for times: QGIS (OGR) reads both as date/time fields.
        return value.isoformat(timespec="seconds") if column.kind == DATETIME else value.isoformat()
    if column.kind == FLOAT:
        return value if math.isfinite(value) else None
    if column.kind in (INT, BOOL):
        return value
    return str(value)


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and -limit <= value <= limit else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def geojson_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]], name: str) -> Iterator[bytes]:
    """An RFC 7946 FeatureCollection: one Point per row with a position, the row as its properties; as UTF-8
    JSON text in pieces of CHUNK_ROWS features (the bytes of json.dumps of the whole collection).

    Coordinates are WGS 84 longitude, latitude (EPSG:4326, the only CRS RFC 7946 allows, so there
    is no "crs" member). The rows' "lat" and "lon" columns place each feature and its "id" column
    is the feature id. Rows without a valid position are left out and counted in the foreign
    member "fieldwalk": {"without_position": n} (after the features: known once they are written);
    "name" is the layer name QGIS shows.
    """
    keys = [c.key for c in columns]
    without_position, written, features = 0, 0, []
    yield f'{{"type": "FeatureCollection", "name": {_dumps(name)}, "features": ['.encode()
    for row in rows:
        properties = {c.key: _json_value(c, v) for c, v in zip(columns, row, strict=True)}
        values = dict(zip(keys, row, strict=True))
        lat, lon = _coordinate(values.get("lat"), 90), _coordinate(values.get("lon"), 180)
        if lat is None or lon is None:
            without_position += 1
            continue
        feature = {
            "type": "Feature",
            "id": values.get("id"),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": properties,
        }
        features.append(_dumps(feature))
        if len(features) == CHUNK_ROWS:
            yield ((", " if written else "") + ", ".join(features)).encode("utf-8")
            written, features = written + len(features), []
    tail = ((", " if written and features else "") + ", ".join(features)) if features else ""
    yield f'{tail}], "fieldwalk": {{"without_position": {without_position}}}}}'.encode()
