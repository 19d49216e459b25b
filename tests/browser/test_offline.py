"""Nothing is lost in the field: findings logged without network wait on the phone and arrive once."""

import io
import time

import pytest
from PIL import Image
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Photo, Role, User, Walk, WalkStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _jpeg(color) -> dict:
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), color).save(out, "JPEG", quality=90)
    return {"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _log(page, category: int, text: str, color) -> None:
    page.locator("label.category-option").nth(category).click()
    page.fill("#description", text)
    page.set_input_files("#photos", files=[_jpeg(color)])
    page.click("button[type=submit] >> text=Spara fynd")


def _stored(app) -> list[tuple[str, int, int]]:
    with app.app_context():
        return [
            (f.description, len(f.photos), max((p.width for p in f.photos), default=0))
            for f in db.session.scalars(select(Finding).order_by(Finding.id))
        ]


def test_offline_findings_wait_on_the_phone_and_arrive_once(app, phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now controlled by the service worker, which keeps a copy of the page
    assert page.evaluate("!!navigator.serviceWorker.controller")

    _log(page, 0, "Online: trasig lampa", (200, 0, 0))  # with network: saved at once
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")  # a fresh form for the next one

    page.context.set_offline(True)
    for i, color in enumerate([(0, 150, 0), (0, 0, 150), (150, 150, 0)]):
        _log(page, i + 1, f"Offline {i}", color)
        page.wait_for_selector("#saved-offline:not([hidden])")
        assert page.inner_text("#outbox-count") == f"{i + 1} fynd väntar på att skickas."
        assert page.input_value("#description") == ""  # ready for the next one
    assert [d for d, _n, _w in _stored(app)] == ["Online: trasig lampa"]

    page.reload()  # no network: the app still opens, and the outbox is still there
    assert page.title().startswith("Logga fynd")
    assert page.inner_text("#outbox-count") == "3 fynd väntar på att skickas."

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#outbox", state="hidden", timeout=20000)
    page.evaluate("window.fieldwalkOutbox.flush()")  # sending again finds nothing left to send
    stored = _stored(app)
    assert [d for d, _n, _w in stored] == ["Online: trasig lampa", "Offline 0", "Offline 1", "Offline 2"]
    assert all(n == 1 for _d, n, _w in stored)
    # Downscaled on the phone before storing, to the long side the server keeps (2048), not below it.
    assert [w for _d, _n, w in stored[1:]] == [2048, 2048, 2048]


def test_a_dropped_photo_upload_completes_on_retry_without_duplicates(app, browser, live_server, phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    page.context.set_offline(True)
    _log(page, 0, "Mörk tunnel", (90, 90, 90))
    page.wait_for_selector("#saved-offline:not([hidden])")

    dropped = []

    def drop_first_photo(route):
        if not dropped:
            dropped.append(route.request.url)
            route.abort("internetdisconnected")  # the connection dies in the middle of the upload
        else:
            route.continue_()

    page.route("**/api/v1/findings/*/photos", drop_first_photo)
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#outbox", state="hidden", timeout=30000)  # retried after the backoff
    assert len(dropped) == 1
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Finding)) == 1
        assert db.session.scalar(select(db.func.count()).select_from(Photo)) == 1


def _network_bytes(page, load, *args) -> list[tuple[str, str, bool, int]]:
    """(type, url, served by the service worker, bytes over the wire) for everything load(*args) fetched."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # no help from the HTTP cache
    seen, done = {}, {}
    cdp.on(
        "Network.responseReceived",
        lambda e: seen.__setitem__(
            e["requestId"], (e["type"], e["response"]["url"], bool(e["response"].get("fromServiceWorker")))
        ),
    )
    cdp.on("Network.loadingFinished", lambda e: done.__setitem__(e["requestId"], e["encodedDataLength"]))
    load(*args)
    page.wait_for_load_state("networkidle")
    return [(*seen[k], done[k]) for k in done if k in seen and "tile.openstreetmap" not in seen[k][1]]


def test_capture_page_transfer_size(app, browser, live_server, auth, make_walk, capsys):
    """First load ≤ 80 KB compressed (Leaflet, exifr and the photo preparation load only when map mode is
    opened or a photo chosen); repeat load: shell 0 bytes."""
    walk_id = make_walk()
    _user, email = auth.make_user()
    sizes = {}
    for mode in ("block", "allow"):
        context = browser.new_context(
            viewport={"width": 360, "height": 640}, base_url=live_server, service_workers=mode
        )
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", "korrekt häst batteri")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        url = f"/walks/{walk_id}/findings/new"
        if mode == "block":  # a first visit: nothing cached anywhere
            sizes["first"] = _network_bytes(page, page.goto, url)
        else:  # the service worker installed on an earlier visit
            page.goto(url)
            page.evaluate("navigator.serviceWorker.ready")
            page.reload()
            sizes["repeat"] = _network_bytes(page, page.reload)
        context.close()
    first = sum(n for _t, _u, _sw, n in sizes["first"])
    shell = sum(n for kind, _u, from_sw, n in sizes["repeat"] if kind != "Document" and not from_sw)
    with capsys.disabled():  # the figures in docs/benchmarks.md come from this line
        print(
            f"\ncapture page: first load {first / 1024:.1f} KB in {len(sizes['first'])} responses "
            + ", ".join(f"{u.rsplit('/', 1)[-1].split('?')[0]} {n / 1024:.1f}" for _t, u, _sw, n in sizes["first"])
            + f"; repeat load: app shell {shell} B from the network"
        )
    names = {u.rsplit("/", 1)[-1].split("?")[0] for _t, u, _sw, _n in sizes["first"]}  # without ?v=<version>
    assert names >= {"app.css", "capture.js"}
    assert first <= 80 * 1024
    assert shell == 0


def test_walk_map_shows_the_findings_and_where_i_am(app, phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    _log(page, 0, "Lampa trasig", (120, 0, 0))
    page.wait_for_url(f"**/walks/{walk_id}/findings/new?saved=*")
    page.goto(f"/walks/{walk_id}")
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive[fill=\"#0a4fb3\"]').length > 0")
    assert page.locator(".map-pin").count() >= 1  # the finding (the meeting point too)
    assert "Lampa trasig" in page.inner_text("#findings")  # and always as a list below the map


# --- time in the field and shared phones (issue 9, points 2 and 3) ------------------------------------


def _login(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _close_walk(app, auth, walk_id: int) -> None:
    """A coordinator sets the walk to genomförd on their own device (a second client)."""
    _user, email = auth.make_user(Role.COORDINATOR)
    staff = app.test_client()
    assert staff.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    assert staff.post(f"/walks/{walk_id}/status", data={"status": "completed"}).status_code == 302


def test_a_finding_saved_offline_before_the_walk_closed_arrives_late(app, auth, phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    page.context.set_offline(True)
    _log(page, 0, "Mörk passage", (40, 40, 40))
    page.wait_for_selector("#saved-offline:not([hidden])")
    _close_walk(app, auth, walk_id)
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#outbox", state="hidden", timeout=20000)
    with app.app_context():
        finding = db.session.scalars(select(Finding)).one()
        assert finding.description == "Mörk passage" and finding.arrived_after_close
        assert len(finding.photos) == 1


def test_a_refused_finding_can_be_copied_or_removed(app, phone, make_walk):
    walk_id = make_walk()
    page = phone(walk_id)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.context.set_offline(True)
    _log(page, 0, "Krossad busskur", (10, 80, 10))
    page.wait_for_selector("#saved-offline:not([hidden])")
    with app.app_context():  # meanwhile the walk was followed up: it takes no findings at all any more
        db.session.get(Walk, walk_id).status = WalkStatus.FOLLOWED_UP
        db.session.commit()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    refused = page.wait_for_selector(".outbox-refused", timeout=20000)
    assert "Den här vandringen tar inte emot fler fynd." in refused.inner_text()
    assert page.locator("#outbox-pending").is_hidden()  # no longer "will be sent"
    page.click(".outbox-refused >> text=Kopiera texten")
    page.wait_for_selector(".outbox-refused >> text=Texten är kopierad.")
    assert page.evaluate("navigator.clipboard.readText()") == "Krossad busskur"
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")  # no clipboard
    page.click(".outbox-refused >> text=Kopiera texten")
    assert page.input_value(".outbox-refused textarea") == "Krossad busskur"  # shown to copy by hand
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click(".outbox-refused >> text=Ta bort")
    page.wait_for_selector("#outbox", state="hidden")
    assert dialogs and "Ta bort fyndet" in dialogs[0]
    assert page.evaluate("window.fieldwalkOutbox.count()") == 0
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Finding)) == 0


def test_a_shared_phone_sends_each_finding_only_as_its_maker(app, auth, phone, make_walk):
    walk_id = make_walk()
    a_id, a_email = auth.make_user(Role.PARTICIPANT, name="Anna Andersson")
    b_id, b_email = auth.make_user(Role.PARTICIPANT, name="Bertil Berg")
    with app.app_context():  # both take part in the walk
        walk = db.session.get(Walk, walk_id)
        walk.participants.extend([db.session.get(User, a_id), db.session.get(User, b_id)])
        db.session.commit()
    page = phone()
    _login(page, a_email)
    page.goto(f"/walks/{walk_id}/findings/new")
    page.context.set_offline(True)
    _log(page, 0, "Annas fynd vid skolan", (200, 100, 0))
    page.wait_for_selector("#saved-offline:not([hidden])")

    # Back online but the API unreachable (a weak signal): Anna logs out with the finding still waiting.
    page.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    page.context.set_offline(False)
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("form[action$='/logout'] button[type=submit]")
    page.wait_for_url("**/login**")
    assert dialogs and dialogs[0].startswith("1 fynd har inte skickats än.")
    page.unroute("**/api/v1/**")

    _login(page, b_email)  # Bertil on the same phone, with network
    page.wait_for_selector("#outbox-foreign:not([hidden])")
    page.evaluate("window.fieldwalkOutbox.flush()")
    banner = page.inner_text("#outbox")
    assert "1 fynd på den här enheten hör till någon annan" in banner
    assert "Annas fynd" not in banner  # nothing of its content
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Finding)) == 0
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))  # Bertil has nothing to be asked about
    page.click("form[action$='/logout'] button[type=submit]")
    page.wait_for_url("**/login**")
    assert len(dialogs) == 1

    _login(page, a_email)  # Anna again: now it is sent, as hers
    page.wait_for_selector("#outbox", state="hidden", timeout=20000)
    with app.app_context():
        # The outbox sends in the background: on a loaded machine the banner can go before the answer is in.
        deadline = time.monotonic() + 20
        while not db.session.scalar(select(db.func.count()).select_from(Finding)) and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.2)
        finding = db.session.scalars(select(Finding)).one()
        assert (finding.description, finding.reporter_id) == ("Annas fynd vid skolan", a_id)


def test_a_page_not_kept_on_the_phone_answers_the_offline_page_in_both_languages(app, phone, make_walk):
    page = phone(make_walk())
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    page.context.set_offline(True)
    page.goto("/walks/999999")  # never kept: no network, no copy
    assert page.title() == "Ingen uppkoppling – fieldwalk"
    assert page.inner_text("section[lang=en] h1") == "No connection"
    # the kept stylesheet applies (the page is the app's, not an unstyled line of text)
    assert page.evaluate("getComputedStyle(document.querySelector('.button')).display") != "inline"
    page.context.set_offline(False)
