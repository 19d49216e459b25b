"""State changes of findings: log one (idempotently, also under concurrency), add photos, triage it, agree."""

import hashlib
from collections.abc import Sequence

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fieldwalk.coordinates import distance_m
from fieldwalk.extensions import db
from fieldwalk.findings.forms import INVALID_UUID_MESSAGE
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.http_errors import OperationError
from fieldwalk.models import Category, Finding, FindingAgreement, Photo, PositionSource, User, Walk
from fieldwalk.notifications import record_outcome
from fieldwalk.permissions import can_add_photos, can_agree, can_edit_finding, can_log_finding, can_triage
from fieldwalk.photos.pipeline import ProcessedPhoto
from fieldwalk.photos.service import attach_photo, process_upload_bytes
from fieldwalk.transactions import savepoint


def _known_category(data: FindingInput) -> Category:
    """The input's category; an id the API did not know (None) is refused."""
    if data.category is None:
        raise OperationError(_("Okänd kategori."), status=422, code="unknown_category")
    return data.category


def create_finding(
    walk: Walk,
    actor: User,
    data: FindingInput,
    *,
    photos: Sequence[ProcessedPhoto] = (),
    notices: list[str] | None = None,
) -> tuple[Finding, bool]:
    """Log a finding with its photos; returns (finding, created).

    With a uuid that is already stored, the stored finding is returned and nothing is written, so a
    client may safely send the same finding again after a dropped connection, or twice at once (the
    unique uuid decides; the request that loses reads the winner's finding). Messages for the user
    about what was not used (a photo position far from the walk) are appended to `notices`.
    """
    category = _known_category(data)
    uuid, lat, lon, accuracy_m = data.uuid, data.lat, data.lon, data.accuracy_m
    if uuid:
        existing = _stored_finding(walk, uuid)
        if existing is not None:
            _add_missing_photos(existing, actor, photos, notices)
            return existing, False
    if not can_log_finding(actor, walk, data.device_created_at):
        raise OperationError(_("Den här vandringen tar inte emot fler fynd."), status=409)
    if not category.active:
        raise OperationError(_("Kategorin används inte längre."), status=422)
    if (lat is None) != (lon is None):
        raise OperationError(_("Positionen saknar latitud eller longitud."), status=422)
    source = PositionSource.NONE
    notes: list[str] = []
    if lat is not None and lon is not None:
        lat, lon, source = _checked_position(walk, lat, lon, data.position_source, notes)
    if lat is None:
        # A photo that knows where it was taken positions the finding (its EXIF is stripped on store),
        # if that place lies within the walk's area.
        gps = next((p.gps for p in photos if p.gps), None)
        if gps is not None and _gps_in_walk_area(walk, gps, notes):
            lat, lon = gps
            accuracy_m = None
            source = PositionSource.PHOTO
    distinct = list({p.source_sha256: p for p in photos}.values())  # the same file twice is one photo
    try:
        with savepoint():  # made inside it: a rolled-back savepoint then leaves no trace in walk.findings
            finding = Finding(
                walk=walk,
                category=category,
                description=data.description.strip(),
                severity=data.severity,
                lat=lat,
                lon=lon,
                accuracy_m=accuracy_m if source == PositionSource.GPS else None,
                position_source=source,
                place=data.place.strip(),
                reporter=actor,
                reporter_name=data.reporter_name.strip() or actor.name,
                reporter_org=data.reporter_org.strip() or actor.organisation,
                device_created_at=data.device_created_at,
                arrived_after_close=walk.closed_at is not None,
                photos=[],  # known to be empty: the answer lists them without a query
            )
            if uuid:
                finding.uuid = uuid
            db.session.add(finding)
            for processed in distinct:
                attach_photo(processed, finding=finding)
            db.session.flush()
    except IntegrityError:
        existing = _stored_finding(walk, uuid) if uuid else None
        if existing is None:
            raise
        return existing, False  # stored a moment ago by a concurrent request; the notes were about ours
    if notices is not None:
        notices.extend(notes)
    return finding, True


