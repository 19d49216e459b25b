"""Planning a walk in a real browser: the meeting point picked on the map, the join link's copy button,
and the printable invitation."""

import os

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Role, Walk

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("FIELDWALK_SHOTS")  # a folder: screenshots of the steps are saved there


def test_the_meeting_point_is_picked_on_the_map_and_saved(app, phone):
    page = phone(role=Role.COORDINATOR)
    page.goto("/walks/new")
    page.fill("#title", "Vandring med samlingsplats")
    page.fill("#starts_at", "2026-12-10T18:00")
    page.fill("#meeting_point", "Vid biblioteket")
    box = page.locator("#meeting-map").bounding_box()
    assert box and box["width"] > 300  # the map is shown, full width on the phone
    assert page.locator("#meeting_lat").input_value() == ""
    page.locator("#meeting-map").click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.3})
    lat, lon = page.locator("#meeting_lat").input_value(), page.locator("#meeting_lon").input_value()
    assert lat and lon
    assert page.locator("#meeting-map .map-pin").count() == 1  # a marker shows the point
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "walk-form-map.png"))
    page.click("button[type=submit].primary")
    page.wait_for_url("**/walks/*")
    with app.app_context():
        walk = db.session.scalar(select(Walk).filter_by(title="Vandring med samlingsplats"))
        assert walk.meeting_lat == pytest.approx(float(lat), abs=1e-6)
        assert walk.meeting_lon == pytest.approx(float(lon), abs=1e-6)
        walk_id = walk.id
    # Editing shows the saved point as the marker; typing a new position moves it (keyboard users).
    page.goto(f"/walks/{walk_id}/edit")
    assert page.locator("#meeting-map .map-pin").count() == 1
    page.fill("#meeting_lat", "56.8795")
    page.fill("#meeting_lon", "14.8070")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/walks/{walk_id}")
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        assert (walk.meeting_lat, walk.meeting_lon) == (pytest.approx(56.8795), pytest.approx(14.8070))


def test_copy_the_join_link_and_print_the_invitation(app, browser, live_server, auth, make_walk):
    walk_id = make_walk(title="Kvällsvandring", meeting_point="Vid kyrkan")
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        locale="sv-SE",
        base_url=live_server,
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        page = context.new_page()
        _user_id, email = auth.make_user(Role.COORDINATOR)
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", "korrekt häst batteri")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.goto(f"/walks/{walk_id}")
        page.get_by_role("button", name="Kopiera länken").click()
        page.wait_for_function("document.getElementById('join-url-status').textContent === 'Kopierad'")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.endswith(f"/join/{code}") and copied.startswith(app.config["BASE_URL"])
        page.get_by_role("link", name="Inbjudan att skriva ut (A4)").click()
        page.wait_for_url(f"**/walks/{walk_id}/invitation")
        assert page.get_by_role("button", name="Skriv ut").is_visible()
        assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()  # the site chrome is not printed
        assert not page.get_by_role("button", name="Skriv ut").is_visible()
        assert page.locator(".invitation-link").inner_text().endswith(f"/join/{code}")
        if SHOTS:
            page.set_viewport_size({"width": 794, "height": 1123})
            page.screenshot(path=os.path.join(SHOTS, "invitation-a4.png"), full_page=True)
            page.pdf(path=os.path.join(SHOTS, "invitation-a4.pdf"), format="A4")
    finally:
        context.close()
