"""What the API sends and accepts (marshmallow); the OpenAPI document is generated from these."""

from flask import url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, post_load, validate

from fieldwalk.actions.operations import allowed_transitions
from fieldwalk.extensions import db
from fieldwalk.findings.inputs import FindingInput, device_time_utc
from fieldwalk.labels import label
from fieldwalk.models import ActionStatus, Category, PositionSource, Severity, WalkStatus
from fieldwalk.query_args import EARLIEST, LATEST


class ErrorSchema(Schema):
    class ErrorBody(Schema):
        code = fields.String(required=True, metadata={"description": "machine-readable, e.g. not_found"})
        message = fields.String(required=True, metadata={"description": "for people, in the user's language"})
        fields_ = fields.Dict(data_key="fields", metadata={"description": "per-field messages"})
        request_id = fields.String(metadata={"description": "this request's reference: quote it when reporting it"})

    error = fields.Nested(ErrorBody, required=True)


class SessionSchema(Schema):
    user_id = fields.Integer(metadata={"example": 7})
    name = fields.String(metadata={"example": "Sara Samordnare"})
    role = fields.String(metadata={"example": "samordnare"})
    csrf_token = fields.String(metadata={"description": "send as X-CSRFToken on POST", "example": "IjQ5ZjFhYjM0…"})


class CategorySchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.Function(lambda category: category.name(str(get_locale())))
    icon = fields.String()
    is_positive = fields.Boolean()


class WalkSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    area = fields.String()
    status = fields.Enum(WalkStatus, by_value=True)
    starts_at = fields.DateTime(metadata={"description": "UTC"})
    meeting_point = fields.String()
    meeting_lat = fields.Float(allow_none=True)
    meeting_lon = fields.Float(allow_none=True)


class PhotoSchema(Schema):
    id = fields.Integer()
    # The stored (EXIF-free) file's hash only: the upload's own hash (source_sha256) stays on the server,
    # as it was computed with the GPS position still inside and would confirm a guessed original.
    sha256 = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    url = fields.Function(lambda photo: url_for("photos.photo", photo_id=photo.id, variant="full"))
    thumbnail_url = fields.Function(lambda photo: url_for("photos.photo", photo_id=photo.id, variant="thumb"))


class PhotoUploadedSchema(PhotoSchema):
    warnings = fields.List(
        fields.String(),
        dump_default=list,
        metadata={"description": "what of the photo was not used and why, e.g. its position far from the walk"},
    )


class FindingSchema(Schema):
    id = fields.Integer()
    uuid = fields.String()
    walk_id = fields.Integer()
    category_id = fields.Integer()
    description = fields.String()
    severity = fields.Enum(Severity, by_value=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    position_source = fields.Enum(PositionSource, by_value=True)
    place = fields.String()
    created_at = fields.DateTime()
    arrived_after_close = fields.Boolean(metadata={"description": "reached the server after the walk was closed"})
    photos = fields.List(fields.Nested(PhotoSchema))


def _plausible_device_time(moment) -> None:
    if device_time_utc(moment) is None:
        raise ValidationError(
            _(
                "Enhetens klocka visar en omöjlig tid (tillåtet %(first)d–%(last)d).",
                first=EARLIEST.year,
                last=LATEST.year,
            )
        )


class _AsciiNumber(fields.Number):
    """A number written in ASCII (int() and float() also read "١٢" and "１２"; a query string must not)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not value.strip().isascii():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class AsciiFloat(_AsciiNumber, fields.Float):
    """A decimal number in ASCII."""


class AsciiInteger(_AsciiNumber, fields.Integer):
    """A whole number in ASCII; 1.5 is refused (marshmallow's Integer would take it as 1: another finding)."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class FindingCreateSchema(Schema):
    uuid = fields.UUID(
        required=True,
        metadata={
            "description": "made by the client; sending it again is safe",
            "example": "3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e0a4c31",
        },
    )
    category_id = AsciiInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={"example": 1})
    description = fields.String(
        load_default="", validate=validate.Length(max=5000), metadata={"example": "Trasig gatlampa vid busshållplatsen"}
    )
    severity = fields.Enum(Severity, by_value=True, load_default=Severity.MEDIUM, metadata={"example": "high"})
    lat = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=-90, max=90),
        metadata={"description": "WGS 84", "example": 56.879},
    )
    lon = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=-180, max=180),
        metadata={"description": "WGS 84", "example": 14.8059},
    )
    accuracy_m = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000), metadata={"example": 8.0}
    )
    position_source = fields.Enum(
        PositionSource, by_value=True, load_default=PositionSource.GPS, metadata={"example": "gps"}
    )
    place = fields.String(load_default="", validate=validate.Length(max=200), metadata={"example": "Storgatan 12"})
    device_created_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        default_timezone=None,
        validate=_plausible_device_time,
        metadata={"description": "when the phone logged it (offline outbox)", "example": "2026-11-23T18:05:00+01:00"},
    )

    @post_load
    def to_input(self, data: dict, **_kwargs) -> FindingInput:
        """The finding as the operations take it; an unknown category_id is the operation's to refuse."""
        device_time = data.pop("device_created_at")
        return FindingInput(
            category=db.session.get(Category, data.pop("category_id")),
            uuid=str(data.pop("uuid")),
            device_created_at=device_time_utc(device_time) if device_time else None,
            **data,
        )


