"""On a phone: log a finding with GPS and a photo through the enhanced form, and see it on the walk."""

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, PositionSource, Role, Walk
from tests.helpers import jpeg_bytes

pytestmark = pytest.mark.browser


def test_log_finding_with_gps_and_photo(app, phone, make_walk, tmp_path):
    walk_id = make_walk()
    photo = tmp_path / "lampa.jpg"
    photo.write_bytes(jpeg_bytes((2400, 1800), orientation=6))
    page = phone(role=Role.PARTICIPANT)
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    page.goto(f"/join/{code}")  # a participant with an account joins by the same link
    page.click("button[type=submit]")
    page.goto(f"/walks/{walk_id}")
    page.click("text=Logga fynd")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new")
    # The position arrives from the (granted) Geolocation API with its accuracy shown.
    page.wait_for_function("document.querySelector('#position-status').textContent.includes('±12 m')")
    assert page.input_value("#lat") != ""
    page.click("label[for^=category-] >> text=Belysning")
    page.fill("#description", "Lampan vid trappan är trasig")
    page.click("label[for=severity-high]")
    page.set_input_files("#photos", str(photo))
    assert page.locator("#photo-previews img").count() == 1
    page.click("button[type=submit] >> text=Spara fynd")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    assert "Fyndet är sparat." in page.inner_text("main")
    assert page.input_value("#description") == ""  # a fresh form, ready for the next finding
    page.click("text=Visa det sparade fyndet")
    assert "Lampan vid trappan är trasig" in page.inner_text("main")
    page.go_back()
    page.go_back()  # Back does not lead to the filled-in form (a second tap on Save would duplicate)
    assert "/findings/new" not in page.url
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.position_source == PositionSource.GPS
        assert finding.accuracy_m == 12
        assert abs(finding.lat - 56.8790) < 1e-5
        assert finding.device_created_at is not None
        assert len(finding.photos) == 1 and finding.photos[0].height > finding.photos[0].width


def test_bad_photo_keeps_everything_on_screen(app, phone, make_walk, tmp_path):
    walk_id = make_walk()
    fake = tmp_path / "photo.jpg"
    fake.write_text("inte en bild")
    page = phone(walk_id)
    page.click("label[for^=category-] >> text=Klotter")
    page.fill("#description", "Klotter på tunnelväggen")
    page.set_input_files("#photos", str(fake))
    page.click("button[type=submit] >> text=Spara fynd")
    page.wait_for_selector("#capture-error:not([hidden])")
    assert "är ingen bild" in page.inner_text("#capture-error")
    assert "är ingen bild" in page.inner_text(".field.photos #photos-error")  # named at the field too
    assert page.input_value("#description") == "Klotter på tunnelväggen"
    with app.app_context():
        assert db.session.scalar(select(Finding)) is None


def test_capture_form_fits_a_phone(phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    for path in (f"/walks/{walk_id}", f"/walks/{walk_id}/findings/new"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        small = page.evaluate("""() => [...document.querySelectorAll(
                'main button, main .button, main label.category-option, main .segmented label')]
            .filter(e => e.offsetParent !== null)
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width < 44 || r.height < 44).length""")
        assert small == 0


def test_from_qr_code_to_saved_finding_in_three_screens(app, browser, live_server, make_walk):
    """Scan → (1) name and organisation → (2) capture form → (3) saved, with a fresh form for the next one."""
    walk_id = make_walk()
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                                  geolocation={"latitude": 56.879, "longitude": 14.806, "accuracy": 8},
                                  permissions=["geolocation"], base_url=live_server)
    page = context.new_page()
    screens = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and screens.append(frame.url))
    page.goto(f"/join/{code}")
    page.fill("#name", "Gunnel Gäst")
    page.fill("#organisation", "Brf Solgläntan")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new")
    page.wait_for_function("document.querySelector('#lat').value !== ''")
    page.click("label[for^=category-] >> text=Belysning")
    page.fill("#description", "Mörkt vid cykelstället")
    page.click("button[type=submit] >> text=Spara fynd")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    assert "Fyndet är sparat." in page.inner_text("main")
    assert page.locator("#log-next").is_visible()
    assert len(screens) == 3, screens
    context.close()
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.reporter_name == "Gunnel Gäst" and finding.reporter_org == "Brf Solgläntan"
        assert finding.reporter.is_guest
