"""Jobs that failed for good (every retry used up), on the embedded queue or on RQ: the admin sees them."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldwalk.models.base import Base, utcnow


class FailedJob(Base):
    """One job whose last attempt failed: what it was (function and plain arguments, so it can be run
    again), a line saying what it was about (a mail's recipients and subject), and the last error."""

    __tablename__ = "failed_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    function: Mapped[str] = mapped_column(String(200))  # importable path, e.g. fieldwalk.mail.send_mail
    summary: Mapped[str] = mapped_column(Text, default="")
    arguments: Mapped[str] = mapped_column(Text, default="[[], {}]")  # JSON: [args, kwargs]
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=1)
    queue: Mapped[str] = mapped_column(String(20), default="")  # "redis" or "in-process"

    def __repr__(self) -> str:
        return f"<FailedJob {self.id} {self.function}>"
