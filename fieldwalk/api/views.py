"""JSON endpoints: walks, categories, findings (idempotent by client UUID) with photos (idempotent by
content hash), action items and their status moves. Log in through /login; POSTs carry X-CSRFToken."""

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.queries import action_items_query, get_action_or_404
from fieldwalk.api.pagination import MAX_PAGE_SIZE, PAGE_SIZE, PagedBlueprint
from fieldwalk.api.schemas import (
    ActionFilterSchema,
    ActionItemSchema,
    AgreementCreateSchema,
    AgreementSchema,
    CategorySchema,
    ErrorSchema,
    FindingCreateSchema,
    FindingSchema,
    NearbyQuerySchema,
    NearbySchema,
    PhotoUploadedSchema,
    PhotoUploadSchema,
    SessionSchema,
    TransitionSchema,
    WalkSchema,
)
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.findings.queries import active_categories, get_finding_or_404, nearby
from fieldwalk.http_errors import ERROR_TEXTS, OperationError, error_json, operation_error_response
from fieldwalk.models import Category, Finding
from fieldwalk.permissions import can_see_nearby
from fieldwalk.photos.service import read_upload
from fieldwalk.walks.queries import WITH_FINDINGS, get_walk_or_404, walks_query

bp = PagedBlueprint("api", __name__, url_prefix="/api/v1", description="fieldwalk JSON API")

# What each error status of the API means, for the document: an operation lists only those it can answer.
ERROR_MEANINGS = {
    400: "the X-CSRFToken header is missing or wrong, or the body is not JSON",
    401: "not logged in (log in through /login; the session cookie carries it)",
    403: "logged in, but this user may not do this to this object",
    404: "no such object, or one this user may not see (no hint which)",
    409: "not possible in the object's current state (e.g. the walk is closed, a status move not allowed now)",
    413: "the body is too large (JSON bodies are small; photos up to PHOTO_MAX_BYTES)",
    422: "the input is not valid: `fields` says which field and why",
}
ERROR_EXAMPLES = {
    400: {
        "error": {
            "code": "csrf_failed",
            "message": "Formuläret har gått ut eller skickades från en annan sida. Ladda om sidan och försök igen.",
        }
    },
    401: {"error": {"code": "unauthorized", "message": "Logga in för att fortsätta."}},
    403: {"error": {"code": "forbidden", "message": "Du får inte göra den ändringen."}},
    404: {"error": {"code": "not_found", "message": "Sidan finns inte. Länken kan vara gammal."}},
    409: {"error": {"code": "invalid", "message": "Den här vandringen tar inte emot fler fynd."}},
    413: {
        "error": {
            "code": "request_entity_too_large",
            "message": "Det du skickade är för stort. Skicka färre eller mindre foton åt gången.",
        }
    },
    422: {
        "error": {
            "code": "unprocessable_entity",
            "message": "Uppgifterna kunde inte tas emot. Kontrollera dem och försök igen.",
            "fields": {"category_id": ["Missing data for required field."]},
        }
    },
}
# What every paged list says about its pages.
PAGED = (
    f" One page at a time: `page` (from 1) and `page_size` (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}); the"
    " X-Pagination header has the total and the next page's number, the Link header the next page's address"
    ' (rel="next"), absent on the last page.'
)
# Every operation needs the session cookie; one that writes also needs the CSRF token in X-CSRFToken
# (the components are declared in fieldwalk.api.init_app).
READ_SECURITY: list[dict[str, list[str]]] = [{"session": []}]
WRITE_SECURITY: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
WRITE_ERRORS = (400, 401, 413, 422)  # any POST: CSRF, its body's size and validity, the session


def _operation(operation_id: str, description: str, *errors: int, writes: bool = False):
    """The document's part of one operation: a stable operationId (a generated client's function name), its
    description, its security, and only the error statuses it can answer (those every read or write can,
    plus `errors`)."""
    statuses = sorted(set(errors) | set(WRITE_ERRORS if writes else (401,)))

    def decorate(view):
        for status in reversed(statuses):
            view = bp.alt_response(
                status, schema=ErrorSchema, description=ERROR_MEANINGS[status], example=ERROR_EXAMPLES[status]
            )(view)
        return bp.doc(
            operationId=operation_id, description=description, security=WRITE_SECURITY if writes else READ_SECURITY
        )(view)

    return decorate


@bp.errorhandler(OperationError)
def _operation_error(exc: OperationError):
    if exc.code == "invalid_uuid":  # a uuid of another walk's finding: exactly the answer to a malformed one
        # (nothing to roll back here: the request's end does, the answer being a 422)
        message = FindingCreateSchema().fields["uuid"].error_messages["invalid_uuid"]
        return error_json("unprocessable_entity", ERROR_TEXTS[422], 422, fields={"uuid": [message]})
    return operation_error_response(exc)


