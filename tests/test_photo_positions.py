"""What a photo reveals: its upload hash (taken with GPS inside) stays on the server, and its EXIF position
places a finding only within the walk's area (meeting point or the walk's findings), else the user is told."""

import hashlib
import io
import uuid

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, PositionSource, Role
from tests.helpers import jpeg_bytes

MEETING = (56.879, 14.806)  # make_walk's meeting point, Växjö
NEAR = (56.8805, 14.8120)  # about 400 m away
FAR = (59.3326, 18.0649)  # Stockholm, about 333 km away
NOT_USED = "Fotots GPS-position användes inte"


def _capture(client, walk_id, category, photo: bytes, **fields):
    return client.post(
        f"/walks/{walk_id}/findings/new",
        data={"category": category, "uuid": str(uuid.uuid4()), "photos": [(io.BytesIO(photo), "IMG_1.jpg")], **fields},
        follow_redirects=True,
    )


def _only_finding(app) -> Finding:
    with app.app_context():
        finding = db.session.scalar(select(Finding).order_by(Finding.id.desc()))
        db.session.expunge(finding)
        return finding


def test_upload_hash_is_never_answered(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    data = jpeg_bytes((800, 600), gps=NEAR)
    source_sha256 = hashlib.sha256(data).hexdigest()
    body = {"uuid": str(uuid.uuid4()), "category_id": category_id()}
    finding_id = client.post(f"/api/v1/walks/{walk_id}/findings", json=body).json["id"]
    uploaded = client.post(f"/api/v1/findings/{finding_id}/photos", data={"photo": (io.BytesIO(data), "IMG_1.jpg")})
    assert uploaded.status_code == 201
    again = client.post(f"/api/v1/findings/{finding_id}/photos", data={"photo": (io.BytesIO(data), "IMG_1.jpg")})
    assert again.status_code == 200 and again.json["id"] == uploaded.json["id"]  # still idempotent by it
    with app.app_context():
        assert (
            db.session.scalar(select(Finding).where(Finding.id == finding_id)).photos[0].source_sha256 == source_sha256
        )  # kept on the server
    answers = [uploaded, again] + [
        client.get(url)
        for url in (
            f"/api/v1/findings/{finding_id}",
            f"/api/v1/walks/{walk_id}/findings",
            f"/api/v1/findings/by-uuid/{body['uuid']}",
            f"/findings/{finding_id}",
            f"/walks/{walk_id}",
            "/api/v1/openapi.json",
        )
    ]
    for answer in answers:
        text = answer.get_data(as_text=True)
        assert answer.status_code in (200, 201)
        assert source_sha256 not in text and "source_sha256" not in text, answer.request.path


@pytest.mark.parametrize(
    "meeting, photo_at, used",
    [
        (MEETING, NEAR, True),
        (MEETING, FAR, False),
        ((None, None), FAR, True),  # nothing to compare with: the photo is all we know
    ],
)
def test_capture_uses_photo_position_only_near_the_walk(
    app, client, auth, make_walk, category_id, meeting, photo_at, used
):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk(meeting_lat=meeting[0], meeting_lon=meeting[1])
    response = _capture(client, walk_id, category_id(), jpeg_bytes((800, 600), gps=photo_at))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    finding = _only_finding(app)
    if used:
        assert finding.position_source == PositionSource.PHOTO
        assert finding.lat == pytest.approx(photo_at[0], abs=1e-4)
        assert finding.lon == pytest.approx(photo_at[1], abs=1e-4)
        assert NOT_USED not in page
    else:
        assert finding.position_source == PositionSource.NONE and finding.lat is None and finding.lon is None
        assert NOT_USED in page and "333,2 km" in page  # told why, on the walk page after saving


def test_walk_findings_are_the_reference_without_a_meeting_point(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk(meeting_lat=None, meeting_lon=None)
    client.post(
        f"/walks/{walk_id}/findings/new",
        data={"category": category_id(), "lat": str(NEAR[0]), "lon": str(NEAR[1]), "position_source": "map"},
    )
    far = _capture(client, walk_id, category_id(), jpeg_bytes((800, 600), gps=FAR))
    assert NOT_USED in far.get_data(as_text=True)
    assert _only_finding(app).lat is None
    near = _capture(client, walk_id, category_id(), jpeg_bytes((801, 600), gps=MEETING))
    assert NOT_USED not in near.get_data(as_text=True)
    assert _only_finding(app).position_source == PositionSource.PHOTO


def test_form_position_wins_and_distance_is_configurable(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    typed = _capture(
        client,
        walk_id,
        category_id(),
        jpeg_bytes((800, 600), gps=FAR),
        lat="56.8791",
        lon="14.8061",
        position_source="gps",
    )
    assert NOT_USED not in typed.get_data(as_text=True)  # the photo's position was not needed
    finding = _only_finding(app)
    assert (finding.lat, finding.position_source) == (56.8791, PositionSource.GPS)
    app.config["PHOTO_GPS_MAX_DISTANCE_M"] = 100
    try:
        strict = _capture(client, walk_id, category_id(), jpeg_bytes((801, 600), gps=NEAR))
    finally:
        app.config["PHOTO_GPS_MAX_DISTANCE_M"] = 2000
    assert NOT_USED in strict.get_data(as_text=True)
    assert _only_finding(app).lat is None


def test_api_photo_position_only_near_the_walk(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    ids = [
        client.post(
            f"/api/v1/walks/{walk_id}/findings", json={"uuid": str(uuid.uuid4()), "category_id": category_id()}
        ).json["id"]
        for _ in range(2)
    ]
    far = client.post(
        f"/api/v1/findings/{ids[0]}/photos", data={"photo": (io.BytesIO(jpeg_bytes((800, 600), gps=FAR)), "far.jpg")}
    )
    assert far.status_code == 201
    assert len(far.json["warnings"]) == 1 and NOT_USED in far.json["warnings"][0]
    finding = client.get(f"/api/v1/findings/{ids[0]}").json
    assert (finding["lat"], finding["position_source"]) == (None, "none")
    near = client.post(
        f"/api/v1/findings/{ids[1]}/photos", data={"photo": (io.BytesIO(jpeg_bytes((800, 600), gps=NEAR)), "near.jpg")}
    )
    assert near.status_code == 201 and near.json["warnings"] == []
    finding = client.get(f"/api/v1/findings/{ids[1]}").json
    assert finding["position_source"] == "photo" and finding["lat"] == pytest.approx(NEAR[0], abs=1e-4)


def test_api_warning_in_english(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    client.post("/language", data={"language": "en"})
    finding_id = client.post(
        f"/api/v1/walks/{walk_id}/findings", json={"uuid": str(uuid.uuid4()), "category_id": category_id()}
    ).json["id"]
    far = client.post(
        f"/api/v1/findings/{finding_id}/photos",
        data={"photo": (io.BytesIO(jpeg_bytes((800, 600), gps=FAR)), "far.jpg")},
    )
    assert far.json["warnings"] == [
        "The photo's GPS position was not used: it is 333.2 km from the walk. Mark the place on the map instead."
    ]
