"""The app side of photos: limits from config, translated errors, and attaching stored photos to rows."""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wsgi import get_input_stream

from fieldwalk.extensions import db
from fieldwalk.http_errors import OperationError
from fieldwalk.models import ActionEvent, Finding, Photo
from fieldwalk.photos.pipeline import DecodeBudget, PhotoError, PhotoLimits, ProcessedPhoto, process_photo
from fieldwalk.photos.store import FilesystemStore, PhotoStore


def photo_store() -> PhotoStore:
    """The configured photo store: files under PHOTO_DIR, or a bucket with PHOTO_STORE=s3."""
    config = current_app.config
    if config["PHOTO_STORE"] == "s3":
        from fieldwalk.photos.s3 import S3Store  # boto3 is imported only by an app that uses it

        return S3Store.from_config(config)
    return FilesystemStore(config["PHOTO_DIR"])


def photo_limits() -> PhotoLimits:
    """The configured size and pixel limits."""
    return PhotoLimits(
        max_bytes=current_app.config["PHOTO_MAX_BYTES"],
        max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
        max_pixels_full_decode=current_app.config["PHOTO_MAX_PIXELS_FULL_DECODE"],
    )


def decode_budget() -> DecodeBudget:
    """This request's decode budget: every photo processed in one request draws from the same one."""
    if "photo_decode_budget" not in g:
        g.photo_decode_budget = DecodeBudget(current_app.config["PHOTO_DECODE_BUDGET_PIXELS"])
    return g.photo_decode_budget


def photo_error(error: PhotoError, filename: str) -> OperationError:
    """A clear, translated message and status for a photo that was refused."""
    limits = photo_limits()
    name = filename or _("fotot")
    messages = {
        "empty": (_("Filen %(name)s är tom.", name=name), 422),
        "too_large": (
            _("Fotot %(name)s är för stort (högst %(mb)d MB).", name=name, mb=limits.max_bytes // (1024 * 1024)),
            413,
        ),
        "not_image": (
            _("Filen %(name)s är ingen bild. Välj ett foto i JPEG-, PNG- eller WebP-format.", name=name),
            422,
        ),
        "unsupported_format": (
            _("Bildformatet i %(name)s stöds inte. Använd JPEG, PNG eller WebP.", name=name),
            422,
        ),
        "truncated": (
            _("Fotot %(name)s är trasigt eller bara delvis uppladdat. Försök igen.", name=name),
            422,
        ),
        "too_many_pixels": (
            _(
                "Fotot %(name)s har för många bildpunkter (högst %(mp)d megapixel).",
                name=name,
                mp=limits.max_pixels // 1_000_000,
            ),
            422,
        ),
        "too_many_pixels_full_decode": (
            _(
                "Fotot %(name)s har för många bildpunkter för PNG- eller WebP-format (högst %(mp)d "
                "megapixel). Spara det som JPEG eller i mindre storlek.",
                name=name,
                mp=limits.max_pixels_full_decode // 1_000_000,
            ),
            422,
        ),
        "decode_budget": (
            _(
                "Fotona är tillsammans för stora för att tas emot på en gång (stoppade vid %(name)s). "
                "Välj färre eller mindre foton.",
                name=name,
            ),
            413,
        ),
    }
    message, status = messages.get(error.code, (_("Fotot %(name)s kunde inte läsas.", name=name), 422))
    return OperationError(message, status=status, code=f"photo_{error.code}")


def process_uploads(files: Iterable[FileStorage]) -> list[ProcessedPhoto]:
    """Validate and normalize uploaded photos; raises OperationError on the first bad one."""
    max_count = current_app.config["PHOTO_MAX_PER_FINDING"]
    uploads = [f for f in files if f and f.filename]
    if len(uploads) > max_count:
        # A photo_ code: the capture form shows it at the photo field, like every other photo error.
        raise OperationError(_("Högst %(n)d foton per fynd.", n=max_count), status=422, code="photo_too_many")
    return [process_upload_bytes(read_upload(upload), upload.filename or "") for upload in uploads]


def recover_text_fields() -> MultiDict:
    """The text fields of a multipart post that was too large to parse; file contents are skipped."""
    # Reading the body (not just answering 413 and hanging up) also lets the browser receive the
    # answer: many show "connection reset" instead when the server stops reading mid-upload.
    # Reading stops at twice the request limit; fields after that point are not recovered.
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    fields: MultiDict = MultiDict()
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        return fields
    # Only a body refused on its declared length is still unread; one refused mid-parse (a chunked
    # body, a text field over MAX_FORM_MEMORY_SIZE) has been partly consumed and cannot be re-read.
    limit = request.max_content_length
    if limit is None or request.content_length is None or request.content_length <= limit:
        return fields
    memory_limit = current_app.config["MAX_FORM_MEMORY_SIZE"]
    read_limit = 2 * limit
    stream = get_input_stream(request.environ, max_content_length=None)
    decoder = MultipartDecoder(options["boundary"].encode("latin-1"), memory_limit)
    name: str | None = None
    value, kept, read = bytearray(), 0, 0
    try:
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData):
                chunk = stream.read(min(64 * 1024, read_limit - read)) if read < read_limit else b""
                read += len(chunk)
                decoder.receive_data(chunk or None)
            elif isinstance(event, Field):
                name, value = event.name, bytearray()
            elif isinstance(event, File):
                name = None  # photo bytes: never kept
            elif isinstance(event, Data) and name is not None:
                value += event.data
                kept += len(event.data)
                if kept > memory_limit:
                    break
                if not event.more_data:
                    fields.add(name, value.decode("utf-8", "replace"))
            elif isinstance(event, Epilogue):
                break
    except (ValueError, RequestEntityTooLarge):  # cut off or malformed: keep what was read
        pass
    return fields