@bp.before_request
@login_required
def _logged_in():
    """Every endpoint needs a session (anonymous: 401 JSON)."""


@bp.route("/session")
@bp.response(200, SessionSchema)
@_operation(
    "get_session",
    "The logged-in user and the CSRF token for this session. Read it once after logging in and send it as"
    " the X-CSRFToken header with every POST.",
)
def session_info():
    """Who is logged in, and the CSRF token to send as X-CSRFToken with every POST."""
    return {
        "user_id": current_user.id,
        "name": current_user.name,
        "role": current_user.role.value,
        "csrf_token": generate_csrf(),
    }


@bp.route("/categories")
@bp.response(200, CategorySchema(many=True))
@_operation(
    "list_categories",
    "Every active category a finding can have, in the order the capture form shows them, with the name in"
    " the session's language.",
)
def categories():
    """The active finding categories, in display order."""
    return active_categories()


@bp.route("/walks")
@bp.response(200, WalkSchema(many=True))
@bp.paged()
@_operation(
    "list_walks",
    "The walks this user may see, newest first: staff see all, a participant the walks they joined." + PAGED,
    422,
)
def walks():
    """The walks this user may see, a page at a time."""
    return walks_query(current_user)


@bp.route("/walks/<int:walk_id>")
@bp.response(200, WalkSchema)
@_operation("get_walk", "One walk by id.", 404)
def walk(walk_id: int):
    """One walk."""
    return get_walk_or_404(walk_id, current_user)


@bp.route("/walks/<int:walk_id>/findings", methods=["GET"])
@bp.response(200, FindingSchema(many=True))
@_operation("list_walk_findings", "Every finding of the walk this user may see, with its photos.", 404)
def walk_findings(walk_id: int):
    """The walk's findings with their photos."""
    return get_walk_or_404(walk_id, current_user, WITH_FINDINGS).findings


@bp.route("/walks/<int:walk_id>/findings", methods=["POST"])
@bp.arguments(FindingCreateSchema)
@bp.response(201, FindingSchema, description="created")
@bp.alt_response(200, schema=FindingSchema, description="already stored under this uuid: nothing written")
@_operation(
    "create_finding",
    "Log a finding on the walk (JSON). The client makes the uuid, so a retry after a dropped connection "
    "returns the stored finding (200) instead of a second one (201). Add photos afterwards with "
    "add_finding_photo.",
    404,
    409,
    writes=True,
)
def create_finding(data: FindingInput, walk_id: int):
    """Log a finding. The client makes the uuid; sending the same uuid again returns the stored finding."""
    walk = get_walk_or_404(walk_id, current_user)
    finding, created = findings.create_finding(walk, current_user, data)
    return finding, 201 if created else 200


@bp.route("/walks/<int:walk_id>/nearby")
@bp.arguments(NearbyQuerySchema, location="query")
@bp.response(200, NearbySchema(many=True))
@_operation(
    "list_nearby",
    "Possible duplicates of a finding about to be logged at lat/lon in a category, nearest first.",
    403,
    404,
    422,
)
def walk_nearby(query: dict, walk_id: int):
    """Possible duplicates while logging a finding on the walk: findings of this walk and open action items of
    any walk with the same category within DUPLICATE_RADIUS_M (default 25 m) of lat/lon, nearest first.
    Findings the user may not open come as a summary without photo or description."""
    walk = get_walk_or_404(walk_id, current_user)
    if not can_see_nearby(current_user, walk):
        raise OperationError(_("Den här vandringen tar inte emot fler fynd."), status=403, code="forbidden")
    category = db.session.get(Category, query["category_id"])
    if category is None:
        raise OperationError(_("Okänd kategori."), status=422, code="unknown_category")
    return nearby(walk, current_user, category, query["lat"], query["lon"])


@bp.route("/walks/<int:walk_id>/agreements", methods=["POST"])
@bp.arguments(AgreementCreateSchema)
@bp.response(201, AgreementSchema, description="recorded")
@bp.alt_response(200, schema=AgreementSchema, description="this user agreed already: nothing written")
@_operation(
    "agree_with_finding",
    "Agree with a finding the nearby list offered instead of logging a new one; once per person and finding.",
    403,
    404,
    409,
    writes=True,
)
def agree(data: dict, walk_id: int):
    """ "Jag håller med": agree with a finding the nearby list offered (for an action item: its first finding)
    instead of logging a new one. Once per person and finding; sending it again is safe."""
    walk = get_walk_or_404(walk_id, current_user)
    finding = db.session.get(Finding, data["finding_id"])
    if finding is None:
        abort(404)
    _agreement, created = findings.agree(walk, current_user, finding)
    return {"finding_id": finding.id, "agreements": findings.count_agreements(finding)}, 201 if created else 200


