"""The kommun's own calendar: today's date and the local day of a stored (naive UTC) timestamp."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Europe/Stockholm"


def kommun_timezone() -> ZoneInfo:
    """The timezone of the deployment (BABEL_DEFAULT_TIMEZONE), Europe/Stockholm when none is set."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def local_date(value: datetime) -> date:
    """The kommun's calendar day of a naive UTC timestamp (the *_at columns)."""
    return value.replace(tzinfo=UTC).astimezone(kommun_timezone()).date()


def local_today() -> date:
    """Today in the kommun (a phone just after midnight in Sweden is already on the next day)."""
    return datetime.now(kommun_timezone()).date()
