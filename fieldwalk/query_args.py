"""Ids and numbers from the query string: one parser for every view, so an odd value is a clear 400.

str.isdigit() accepts "²" (which int() refuses) and int() accepts "٣" and "１"; a number beyond the
database's 32-bit integer overflows the query. An id here is 1 to 10 ASCII digits within that range.
"""

from datetime import date
from typing import NoReturn

from flask import abort, request
from flask_babel import gettext as _

MAX_ID = 2**31 - 1  # the database's integer columns
# The dates the app accepts (periods, filters, a phone's clock): a kommun's records fall well inside, and
# time zone arithmetic at the calendar's ends (0001-01-01, 9999-12-31) overflows.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def parse_id(value: str | None) -> int | None:
    """The id written in `value` (ASCII digits, 1 to 2**31-1, surrounding spaces allowed), else None."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def choice_id(value) -> int:
    """coerce= for a select field of ids read from the query string: an id, or 0 for "Alla"; anything
    else (²,  ٣, huge) is a ValueError, which the field reports as an invalid choice."""
    if isinstance(value, int):
        return value
    if str(value).strip() == "0":
        return 0
    number = parse_id(value)
    if number is None:
        raise ValueError(value)
    return number


def shown_value(value: str) -> str:
    """The value as the message quotes it: printable and short."""
    return "".join(c if c.isprintable() else "?" for c in value[:40])


def _not_an_id(name: str, value: str) -> NoReturn:
    abort(
        400,
        _(
            "”%(value)s” är inget giltigt id (parametern %(name)s). Ett id är ett heltal, till exempel 12.",
            value=shown_value(value),
            name=name,
        ),
    )


def query_id(name: str, args=None) -> int | None:
    """The id in query parameter `name` (the first one given); None when absent or empty, 400 when not an id."""
    value = (request.args if args is None else args).get(name, "")
    if not value.strip():
        return None
    number = parse_id(value)
    if number is None:
        _not_an_id(name, value)
    return number


def query_ids(name: str, args=None) -> list[int]:
    """Every id given as `name` (?finding=1&finding=2); 400 when one of them is not an id."""
    values = (request.args if args is None else args).getlist(name)
    ids = []
    for value in values:
        number = parse_id(value)
        if number is None:
            _not_an_id(name, value)
        ids.append(number)
    return ids


def query_int(name: str, default: int, minimum: int, maximum: int, args=None) -> int:
    """A whole number such as a year or a page; the default when absent, 400 when malformed or out of range."""
    value = (request.args if args is None else args).get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 10) or not minimum <= int(value) <= maximum:
        abort(
            400,
            _(
                "”%(value)s” går inte att använda (parametern %(name)s): ange ett heltal från %(min)d till %(max)d.",
                value=shown_value(value),
                name=name,
                min=minimum,
                max=maximum,
            ),
        )
    return int(value)


def query_page(args=None) -> int:
    """The page number for db.paginate (?page=), 1 when absent."""
    return query_int("page", 1, 1, 1_000_000, args)


def link_args(args=None) -> dict[str, str]:
    """The query string's arguments to build a link with (`url_for(endpoint, **link_args())`), without
    those url_for would take as its own (endpoint, values, _anchor, _method, _scheme, _external …): a
    crafted ?endpoint=x must not become a 500, nor ?_anchor= part of a link."""
    args = request.args if args is None else args
    return {k: v for k, v in args.items() if k not in ("endpoint", "values") and not k.startswith("_")}
