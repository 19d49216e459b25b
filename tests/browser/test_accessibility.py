"""axe-core (npm, installed by `make setup` from package-lock.json) on every main page, on a laptop and on
a 360 px phone: no serious or critical WCAG 2.1 A/AA violations."""

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import ActionItem, Finding, FollowUpMeeting, Walk, walk_participants
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
        return {"walk": walk.id, "code": db.session.scalar(select(Walk.join_code).order_by(Walk.id.desc())),
                "finding": db.session.scalar(select(Finding.id).order_by(Finding.id)),
                "item": db.session.scalar(select(ActionItem.id).order_by(ActionItem.id)),
                "meeting": db.session.scalar(select(FollowUpMeeting.id)),
                # a walk people joined: its page lists them, each with a remove button
                "joined": db.session.scalar(select(walk_participants.c.walk_id)
                                           .order_by(walk_participants.c.walk_id.desc()))}


# Controls smaller than 44×44 px (links inside running text are exempt, as in WCAG 2.5.5).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, .button, select, textarea, input:not([type=hidden]):not([type=radio]):not([type=checkbox])'
    + ':not(.file-input), .leaflet-bar a, nav a')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width < 44 || r.height < 44)
  .map(([e, r]) => 'small target ' + (e.id || e.className || e.tagName)
                   + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))"""
STAFF_PAGES = ["/", "/walks/new", "/walks/{walk}", "/walks/{joined}", "/walks/{walk}/findings/new",
               "/findings/{finding}",
               "/actions/", "/actions/{item}", "/actions/{item}/edit", "/followup/", "/followup/meetings/{meeting}",
               "/followup/protocol?walk={walk}", "/followup/dashboard", "/followup/promise", "/admin/users",
               "/admin/categories", "/admin/audit", "/account/password"]
PUBLIC_PAGES = ["/login", "/reset", "/join/{code}"]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 640}],
                         ids=["laptop", "phone"])
def test_main_pages_have_no_serious_accessibility_violations(browser, live_server, demo, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server, bypass_csp=True,
                                  service_workers="block")
    page = context.new_page()
    problems = {}

    def check(path: str) -> None:
        page.goto(path.format(**demo))
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # check folded parts too
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(RUN_AXE)
        if found:
            problems[path] = found
        small = page.evaluate(SMALL_TARGETS)
        if small:
            problems.setdefault(path, []).extend(small)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.setdefault(path, []).append(f"scrolls sideways by {overflow}px")

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


def test_a_participants_capture_pages_have_no_serious_violations(app, browser, live_server, make_walk, tmp_path):
    """The pages only a finding's reporter sees: the form after a save, map mode, and the edit form."""
    if not AXE.exists():
        pytest.skip("axe-core not installed (npm ci) – accessibility check skipped")
    from tests.helpers import jpeg_bytes
    walk_id = make_walk()
    context = browser.new_context(viewport={"width": 360, "height": 640}, base_url=live_server, bypass_csp=True,
                                  service_workers="block", locale="sv-SE")
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
    for name, path, action in [("saved", None, None), ("map mode", None, "#map-open"),
                               ("edit", f"/findings/{finding_id}/edit", None)]:
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
