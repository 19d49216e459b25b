"""On a phone: the capture form asks "Redan rapporterat här?" when a category and a position are set near an
existing finding, and "Jag håller med" records an agreement instead of a new finding (the count is shown)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, Finding, FindingAgreement, Role, Walk
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.seed import create_user
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

pytestmark = pytest.mark.browser
SHOT = "/work/shots/h2/duplicate-prompt.png"


@pytest.fixture
def reported(app, make_walk):
    """A walk with a lighting finding 8 m from where the phone's GPS says it is (Växjö centrum)."""
    walk_id = make_walk()
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        other = create_user("nils@example.com", "Nils Granne", PASSWORD, Role.PARTICIPANT)
        walk.participants.append(other)
        light = db.session.scalar(select(Category).filter_by(slug="belysning"))
        finding, _ = findings.create_finding(
            walk,
            other,
            FindingInput(
                category=light,
                lat=56.87907,
                lon=14.8059,
                description="Lampan vid gångtunneln är släckt",
                place="Gångtunneln",
            ),
            photos=[process_photo(jpeg_bytes((800, 600)))],
        )
        db.session.commit()
        return walk_id, finding.id


def test_duplicate_prompt_and_agreeing(app, phone, reported, tmp_path):
    walk_id, finding_id = reported
    page = phone(walk_id)
    expect(page.locator("#lat")).not_to_have_value("")  # GPS granted in the fixture
    assert page.locator("#nearby").is_hidden()  # no category yet: nothing to compare with
    page.click("label[for^=category-] >> text=Belysning")
    page.wait_for_selector("#nearby:not([hidden]) .nearby-item")
    box = page.inner_text("#nearby")
    assert "Redan rapporterat här?" in box and "Gångtunneln" in box and "8 m härifrån" in box
    assert "Lampan vid gångtunneln är släckt" in box  # the same walk: the participant may see it all
    assert "Nils Granne" not in box  # never who reported it
    assert page.locator("#nearby img.thumb").evaluate("img => img.complete && img.naturalWidth > 0")
    page.locator("#nearby").scroll_into_view_if_needed()
    page.screenshot(path=SHOT)
    page.click("#nearby button.agree")
    page.wait_for_selector("#nearby-done:not([hidden])")
    assert "1 håller med" in page.inner_text("#nearby-done-text")
    page.locator("#nearby-done").scroll_into_view_if_needed()
    page.screenshot(path="/work/shots/h2/agreed.png")
    # optionally a photo with it: added to the agreed finding's photos
    photo = tmp_path / "samma-lampa.jpg"
    photo.write_bytes(jpeg_bytes((1600, 1200)))
    page.set_input_files("#agree-photo", str(photo))
    page.locator("#nearby-done-text", has_text="Fotot är sparat").wait_for()
    assert page.locator("#agree-photo-field").is_hidden()
    # ready for the next finding: no category chosen, the box gone, the position kept
    assert page.locator("input[name=category]:checked").count() == 0
    assert page.locator("#nearby").is_hidden() and page.input_value("#lat") != ""
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 1  # no new finding
        agreement = db.session.scalar(select(FindingAgreement).where(FindingAgreement.finding_id == finding_id))
        assert agreement is not None and agreement.photo is not None
        assert len(db.session.get(Finding, finding_id).photos) == 2  # the reporter's and the agreeing one's
    # A second look: the finding now says it was agreed with, and the walk page shows the count.
    page.click("label[for^=category-] >> text=Belysning")
    page.wait_for_selector("#nearby:not([hidden]) button.agree[disabled]")
    assert "Du håller med" in page.inner_text("#nearby")
    page.goto(f"/walks/{walk_id}")
    assert "1 håller med" in page.inner_text(f"#finding-{finding_id}")


def test_another_category_or_offline_shows_no_prompt(app, phone, reported):
    walk_id, _finding_id = reported
    page = phone(walk_id)
    expect(page.locator("#lat")).not_to_have_value("")
    page.click("label[for^=category-] >> text=Klotter")
    page.wait_for_timeout(800)
    assert page.locator("#nearby").is_hidden()
    page.context.set_offline(True)
    page.click("label[for^=category-] >> text=Belysning")
    page.wait_for_timeout(800)
    assert page.locator("#nearby").is_hidden()  # offline: quietly nothing, the form saves a new finding
    page.context.set_offline(False)
