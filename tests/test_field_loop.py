"""The whole loop through HTTP: walk → finding with a photo → action item → every status → refused move."""

import io

from PIL import Image
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    EventKind,
    Finding,
    Photo,
    PositionSource,
    ResponsibleParty,
    Role,
    Walk,
    WalkStatus,
)
from fieldwalk.photos.service import photo_store
from tests.helpers import jpeg_bytes, stored_files

LAT, LON = 56.8790, 14.8059  # Stortorget, Växjö


def test_whole_loop(app, client, auth, category_id, store_backend):
    auth.login(Role.COORDINATOR)

    # Plan the walk (times are typed in Swedish local time).
    response = client.post(
        "/walks/new",
        data={
            "title": "Trygghetsvandring Centrum",
            "starts_at": "2026-11-24T18:00",
            "area": "Centrum",
            "meeting_point": "Stortorget",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        walk = db.session.scalar(select(Walk))
        walk_id = walk.id
        assert walk.starts_at.hour == 17  # 18:00 CET is 17:00 UTC
        assert walk.status == WalkStatus.PLANNED
    assert client.post(f"/walks/{walk_id}/status", data={"status": "ongoing"}).status_code == 302

    # Log a finding with a phone photo: rotated by EXIF (orientation 6) and carrying GPS tags.
    photo = jpeg_bytes((3000, 2000), orientation=6, gps=(LAT, LON))
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        data={
            "category": category_id("belysning"),
            "description": "Trasig lampa i tunneln",
            "severity": "high",
            "photos": [(io.BytesIO(photo), "IMG_0001.jpg")],
            "uuid": "0b9d7c1e-2f43-4a5b-9c8d-7e6f5a4b3c2d",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "Trasig lampa i tunneln" in page

    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.position_source == PositionSource.PHOTO  # no GPS from the form: the photo's
        assert abs(finding.lat - LAT) < 1e-4 and abs(finding.lon - LON) < 1e-4
        stored = db.session.scalar(select(Photo))
        photo_id, sha, finding_id = stored.id, stored.sha256, finding.id
        assert (stored.width, stored.height) == (1333, 2000) or max(stored.width, stored.height) >= 1600
        assert stored.height > stored.width  # upright: the portrait the phone saw

    # The stored file is upright with no EXIF at all (GPS above all), served with nosniff.
    with client.get(f"/photos/{photo_id}/full.jpg") as response:
        data = response.data
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(data))
    assert image.height > image.width
    assert not image.getexif()
    assert b"Exif" not in data
    # Orientation 6 means "rotate 90° clockwise to view": the red top-left corner goes top-right.
    red = image.getpixel((image.width - 20, 20))
    blue = image.getpixel((20, 20))
    assert red[0] > 180 and red[2] < 80, red
    assert blue[2] > 150 and blue[0] < 80, blue
    with app.app_context():
        assert photo_store().exists(sha, "thumb")
        with client.get(f"/photos/{photo_id}/thumb.jpg") as response:
            thumb = Image.open(io.BytesIO(response.data))
        assert max(thumb.size) <= 400 and thumb.height > thumb.width

    # Sending the same form again (a double tap, a retry) does not make a second finding.
    client.post(
        f"/walks/{walk_id}/findings/new",
        data={
            "category": category_id("belysning"),
            "description": "Trasig lampa i tunneln",
            "severity": "high",
            "photos": [(io.BytesIO(photo), "IMG_0001.jpg")],
            "uuid": "0b9d7c1e-2f43-4a5b-9c8d-7e6f5a4b3c2d",
        },
    )
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Finding.id))) == 1

    # Turn the finding into an action item (no party yet → status ny).
    response = client.post(
        "/actions/new",
        data={
            "finding": finding_id,
            "title": "Byt armatur i tunneln",
            "description": "LED",
            "responsible_party": 0,
            "due_date": "2027-02-01",
            "priority": "high",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(select(ActionItem))
        item_id = item.id
        party_id = db.session.scalar(select(ResponsibleParty.id).filter_by(name="Gatu- och parkavdelningen"))
        assert item.status == ActionStatus.NEW and item.findings[0].id == finding_id

    after = jpeg_bytes((2400, 1800))
    steps = [
        ({"to": "assigned", "responsible_party": party_id}, ActionStatus.ASSIGNED),
        ({"to": "in_progress", "text": "Beställt"}, ActionStatus.IN_PROGRESS),
        ({"to": "done", "text": "Ny armatur", "photo": (io.BytesIO(after), "efter.jpg")}, ActionStatus.DONE),
        ({"to": "closed", "text": "Verifierat på mötet"}, ActionStatus.CLOSED),
        ({"to": "assigned", "text": "Lampan är trasig igen"}, ActionStatus.ASSIGNED),
        ({"to": "rejected", "text": "Fastighetsägarens ansvar"}, ActionStatus.REJECTED),
        ({"to": "new", "text": "Kommunen tar det ändå"}, ActionStatus.NEW),
    ]
    for data, expected in steps:
        response = client.post(f"/actions/{item_id}/transition", data=data)
        assert response.status_code == 302, (data, response.get_data(as_text=True))
        with app.app_context():
            assert db.session.get(ActionItem, item_id).status == expected

    with app.app_context():
        events = db.session.scalars(
            select(ActionEvent).filter_by(action_item_id=item_id).order_by(ActionEvent.id)
        ).all()
        assert [e.kind for e in events][0] == EventKind.CREATED
        moves = [(e.from_status, e.to_status) for e in events if e.kind == EventKind.STATUS]
        assert moves == [
            (ActionStatus.NEW, ActionStatus.ASSIGNED),
            (ActionStatus.ASSIGNED, ActionStatus.IN_PROGRESS),
            (ActionStatus.IN_PROGRESS, ActionStatus.DONE),
            (ActionStatus.DONE, ActionStatus.CLOSED),
            (ActionStatus.CLOSED, ActionStatus.ASSIGNED),
            (ActionStatus.ASSIGNED, ActionStatus.REJECTED),
            (ActionStatus.REJECTED, ActionStatus.NEW),
        ]
        assert all(e.actor_id is not None and e.created_at for e in events)
        done = next(e for e in events if e.to_status == ActionStatus.DONE)
        assert len(done.photos) == 1  # the after-photo
        after_id = done.photos[0].id

    page = client.get(f"/actions/{item_id}").get_data(as_text=True)
    assert "Fastighetsägarens ansvar" in page and f"/photos/{after_id}/thumb.jpg" in page

    # An illegal move (ny → åtgärdad skips the work) is refused with a message and changes nothing.
    response = client.post(f"/actions/{item_id}/transition", data={"to": "closed"})
    assert response.status_code == 409
    assert "kan inte bli Avslutad" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status == ActionStatus.NEW
        assert db.session.scalar(select(db.func.count(ActionEvent.id))) == len(events)
    assert len(stored_files(app)) == 4  # finding photo + after-photo, each full and thumb


def test_reject_needs_reason_and_reopen_needs_text(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": "x"})
    with app.app_context():
        finding_id = db.session.scalar(select(Finding.id))
    client.post(
        "/actions/new", data={"finding": finding_id, "title": "Åtgärd", "priority": "low", "responsible_party": 0}
    )
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    response = client.post(f"/actions/{item_id}/transition", data={"to": "rejected", "text": "  "})
    assert response.status_code == 422
    assert "Ange varför åtgärden avvisas" in response.get_data(as_text=True)
    response = client.post(f"/actions/{item_id}/transition", data={"to": "assigned"})
    assert response.status_code == 422
    assert "Välj en ansvarig part" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status == ActionStatus.NEW


def test_responsible_party_cannot_close(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": "x"})
    with app.app_context():
        finding_id = db.session.scalar(select(Finding.id))
        party_id = db.session.scalar(select(ResponsibleParty.id).filter_by(name="Gatu- och parkavdelningen"))
    client.post(
        "/actions/new",
        data={"finding": finding_id, "title": "Åtgärd", "priority": "low", "responsible_party": party_id},
    )
    with app.app_context():
        item_id = db.session.scalar(select(ActionItem.id))
    auth.logout()
    auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    assert client.post(f"/actions/{item_id}/transition", data={"to": "in_progress"}).status_code == 302
    assert client.post(f"/actions/{item_id}/transition", data={"to": "done", "text": "Klart"}).status_code == 302
    response = client.post(f"/actions/{item_id}/transition", data={"to": "closed"})
    assert response.status_code == 403
    page = client.get(f"/actions/{item_id}").get_data(as_text=True)
    assert "Avsluta (verifierad)" not in page  # the button follows the same rule
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status == ActionStatus.DONE