class PhotoUploadSchema(Schema):
    photo = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ActionItemSchema(Schema):
    id = fields.Integer()
    walk_id = fields.Integer()
    title = fields.String()
    description = fields.String()
    status = fields.Enum(ActionStatus, by_value=True)
    priority = fields.String(attribute="priority.value")
    responsible_party = fields.String(attribute="responsible_party.name", allow_none=True)
    due_date = fields.Date(allow_none=True)
    finding_ids = fields.Function(lambda item: [f.id for f in item.findings])
    allowed_transitions = fields.Function(
        lambda item: [s.value for s in allowed_transitions(current_user, item)],
        metadata={"description": "the statuses this user may move the item to now"},
    )


class ActionFilterSchema(Schema):
    status = fields.Enum(ActionStatus, by_value=True, load_default=None)
    walk = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class TransitionSchema(Schema):
    to = fields.Enum(ActionStatus, by_value=True, required=True, metadata={"example": "assigned"})
    text = fields.String(
        load_default="", validate=validate.Length(max=5000), metadata={"example": "Gatu- och parkavdelningen tar den"}
    )


class NearbyQuerySchema(Schema):
    category_id = AsciiInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    lat = AsciiFloat(required=True, allow_nan=False, validate=validate.Range(min=-90, max=90))
    lon = AsciiFloat(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180))


def _thumbnail(entry):
    photos = entry.finding.photos if entry.details else []
    return url_for("photos.photo", photo_id=photos[0].id, variant="thumb") if photos else None


class NearbySchema(Schema):
    kind = fields.Function(
        lambda e: "action_item" if e.item is not None and e.finding.walk_id != e.walk_id else "finding",
        metadata={"description": "finding (of this walk) or action_item"},
    )
    finding_id = fields.Function(
        lambda e: e.finding.id, metadata={"description": "where an agreement goes (an item's first finding)"}
    )
    action_item_id = fields.Function(lambda e: e.item.id if e.item is not None else None, allow_none=True)
    same_walk = fields.Function(lambda e: e.finding.walk_id == e.walk_id)
    distance_m = fields.Function(lambda e: round(e.distance_m))
    category = fields.Function(lambda e: e.finding.category.name(str(get_locale())))
    icon = fields.Function(lambda e: e.finding.category.icon)
    title = fields.Function(
        lambda e: e.item.title if e.item is not None else "",
        metadata={"description": "the action item's title (written by the kommun)"},
    )
    status = fields.Function(lambda e: e.item.status.value if e.item is not None else None, allow_none=True)
    status_label = fields.Function(lambda e: label(e.item.status) if e.item is not None else "")
    place = fields.Function(lambda e: e.finding.place)
    description = fields.Function(
        lambda e: e.finding.description if e.details else None,
        allow_none=True,
        metadata={"description": "only for those who may open the finding"},
    )
    thumbnail_url = fields.Function(
        _thumbnail, allow_none=True, metadata={"description": "only for those who may open the finding"}
    )
    created_at = fields.Function(lambda e: e.finding.created_at.isoformat() + "Z")
    agreements = fields.Integer(metadata={"description": "how many said they agree"})
    agreements_label = fields.Function(
        lambda e: agreements_label(e.agreements),
        metadata={"description": 'e.g. "3 håller med", in the user\'s language'},
    )
    distance_label = fields.Function(lambda e: _("%(m)s m härifrån", m=round(e.distance_m)))
    origin_label = fields.Function(
        lambda e: (
            _("Loggat på den här vandringen")
            if e.finding.walk_id == e.walk_id
            else _("Åtgärd från en tidigare vandring")
        )
    )
    agreed = fields.Boolean(metadata={"description": "this user has agreed already"})
    own = fields.Boolean(metadata={"description": "this user reported it (no agreeing with oneself)"})


class AgreementCreateSchema(Schema):
    finding_id = AsciiInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={"example": 42})


def agreements_label(n: int) -> str:
    """ "3 håller med" in the user's language ("" for none)."""
    return ngettext("%(num)d håller med", "%(num)d håller med", n) if n else ""


class AgreementSchema(Schema):
    finding_id = fields.Integer()
    agreements = fields.Integer(metadata={"description": "how many agree with the finding now"})
    agreements_label = fields.Function(lambda a: agreements_label(a["agreements"]))
    message = fields.Function(
        lambda a: _(
            "Tack! Du håller med om fyndet – nu %(count)s. Logga gärna nästa fynd.",
            count=agreements_label(a["agreements"]),
        ),
        metadata={"description": "the confirmation to show"},
    )
