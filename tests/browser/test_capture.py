"""On a phone: log a finding with GPS and a photo through the enhanced form, and see it on the walk."""

import io
import re

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
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 56.879, "longitude": 14.806, "accuracy": 8},
        permissions=["geolocation"],
        base_url=live_server,
    )
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


def _photo(tmp_path, name, color, gps=None):
    from PIL import Image as PILImage  # noqa: F401  (jpeg_bytes makes the file)

    path = tmp_path / name
    path.write_bytes(jpeg_bytes((1200, 900), gps=gps) if color is None else _coloured(color, gps))
    return str(path)


def _coloured(color, gps):
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (1200, 900), color).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_two_camera_taps_give_two_photos_and_a_removed_one_is_not_sent(app, phone, make_walk, tmp_path):
    walk_id = make_walk()
    page = phone(walk_id)
    page.click("label[for^=category-] >> text=Belysning")
    for i, color in enumerate([(200, 0, 0), (0, 160, 0), (0, 0, 200)]):  # three separate camera picks
        page.set_input_files("#photos", _photo(tmp_path, f"foto{i}.jpg", color))
    assert page.locator("#photo-previews img").count() == 3
    page.get_by_role("button", name="Ta bort nytt foto 2").click()  # the green one
    assert page.locator("#photo-previews img").count() == 2
    page.click("#save")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    with app.app_context():
        from fieldwalk.photos.service import photo_store

        finding = db.session.scalar(select(Finding))
        assert len(finding.photos) == 2
        from PIL import Image

        colours = []
        for p in finding.photos:
            with Image.open(io.BytesIO(photo_store().read(p.sha256, "full"))) as im:
                colours.append(max(range(3), key=lambda c: im.convert("RGB").getpixel((10, 10))[c]))
        assert colours == [0, 2]  # red and blue arrived, the removed green did not


def test_the_map_changes_the_position_only_in_its_own_mode(app, phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    page.wait_for_function("document.querySelector('#position-status').textContent.includes('±12 m')")
    gps = (page.input_value("#lat"), page.input_value("#lon"))
    assert not page.locator("#pick-map").is_visible()  # no map in the scroll path to tap by mistake
    page.click("#map-open")
    page.wait_for_selector("#map-mode:not([hidden])")
    box = page.locator("#pick-map").bounding_box()
    centre = (box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.6)  # clear of the zoom buttons
    page.mouse.click(*centre)
    page.click("#map-cancel")  # Avbryt: nothing changes
    assert (page.input_value("#lat"), page.input_value("#lon")) == gps
    page.click("#map-open")
    page.mouse.click(*centre)
    page.click("#map-done")  # Klar: the tapped point is the position
    assert (page.input_value("#lat"), page.input_value("#lon")) != gps
    assert page.input_value("#position_source") == "map"
    assert page.inner_text("#position-status") == "Plats vald på kartan."


def test_the_first_screen_holds_category_photo_and_position_with_save_on_top(phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    save = page.locator("#save").bounding_box()
    assert save["y"] + save["height"] <= 640  # sticky: reachable without scrolling
    for selector in ("label[for^=category-] >> nth=-1", "label[for=photos]", "#position-status"):
        box = page.locator(selector).bounding_box()
        assert box["y"] + box["height"] <= save["y"], selector  # visible above the Save bar
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    last = page.locator("details.reporter summary").bounding_box()
    save = page.locator("#save").bounding_box()
    assert last["y"] + last["height"] <= save["y"] + 1  # the bar never hides the last field


def test_participant_edits_own_finding_and_adds_a_photo(app, phone, make_walk, tmp_path):
    walk_id = make_walk()
    page = phone(walk_id)
    page.click("label[for^=category-] >> text=Belysning")
    page.fill("#description", "Lampa")
    page.set_input_files("#photos", _photo(tmp_path, "a.jpg", (200, 0, 0)))
    page.click("#save")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    page.click("text=Visa det sparade fyndet")
    page.click("text=Ändra fyndet")
    page.fill("#description", "Lampa och klotter")
    page.set_input_files("#photos", _photo(tmp_path, "b.jpg", (0, 0, 200)))
    page.click("label[for^=remove-photo-]")
    page.click("#save")
    page.wait_for_url(re.compile(r"/findings/\d+$"))
    assert "Fyndet är ändrat." in page.inner_text("main")
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        assert finding.description == "Lampa och klotter" and len(finding.photos) == 1


def test_capture_screens_at_360x640(app, phone, make_walk, tmp_path):
    """The four screens of logging a finding, saved as PNGs (to FIELDWALK_SHOTS_DIR when set, for the notes)."""
    import os
    from pathlib import Path

    shots = Path(os.environ.get("FIELDWALK_SHOTS_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    walk_id = make_walk()
    page = phone(walk_id)
    page.wait_for_function("document.querySelector('#position-status').textContent.includes('±12 m')")
    page.screenshot(path=str(shots / "capture-empty.png"))
    page.click("label[for^=category-] >> text=Belysning")
    page.set_input_files("#photos", _photo(tmp_path, "a.jpg", (200, 40, 40)))
    page.set_input_files("#photos", _photo(tmp_path, "b.jpg", (40, 40, 200)))
    page.fill("#description", "Trasig lampa vid trappan")
    page.evaluate("document.getElementById('photo-previews').scrollIntoView({block: 'center'})")
    page.screenshot(path=str(shots / "capture-filled.png"))
    page.click("#map-open")
    page.wait_for_selector("#map-mode:not([hidden])")
    box = page.locator("#pick-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "capture-map-mode.png"))
    page.click("#map-done")
    page.click("#save")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    page.screenshot(path=str(shots / "capture-saved.png"))
    assert page.locator("#log-next").bounding_box()["y"] < 320  # "Logga nästa" in the top half
