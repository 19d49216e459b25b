"""axe-core (npm, installed by `make setup` from package-lock.json) on every main page, on a laptop and on
a 360 px phone: no serious or critical WCAG 2.1 A/AA violations."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import ActionItem, Finding, FollowUpMeeting, PromiseCommitment, Walk, walk_participants
from fieldwalk.seed import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


@pytest.fixture
def demo(app):
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing (make setup runs npm ci)")
        pytest.skip("axe-core not installed (npm ci) – accessibility check skipped")
    with app.app_context():
        seed_demo()
        db.session.commit()
        walk = db.session.scalar(select(Walk).order_by(Walk.id))
        # A meeting under way about the second walk, whose findings nobody has decided on yet.
        second = db.session.scalar(select(Walk).order_by(Walk.id.desc()))
        open_meeting = FollowUpMeeting(title="Uppföljning Norremark", walk=second, held_on=second.starts_at.date())
        db.session.add(open_meeting)
        db.session.commit()
        return {
            "open_meeting": open_meeting.id,
            "untriaged": db.session.scalar(select(Finding.id).filter_by(walk_id=second.id).order_by(Finding.id)),
            "commitment": db.session.scalar(select(PromiseCommitment.id).order_by(PromiseCommitment.id)),
            "walk": walk.id,
            "code": db.session.scalar(select(Walk.join_code).order_by(Walk.id.desc())),
            "finding": db.session.scalar(select(Finding.id).order_by(Finding.id)),
            "item": db.session.scalar(select(ActionItem.id).order_by(ActionItem.id)),
            "meeting": db.session.scalar(select(FollowUpMeeting.id)),
            # a walk people joined: its page lists them, each with a remove button
            "joined": db.session.scalar(
                select(walk_participants.c.walk_id).order_by(walk_participants.c.walk_id.desc())
            ),
        }


# Controls smaller than 44×44 px (links inside running text are exempt, as in WCAG 2.5.5).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, .button, select, textarea, input:not([type=hidden]):not([type=radio]):not([type=checkbox])'
    + ':not(.file-input), .leaflet-bar a, nav a')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width < 44 || r.height < 44)
  .map(([e, r]) => 'small target ' + (e.id || e.className || e.tagName)
                   + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))"""
STAFF_PAGES = [
    "/",
    "/walks/new",
    "/walks/{walk}",
    "/walks/{walk}/invitation",
    "/walks/{joined}",
    "/walks/{walk}/findings/new",
    "/findings/{finding}",
    "/actions/",
    "/actions/{item}",
    "/actions/{item}/edit",
    "/followup/",
    "/followup/meetings/{meeting}",
    "/followup/meetings/{open_meeting}",
    "/followup/meetings/{open_meeting}/findings/{untriaged}",
    "/followup/protocol?walk={walk}",
    "/followup/protocol?meeting={meeting}",
    "/followup/dashboard",
    "/followup/promise",
    "/followup/promise/{commitment}/edit",
    "/admin/users",
    "/admin/categories",
    "/admin/audit",
    "/account/password",
    "/walks/999999",
]
PUBLIC_PAGES = ["/login", "/reset", "/join/{code}", "/sidan-finns-inte"]  # the last: the 404 page


