"""Time in the field: a walk closes while a phone still holds findings made before that."""

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Role, Walk, WalkStatus, utcnow
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def _finding(category: int, device_time: datetime | None) -> dict:
    body = {
        "uuid": str(uuid.uuid4()),
        "category_id": category,
        "description": "Trasig lampa vid tunneln",
        "place": "Gångtunneln",
        "severity": "high",
        "lat": 56.879,
        "lon": 14.806,
        "accuracy_m": 8,
    }
    if device_time is not None:
        body["device_created_at"] = _iso(device_time)
    return body


@pytest.fixture
def closed_walk(app, auth, make_walk, guest):
    """A walk a guest (on the client) joined while it was ongoing, then set to genomförd by a coordinator
    through the walk page (on a second client); returns (walk id, the moment it was closed)."""
    walk_id = make_walk()
    guest(walk_id)
    _user, email = auth.make_user(Role.COORDINATOR)
    staff = app.test_client()
    assert staff.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    before = utcnow()
    response = staff.post(f"/walks/{walk_id}/status", data={"status": "completed"})
    assert response.status_code == 302
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        assert walk.status == WalkStatus.COMPLETED
        assert walk.closed_at is not None and before <= walk.closed_at <= utcnow()
        return walk_id, walk.closed_at


def test_a_finding_made_before_closing_is_accepted_late_and_marked(app, client, auth, closed_walk, category_id):
    walk_id, closed_at = closed_walk
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings", json=_finding(category_id(), closed_at - timedelta(minutes=20))
    )
    assert response.status_code == 201, response.json
    assert response.json["arrived_after_close"] is True
    photo = client.post(
        f"/api/v1/findings/{response.json['id']}/photos",
        data={"photo": (io.BytesIO(jpeg_bytes((800, 600))), "foto.jpg")},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 201, photo.json  # the outbox sends the photos after the finding
    with app.app_context():
        finding = db.session.get(Finding, response.json["id"])
        assert finding.arrived_after_close and len(finding.photos) == 1
    # The coordinator sees it among the walk's findings, marked as late, on the card and the detail page.
    auth.login(Role.COORDINATOR)
    for url in (f"/walks/{walk_id}", f"/findings/{response.json['id']}"):
        page = client.get(url).get_data(as_text=True)
        assert "Trasig lampa vid tunneln" in page and "Kom in efter att vandringen stängdes" in page


def test_findings_logged_while_open_are_not_marked(app, client, auth, make_walk, guest, category_id):
    walk_id = make_walk()
    guest(walk_id)
    response = client.post(f"/api/v1/walks/{walk_id}/findings", json=_finding(category_id(), utcnow()))
    assert response.status_code == 201 and response.json["arrived_after_close"] is False
    auth.login(Role.COORDINATOR)
    assert "Kom in efter att vandringen stängdes" not in client.get(f"/walks/{walk_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "device_time",
    [
        pytest.param(lambda closed: closed + timedelta(minutes=1), id="made-after-closing"),
        pytest.param(lambda closed: utcnow() + timedelta(hours=2), id="in-the-future"),
        pytest.param(lambda closed: None, id="no-device-time"),
    ],
)
def test_a_finding_not_made_before_closing_is_refused(app, client, closed_walk, category_id, device_time):
    walk_id, closed_at = closed_walk
    response = client.post(f"/api/v1/walks/{walk_id}/findings", json=_finding(category_id(), device_time(closed_at)))
    assert response.status_code == 409
    assert response.json["error"]["message"] == "Den här vandringen tar inte emot fler fynd."
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Finding)) == 0


def test_the_grace_period_ends(app, client, closed_walk, category_id):
    walk_id, _closed_at = closed_walk
    grace = app.config["LATE_FINDING_GRACE_DAYS"]
    assert grace == 7
    with app.app_context():  # the walk was closed just over the grace period ago
        walk = db.session.get(Walk, walk_id)
        walk.closed_at = utcnow() - timedelta(days=grace, minutes=1)
        db.session.commit()
        closed_at = walk.closed_at
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings", json=_finding(category_id(), closed_at - timedelta(minutes=5))
    )
    assert response.status_code == 409
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        walk.closed_at = utcnow() - timedelta(days=grace) + timedelta(minutes=5)  # still inside
        db.session.commit()
        closed_at = walk.closed_at
    response = client.post(
        f"/api/v1/walks/{walk_id}/findings", json=_finding(category_id(), closed_at - timedelta(minutes=5))
    )
    assert response.status_code == 201


def test_a_walk_set_back_to_ongoing_is_open_again(app, client, auth, closed_walk, category_id):
    walk_id, _closed_at = closed_walk
    auth.login(Role.COORDINATOR)
    assert client.post(f"/walks/{walk_id}/status", data={"status": "ongoing"}).status_code == 302
    with app.app_context():
        assert db.session.get(Walk, walk_id).closed_at is None


def test_closing_asks_first_and_says_how_many_findings_just_arrived(app, client, auth, make_walk, guest, category_id):
    walk_id = make_walk()
    guest(walk_id)
    for _ in range(3):
        assert (
            client.post(f"/api/v1/walks/{walk_id}/findings", json=_finding(category_id(), utcnow())).status_code == 201
        )
    with app.app_context():  # one of them came in two hours ago
        oldest = db.session.scalars(db.select(Finding).order_by(Finding.id)).first()
        oldest.created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    auth.login(Role.COORDINATOR)
    detail = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    confirm_url = f"/walks/{walk_id}/close"
    assert f'href="{confirm_url}"' in detail  # the button to genomförd leads to the confirmation (no JS needed)
    page = client.get(confirm_url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "2 fynd kom in under den senaste timmen." in text
    assert "kan fortfarande ha fynd som inte har skickats" in text
    assert 'name="status" value="completed"' in text
    with app.app_context():
        assert db.session.get(Walk, walk_id).status == WalkStatus.ONGOING  # asking changed nothing
    assert client.post(f"/walks/{walk_id}/status", data={"status": "completed"}).status_code == 302
    with app.app_context():
        assert db.session.get(Walk, walk_id).status == WalkStatus.COMPLETED
    assert client.get(confirm_url).status_code == 409  # only an open walk can be closed


def test_only_staff_may_open_the_closing_page(app, client, make_walk, guest):
    walk_id = make_walk()
    guest(walk_id)
    assert client.get(f"/walks/{walk_id}/close").status_code == 403
