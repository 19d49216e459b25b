"""Defects an outside tester found after the trust fixes: malformed API bodies, broken Unicode, dates at
the ends of the calendar, a photo file gone missing, and photos of a finding sent again under the same uuid
(parallel photo uploads past the limit: tests/test_concurrency.py)."""

import io
import json
import uuid

import pytest
from sqlalchemy import func, select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.models import Finding, Photo, Role, User
from fieldwalk.photos.service import photo_store
from tests.helpers import jpeg_bytes, stored_files


def _token(client) -> str:
    return client.get("/api/v1/session").json["csrf_token"]


@pytest.mark.parametrize(
    "body",
    [b'{"uuid":1', b"\xff", b"[" * 100_000 + b"]" * 100_000, b'"text"', b"null"],
    ids=["cut-off", "not-utf8", "deeply-nested", "a-string", "null"],
)
def test_a_malformed_json_body_is_a_4xx(app, client, auth, make_walk, body):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings",
        data=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": _token(client)},
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.json["error"]["message"]


@pytest.mark.parametrize("text", ["\ud800x", "x\udfff"])
def test_a_lone_surrogate_in_api_text_is_a_422(app, client, auth, make_walk, category_id, text):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    raw = json.dumps({"uuid": str(uuid.uuid4()), "category_id": category_id(), "description": text})  # \ud800 escapes
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings",
        data=raw,
        headers={"Content-Type": "application/json", "X-CSRFToken": _token(client)},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "description" in response.json["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Finding)) == 0


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_device_time_at_the_end_of_the_calendar_is_no_server_error(
    app, client, guest, make_walk, category_id, moment
):
    walk_id = make_walk()
    guest(walk_id)
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        data={
            "category": str(category_id()),
            "description": "Trasig lampa",
            "severity": "medium",
            "uuid": str(uuid.uuid4()),
            "device_created_at": moment,
        },
    )
    assert response.status_code < 500
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings",
        headers={"X-CSRFToken": _token(client)},
        json={"uuid": str(uuid.uuid4()), "category_id": category_id(), "device_created_at": moment},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "device_created_at" in response.json["error"]["fields"]


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=1999-12-31"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_a_findings_export_with_a_date_outside_the_years_we_keep_is_a_400(client, auth, query, fmt):
    auth.login(Role.COORDINATOR)
    response = client.get(f"/exports/findings.{fmt}?{query}")
    assert response.status_code == 400
    assert "2000" in response.get_data(as_text=True)


def test_the_protocol_pdf_leaves_out_a_photo_whose_file_is_missing(
    app, client, auth, make_walk, category_id, store_backend
):
    user_id = auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        data={
            "category": str(category_id()),
            "description": "Klotter",
            "severity": "medium",
            "uuid": str(uuid.uuid4()),
            "photos": (io.BytesIO(jpeg_bytes((400, 300))), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():  # an action item, so that the protocol shows the finding's photo as its "before"
        finding = db.session.scalars(select(Finding)).one()
        actions.create_action_item([finding], db.session.get(User, user_id), ActionItemInput(title="Sanera klottret"))
        db.session.commit()
    with app.app_context():  # e.g. a restore that brought the database back but not every file
        store = photo_store()
        for key in stored_files(app):
            store.delete(key)
    assert stored_files(app) == []
    response = client.get(f"/followup/protocol.pdf?walk={walk_id}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"


def test_photos_sent_again_with_a_stored_uuid_are_added(app, client, auth, make_walk, category_id):
    """A finding sent first without its photos (the API, or a form whose upload failed) and then again with
    them under the same uuid: the photos are added, each once, and nothing the person sent is dropped."""
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    finding_uuid = str(uuid.uuid4())
    token = _token(client)
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings",
        headers={"X-CSRFToken": token},
        json={"uuid": finding_uuid, "category_id": category_id(), "description": "Mörkt"},
    )
    assert response.status_code == 201
    photo_a, photo_b = jpeg_bytes((400, 300)), jpeg_bytes((500, 300))
    for _round in range(2):  # the second post repeats the first: nothing more is added
        response = client.post(
            f"/walks/{walk_id}/findings/new",
            content_type="multipart/form-data",
            data={
                "category": str(category_id()),
                "description": "Mörkt",
                "severity": "medium",
                "uuid": finding_uuid,
                "photos": [(io.BytesIO(photo_a), "a.jpg"), (io.BytesIO(photo_b), "b.jpg")],
            },
        )
        assert response.status_code == 302
    with app.app_context():
        finding = db.session.scalars(select(Finding)).one()
        assert db.session.scalar(select(func.count()).select_from(Photo).where(Photo.finding_id == finding.id)) == 2
