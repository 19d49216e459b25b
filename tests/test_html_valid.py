"""The Nu Html Checker (vnu-jar from npm, run with Java) over the main pages: zero errors.

One JVM start for all pages. Skipped outside CI when Java or vnu.jar is missing; in CI (CI=true) it fails.
"""

import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, ResponsibleParty, Role, User, Walk, WalkStatus
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.walks.notice_links import stop_link
from tests.helpers import jpeg_bytes

VNU = Path(__file__).resolve().parents[1] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _checker() -> list[str]:
    """The command that runs the checker, or a skip (a failure in CI) when it cannot run here."""
    java = shutil.which("java")
    if java is None or not VNU.exists():
        message = "Nu Html Checker needs Java and vnu-jar (npm ci) – HTML validation skipped"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return [java, "-jar", str(VNU), "--errors-only", "--format", "json"]


@pytest.fixture
def pages(app, client, auth):
    """The main pages as a coordinator sees them, with a walk, a finding with a photo and an action item."""
    login_page = client.get("/login").get_data(as_text=True)
    auth.login()
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(role=Role.COORDINATOR))
        walk = Walk(
            title="Vandring",
            area="Centrum",
            starts_at=datetime(2026, 10, 1, 17, 0, 0, 123456),
            status=WalkStatus.ONGOING,
            created_by=actor,
        )
        db.session.add(walk)
        finding, _ = findings.create_finding(
            walk,
            actor,
            FindingInput(
                category=db.session.scalar(db.select(Category)), description="Mörk passage", lat=56.88, lon=14.8
            ),
            photos=[process_photo(jpeg_bytes((400, 300)))],
        )
        item = actions.create_action_item(
            [finding],
            actor,
            ActionItemInput(title="Byt lampa", responsible_party=db.session.scalar(db.select(ResponsibleParty))),
        )
        actions.add_comment(item, actor, "Beställt")
        actor.notify_email = "samordnare@example.org"
        db.session.commit()
        walk_id, finding_id, item_id = walk.id, finding.id, item.id
        stop = urlsplit(stop_link(actor, actor.notify_email)).path
    queued = client.post("/followup/protocol-files?from=2026-10-01&to=2026-12-31")  # its job not run: queued
    done = client.post("/followup/protocol-files?from=2026-10-01&to=2026-11-30")
    done.close()  # its job runs: the page with the download link
    urls = [
        "/followup/protocol?from=2026-10-01&to=2026-12-31",
        "/followup/protocol.pdf?from=2026-10-01&to=2026-12-31",
        queued.headers["Location"],
        done.headers["Location"],
        "/",
        f"/walks/{walk_id}",
        f"/walks/{walk_id}/findings/new",
        f"/findings/{finding_id}",
        "/actions/",
        f"/actions/{item_id}",
        "/followup/",
        f"/followup/protocol?walk={walk_id}",
        "/followup/promise",
        "/followup/dashboard",
        "/admin/users",
        f"/walks/{walk_id}/invitation",
        "/walks/new",
        stop,  # the page of an outcome mail's stop link
    ]
    rendered = {"login": login_page}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            rendered[url] = response.get_data(as_text=True)
    assert stop in rendered
    missing = client.get("/sidan-finns-inte")  # the error page
    assert missing.status_code == 404
    rendered["404"] = missing.get_data(as_text=True)
    worker = client.get("/sw.js").get_data(as_text=True)  # the worker's page for no network, nothing kept
    rendered["offline"] = json.loads(re.search(r"var OFFLINE_PAGE = (\".*?(?<!\\)\");", worker).group(1))
    return rendered


def test_main_pages_have_no_html_errors(pages, tmp_path):
    command = _checker()
    files = []
    for n, html in enumerate(pages.values()):
        path = tmp_path / f"page{n}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    assert len(files) >= 8, list(pages)
    result = subprocess.run([*command, *files], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    names = {str(tmp_path / f"page{n}.html"): url for n, url in enumerate(pages)}
    errors = [
        f"{names.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: {m.get('message')} "
        f"({m.get('extract', '')[:80]!r})"
        for m in messages
        if m.get("type") == "error"
    ]
    assert errors == []
