"""Shared phones and deploys: what pages may stay on a phone, log-out clearing, versioned static files."""

import json
import re
import shutil
from pathlib import Path

import pytest

from fieldwalk import pwa
from fieldwalk.models import Role

STAFF_PAGES = [
    "/",
    "/walks/{walk}",
    "/walks/{walk}/edit",
    "/walks/{walk}/findings/new",
    "/actions/",
    "/followup/",
    "/followup/dashboard",
    "/followup/protocol?walk={walk}",
    "/admin/users",
    "/admin/audit",
    "/admin/categories",
    "/admin/parties",
    "/account/password",
    "/walks/new",
]


def _no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COORDINATOR])
def test_staff_pages_are_never_stored(client, auth, make_walk, role):
    walk_id = make_walk()
    auth.login(role)
    for url in STAFF_PAGES:
        response = client.get(url.format(walk=walk_id))
        assert response.status_code == (403 if url.startswith("/admin") and role != Role.ADMIN else 200), url
        if url.endswith("/findings/new"):  # the capture form: offline for whoever may log findings
            assert response.headers["X-Fieldwalk-Offline"] == "1"
            continue
        assert _no_store(response), (url, response.headers.get("Cache-Control"))
        assert "X-Fieldwalk-Offline" not in response.headers, url


def test_every_page_without_arguments_is_no_store_for_every_role(app, client, auth):
    """The whole class: each GET route without parameters, as each role, answers no-store (or opts in)."""
    rules = [
        r.rule
        for r in app.url_map.iter_rules()
        if "GET" in r.methods and not r.arguments and r.endpoint not in {"static", "pwa.service_worker", "pwa.manifest"}
    ]
    for role in Role:
        auth.login(role)
        for rule in rules:
            response = client.get(rule)
            assert response.status_code < 500, (role, rule)
            assert _no_store(response), (role, rule, response.headers.get("Cache-Control"))
            assert "X-Fieldwalk-Offline" not in response.headers, (role, rule)


