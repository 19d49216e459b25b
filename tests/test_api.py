"""The JSON API: idempotent findings and photos, JSON errors with codes, the same rules as the pages."""

import io
import uuid

import pytest

from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, Finding, Photo, Role
from tests.helpers import jpeg_bytes


def _finding(category, **extra):
    return {
        "uuid": str(uuid.uuid4()),
        "category_id": category,
        "description": "Mörk gångväg",
        "severity": "high",
        "lat": 56.879,
        "lon": 14.806,
        "accuracy_m": 8,
        **extra,
    }


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_openapi_document_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/v1/walks/{walk_id}/findings",
        "/api/v1/findings/{finding_id}/photos",
        "/api/v1/action-items/{item_id}/transition",
    } <= set(doc["paths"])
    create = doc["paths"]["/api/v1/walks/{walk_id}/findings"]["post"]
    assert {"200", "201", "404", "422"} <= set(create["responses"])
    assert "uuid" in doc["components"]["schemas"]["FindingCreate"]["required"]


def test_same_uuid_twice_makes_one_finding(app, client, auth, make_walk, category_id):
    auth.login()
    walk = make_walk()
    body = _finding(category_id())
    first = client.post(f"/api/v1/walks/{walk}/findings", json=body)
    assert first.status_code == 201, first.json
    again = client.post(f"/api/v1/walks/{walk}/findings", json=body)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert _count(app, Finding) == 1
    found = client.get(f"/api/v1/findings/by-uuid/{body['uuid']}")
    assert found.status_code == 200 and found.json["position_source"] == "gps"
    listed = client.get(f"/api/v1/walks/{walk}/findings").json
    assert [f["uuid"] for f in listed] == [body["uuid"]]


def test_photo_upload_is_idempotent_by_content(app, client, auth, make_walk, category_id):
    auth.login()
    walk = make_walk()
    finding = client.post(f"/api/v1/walks/{walk}/findings", json=_finding(category_id())).json
    raw = jpeg_bytes((1200, 900))
    url = f"/api/v1/findings/{finding['id']}/photos"
    first = client.post(url, data={"photo": (io.BytesIO(raw), "a.jpg")}, content_type="multipart/form-data")
    assert first.status_code == 201, first.json
    again = client.post(url, data={"photo": (io.BytesIO(raw), "a.jpg")}, content_type="multipart/form-data")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert _count(app, Photo) == 1
    with client.get(first.json["thumbnail_url"]) as thumbnail:
        assert thumbnail.status_code == 200
    broken = client.post(
        url, data={"photo": (io.BytesIO(raw[: len(raw) // 2]), "b.jpg")}, content_type="multipart/form-data"
    )
    assert broken.status_code == 422
    assert broken.json["error"]["code"] == "photo_truncated" and "b.jpg" in broken.json["error"]["message"]
    assert _count(app, Photo) == 1
    missing = client.post(url, data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "photo" in missing.json["error"]["fields"]


def test_errors_are_json_with_a_code_and_a_message(app, client, auth, make_walk, category_id, guest):
    assert client.get("/api/v1/walks").status_code == 401
    assert client.get("/api/v1/walks").json["error"]["code"] == "unauthorized"
    auth.login()
    walk = make_walk()
    bad = client.post(f"/api/v1/walks/{walk}/findings", json={"category_id": category_id(), "lat": 91})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"uuid", "lat"} and bad.json["error"]["message"]
    unknown = client.post(f"/api/v1/walks/{walk}/findings", json=_finding(9999))
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "unknown_category"
    half = client.post(f"/api/v1/walks/{walk}/findings", json=_finding(category_id(), lon=None))
    assert half.status_code == 422 and half.json["error"]["code"] == "invalid"
    assert client.get("/api/v1/walks/999").json["error"]["code"] == "not_found"
    # Ids past a database integer (found by the fuzzer: it was an overflow error, a 500) are simply unknown.
    assert client.get("/api/v1/findings/9223372036854775808").status_code == 404
    assert client.get("/walks/9223372036854775808").status_code == 404
    other = make_walk(title="Annan")
    guest(walk)
    assert client.get(f"/api/v1/walks/{other}").status_code == 404  # not theirs: as if it did not exist
    assert client.post(f"/api/v1/walks/{other}/findings", json=_finding(category_id())).status_code == 404
    assert _count(app, Finding) == 0


def test_post_needs_the_csrf_token_from_the_session_endpoint(app, client, auth, make_walk, category_id):
    auth.login()
    walk = make_walk()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/api/v1/walks/{walk}/findings", json=_finding(category_id()))
        assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
        token = client.get("/api/v1/session").json["csrf_token"]
        ok = client.post(f"/api/v1/walks/{walk}/findings", json=_finding(category_id()), headers={"X-CSRFToken": token})
        assert ok.status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def item_of_party(app, client, auth, make_walk, category_id):
    auth.login()
    walk = make_walk()
    finding = client.post(f"/api/v1/walks/{walk}/findings", json=_finding(category_id())).json
    created = client.post(
        "/actions/new",
        data={
            "finding": finding["id"],
            "title": "Laga lampan",
            "responsible_party": _party_id(app),
            "priority": "medium",
        },
    )
    assert created.status_code == 302
    with app.app_context():
        return db.session.scalar(db.select(ActionItem.id))


def _party_id(app) -> int:
    from fieldwalk.models import ResponsibleParty

    with app.app_context():
        return db.session.scalar(db.select(ResponsibleParty.id).filter_by(name="Gatu- och parkavdelningen"))


def test_action_items_move_by_the_same_rules(app, client, auth, item_of_party):
    item = client.get(f"/api/v1/action-items/{item_of_party}").json
    assert item["status"] == "assigned" and "closed" not in item["allowed_transitions"]
    illegal = client.post(f"/api/v1/action-items/{item_of_party}/transition", json={"to": "closed"})
    assert illegal.status_code == 409 and illegal.json["error"]["code"] == "illegal_transition"
    unknown = client.post(f"/api/v1/action-items/{item_of_party}/transition", json={"to": "gone"})
    assert unknown.status_code == 422 and "to" in unknown.json["error"]["fields"]
    auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    assert [i["id"] for i in client.get("/api/v1/action-items").json] == [item_of_party]
    started = client.post(f"/api/v1/action-items/{item_of_party}/transition", json={"to": "in_progress"})
    assert started.status_code == 200 and started.json["status"] == "in_progress"
    rejected = client.post(
        f"/api/v1/action-items/{item_of_party}/transition", json={"to": "rejected", "text": "Inte vårt"}
    )
    assert rejected.status_code == 403 and rejected.json["error"]["code"] == "forbidden"
    auth.login(Role.RESPONSIBLE, party_name="Trafikverket")
    assert client.get("/api/v1/action-items").json == []
    assert client.get(f"/api/v1/action-items/{item_of_party}").status_code == 404


def test_installable_app_manifest_and_service_worker(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    assert {(i["sizes"], i["purpose"]) for i in manifest.json["icons"]} == {
        (size, purpose) for size in ("192x192", "512x512") for purpose in ("any", "maskable")
    }
    for icon in manifest.json["icons"]:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200 and response.mimetype == "image/png"
    with client.get("/sw.js") as worker:
        assert worker.status_code == 200 and worker.mimetype == "text/javascript"
        assert worker.headers["Cache-Control"] == "no-cache"
