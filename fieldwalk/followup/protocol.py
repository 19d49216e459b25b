"""The protocol of a follow-up (a meeting, a walk or a period): the data it shows, on screen and as a PDF.

The screen page and the PDF share one context (`protocol_context`) and one body template; the view renders
the small ones at once, a background job (followup/protocol_files.py) the large ones.
"""

import base64
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone

from fieldwalk.dates import format_day
from fieldwalk.followup.charts import MapPoint, findings_map
from fieldwalk.followup.promises import year_progress
from fieldwalk.followup.queries import Scope, quarter_of, summarize
from fieldwalk.followup.tiles import TileBackground
from fieldwalk.models import ActionStatus, FollowUpMeeting
from fieldwalk.photos.service import photo_store


def data_uri(photo) -> str | None:
    """The thumbnail inlined for the PDF; None when its file is missing (e.g. a partial restore): the
    protocol is still made, without that photo."""
    try:
        data = photo_store().read(photo.sha256, "thumb")
    except FileNotFoundError:
        current_app.logger.warning("Protocol: the file of photo %s is missing", photo.id)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def photo_url(photo) -> str:
    """The thumbnail through the access-checked photo route (the screen page)."""
    return url_for("photos.photo", photo_id=photo.id, variant="thumb")


def protocol_context(scope: Scope, meeting: FollowUpMeeting | None, pdf: bool, query: dict[str, str]) -> dict:
    """Everything the protocol body template needs, read once (a bounded number of statements)."""
    findings = scope.findings()
    items = scope.action_items()
    numbers = {f.id: n for n, f in enumerate(findings, 1)}
    points = [
        MapPoint(numbers[f.id], f.lat, f.lon, f.category.is_positive)
        for f in findings
        if f.lat is not None and f.lon is not None  # has_position, spelled out for the type checker
    ]
    decisions = {d.action_item_id: d for d in meeting.decisions} if meeting else {}
    if meeting:
        promise_year = meeting.held_on.year
    elif scope.start:
        promise_year = scope.start.year
    else:
        assert scope.walk is not None  # a scope is a walk or a period
        promise_year = scope.walk.starts_at.year
    photo_src: Callable = data_uri if pdf else photo_url
    return dict(
        scope=scope,
        meeting=meeting,
        findings=findings,
        items=items,
        numbers=numbers,
        decisions=decisions,
        summary=summarize(findings, items, date.today()),
        walks=scope.walks,
        map_svg=findings_map(
            points,
            _("Karta över fynden, numrerade som i listan"),
            background=TileBackground.from_config(),
            attribution=current_app.config["PROTOCOL_TILES_ATTRIBUTION"],
            max_zoom=current_app.config["PROTOCOL_TILES_MAX_ZOOM"],
        ),
        without_position=len(findings) - len(points),
        statuses=list(ActionStatus),
        pdf=pdf,
        photo_src=photo_src,
        query=query,
        untriaged=scope.untriaged_findings(),
        promise_year=promise_year,
        promise=year_progress(promise_year),
    )


def protocol_title(scope: Scope, meeting: FollowUpMeeting | None) -> str:
    """The PDF's title (its metadata and what a screen reader announces first)."""
    if meeting:
        return _("Protokoll: %(title)s", title=meeting.title)
    if scope.walk:
        return _("Protokoll: %(title)s", title=scope.walk.title)
    assert scope.start and scope.end  # a period scope has both
    return _("Protokoll: uppföljning %(start)s – %(end)s", start=format_day(scope.start), end=format_day(scope.end))


def _slug(text: str) -> str:
    """Lower case words joined by hyphens, letters such as å, ä, ö kept (the RFC 6266 filename* carries them)."""
    return re.sub(r"[\W_]+", "-", text.casefold()).strip("-")[:60].strip("-") or "protokoll"


def protocol_filename(
    *, walk_title: str | None = None, day: date | None = None, start: date | None = None, end: date | None = None
) -> str:
    """The file name that says what the protocol covers: protokoll-<walk>-<date>.pdf for a walk,
    protokoll-2026-K3.pdf for a calendar quarter, protokoll-<start>--<end>.pdf for any other period."""
    if walk_title is not None:
        return f"protokoll-{_slug(walk_title)}-{day.isoformat() if day else ''}".rstrip("-") + ".pdf"
    if start and end:
        if quarter_of(start) == (start, end):
            return f"protokoll-{start.year}-K{(start.month - 1) // 3 + 1}.pdf"
        return f"protokoll-{start.isoformat()}--{end.isoformat()}.pdf"
    return "protokoll.pdf"


def attachment_header(filename: str) -> str:
    """Content-Disposition for a download: an ASCII filename for old clients and filename*=UTF-8'' (RFC 6266)
    with the real name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = fallback.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def protocol_file_name(scope: Scope, meeting: FollowUpMeeting | None) -> str:
    """protokoll-<walk>-<date>.pdf or protokoll-2026-K3.pdf (protocol_filename)."""
    if scope.walk:
        day = meeting.held_on if meeting else to_user_timezone(scope.walk.starts_at).date()
        return protocol_filename(walk_title=scope.walk.title, day=day)
    return protocol_filename(start=scope.start, end=scope.end)


def pdf_stylesheet() -> str:
    """report.css, which the PDF's HTML carries inline."""
    assert current_app.static_folder is not None  # create_app sets it
    with open(current_app.static_folder + "/css/report.css", encoding="utf-8") as stylesheet:
        return stylesheet.read()


def protocol_pdf_html(scope: Scope, meeting: FollowUpMeeting | None, context: dict, author: str, **part) -> str:
    """The self-contained HTML WeasyPrint makes the PDF of (stylesheet inline, photos as data: URIs); `part`
    (part=, page_css=) for one part of a PDF laid out in parts."""
    return render_template(
        "followup/protocol_pdf.html",
        stylesheet=pdf_stylesheet(),
        pdf_title=protocol_title(scope, meeting),
        pdf_author=author,
        pdf_subject=_("Protokoll från uppföljning av trygghetsvandring"),
        **context,
        **part,
    )