def _checker(page, demo, problems):
    """check(path) opens the page (None: the page as it is now) and records what axe and our checks find."""

    def check(path: str | None, name: str | None = None) -> None:
        if path is not None:
            page.goto(path.format(**demo))
        name = name or path
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # check folded parts too
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(RUN_AXE)
        if found:
            problems[name] = found
        small = page.evaluate(SMALL_TARGETS)
        if small:
            problems.setdefault(name, []).extend(small)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.setdefault(name, []).append(f"scrolls sideways by {overflow}px")

    return check


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 640}], ids=["laptop", "phone"]
)
def test_main_pages_have_no_serious_accessibility_violations(browser, live_server, demo, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server, bypass_csp=True, service_workers="block")
    page = context.new_page()
    problems = {}
    check = _checker(page, demo, problems)

    for path in PUBLIC_PAGES:
        check(path)
    page.goto("/login")
    page.fill("#email", "admin@example.com")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    for path in STAFF_PAGES:
        check(path)
    context.close()
    assert problems == {}


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 640}], ids=["laptop", "phone"]
)
def test_participant_pages_have_no_serious_accessibility_violations(app, browser, live_server, demo, viewport):
    """A resident who joined with an address: the join form with its e-mail field (and its error), the capture
    form with the "Redan rapporterat här?" box, the walk page with the news section, and their finding with
    the action item's status and public history."""
    from fieldwalk.actions import operations as actions
    from fieldwalk.findings import operations as findings
    from fieldwalk.models import Category, ResponsibleParty, Role, User
    from fieldwalk.seed import create_user

    context = browser.new_context(
        viewport=viewport,
        base_url=live_server,
        bypass_csp=True,
        service_workers="block",
        geolocation={"latitude": 56.8790, "longitude": 14.8059, "accuracy": 12},
        permissions=["geolocation"],
    )
    page = context.new_page()
    problems = {}
    check = _checker(page, demo, problems)
    page.goto(f"/join/{demo['code']}")
    page.fill("#name", "Ada Tillgänglig")
    page.fill("#notify_email", "ada@")
    page.click("button[type=submit]")
    check(None, "join with a bad address")
    page.fill("#notify_email", "ada@example.org")
    page.click("button[type=submit]")
    page.wait_for_url("**/findings/new")
    with app.app_context():
        walk = db.session.get(Walk, db.session.scalar(select(Walk.id).filter_by(join_code=demo["code"])))
        light = db.session.scalar(select(Category).filter_by(slug="belysning"))
        other = create_user("nearby@example.com", "Nora Nära", DEMO_PASSWORD, Role.PARTICIPANT)
        walk.participants.append(other)
        findings.create_finding(walk, other, FindingInput(category=light, lat=56.87905, lon=14.8059, place="Trappan"))
        db.session.commit()
        walk_id = walk.id
    page.reload()
    expect(page.locator("#lat")).not_to_have_value("")
    page.click("label[for^=category-] >> text=Belysning")
    page.wait_for_selector("#nearby:not([hidden]) .nearby-item")
    check(None, "capture form with the nearby box")
    page.fill("#description", "Mörkt vid trappan")
    page.click("button[type=submit] >> text=Spara fynd")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    with app.app_context():
        ada = db.session.scalar(select(User).filter_by(name="Ada Tillgänglig"))
        finding = db.session.scalar(select(Finding).filter_by(reporter_id=ada.id))
        coordinator = db.session.scalar(select(User).filter_by(email="admin@example.com"))
        party = db.session.scalar(select(ResponsibleParty).order_by(ResponsibleParty.id))
        item = actions.create_action_item(
            [finding], coordinator, ActionItemInput(title="Belys trappan", responsible_party=party)
        )
        actions.add_comment(item, coordinator, "Beställt")
        db.session.commit()
        finding_id = finding.id
    check(f"/walks/{walk_id}", "walk page of a participant (news about findings)")
    check(f"/findings/{finding_id}", "own finding with its action item")
    context.close()
    assert problems == {}


def test_a_participants_capture_pages_have_no_serious_violations(app, browser, live_server, make_walk, tmp_path):
    """The pages only a finding's reporter sees: the form after a save, map mode, and the edit form."""
    if not AXE.exists():
        pytest.skip("axe-core not installed (npm ci) – accessibility check skipped")
    from tests.helpers import jpeg_bytes

    walk_id = make_walk()
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        base_url=live_server,
        bypass_csp=True,
        service_workers="block",
        locale="sv-SE",
    )
    page = context.new_page()
    with app.app_context():
        page.goto(f"/join/{db.session.get(Walk, walk_id).join_code}")
    page.fill("#name", "Gunnel Gäst")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new")
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg_bytes((800, 600)))
    page.click("label[for^=category-] >> nth=0")
    page.set_input_files("#photos", str(photo))
    page.click("#save")
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    with app.app_context():
        finding_id = db.session.scalar(select(Finding.id))
    problems = {}
    for name, path, action in [
        ("saved", None, None),
        ("map mode", None, "#map-open"),
        ("edit", f"/findings/{finding_id}/edit", None),
    ]:
        if path:
            page.goto(path)
        page.set_input_files("#photos", str(photo))  # a new photo's preview and its remove button
        if action:
            page.click(action)
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(RUN_AXE) + page.evaluate(SMALL_TARGETS)
        if found:
            problems[name] = found
    context.close()
    assert problems == {}
