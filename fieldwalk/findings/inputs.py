"""What a finding is made of when it comes in: one type that the capture form, the edit form and the API
schema all produce, and that the operations take."""

from dataclasses import dataclass
from datetime import UTC, datetime

from fieldwalk.models import Category, PositionSource, Severity
from fieldwalk.query_args import EARLIEST, LATEST


@dataclass(frozen=True)
class FindingInput:
    """A finding's fields as sent. `category` is None only for an id the API did not know (the operation
    refuses it); `device_created_at` is naive UTC; reporter, device time and uuid are the logging's own (an
    edit keeps those of the stored finding)."""

    category: Category | None
    description: str = ""
    severity: Severity = Severity.MEDIUM
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    position_source: PositionSource | None = None
    place: str = ""
    reporter_name: str = ""
    reporter_org: str = ""
    device_created_at: datetime | None = None
    uuid: str | None = None


def device_time_utc(moment: datetime) -> datetime | None:
    """A phone's clock reading at capture as naive UTC; None when it cannot be a real capture time (outside
    the years the app keeps, where time zone arithmetic may also overflow)."""
    if not EARLIEST <= moment.date() <= LATEST:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment
