"""Protocol PDFs made by a background job: asked for, made (with progress), kept for a while, then removed.

A period's protocol (a quarter of a large kommun: thousands of items) takes far longer to lay out than a
request may last, so it is a job (`fieldwalk.jobs.enqueue`: RQ on Redis with FIELDWALK_REDIS_URL, else in
the web process after the response). The person who asked follows it on a progress page and downloads the
file when it is ready; nobody else sees it. A walk's protocol stays a direct download while the walk has at
most PROTOCOL_PDF_DIRECT_MAX_FINDINGS findings (a walk evening's protocol, made in a second or two).

The file goes to the protocol store: the photo store's backend (files under PROTOCOL_DIR, or the bucket
under PROTOCOL_S3_PREFIX/), a namespace of its own that the photo collector and the backup never list, so
on several app servers any of them serves what the worker made. Rows and files go PROTOCOL_PDF_KEEP_HOURS
after they were asked for (`purge_expired`: `flask purge-protocols`, and whenever a new one is asked for).
"""

import secrets
import tempfile
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import abort, current_app
from flask_babel import force_locale
from sqlalchemy import and_, delete, func, or_, select, update

from fieldwalk.extensions import db
from fieldwalk.followup.layout import Processes, lay_out, return_freed_memory
from fieldwalk.followup.pdf import join_tagged_pdfs
from fieldwalk.followup.protocol import pdf_stylesheet, protocol_context, protocol_file_name, protocol_pdf_html
from fieldwalk.followup.queries import Scope
from fieldwalk.gc_threshold import fewer_gc_passes
from fieldwalk.jobs import enqueue_after_commit, long_running, not_retried, summary
from fieldwalk.models import Finding, FollowUpMeeting, ProtocolFile, ProtocolFileState, User, Walk, utcnow
from fieldwalk.photos.store import FileStore, FilesystemStore
from fieldwalk.transactions import savepoint

# A job that has not ended this long after it was asked for was lost (a worker or web process that stopped
# in the middle): it is shown as failed, and asking again makes a new one.
LOST_AFTER_SECONDS = 30 * 60
LOST_AFTER = timedelta(seconds=LOST_AFTER_SECONDS)
JUST_MADE = timedelta(seconds=60)  # a file this new is given again for the same ask (see _pending_or_new)


def protocol_store() -> FileStore:
    """Where the PDFs go: the photo store's backend, in a namespace of its own."""
    config = current_app.config
    if config["PHOTO_STORE"] == "s3":
        from fieldwalk.photos.s3 import S3Store, s3_client

        client = s3_client(
            config["S3_ENDPOINT_URL"], config["S3_REGION"], config["S3_ACCESS_KEY_ID"], config["S3_SECRET_ACCESS_KEY"]
        )
        return S3Store(client, config["S3_BUCKET"], config["PROTOCOL_S3_PREFIX"])
    return FilesystemStore(config["PROTOCOL_DIR"])


def made_by_job(scope: Scope) -> bool:
    """True when the scope's PDF is made in the background: every period, and a walk with more findings than
    PROTOCOL_PDF_DIRECT_MAX_FINDINGS (one COUNT)."""
    if scope.walk is None:
        return True
    count = db.session.scalar(select(func.count(Finding.id)).where(Finding.walk_id == scope.walk.id)) or 0
    return count > current_app.config["PROTOCOL_PDF_DIRECT_MAX_FINDINGS"]


def is_lost(row: ProtocolFile, now: datetime | None = None) -> bool:
    """A job still queued or running long after it was asked for: its process is gone."""
    return row.is_pending and row.created_at < (now or utcnow()) - LOST_AFTER


def is_expired(row: ProtocolFile, now: datetime | None = None) -> bool:
    keep = timedelta(hours=current_app.config["PROTOCOL_PDF_KEEP_HOURS"])
    return row.created_at <= (now or utcnow()) - keep


def expires_at(row: ProtocolFile) -> datetime:
    return row.created_at + timedelta(hours=current_app.config["PROTOCOL_PDF_KEEP_HOURS"])


def _scope_columns(scope: Scope, meeting: FollowUpMeeting | None) -> dict:
    if meeting is not None:
        return {"meeting_id": meeting.id, "walk_id": None, "period_start": None, "period_end": None}
    if scope.walk is not None:
        return {"meeting_id": None, "walk_id": scope.walk.id, "period_start": None, "period_end": None}
    return {"meeting_id": None, "walk_id": None, "period_start": scope.start, "period_end": scope.end}


def request_protocol_file(user: User, scope: Scope, meeting: FollowUpMeeting | None, locale: str) -> ProtocolFile:
    """The job making this protocol for the user: the one already queued or running for the same scope and
    language, or a new one (queued once the request commits). Expired files are removed on the way."""
    purge_expired()
    columns = _scope_columns(scope, meeting)
    with savepoint():  # two requests at once (a double click, two tabs) see each other's row: one job
        # SQLite: savepoint() took the write lock first; PostgreSQL: one such request per person at a time.
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
        return _pending_or_new(user, scope, meeting, locale, columns)


def _pending_or_new(user: User, scope: Scope, meeting: FollowUpMeeting | None, locale: str, columns: dict):
    pending = db.session.scalars(
        select(ProtocolFile)
        .where(
            ProtocolFile.requested_by_id == user.id,
            ProtocolFile.locale == locale,
            ProtocolFile.created_at > utcnow() - LOST_AFTER,
            or_(
                ProtocolFile.state.in_((ProtocolFileState.QUEUED, ProtocolFileState.RUNNING)),
                # made a moment ago: the second click of a double click, or a request that waited for the
                # first one's (in-process) job, gets the same file
                and_(ProtocolFile.state == ProtocolFileState.DONE, ProtocolFile.created_at > utcnow() - JUST_MADE),
            ),
            *(
                getattr(ProtocolFile, name).is_(None) if value is None else getattr(ProtocolFile, name) == value
                for name, value in columns.items()
            ),
        )
        .order_by(ProtocolFile.id.desc())
        .limit(1)
    ).first()
    if pending is not None:
        return pending
    with force_locale(locale):
        name = protocol_file_name(scope, meeting)
    row = ProtocolFile(requested_by=user, locale=locale, file_name=name, **columns)
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit(make_protocol_file, row.id)
    return row


def get_protocol_file_or_404(file_id: int, user: User) -> ProtocolFile:
    """The user's own protocol file; anyone else's is 404 (its existence is not told)."""
    row = db.session.get(ProtocolFile, file_id)
    if row is None or row.requested_by_id != user.id:
        abort(404)
    return row


def _set(file_id: int, **values) -> None:
    """Write the job's progress in a session of its own, committed at once: the progress page reads it
    while the job's own session still holds the protocol's data (a commit there would expire it all)."""
    session = db.session.session_factory()
    try:
        session.execute(update(ProtocolFile).where(ProtocolFile.id == file_id).values(**values))
        session.commit()
    finally:
        session.close()


def _scope_of(row: ProtocolFile) -> tuple[Scope, FollowUpMeeting | None]:
    if row.meeting_id is not None:
        meeting = db.session.get(FollowUpMeeting, row.meeting_id)
        assert meeting is not None  # the row goes with its meeting (ON DELETE CASCADE)
        return Scope.of_meeting(meeting), meeting
    if row.walk_id is not None:
        return Scope(walk=db.session.get(Walk, row.walk_id)), None
    return Scope(start=row.period_start, end=row.period_end), None


def _describe(file_id: int) -> str:
    return f"Protokoll-PDF {file_id}"


@summary(_describe)
@long_running(LOST_AFTER_SECONDS)
@not_retried
def make_protocol_file(file_id: int) -> None:
    """The job: read the protocol's data, lay out its pages, write the PDF/UA file to the protocol store.
    Progress is written as it goes; a failure is written to the row and raised (no retries: the page offers
    "Försök igen", and failed jobs lists it for the admin)."""
    row = db.session.get(ProtocolFile, file_id)
    if row is None or row.state == ProtocolFileState.DONE:  # purged meanwhile, or done by an earlier attempt
        return
    _set(file_id, state=ProtocolFileState.RUNNING, started_at=utcnow(), parts_done=0, error="")
    try:
        _make(row)
    except Exception as error:
        db.session.rollback()
        _set(file_id, state=ProtocolFileState.FAILED, finished_at=utcnow(), error=_error_text(error))
        raise


def _error_text(error: BaseException) -> str:
    return (f"{error.__class__.__name__}: {error}" if str(error) else error.__class__.__name__)[:2000]


@dataclass
class Part:
    """What one part of a PDF laid out in parts shows (templates/followup/_protocol_body.html `part`)."""

    head: bool = False  # the heading, the summary and the map
    findings: list = field(default_factory=list)  # rows of the findings table
    findings_continued: bool = False
    items: list | None = None  # items (None: no items section in this part)
    items_continued: bool = False
    tail: bool = False  # the promise and the meeting's notes


def plan_parts(findings: list, items: list, rows: int, per_part: int) -> list[Part] | None:
    """The parts of a protocol too large to lay out at once (at most `rows` findings rows and `per_part`
    items in each); None when it fits in one."""
    if len(findings) <= rows and len(items) <= per_part:
        return None
    finding_chunks = [findings[n : n + rows] for n in range(0, len(findings), rows)] or [[]]
    item_chunks = [items[n : n + per_part] for n in range(0, len(items), per_part)] or [[]]
    parts = [Part(head=True, findings=finding_chunks[0])]
    parts += [Part(findings=chunk, findings_continued=True) for chunk in finding_chunks[1:]]
    parts += [Part(items=chunk, items_continued=n > 0) for n, chunk in enumerate(item_chunks)]
    parts[-1].tail = True
    return parts


# A part's pages are laid out without numbers: the total is known only once every part is, and the parts are
# laid out at the same time. The join numbers them (followup.layout.lay_out_page_numbers).
_UNNUMBERED = "@page { @bottom-right { content: none; } }"


def _make(row: ProtocolFile) -> None:

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app
    config = app.config
    file_id, author, locale = row.id, row.requested_by.name, row.locale
    # The templates read the request (url_for, the locale, the page's own address): a request of the
    # job's own, on BASE_URL, in the language the person asked in.
    base_url = config.get("BASE_URL") or "http://localhost"
    with (
        app.test_request_context("/followup/protocol.pdf", base_url=base_url),
        force_locale(locale),
        fewer_gc_passes(),
    ):
        scope, meeting = _scope_of(row)
        context = protocol_context(scope, meeting, pdf=True, query=row.scope_args())
        parts = plan_parts(
            context["findings"],
            context["items"],
            config["PROTOCOL_PDF_PART_ROWS"],
            config["PROTOCOL_PDF_PART_ITEMS"],
        )
        _set(file_id, items=len(context["items"]), findings=len(context["findings"]), parts=len(parts or [1]))
        html = (
            [protocol_pdf_html(scope, meeting, context, author, part=p, page_css=_UNNUMBERED) for p in parts]
            if parts
            else [protocol_pdf_html(scope, meeting, context, author)]
        )
    # The rows are in the HTML now: let them go before the layout needs the memory, and end the read, so
    # that no transaction stays open through the layout.
    del scope, meeting, context, parts
    db.session.expunge_all()
    db.session.commit()
    return_freed_memory()
    with tempfile.TemporaryDirectory(prefix="fieldwalk-protocol-") as folder:
        if len(html) == 1:  # in the job's own process: no other to start
            joined = Path(folder) / "protocol.pdf"
            pages = lay_out(html.pop(), str(joined))
            _set(file_id, parts_done=1, pages=pages)
        else:
            joined = _lay_out_parts(file_id, html, Path(folder), config["PROTOCOL_PDF_PROCESSES"])
        data = joined.read_bytes()
    key = protocol_store().put_file(f"{file_id}-{secrets.token_hex(16)}.pdf", data, "application/pdf")
    _set(file_id, state=ProtocolFileState.DONE, file_key=key, size=len(data), finished_at=utcnow())


def _lay_out_parts(file_id: int, html: list[str], folder: Path, processes: int) -> Path:
    """The parts laid out in `processes` processes at once (each holds WeasyPrint and the part it lays out,
    and imports nothing else of the app), each written to a file in folder; then their page numbers, now that
    the total is known, and the join. Returns the joined file (in folder too)."""
    processes = max(1, min(processes, len(html)))
    parts = [folder / f"{number}.pdf" for number in range(len(html))]
    pages = [0] * len(html)
    with Processes(processes) as pool:  # on a failure, the parts not begun are not laid out
        laying_out = {pool.submit("lay_out_part", html[n], str(path)): n for n, path in enumerate(parts)}
        html.clear()  # the tasks hold them until they are sent
        for done, future in enumerate(as_completed(laying_out), 1):
            pages[laying_out[future]] = future.result()
            _set(file_id, parts_done=done, pages=sum(pages))
        # The numbers in as many runs as there are processes, at once.
        total, stylesheet = sum(pages), pdf_stylesheet()
        chunk = -(-total // processes)
        numbers = {folder / f"numbers-{first}.pdf": first for first in range(1, total + 1, chunk)}
        numbering = [
            pool.submit("lay_out_page_numbers", stylesheet, first, min(first + chunk - 1, total), total, str(path))
            for path, first in numbers.items()
        ]
        for future in numbering:
            future.result()
    joined = folder / "protocol.pdf"
    join_tagged_pdfs(parts, joined, page_numbers=list(numbers))
    return joined


def purge_expired(now: datetime | None = None) -> int:
    """Remove the files and rows asked for more than PROTOCOL_PDF_KEEP_HOURS ago; the caller commits.
    Returns how many rows went."""
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["PROTOCOL_PDF_KEEP_HOURS"])
    expired = db.session.execute(
        select(ProtocolFile.id, ProtocolFile.file_key).where(ProtocolFile.created_at <= cutoff).limit(1000)
    ).all()
    if not expired:
        return 0
    store = protocol_store()
    for _id, key in expired:
        if key:
            try:
                store.delete(key)
            except Exception:  # the store down: the row stays and the next purge tries again
                current_app.logger.exception("Could not remove the protocol file %s", key)
                expired = [e for e in expired if e[1] != key]
    db.session.execute(delete(ProtocolFile).where(ProtocolFile.id.in_([e[0] for e in expired])))
    return len(expired)
