"""Real-browser fixtures: Debian's Chromium driven by Playwright against the app on a local port."""

import os
import shutil

import pytest

from fieldwalk.extensions import db
from fieldwalk.models import Role, Walk

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 640}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium; skipped outside CI when it is missing, a failure in CI."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs the chromium package)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium) – browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(app, browser, live_server, auth):
    """phone(walk_id) → a page on a 360×640 touch screen with GPS granted (Växjö centrum) that
    joined the walk by its link as a guest; phone(role=…) logs in with an account instead."""
    contexts = []

    def open_page(walk_id: int | None = None, role: Role | None = None):
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="sv-SE",
            geolocation={"latitude": 56.8790, "longitude": 14.8059, "accuracy": 12},
            permissions=["geolocation"],
            base_url=live_server,
        )
        contexts.append(context)
        page = context.new_page()
        if role is not None:
            _user_id, email = auth.make_user(role)
            page.goto("/login")
            page.fill("#email", email)
            page.fill("#password", "korrekt häst batteri")
            page.click("button[type=submit]")
            page.wait_for_url("**/")
        if walk_id is not None:
            with app.app_context():
                code = db.session.get(Walk, walk_id).join_code
            page.goto(f"/join/{code}")
            if role is None:
                page.fill("#name", "Gunnel Gäst")
                page.fill("#organisation", "Boende")
            page.click("button[type=submit]")
            page.wait_for_url(f"**/walks/{walk_id}/findings/new")
        return page

    yield open_page
    for context in contexts:
        context.close()


def pytest_collection_modifyitems(items):
    """Chromium aborts requests for map images when a page is left mid-load; the development server then
    leaves that static file's handle to the garbage collector, which reports it during whichever browser
    test is running. That is the test server's business, not the app's: ignored here, in browser tests
    only (everywhere else an unclosed file still fails the run)."""
    ignore = pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <_io.FileIO name='.*/static/:pytest.PytestUnraisableExceptionWarning"
    )
    for item in items:
        if "/tests/browser/" in str(item.path):
            item.add_marker(ignore)
