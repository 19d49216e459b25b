"""A shared phone and a deploy, in a real browser: what the service worker keeps, and for whom."""

import shutil
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from fieldwalk import pwa
from fieldwalk.extensions import db
from fieldwalk.models import Role, Walk
from tests.browser.conftest import PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Every URL the service worker's caches hold, with the text of each kept answer.
CACHED = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      out.push([name, new URL(request.url).pathname, await response.text()]);
    }
  }
  return out;
}"""


def _controlled(page) -> None:
    """Wait for the service worker, then reload so that it controls (and may keep) the page."""
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")


def _wait_for_caches(page, condition, seconds: float = 20) -> None:
    """Poll the page's cache names until condition(names) holds (the worker installs in the background)."""
    deadline = time.monotonic() + seconds
    while not condition(keys := page.evaluate("caches.keys()")):
        assert time.monotonic() < deadline, keys
        time.sleep(0.2)


def _offline_text(page, url: str) -> str:
    """What the phone shows for url without network ('' when the browser has nothing to show)."""
    try:
        page.goto(url)
    except PlaywrightError:  # no worker at all: the browser's own offline error
        return ""
    return page.content()


def test_a_coordinators_pages_do_not_stay_on_a_shared_phone(app, browser, live_server, auth, make_walk):
    walk_id, other_walk = make_walk(), make_walk(title="Vandring i Norr")
    _user_id, email = auth.make_user(Role.COORDINATOR, name="Siv Samordnare")
    with app.app_context():
        join_code = db.session.get(Walk, walk_id).join_code
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="sv-SE",
        permissions=["geolocation"],
        base_url=live_server,
        geolocation={"latitude": 56.879, "longitude": 14.806, "accuracy": 12},
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        _controlled(page)
        staff_pages = [
            "/",
            f"/walks/{walk_id}",
            f"/walks/{other_walk}",
            "/actions/",
            "/followup/",
            f"/walks/{walk_id}/findings/new",
        ]
        for url in staff_pages:
            page.goto(url)
        page.goto(f"/walks/{walk_id}")
        assert join_code in page.input_value("#join-url")  # the coordinator's walk page shows the join link
        kept = {path for _name, path, _text in page.evaluate(CACHED)}
        # While logged in only the capture form is kept (it shows nothing but the coordinator's own name).
        assert kept & set(staff_pages) == {f"/walks/{walk_id}/findings/new"}

        page.click("button:has-text('Logga ut')")
        page.wait_for_url("**/login")
        for _name, path, text in page.evaluate(CACHED):
            assert path not in staff_pages, path
            assert "Siv Samordnare" not in text and join_code not in text, path

        # The next person on the phone: a resident joins the walk by its link.
        page.goto(f"/join/{join_code}")
        page.fill("#name", "Gunnel Gäst")
        page.fill("#organisation", "Boende")
        page.click("button[type=submit]")
        page.wait_for_url(f"**/walks/{walk_id}/findings/new")
        _controlled(page)
        page.goto(f"/walks/{walk_id}")

        context.set_offline(True)
        for url in ["/", f"/walks/{other_walk}", "/actions/", "/followup/"]:
            text = _offline_text(page, url)
            assert "Siv Samordnare" not in text and join_code not in text and "Vandring i Norr" not in text, url
        for _name, _path, text in page.evaluate(CACHED):
            assert "Siv Samordnare" not in text and join_code not in text
        # The resident's own capture form and walk page still open without network.
        page.goto(f"/walks/{walk_id}/findings/new")
        assert page.title().startswith("Logga fynd")
        assert "Gunnel Gäst" in page.inner_text("footer")
        page.goto(f"/walks/{walk_id}")
        assert "Vandring i centrum" in page.inner_text("main")
        assert page.locator("#join-url").count() == 0
    finally:
        context.close()


def test_a_deploy_reaches_an_installed_phone_on_its_next_visit(app, phone, make_walk, tmp_path):
    """The phone installed the app (worker and shell cached); then a static file changes on the server
    (a deploy): the next visit uses the new CSS and JS, and the old shell cache is gone."""
    original = app.static_folder
    static = tmp_path / "static"
    shutil.copytree(original, static)
    app.static_folder = str(static)
    try:
        first = pwa.refresh_static_version(app)
        walk_id = make_walk()
        page = phone(walk_id)
        _controlled(page)
        _wait_for_caches(page, lambda keys: f"fieldwalk-shell-{first}" in keys)
        assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--deployed')") == ""

        with (static / "css" / "app.css").open("a") as css:
            css.write('\n:root { --deployed: "andra"; }\n')
        with (static / "js" / "capture.js").open("a") as js:
            js.write('\nwindow.fieldwalkDeployed = "andra";\n')
        second = pwa.refresh_static_version(app)  # what a restarted app computes at start
        assert second != first

        page.reload()
        assert (
            page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--deployed').trim()")
            == '"andra"'
        )
        assert page.evaluate("window.fieldwalkDeployed") == "andra"
        _wait_for_caches(
            page, lambda keys: f"fieldwalk-shell-{second}" in keys and f"fieldwalk-shell-{first}" not in keys
        )
        shell = [(path, text) for name, path, text in page.evaluate(CACHED) if name.startswith("fieldwalk-shell-")]
        assert all(
            name == f"fieldwalk-shell-{second}"
            for name, _p, _t in page.evaluate(CACHED)
            if name.startswith("fieldwalk-shell-")
        )
        assert any(path == "/static/css/app.css" and "andra" in text for path, text in shell)

        page.context.set_offline(True)  # and without network, the new version is what opens
        page.reload()
        assert page.title().startswith("Logga fynd")
        assert page.evaluate("window.fieldwalkDeployed") == "andra"
    finally:
        app.static_folder = original
        pwa.refresh_static_version(app)
