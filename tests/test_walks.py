"""Walks: plan, edit, status flow, suggested places before the walk, the map data and list fallback."""

import json
import re

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Role, SuggestedPlace, Walk, WalkStatus


def test_plan_and_edit_walk(app, client, auth):
    auth.login(Role.COORDINATOR)
    response = client.post(
        "/walks/new",
        data={
            "title": "Kvällsvandring",
            "starts_at": "2026-06-10T21:00",
            "meeting_lat": "56.88",
            "meeting_lon": "14.81",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        walk = db.session.scalar(select(Walk))
        assert walk.starts_at.hour == 19  # 21:00 CEST is 19:00 UTC
    page = client.get(f"/walks/{walk.id}/edit").get_data(as_text=True)
    assert 'value="2026-06-10T21:00"' in page  # shown again in local time
    response = client.post(f"/walks/{walk.id}/edit", data={"title": "Ny rubrik", "starts_at": "2026-06-10T21:00"})
    assert response.status_code == 302
    assert "Ny rubrik" in client.get("/").get_data(as_text=True)


def test_walk_form_errors_keep_input(client, auth):
    auth.login(Role.COORDINATOR)
    response = client.post(
        "/walks/new", data={"title": "", "area": "Söder", "starts_at": "igår", "meeting_lat": "56.9"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Söder"' in page
    assert "Ange både latitud och longitud" in page


def test_participant_cannot_plan_walks(client, auth):
    auth.login(Role.PARTICIPANT)
    assert client.get("/walks/new").status_code == 403
    assert client.post("/walks/new", data={"title": "x", "starts_at": "2026-06-10T21:00"}).status_code == 403


def test_status_moves_one_step_at_a_time(app, client, auth, make_walk):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk(status=WalkStatus.PLANNED)
    assert client.post(f"/walks/{walk_id}/status", data={"status": "completed"}).status_code == 303
    for status in ("ongoing", "completed", "followed_up"):
        assert client.post(f"/walks/{walk_id}/status", data={"status": status}).status_code == 302
    with app.app_context():
        assert db.session.get(Walk, walk_id).status == WalkStatus.FOLLOWED_UP
    assert client.post(f"/walks/{walk_id}/status", data={"status": "nonsense"}).status_code == 400


def test_suggested_places_before_the_walk(app, client, auth, guest, make_walk):
    walk_id = make_walk(status=WalkStatus.PLANNED)
    guest(walk_id)
    response = client.post(
        f"/walks/{walk_id}/places",
        data={"text": "Mörkt vid återvinningen", "place": "Återvinningsstationen", "lat": "56.881", "lon": "14.812"},
    )
    assert response.status_code == 302
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "Mörkt vid återvinningen" in page
    data = json.loads(re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S).group(1))
    assert data["places"] == [{"lat": 56.881, "lon": 14.812, "text": "Mörkt vid återvinningen", "checked": False}]
    # Bad input keeps the text.
    response = client.post(f"/walks/{walk_id}/places", data={"text": "Trappan", "lat": "99", "lon": "14"})
    assert response.status_code == 400 and "Trappan" in response.get_data(as_text=True)

    # The coordinator checks it off during the walk.
    auth.login(Role.COORDINATOR)
    client.post(f"/walks/{walk_id}/status", data={"status": "ongoing"})
    with app.app_context():
        place_id = db.session.scalar(select(SuggestedPlace.id))
    assert client.post(f"/walks/{walk_id}/places/{place_id}/check", data={"checked": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(SuggestedPlace, place_id).checked_at is not None
    # Suggestions close when the walk has started.
    assert client.post(f"/walks/{walk_id}/places", data={"text": "Sent"}).status_code == 403


def test_walk_page_lists_findings_without_map(app, client, guest, make_walk, category_id):
    """The findings are in the HTML list, so the page works with no JavaScript and no tiles."""
    walk_id = make_walk()
    guest(walk_id)
    client.post(
        f"/walks/{walk_id}/findings/new",
        data={
            "category": category_id("klotter"),
            "description": "Klotter på bron",
            "lat": "56.88",
            "lon": "14.80",
            "position_source": "gps",
            "accuracy_m": "9",
        },
    )
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "Klotter på bron" in page
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', page, re.S).group(1))
    assert data["findings"][0]["lat"] == 56.88


@pytest.mark.parametrize("path", ["/", "/walks/1", "/actions/", "/walks/1/findings/new"])
def test_anonymous_is_sent_to_login(client, make_walk, path):
    make_walk()
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_walk_is_404(client, auth):
    auth.login(Role.COORDINATOR)
    response = client.get("/walks/4711")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.get_data(as_text=True)


def test_join_link_qr_and_revocation(app, client, auth, guest, make_walk, category_id):
    walk_id = make_walk()
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    # Anyone with the link sees a short form; a wrong code is a clear 404.
    page = client.get(f"/join/{code}").get_data(as_text=True)
    assert "Ditt namn" in page and "Vandring i centrum" in page
    assert client.get("/join/fel-kod").status_code == 404
    response = client.post(f"/join/{code}", data={"name": "", "organisation": "Boende"})
    assert response.status_code == 400 and "Skriv ditt namn." in response.get_data(as_text=True)

    auth.login(Role.COORDINATOR)
    svg = client.get(f"/walks/{walk_id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert f"/join/{code}" in client.get(f"/walks/{walk_id}").get_data(as_text=True)
    guest(walk_id)  # joins before the link is revoked
    auth.login(Role.COORDINATOR)
    assert client.post(f"/walks/{walk_id}/join-link", data={"enabled": "0"}).status_code == 302
    response = client.get(f"/join/{code}")
    assert response.status_code == 404 and "Länken gäller inte" in response.get_data(as_text=True)
    assert client.get(f"/walks/{walk_id}/qr.svg").status_code == 404
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        assert walk.join_code != code and not walk.join_enabled
        new_code = walk.join_code
    client.post(f"/walks/{walk_id}/join-link", data={"enabled": "1"})
    assert client.get(f"/join/{new_code}").status_code == 200
    # A finished walk takes no new participants: 410 Gone.
    client.post(f"/walks/{walk_id}/status", data={"status": "completed"})
    assert client.get(f"/join/{new_code}").status_code == 410


def test_guest_sees_only_its_walk(app, client, guest, make_walk, category_id):
    mine, other = make_walk(), make_walk(title="Annan vandring")
    guest(mine)
    assert client.get(f"/walks/{mine}").status_code == 200
    assert client.get(f"/walks/{other}").status_code == 404
    assert client.get(f"/walks/{other}/findings/new").status_code == 404
    page = client.get("/").get_data(as_text=True)
    assert "Vandring i centrum" in page and "Annan vandring" not in page
    assert client.get("/actions/").status_code == 403


def test_the_walks_index_past_its_last_page_and_an_empty_status_say_so(client, auth, make_walk):
    """An old link to page 9 of a list that now has one page, or a status no walk has: the page says what
    is the matter (and links to the last page), never "Inga vandringar ännu." while there are walks."""
    make_walk(title="Vandring i Öster", status=WalkStatus.ONGOING)
    auth.login(Role.COORDINATOR)
    page = client.get("/?page=9").get_data(as_text=True)
    assert "Inga vandringar ännu." not in page
    assert "Sidan 9 finns inte: listan har 1 sida." in page and 'href="/?page=1"' in page
    page = client.get(f"/?status={WalkStatus.FOLLOWED_UP.value}").get_data(as_text=True)
    assert "Inga vandringar ännu." not in page and "Vandring i Öster" not in page
    assert "Inga vandringar med status uppföljd." in page