def read_upload(upload: FileStorage) -> bytes:
    """The uploaded bytes, read one byte past the size limit: enough to know it is too large, no more."""
    return upload.stream.read(current_app.config["PHOTO_MAX_BYTES"] + 1)


def process_upload_bytes(data: bytes, filename: str, source_sha256: str | None = None) -> ProcessedPhoto:
    """Validate and normalize one uploaded photo (source_sha256: its digest, when the caller has it); a refused
    one raises a translated OperationError."""
    try:
        return process_photo(data, photo_limits(), decode_budget(), source_sha256)
    except PhotoError as error:
        raise photo_error(error, filename) from None


def attach_photo(
    processed: ProcessedPhoto, *, finding: Finding | None = None, event: ActionEvent | None = None
) -> Photo:
    """Store the photo's files and add its row. The files stay if the transaction fails (another row may
    share them); `flask photos gc` removes those no row refers to."""
    store = photo_store()
    store.put(processed.sha256, "full", processed.image)
    store.put(processed.sha256, "thumb", processed.thumbnail)
    photo = Photo(
        finding=finding,
        event=event,
        sha256=processed.sha256,
        source_sha256=processed.source_sha256,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.image),
    )
    db.session.add(photo)
    return photo


@dataclass
class GarbageRun:
    """What one `flask photos gc` run found: the objects removed (or, dry, to remove) and those kept."""

    removed: list[str] = field(default_factory=list)
    kept_referenced: int = 0
    kept_recent: int = 0


def collect_garbage(grace_hours: float, dry_run: bool = False, now: float | None = None) -> GarbageRun:
    """Remove the stored objects that no Photo row refers to and that are older than the grace period.

    The grace period covers requests in flight: a new object is stored before its row is committed, and
    reusing a stored one renews its time. Each candidate is checked against committed rows and its time
    read again just before it goes. `now` (seconds since the epoch) is the moment the ages are taken at.
    """
    store = photo_store()
    cutoff = (time.time() if now is None else now) - grace_hours * 3600
    run = GarbageRun()
    candidates: list[tuple[str | None, str]] = []
    for item in store.stored():
        if item.modified > cutoff:
            run.kept_recent += 1
        else:
            candidates.append((item.sha256, item.key))
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        digests = {sha for sha, _key in batch if sha}
        referenced = set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(digests))))
        db.session.rollback()  # end the read: the next batch sees rows committed meanwhile
        for sha256, key in batch:
            if sha256 in referenced:
                run.kept_referenced += 1
                continue
            modified = store.modified(key)
            if modified is None:  # gone meanwhile
                continue
            if modified > cutoff:  # reused while we looked
                run.kept_recent += 1
                continue
            if not dry_run:
                store.delete(key)
            run.removed.append(key)
    return run