def test_a_guest_may_keep_the_capture_form_and_the_walk_page(client, guest, make_walk):
    walk_id = make_walk()
    guest(walk_id)
    for url in (f"/walks/{walk_id}/findings/new", f"/walks/{walk_id}"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert response.headers["X-Fieldwalk-Offline"] == "1"
    other_walk = make_walk(title="Någon annans vandring")
    refused = client.get(f"/walks/{other_walk}")  # not theirs: an error page, never kept
    assert refused.status_code in (403, 404) and _no_store(refused)
    assert "X-Fieldwalk-Offline" not in refused.headers


def test_staff_walk_page_with_join_link_and_reporters_is_not_kept(client, auth, make_walk):
    walk_id = make_walk()
    auth.login(Role.COORDINATOR)
    response = client.get(f"/walks/{walk_id}")
    assert "join-url" in response.get_data(as_text=True)  # the join link is on it
    assert _no_store(response) and "X-Fieldwalk-Offline" not in response.headers


def test_logout_clears_the_site_data(client, auth):
    auth.login(Role.COORDINATOR)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert _no_store(response)


def test_logout_keeps_the_storage_while_findings_wait_on_the_device(client, auth):
    """The outbox lives in IndexedDB ("storage"): findings not yet sent must survive the log-out."""
    auth.login(Role.PARTICIPANT)
    response = client.post("/logout", data={"keep_outbox": "1"})
    assert response.status_code == 302 and response.headers["Clear-Site-Data"] == '"cache"'
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_api_answers_are_not_stored(client, auth, make_walk):
    make_walk()
    auth.login(Role.COORDINATOR)
    response = client.get("/api/v1/walks")
    assert response.status_code == 200 and _no_store(response)


def test_static_urls_carry_the_version_of_the_static_files(app, client):
    version = pwa.compute_static_version(app.static_folder)
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    page = client.get("/login").get_data(as_text=True)
    assert f"/static/css/app.css?v={version}" in page
    assert f"/static/js/outbox.js?v={version}" in page
    with client.get(f"/static/css/app.css?v={version}") as versioned:
        assert versioned.status_code == 200
        cache = versioned.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
    with client.get("/static/css/app.css?v=0ld") as stale:  # an old page asking: the file, not kept long
        assert stale.status_code == 200 and "max-age=31536000" not in stale.headers.get("Cache-Control", "")
    with client.get("/static/css/app.css") as unversioned:
        assert "max-age=31536000" not in unversioned.headers.get("Cache-Control", "")


def test_the_service_worker_carries_the_current_version(app, client):
    version = pwa.compute_static_version(app.static_folder)
    with client.get("/sw.js") as worker:
        body = worker.get_data(as_text=True)
        assert worker.headers["Cache-Control"] == "no-cache"
    assert f'"{version}"' in body
    assert "fieldwalk-v1" not in body and "__STATIC_VERSION__" not in body


def test_any_changed_static_file_changes_the_version(app, client, tmp_path):
    """A deploy that changes any file under static/ (vendored Leaflet included) gives a new version."""
    original = app.static_folder
    copy = tmp_path / "static"
    shutil.copytree(original, copy)
    versions = {pwa.compute_static_version(copy)}
    for name in ("css/app.css", "js/sw.js", "icons/icon-192.png"):
        path = copy / name
        path.write_bytes(path.read_bytes() + b"\n")
        versions.add(pwa.compute_static_version(copy))
    vendor = copy / "vendor" / "new.js"
    vendor.parent.mkdir(exist_ok=True)
    vendor.write_text("// a vendored update")
    versions.add(pwa.compute_static_version(copy))
    assert len(versions) == 5
    try:
        app.static_folder = str(copy)
        version = pwa.refresh_static_version(app)
        assert version == pwa.compute_static_version(copy) and version != pwa.compute_static_version(original)
        assert f'"{version}"' in client.get("/sw.js").get_data(as_text=True)
        assert f"app.css?v={version}" in client.get("/login").get_data(as_text=True)
    finally:
        app.static_folder = original
        pwa.refresh_static_version(app)
    assert Path(app.static_folder) == Path(original)


def _icon(client, src: str):
    """The image a manifest or page URL serves, opened with Pillow."""
    from io import BytesIO

    from PIL import Image

    with client.get(src) as response:
        assert response.status_code == 200 and response.mimetype == "image/png", src
        return Image.open(BytesIO(response.data)).convert("RGBA")


def test_manifest_names_the_app_and_describes_it_in_the_session_language(client):
    manifest = client.get("/manifest.webmanifest").json
    assert manifest["id"] == "/" and manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["lang"] == "sv" and "trygghetsvandring" in manifest["description"]
    client.post("/language", data={"language": "en", "next": "/"})
    english = client.get("/manifest.webmanifest")
    assert english.json["lang"] == "en" and "safety walk" in english.json["description"]
    assert "Cookie" in english.headers["Vary"]


def test_every_manifest_icon_serves_an_image_of_its_declared_size_and_purpose(client):
    icons = client.get("/manifest.webmanifest").json["icons"]
    assert {i["purpose"] for i in icons} == {"any", "maskable"}  # never "any maskable": one image can't be both
    for icon in icons:
        image = _icon(client, icon["src"])
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert image.size == (width, height), icon
        corner = image.getpixel((0, 0))
        if icon["purpose"] == "maskable":
            # Full bleed: every pixel opaque, and outside the safe circle (radius 40 % of the side) nothing
            # but the background colour, so a launcher's mask never cuts the artwork.
            assert image.getchannel("A").getextrema() == (255, 255), icon
            centre, radius = width / 2, 0.4 * width
            for x in range(0, width, 2):
                for y in range(0, height, 2):
                    if (x + 0.5 - centre) ** 2 + (y + 0.5 - centre) ** 2 > radius**2:
                        assert image.getpixel((x, y)) == corner, (icon["src"], x, y)
        else:  # shown as it is: a rounded tile, transparent corners
            assert corner[3] == 0, icon


def test_pages_link_a_180_pixel_opaque_apple_touch_icon(client):
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'<link rel="apple-touch-icon" sizes="180x180" href="([^"]+)">', page)
    assert found, "no apple-touch-icon link"
    image = _icon(client, found.group(1).replace("&amp;", "&"))
    assert image.size == (180, 180) and image.getchannel("A").getextrema() == (255, 255)


def test_files_fetched_beside_pages_never_write_the_session_cookie(client):
    """A manifest (or shell file) fetched while a log-in is under way must not answer with the session it
    began with: arriving after the log-in's answer, its cookie would log the person out again (seen in the
    browser tests as a log-in lost on the next page, when the service worker installed during it)."""
    client.get("/login")
    for url in ("/manifest.webmanifest", "/sw.js", "/static/css/app.css", "/healthz"):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert "Set-Cookie" not in response.headers, url


def test_the_offline_page_of_the_worker_is_in_swedish_and_english(app, client):
    """Without network and without a kept copy the worker answers a page of the app (its stylesheet, a
    way to try again), in both languages, each marked with its lang (the worker does not know the
    session's language)."""
    body = client.get("/sw.js").get_data(as_text=True)
    assert "__OFFLINE_PAGE__" not in body
    page = json.loads(re.search(r"var OFFLINE_PAGE = (\".*?(?<!\\)\");", body).group(1))
    assert '<html lang="sv">' in page and "<title>Ingen uppkoppling – fieldwalk</title>" in page
    assert f"/static/css/app.css?v={pwa.compute_static_version(app.static_folder)}" in page
    assert '<section lang="en">' in page and "No connection" in page and "Try again" in page
    assert "Den här sidan finns inte sparad på telefonen." in page