def _checked_position(
    walk: Walk, lat: float, lon: float, position_source: PositionSource | None, notes: list[str]
) -> tuple[float | None, float | None, PositionSource]:
    """A position sent with a finding and where it came from (GPS, the map, or a photo's EXIF read on the
    phone; anything else counts as the map). A photo's position is held to the same area rule as one the
    server reads from EXIF itself: far from the walk it is dropped, with the reason in `notes`."""
    if position_source == PositionSource.PHOTO:
        if _gps_in_walk_area(walk, (lat, lon), notes):
            return lat, lon, PositionSource.PHOTO
        return None, None, PositionSource.NONE
    if position_source == PositionSource.GPS:
        return lat, lon, PositionSource.GPS
    return lat, lon, PositionSource.MAP


def _stored_finding(walk: Walk, uuid: str) -> Finding | None:
    """The finding stored under this client uuid, if any. One of another walk is answered like a
    malformed uuid, so that nothing tells whether a uuid exists on a walk the client cannot see."""
    existing = db.session.scalar(select(Finding).where(Finding.uuid == uuid))
    if existing is not None and existing.walk_id != walk.id:
        raise OperationError(INVALID_UUID_MESSAGE, status=400, code="invalid_uuid")
    return existing


def _gps_in_walk_area(walk: Walk, gps: tuple[float, float], notes: list[str]) -> bool:
    """True when a photo's position lies within PHOTO_GPS_MAX_DISTANCE_M of the walk's meeting point or
    of one of its findings placed by GPS or on the map (no such reference: accepted); otherwise a
    message saying why it was not used is appended to `notes`.

    Photo-placed findings are no reference: one far-away photo must not widen the area for the next.
    """
    references = [
        (lat, lon)
        for lat, lon in db.session.execute(
            select(Finding.lat, Finding.lon).where(
                Finding.walk_id == walk.id,
                Finding.lat.is_not(None),
                Finding.lon.is_not(None),
                Finding.position_source.in_((PositionSource.GPS, PositionSource.MAP)),
            )
        )
        if lat is not None and lon is not None  # as the query says (its row type does not)
    ]
    if walk.meeting_lat is not None and walk.meeting_lon is not None:
        references.append((walk.meeting_lat, walk.meeting_lon))
    if not references:
        return True
    nearest = min(distance_m(gps, point) for point in references)
    if nearest <= current_app.config["PHOTO_GPS_MAX_DISTANCE_M"]:
        return True
    notes.append(
        _(
            "Fotots GPS-position användes inte: den ligger %(km)s km från vandringen. "
            "Ange platsen på kartan i stället.",
            km=format_decimal(round(nearest / 1000, 1)),
        )
    )
    return False


