"""One date style per kind, in the reader's language and Swedish time: a day, a moment, a time of day, a
walk's time with its weekday, a month; and the machine form for `<time datetime>`.

Swedish reads "2 dec. 2026", "2 dec. 2026 18:30"; English reads the British way, "2 Dec 2026",
"2 Dec 2026, 18:30" — never the US "Dec 2, 2026, 6:30 PM" that Babel's plain "en" gives. The catalogue
stays "en" (the locale selector's answer, `<html lang="en">`); only the formatting uses en_GB.
Data (exports, the API) keeps ISO 8601.
"""

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal

from babel import Locale
from babel import dates as babel_dates
from flask_babel import get_locale, to_user_timezone

# Interface language → the locale its dates are formatted in.
FORMAT_LOCALES = {"en": "en_GB"}
TIME_PATTERN = "HH:mm"  # 24-hour clock in both languages, no seconds


def _formatting_locale_name() -> str:
    locale = str(get_locale() or "sv")
    return FORMAT_LOCALES.get(locale, locale)


def formatting_locale() -> Locale:
    """The locale dates are written in for the current reader (Swedish outside a request)."""
    return Locale.parse(_formatting_locale_name())


@lru_cache(maxsize=8192)
def _medium_day(day: date, locale: str) -> str:
    """Babel's medium date, remembered: a protocol writes the same few hundred days thousands of times."""
    return babel_dates.format_date(day, "medium", locale=Locale.parse(locale))


def _local(value: datetime) -> datetime:
    """A stored moment (naive UTC, or aware) in Swedish time."""
    return to_user_timezone(value)


def format_day(value: date | datetime | None) -> str:
    """A calendar day: "2 dec. 2026" / "2 Dec 2026"; a moment gives its day in Swedish time."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return _medium_day(value, _formatting_locale_name())


def format_clock(value: datetime | None) -> str:
    """The time of day of a moment, in Swedish time: "18:30"."""
    if value is None or value == "":
        return ""
    return babel_dates.format_time(_local(value), TIME_PATTERN, locale=formatting_locale())


def format_moment(value: datetime | None) -> str:
    """A moment: "2 dec. 2026 18:30" / "2 Dec 2026, 18:30" (the language's own way of joining them)."""
    return _day_and_time(value, "medium")


def format_when(value: datetime | None) -> str:
    """A walk's time as people say it: "onsdag 2 december 2026 18:30" / "Wednesday, 2 December 2026, 18:30"."""
    return _day_and_time(value, "full")


def _day_and_time(value: datetime | None, style: Literal["medium", "full"]) -> str:
    """The day in `style` and the time of day, joined as the language joins them, in Swedish time."""
    if value is None or value == "":
        return ""
    locale = formatting_locale()
    local = _local(value)
    pattern = str(babel_dates.get_datetime_format(style, locale=locale))  # typed DateTimePattern, a str in fact
    return (
        pattern.replace("'", "")
        .replace("{0}", babel_dates.format_time(local, TIME_PATTERN, locale=locale))
        .replace("{1}", babel_dates.format_date(local.date(), style, locale=locale))
    )


def format_month(value: date | datetime | None) -> str:
    """A month: "december 2026" / "December 2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return babel_dates.format_skeleton("yMMMM", value, locale=formatting_locale())


def machine_time(value: date | datetime | None) -> str:
    """The value of a `<time datetime>` attribute: a day as 2026-12-02, a moment in UTC to the second
    (2026-12-02T17:30:05Z; the stored microseconds are not a valid HTML datetime)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


FILTERS = {
    "date": format_day,
    "datetime": format_moment,
    "time": format_clock,
    "when": format_when,
    "month": format_month,
    "machine_time": machine_time,
}


def register_filters(jinja_env) -> None:
    """The template filters `date`, `datetime`, `time`, `when`, `month` and `machine_time`.

    Templates written before there was one style per kind pass a style ('short', 'medium'); it is
    accepted and ignored, so every page writes a kind of date the same way.
    """
    for name, function in FILTERS.items():
        jinja_env.filters[name] = (lambda f: lambda value, _style=None: f(value))(function)
