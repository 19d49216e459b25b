"""The printable invitation: its content, the join link on BASE_URL, staff only, and the copy button."""

import pytest

from fieldwalk.extensions import db
from fieldwalk.models import Role, Walk


@pytest.fixture
def base_url(app):
    saved = app.config["BASE_URL"]
    app.config["BASE_URL"] = "https://trygghet.example.se"
    yield app.config["BASE_URL"]
    app.config["BASE_URL"] = saved


def test_the_invitation_shows_title_time_meeting_point_qr_and_the_short_link(app, client, auth, make_walk, base_url):
    walk_id = make_walk(
        title="Kvällsvandring på Norr", meeting_point="Vid kyrkan, Storgatan 1", organiser="Växjö kommun"
    )
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    auth.login(Role.COORDINATOR)
    response = client.get(f"/walks/{walk_id}/invitation")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Kvällsvandring på Norr</h1>" in html
    assert "24 november 2026" in html and "18:00" in html  # 17:00 UTC, shown in Swedish time
    assert "Vid kyrkan, Storgatan 1" in html and "56,879000; 14,806000" in html and "Växjö kommun" in html
    assert f'<p class="invitation-link">https://trygghet.example.se/join/{code}</p>' in html
    assert "http://localhost" not in html  # never the request's own host
    assert f'src="/walks/{walk_id}/qr.svg"' in html
    assert "data-print" in html and "css/invitation.css" in html
    qr = client.get(f"/walks/{walk_id}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    # The walk page offers it, and the copy button for the link.
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert f'href="/walks/{walk_id}/invitation"' in page and 'data-copy="join-url"' in page
    assert 'aria-live="polite"' in page and "Kopiera länken" in page
    client.post("/language", data={"language": "en", "next": "/"})
    html = client.get(f"/walks/{walk_id}/invitation").get_data(as_text=True)
    assert "Join us on a community safety walk" in html and "56.879000, 14.806000" in html


def test_an_invitation_without_a_meeting_point_leaves_it_out(client, auth, make_walk):
    walk_id = make_walk(meeting_lat=None, meeting_lon=None)
    auth.login(Role.COORDINATOR)
    html = client.get(f"/walks/{walk_id}/invitation").get_data(as_text=True)
    assert "Samlingsplats" not in html and "/join/" in html


def test_only_staff_get_the_invitation(app, client, auth, guest, make_walk):
    walk_id = make_walk()
    guest(walk_id)  # a participant of this very walk
    assert client.get(f"/walks/{walk_id}/invitation").status_code == 403
    auth.login(Role.PARTICIPANT)
    assert client.get(f"/walks/{walk_id}/invitation").status_code in (403, 404)
    auth.login(Role.RESPONSIBLE, party_name="Gatu- och parkavdelningen")
    assert client.get(f"/walks/{walk_id}/invitation").status_code in (403, 404)
    auth.logout()
    assert client.get(f"/walks/{walk_id}/invitation").status_code == 302  # to the login page


def test_invitation_of_an_unknown_walk_or_a_revoked_link_is_404(client, auth, make_walk):
    walk_id = make_walk()
    auth.login(Role.COORDINATOR)
    assert client.get("/walks/99999/invitation").status_code == 404
    assert client.post(f"/walks/{walk_id}/join-link", data={"enabled": "0"}).status_code == 302
    response = client.get(f"/walks/{walk_id}/invitation")
    assert response.status_code == 404 and "Sidan finns inte" in response.get_data(as_text=True)
