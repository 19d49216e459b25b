"""State changes of findings: log one (idempotently), triage it."""

import hashlib
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from fieldwalk.errors import OperationError
from fieldwalk.extensions import db
from fieldwalk.models import Category, Finding, Photo, PositionSource, Severity, User, Walk
from fieldwalk.permissions import can_log_finding, can_triage, is_staff
from fieldwalk.photo_service import attach_photo, process_upload_bytes
from fieldwalk.photos import ProcessedPhoto


def create_finding(
    walk: Walk,
    actor: User,
    *,
    category: Category,
    description: str = "",
    severity: Severity = Severity.MEDIUM,
    lat: float | None = None,
    lon: float | None = None,
    accuracy_m: float | None = None,
    position_source: PositionSource | None = None,
    place: str = "",
    reporter_name: str = "",
    reporter_org: str = "",
    device_created_at: datetime | None = None,
    uuid: str | None = None,
    photos: list[ProcessedPhoto] = (),
) -> tuple[Finding, bool]:
    """Log a finding with its photos; returns (finding, created).

    With a uuid that is already stored, the stored finding is returned and nothing is written, so a
    client may safely send the same finding again after a dropped connection.
    """
    if uuid:
        existing = db.session.scalar(select(Finding).where(Finding.uuid == uuid))
        if existing is not None:
            if existing.walk_id != walk.id:
                raise OperationError(_("Fyndet hör till en annan vandring."), status=409)
            return existing, False
    if not can_log_finding(actor, walk):
        raise OperationError(_("Den här vandringen tar inte emot fler fynd."), status=409)
    if not category.active:
        raise OperationError(_("Kategorin används inte längre."), status=422)
    if (lat is None) != (lon is None):
        raise OperationError(_("Positionen saknar latitud eller longitud."), status=422)
    source = PositionSource.NONE
    if lat is not None:
        source = position_source if position_source in (PositionSource.GPS, PositionSource.MAP) else PositionSource.MAP
    else:
        # A photo that knows where it was taken positions the finding (its EXIF is stripped on store).
        located = next((p for p in photos if p.gps), None)
        if located is not None:
            lat, lon = located.gps
            accuracy_m = None
            source = PositionSource.PHOTO
    finding = Finding(
        walk=walk,
        category=category,
        description=description.strip(),
        severity=severity,
        lat=lat,
        lon=lon,
        accuracy_m=accuracy_m if source == PositionSource.GPS else None,
        position_source=source,
        place=place.strip(),
        reporter=actor,
        reporter_name=reporter_name.strip() or actor.name,
        reporter_org=reporter_org.strip() or actor.organisation,
        device_created_at=device_created_at,
    )
    if uuid:
        finding.uuid = uuid
    db.session.add(finding)
    for processed in photos:
        attach_photo(processed, finding=finding)
    db.session.flush()
    return finding, True


def add_photo(finding: Finding, actor: User, data: bytes, filename: str = "") -> tuple[Photo, bool]:
    """Add one uploaded photo to a finding; returns (photo, created).

    Idempotent by the upload's SHA-256: the same bytes sent again (a retry after a dropped connection)
    return the stored photo and write nothing.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = next((p for p in finding.photos if p.source_sha256 == digest), None)
    if existing is not None:
        return existing, False
    if not (can_log_finding(actor, finding.walk) and (is_staff(actor) or finding.reporter_id == actor.id)):
        raise OperationError(_("Du får inte lägga till foton på det här fyndet."), status=403, code="forbidden")
    if len(finding.photos) >= current_app.config["PHOTO_MAX_PER_FINDING"]:
        raise OperationError(_("Högst %(n)d foton per fynd.", n=current_app.config["PHOTO_MAX_PER_FINDING"]),
                             status=422, code="too_many_photos")
    processed = process_upload_bytes(data, filename)
    photo = attach_photo(processed, finding=finding)
    if not finding.has_position and processed.gps:
        finding.lat, finding.lon = processed.gps
        finding.position_source = PositionSource.PHOTO
    db.session.flush()
    return photo, True


def set_no_action(finding: Finding, actor: User, no_action: bool, note: str = "") -> Finding:
    """Mark a finding as needing no action (with a note why), or undo that."""
    if not can_triage(actor, finding.walk):
        raise OperationError(_("Du får inte ändra fyndets åtgärdsbehov."), status=403, code="forbidden")
    if no_action and finding.action_items:
        raise OperationError(_("Fyndet har redan en åtgärd."), status=409)
    finding.no_action = no_action
    finding.no_action_note = note.strip() if no_action else ""
    db.session.flush()
    return finding
