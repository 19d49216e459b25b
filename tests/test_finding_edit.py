"""A participant corrects their own finding and its photos while the walk is open (issue 10, point 1);
the capture form's answer after a save, and a position read from a photo on the phone."""

import io

import pytest
from sqlalchemy import func, select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Photo, PositionSource, Role, Walk, WalkStatus
from tests.helpers import jpeg_bytes


def _log(client, walk_id, category_id, photos=(), **fields):
    data = {"category": category_id, "description": "Trasig lampa", "severity": "medium", **fields}
    data["photos"] = [(io.BytesIO(p), f"IMG_{i}.jpg") for i, p in enumerate(photos)]
    return client.post(f"/walks/{walk_id}/findings/new", data=data)


def _only_finding(app):
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        return finding.id, [p.id for p in finding.photos]


def test_a_saved_finding_leads_to_a_fresh_form_that_names_it(app, client, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id)
    response = _log(client, walk_id, category_id())
    assert response.status_code == 302
    finding_id, _photos = _only_finding(app)
    assert response.headers["Location"].endswith(f"/walks/{walk_id}/findings/new?saved={finding_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fyndet är sparat." in page
    assert page.index("Logga nästa") < page.index('id="capture-form"')  # at the top, above the form
    assert f'href="/findings/{finding_id}"' in page


@pytest.mark.parametrize("saved", ["999", "abc", "-1", "99999999999999999999"])
def test_a_saved_id_that_is_not_this_walks_shows_just_the_form(client, guest, make_walk, saved):
    walk_id = make_walk()
    guest(walk_id)
    response = client.get(f"/walks/{walk_id}/findings/new?saved={saved}")
    assert response.status_code == 200
    assert "Logga nästa" not in response.get_data(as_text=True)


def test_reporter_edits_fields_removes_and_adds_photos(app, client, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id)
    _log(
        client,
        walk_id,
        category_id(),
        photos=[jpeg_bytes((800, 600)), jpeg_bytes((600, 800))],
        lat="56.879",
        lon="14.806",
        position_source="gps",
        accuracy_m="9",
    )
    finding_id, (first, second) = _only_finding(app)
    page = client.get(f"/findings/{finding_id}/edit")
    assert page.status_code == 200
    assert "Trasig lampa" in page.get_data(as_text=True)
    response = client.post(
        f"/findings/{finding_id}/edit",
        data={
            "category": category_id("klotter"),
            "description": "Klotter, inte lampa",
            "severity": "high",
            "place": "Tunneln",
            "lat": "56.8795",
            "lon": "14.8065",
            "position_source": "map",
            "remove_photos": [str(first)],
            "photos": [(io.BytesIO(jpeg_bytes((900, 700))), "ny.jpg")],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/findings/{finding_id}")
    with app.app_context():
        finding = db.session.get(Finding, finding_id)
        assert finding.category.slug == "klotter" and finding.description == "Klotter, inte lampa"
        assert finding.severity.value == "high" and finding.place == "Tunneln"
        assert (finding.lat, finding.lon, finding.position_source) == (56.8795, 14.8065, PositionSource.MAP)
        assert finding.accuracy_m is None  # a map position has no GPS accuracy
        ids = [p.id for p in finding.photos]
        assert first not in ids and second in ids and len(ids) == 2


def test_the_photo_limit_counts_after_removals(app, client, guest, make_walk, category_id, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_PER_FINDING", 2)  # not left to the tests after this one
    walk_id = make_walk()
    guest(walk_id)
    _log(client, walk_id, category_id(), photos=[jpeg_bytes((800, 600)), jpeg_bytes((600, 800))])
    finding_id, (first, _second) = _only_finding(app)
    data = {
        "category": category_id(),
        "description": "x",
        "severity": "medium",
        "photos": [(io.BytesIO(jpeg_bytes((700, 700))), "tredje.jpg")],
    }
    refused = client.post(f"/findings/{finding_id}/edit", data=dict(data))
    assert refused.status_code == 422
    assert "Högst 2 foton per fynd." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 2
        assert db.session.get(Finding, finding_id).description == "Trasig lampa"  # nothing half-done
    data["photos"] = [(io.BytesIO(jpeg_bytes((700, 700))), "tredje.jpg")]
    data["remove_photos"] = [str(first)]
    assert client.post(f"/findings/{finding_id}/edit", data=data).status_code == 302
    with app.app_context():
        assert len(db.session.get(Finding, finding_id).photos) == 2


def test_someone_elses_finding_cannot_be_edited(app, client, guest, auth, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id, name="Första")
    _log(client, walk_id, category_id())
    finding_id, _ = _only_finding(app)
    guest(walk_id, name="Andra")
    assert client.get(f"/findings/{finding_id}/edit").status_code == 403
    response = client.post(f"/findings/{finding_id}/edit", data={"category": category_id(), "description": "x"})
    assert response.status_code == 403
    auth.login(Role.COORDINATOR)  # staff rules unchanged: no editing a participant's finding here either
    assert client.get(f"/findings/{finding_id}/edit").status_code == 403
    with app.app_context():
        assert db.session.get(Finding, finding_id).description == "Trasig lampa"


def test_after_the_walk_closed_the_reporter_is_told_why(app, client, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id)
    _log(client, walk_id, category_id())
    finding_id, _ = _only_finding(app)
    assert "Ändra fyndet" in client.get(f"/findings/{finding_id}").get_data(as_text=True)
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        walk.status = WalkStatus.COMPLETED
        walk.closed_at = walk.starts_at
        db.session.commit()
    assert "Ändra fyndet" not in client.get(f"/findings/{finding_id}").get_data(as_text=True)
    page = client.get(f"/findings/{finding_id}/edit")
    assert page.status_code == 409
    assert "kan inte ändras" in page.get_data(as_text=True)
    response = client.post(
        f"/findings/{finding_id}/edit",
        data={"category": category_id(), "description": "x"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Finding, finding_id).description == "Trasig lampa"


def test_bad_edit_input_keeps_what_was_typed(app, client, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id)
    _log(client, walk_id, category_id())
    finding_id, _ = _only_finding(app)
    response = client.post(
        f"/findings/{finding_id}/edit",
        data={"category": category_id(), "description": "Ny text", "lat": "56.9", "remove_photos": ["12345"]},
    )
    assert response.status_code == 400
    assert "Ny text" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Finding, finding_id).description == "Trasig lampa"


def test_a_position_read_from_the_photo_on_the_phone_is_kept_as_such(app, client, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id)
    _log(client, walk_id, category_id(), lat="56.8791", lon="14.8062", position_source="photo")
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.position_source == PositionSource.PHOTO and finding.lat == 56.8791


def test_a_photo_position_far_from_the_walk_is_not_used(app, client, guest, make_walk, category_id):
    walk_id = make_walk()
    guest(walk_id)
    response = _log(client, walk_id, category_id(), lat="59.33", lon="18.07", position_source="photo")
    assert response.status_code == 302
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.lat is None and finding.position_source == PositionSource.NONE
    assert "Fotots GPS-position användes inte" in client.get(response.headers["Location"]).get_data(as_text=True)