def add_photo(
    finding: Finding, actor: User, data: bytes, filename: str = "", notices: list[str] | None = None
) -> tuple[Photo, bool]:
    """Add one uploaded photo to a finding; returns (photo, created).

    Idempotent by the upload's SHA-256: the same bytes sent again (a retry after a dropped connection,
    or twice at once) return the stored photo and write nothing. A photo position far from the walk
    is not used; the reason goes to `notices`.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = next((p for p in finding.photos if p.source_sha256 == digest), None)
    if existing is not None:
        return existing, False
    _require_photo_rights(actor, finding)
    processed = process_upload_bytes(data, filename, digest)  # hashed once, above
    notes: list[str] = []
    photo, created = _attach_within_limit(finding, processed, notes)
    if notices is not None:
        notices.extend(notes)
    return photo, created


def _require_photo_rights(actor: User, finding: Finding) -> None:
    if not can_add_photos(actor, finding):
        raise OperationError(_("Du får inte lägga till foton på det här fyndet."), status=403, code="forbidden")


def _attach_within_limit(finding: Finding, processed: ProcessedPhoto, notes: list[str]) -> tuple[Photo, bool]:
    """Attach a processed photo unless the finding has PHOTO_MAX_PER_FINDING already; (photo, created).

    The count is taken with the finding locked (PostgreSQL: FOR UPDATE; SQLite: the savepoint's write
    lock), so uploads sent at once cannot pass the limit together; the same photo stored a moment ago
    by a concurrent request is returned as it is.
    """
    limit = current_app.config["PHOTO_MAX_PER_FINDING"]
    gps = processed.gps if not finding.has_position else None  # the photo's position, for a finding with none
    if gps is not None and not _gps_in_walk_area(finding.walk, gps, notes):
        gps = None
    try:
        with savepoint():
            if db.session.get_bind().dialect.name != "sqlite":  # SQLite: the savepoint holds the write lock
                db.session.execute(select(Finding.id).where(Finding.id == finding.id).with_for_update())
            count = db.session.scalar(select(func.count(Photo.id)).where(Photo.finding_id == finding.id))
            if count >= limit:
                raise OperationError(_("Högst %(n)d foton per fynd.", n=limit), status=422, code="too_many_photos")
            photo = attach_photo(processed, finding=finding)
            if gps is not None:
                finding.lat, finding.lon = gps
                finding.position_source = PositionSource.PHOTO
            db.session.flush()
    except IntegrityError:
        stored = db.session.scalar(
            select(Photo).where(Photo.finding_id == finding.id, Photo.source_sha256 == processed.source_sha256)
        )
        if stored is None:
            raise
        return stored, False
    return photo, True


def _add_missing_photos(
    finding: Finding, actor: User, photos: Sequence[ProcessedPhoto], notices: list[str] | None
) -> None:
    """A stored finding sent again with photos it does not have yet (it went first without them, or an
    upload failed): those are added, each once, so nothing the person sent is dropped in silence."""
    known = {p.source_sha256 for p in finding.photos}
    missing = list({p.source_sha256: p for p in photos if p.source_sha256 not in known}.values())
    if not missing:
        return
    notes: list[str] = []
    try:
        _require_photo_rights(actor, finding)
        for processed in missing:
            _attach_within_limit(finding, processed, notes)
    except OperationError as error:
        notes.append(
            _("Fyndet var redan sparat, men alla foton kunde inte läggas till: %(reason)s", reason=error.message)
        )
    if notices is not None:
        notices.extend(notes)


def update_finding(
    finding: Finding,
    actor: User,
    data: FindingInput,
    *,
    add_photos: Sequence[ProcessedPhoto] = (),
    remove_photo_ids: set[int] | frozenset[int] = frozenset(),
    notices: list[str] | None = None,
) -> Finding:
    """Its reporter corrects a finding: every field is replaced, the photos named are removed and the new ones
    added (within PHOTO_MAX_PER_FINDING, counted after the removals).

    Removed photos lose their row only; their files are shared by content and left to `flask photos gc`.
    Raises OperationError 403 for someone else's finding, 409 once the walk no longer takes findings. The
    reporter, the phone's clock and the uuid are the logging's and stay as they are.
    """
    require_edit_rights(actor, finding)
    category, lat, lon, position_source = _known_category(data), data.lat, data.lon, data.position_source
    if not category.active and category.id != finding.category_id:
        raise OperationError(_("Kategorin används inte längre."), status=422)
    if (lat is None) != (lon is None):
        raise OperationError(_("Positionen saknar latitud eller longitud."), status=422)
    notes: list[str] = []
    source = PositionSource.NONE
    if lat is not None and lon is not None:
        if (lat, lon) == (finding.lat, finding.lon) and position_source == finding.position_source:
            source = finding.position_source  # unchanged: not checked again against today's references
        else:
            lat, lon, source = _checked_position(finding.walk, lat, lon, position_source, notes)
    finding.category = category
    finding.description = data.description.strip()
    finding.severity = data.severity
    finding.lat, finding.lon, finding.position_source = lat, lon, source
    finding.accuracy_m = data.accuracy_m if source == PositionSource.GPS else None
    finding.place = data.place.strip()
    for photo in [p for p in finding.photos if p.id in remove_photo_ids]:
        finding.photos.remove(photo)
        db.session.delete(photo)
    db.session.flush()
    known = {p.source_sha256 for p in finding.photos}
    for processed in {p.source_sha256: p for p in add_photos if p.source_sha256 not in known}.values():
        _attach_within_limit(finding, processed, notes)
    db.session.flush()
    if notices is not None:
        notices.extend(notes)
    return finding


def require_edit_rights(actor: User, finding: Finding) -> None:
    """Raise the refusal for someone who may not edit this finding: 403 when it is not theirs, 409 when it is
    but the walk no longer takes findings (the reason they need to hear)."""
    if can_edit_finding(actor, finding):
        return
    if finding.reporter_id == actor.id and actor.is_authenticated:
        raise OperationError(
            _("Vandringen tar inte längre emot fynd, så fyndet kan inte ändras."), status=409, code="walk_closed"
        )
    raise OperationError(_("Du får bara ändra fynd som du själv har loggat."), status=403, code="forbidden")


def set_no_action(finding: Finding, actor: User, no_action: bool, note: str = "") -> Finding:
    """Mark a finding as needing no action (with a note why), or undo that."""
    if not can_triage(actor, finding.walk):
        raise OperationError(_("Du får inte ändra fyndets åtgärdsbehov."), status=403, code="forbidden")
    if no_action and finding.action_items:
        raise OperationError(_("Fyndet har redan en åtgärd."), status=409)
    if no_action and not note.strip():  # the protocol has to say why nothing is done
        raise OperationError(_("Skriv varför ingen åtgärd behövs."), status=422, code="note_required")
    finding.no_action = no_action
    finding.no_action_note = note.strip() if no_action else ""
    db.session.flush()
    if no_action:
        record_outcome(finding)  # the reporter who asked is told it will not be acted on, and why
    return finding


def agree(walk: Walk, actor: User, finding: Finding) -> tuple[FindingAgreement, bool]:
    """Record the actor's "Jag håller med" on an existing finding instead of a new one; (agreement, created).

    One per person and finding: a second tap, a retry or two taps at once return the stored agreement (the
    unique constraint decides; the request that loses reads the winner's row inside its savepoint).
    """
    if not can_agree(actor, walk, finding):
        raise OperationError(_("Du kan inte hålla med om det här fyndet."), status=403, code="forbidden")
    existing = _stored_agreement(finding, actor)
    if existing is not None:
        return existing, False
    try:
        with savepoint():
            agreement = FindingAgreement(finding=finding, user=actor, walk_id=walk.id)
            db.session.add(agreement)
            db.session.flush()
    except IntegrityError:
        existing = _stored_agreement(finding, actor)
        if existing is None:
            raise
        return existing, False
    return agreement, True


def add_agreement_photo(
    walk: Walk, actor: User, finding: Finding, data: bytes, filename: str = "", notices: list[str] | None = None
) -> tuple[Photo, bool]:
    """The optional photo with one's "Jag håller med": added to the agreed finding's photos (within
    PHOTO_MAX_PER_FINDING, idempotent by content like add_photo) and linked to the agreement; one per agreement."""
    if not can_agree(actor, walk, finding):
        raise OperationError(_("Du kan inte hålla med om det här fyndet."), status=403, code="forbidden")
    agreement = _stored_agreement(finding, actor)
    if agreement is None:
        raise OperationError(_("Tryck först på ”Jag håller med”."), status=409, code="agreement_required")
    digest = hashlib.sha256(data).hexdigest()
    if agreement.photo is not None:
        if agreement.photo.source_sha256 == digest:
            return agreement.photo, False  # the same photo sent again
        raise OperationError(_("Du har redan lagt till ett foto."), status=409, code="photo_added")
    processed = process_upload_bytes(data, filename, digest)  # hashed once, above
    notes: list[str] = []
    photo, created = _attach_within_limit(finding, processed, notes)
    agreement.photo = photo
    db.session.flush()
    if notices is not None:
        notices.extend(notes)
    return photo, created


def _stored_agreement(finding: Finding, actor: User) -> FindingAgreement | None:
    return db.session.scalar(
        select(FindingAgreement).where(FindingAgreement.finding_id == finding.id, FindingAgreement.user_id == actor.id)
    )


def count_agreements(finding: Finding) -> int:
    """The finding's agreements as stored now (the loaded agreement_count may predate this request's)."""
    return (
        db.session.scalar(select(func.count(FindingAgreement.id)).where(FindingAgreement.finding_id == finding.id)) or 0
    )