@bp.route("/walks/<int:walk_id>/agreements/<int:finding_id>/photo", methods=["POST"])
@bp.arguments(PhotoUploadSchema, location="files")
@bp.response(201, PhotoUploadedSchema, description="stored with the agreement")
@bp.alt_response(200, schema=PhotoUploadedSchema, description="this photo is stored already: nothing written")
@_operation(
    "add_agreement_photo",
    "Add the optional photo to one's agreement (multipart field `photo`).",
    403,
    404,
    409,
    writes=True,
)
def agreement_photo(files: dict, walk_id: int, finding_id: int):
    """The optional photo with one's "Jag håller med" (multipart field `photo`): one per agreement, added to
    the finding's photos. 409 before agreeing."""
    walk = get_walk_or_404(walk_id, current_user)
    finding = db.session.get(Finding, finding_id)
    if finding is None:
        abort(404)
    upload = files["photo"]
    notices: list[str] = []
    photo, created = findings.add_agreement_photo(
        walk, current_user, finding, read_upload(upload), upload.filename or "", notices=notices
    )
    photo.warnings = notices
    return photo, 201 if created else 200


@bp.route("/findings/<int:finding_id>")
@bp.response(200, FindingSchema)
@_operation("get_finding", "One finding by id, with its photos.", 404)
def finding(finding_id: int):
    """One finding."""
    return get_finding_or_404(finding_id, current_user)


@bp.route("/findings/by-uuid/<uuid:finding_uuid>")
@bp.response(200, FindingSchema)
@_operation("get_finding_by_uuid", "One finding by the uuid its client made: did my upload arrive?", 404)
def finding_by_uuid(finding_uuid):
    """Look a finding up by the client's uuid (did my upload arrive?)."""
    found = db.session.scalar(select(Finding.id).where(Finding.uuid == str(finding_uuid)))
    if found is None:
        abort(404)
    return get_finding_or_404(found, current_user)


@bp.route("/findings/<int:finding_id>/photos", methods=["POST"])
@bp.arguments(PhotoUploadSchema, location="files")
@bp.response(201, PhotoUploadedSchema, description="stored")
@bp.alt_response(200, schema=PhotoUploadedSchema, description="these bytes are already stored: nothing written")
@_operation(
    "add_finding_photo",
    "Upload one photo of the finding (multipart field `photo`, JPEG, PNG or WebP). The server removes its"
    " metadata (EXIF, GPS) and stores a downscaled copy; the same bytes again return the stored photo "
    "(200).",
    403,
    404,
    writes=True,
)
def add_photo(files: dict, finding_id: int):
    """Upload one photo (multipart field `photo`); the same bytes again return the stored photo."""
    finding = get_finding_or_404(finding_id, current_user)
    upload = files["photo"]
    notices: list[str] = []
    photo, created = findings.add_photo(
        finding, current_user, read_upload(upload), upload.filename or "", notices=notices
    )
    photo.warnings = notices  # answered with the photo (PhotoUploadedSchema), never stored
    return photo, 201 if created else 200


@bp.route("/action-items")
@bp.arguments(ActionFilterSchema, location="query")
@bp.response(200, ActionItemSchema(many=True))
@bp.paged()
@_operation(
    "list_action_items",
    "The action items this user may see, filtered by status and walk, most urgent first." + PAGED,
    422,
)
def action_items(filters: dict):
    """The action items this user may see (staff: all; a responsible party: its own), most urgent first, a
    page at a time."""
    return action_items_query(current_user, walk_id=filters["walk"], status=filters["status"])


@bp.route("/action-items/<int:item_id>")
@bp.response(200, ActionItemSchema)
@_operation("get_action_item", "One action item, with the status moves this user may make now.", 404)
def action_item(item_id: int):
    """One action item with the status moves this user may make."""
    return get_action_or_404(item_id, current_user)


@bp.route("/action-items/<int:item_id>/transition", methods=["POST"])
@bp.arguments(TransitionSchema)
@bp.response(200, ActionItemSchema)
@_operation(
    "transition_action_item",
    "Move an action item to another status; `text` is the comment some moves require (e.g. why it is rejected).",
    403,
    404,
    409,
    writes=True,
)
def transition(data: dict, item_id: int):
    """Move the item to another status (same rules as the buttons on the item's page)."""
    item = get_action_or_404(item_id, current_user)
    actions.transition(item, data["to"], current_user, text=data["text"])
    return item
