"""The authorization matrix: every route of the app × every kind of user → allowed or denied.

Routes are enumerated from app.url_map, so a new route without a row here fails the test.
Denials are 403 or 404 (never someone else's data with 200); anonymous users are sent to log in.
"""

import io
from datetime import date, datetime

import pytest

from fieldwalk.actions import operations as actions
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.followup import operations as followup
from fieldwalk.models import Category, PromiseActivity, ResponsibleParty, Role, WalkStatus
from fieldwalk.photos import process_photo
from fieldwalk.seed import create_user
from fieldwalk.walks import operations as walks
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

ROLES = ["anonymous", "guest_a", "guest_b", "party_x", "party_y", "coordinator", "admin"]
STAFF = {"coordinator", "admin"}
EVERYONE = set(ROLES)
LOGGED_IN = EVERYONE - {"anonymous"}

# endpoint → (method, url template, roles allowed, form data). Ids refer to the world built below.
MATRIX = {
    "auth.login": ("GET", "/login", EVERYONE, None),
    "auth.logout": ("POST", "/logout", LOGGED_IN, {}),
    "auth.language": ("POST", "/language", EVERYONE, {"language": "en"}),
    "auth.change_password": ("GET", "/account/password", LOGGED_IN - {"guest_a", "guest_b"}, None),
    "auth.reset_request": ("GET", "/reset", EVERYONE, None),
    "auth.reset_password": ("GET", "/reset/not-a-token", EVERYONE, None),
    "admin.users": ("GET", "/admin/users", {"admin"}, None),
    "admin.user": ("GET", "/admin/users/{user_y}", {"admin"}, None),
    "admin.export": ("GET", "/admin/users/{user_y}/export.json", {"admin"}, None),
    "admin.erase": ("POST", "/admin/users/{user_y}/erase", {"admin"}, {}),
    "admin.categories": ("GET", "/admin/categories", {"admin"}, None),
    "admin.category": ("GET", "/admin/categories/1", {"admin"}, None),
    "admin.parties": ("GET", "/admin/parties", {"admin"}, None),
    "admin.party": ("GET", "/admin/parties/1", {"admin"}, None),
    "admin.audit": ("GET", "/admin/audit", {"admin"}, None),
    "walks.index": ("GET", "/", LOGGED_IN, None),
    "walks.create": ("GET", "/walks/new", STAFF, None),
    "walks.edit": ("GET", "/walks/{walk_a}/edit", STAFF, None),
    "walks.detail": ("GET", "/walks/{walk_a}", STAFF | {"guest_a"}, None),
    "walks.set_status": ("POST", "/walks/{walk_a}/status", STAFF, {"status": "ongoing"}),
    "walks.confirm_close": ("GET", "/walks/{walk_b}/close", STAFF, None),
    "walks.suggest_place": ("POST", "/walks/{walk_a}/places", STAFF | {"guest_a"}, {"text": "Mörkt"}),
    "walks.check_place": ("POST", "/walks/{walk_a}/places/{place}/check", STAFF, {"checked": "1"}),
    "walks.join": ("GET", "/join/{code_a}", EVERYONE, None),
    "walks.qr_code": ("GET", "/walks/{walk_a}/qr.svg", STAFF, None),
    "walks.join_link": ("POST", "/walks/{walk_a}/join-link", STAFF, {"enabled": "0"}),
    "walks.remove_participant": ("POST", "/walks/{walk_a}/participants/{participant_a}/remove", STAFF, {}),
    "findings.capture": ("GET", "/walks/{walk_a}/findings/new", STAFF | {"guest_a"}, None),
    "findings.detail": ("GET", "/findings/{finding_a}", STAFF | {"guest_a", "party_x"}, None),
    "findings.no_action": ("POST", "/findings/{finding_a2}/no-action", STAFF, {"note": "ok"}),
    "findings.photo": ("GET", "/photos/{photo_a}/thumb.jpg", STAFF | {"guest_a", "party_x"}, None),
    "actions.index": ("GET", "/actions/", STAFF | {"party_x", "party_y"}, None),
    "actions.create": ("GET", "/actions/new?finding={finding_a2}", STAFF, None),
    "actions.detail": ("GET", "/actions/{item}", STAFF | {"party_x"}, None),
    "actions.transition": ("POST", "/actions/{item}/transition", STAFF | {"party_x"}, {"to": "in_progress"}),
    "actions.comment": ("POST", "/actions/{item}/comment", STAFF | {"party_x"}, {"text": "Beställt"}),
    "actions.edit": ("GET", "/actions/{item}/edit", STAFF, None),
    # JSON API (anonymous callers get 401 JSON instead of the login page)
    "api.session_info": ("GET", "/api/v1/session", LOGGED_IN, None),
    "api.categories": ("GET", "/api/v1/categories", LOGGED_IN, None),
    "api.walks": ("GET", "/api/v1/walks", LOGGED_IN, None),
    "api.walk": ("GET", "/api/v1/walks/{walk_a}", STAFF | {"guest_a"}, None),
    "api.walk_findings": ("GET", "/api/v1/walks/{walk_a}/findings", STAFF | {"guest_a"}, None),
    "api.create_finding": ("POST", "/api/v1/walks/{walk_a}/findings", STAFF | {"guest_a"},
                           {"uuid": "7a0c4a52-3f4e-4c8e-9a55-0d6a2f1b9e11", "category_id": 1}),
    "api.finding": ("GET", "/api/v1/findings/{finding_a}", STAFF | {"guest_a", "party_x"}, None),
    "api.finding_by_uuid": ("GET", "/api/v1/findings/by-uuid/{uuid_a}", STAFF | {"guest_a", "party_x"}, None),
    "api.add_photo": ("POST", "/api/v1/findings/{finding_a}/photos", STAFF, {"photo": "jpeg"}),
    "api.action_items": ("GET", "/api/v1/action-items", LOGGED_IN, None),
    "api.action_item": ("GET", "/api/v1/action-items/{item}", STAFF | {"party_x"}, None),
    "api.transition": ("POST", "/api/v1/action-items/{item}/transition", STAFF | {"party_x"}, {"to": "in_progress"}),
    # exports
    "exports.actions": ("GET", "/exports/actions.csv?walk={walk_a}", STAFF | {"party_x", "party_y"}, None),
    "exports.findings": ("GET", "/exports/findings.xlsx?walk={walk_a}", STAFF, None),
    # follow-up
    "followup.index": ("GET", "/followup/", STAFF, None),
    "followup.meeting": ("GET", "/followup/meetings/{meeting}", STAFF, None),
    "followup.step": ("GET", "/followup/meetings/{meeting}/items/{item}", STAFF, None),
    "followup.finish": ("POST", "/followup/meetings/{meeting}/finish", STAFF, {"notes": ""}),
    "followup.protocol": ("GET", "/followup/protocol?walk={walk_a}", STAFF, None),
    "followup.protocol_pdf": ("GET", "/followup/protocol.pdf?walk={walk_a}", STAFF, None),
    "followup.dashboard": ("GET", "/followup/dashboard", STAFF, None),
    "followup.promise": ("GET", "/followup/promise", {"admin"}, None),
    "followup.remove_commitment": ("POST", "/followup/promise/{commitment}/delete", {"admin"}, {}),
}
# Further cases for routes whose rule depends on the object.
EXTRA = {
    "after-photo of an action item": ("GET", "/photos/{photo_event}/full.jpg", STAFF | {"party_x"}, None),
    "finding of walk B": ("GET", "/findings/{finding_b}", STAFF | {"guest_b"}, None),
    "capture on walk B": ("GET", "/walks/{walk_b}/findings/new", STAFF | {"guest_b"}, None),
    "internal note of party X": ("GET", "/actions/{item}", STAFF | {"party_x"}, None),
    "findings export as GeoJSON": ("GET", "/exports/findings.geojson", STAFF, None),
    "action export as XLSX": ("GET", "/exports/actions.xlsx", STAFF | {"party_x", "party_y"}, None),
}
PUBLIC = {"static", "api-docs.openapi_json", "pwa.manifest", "pwa.service_worker"}


@pytest.fixture
def world(app):
    """Two walks (A planned, B ongoing) with findings and photos, an action item of party X."""
    with app.app_context():
        coordinator = create_user("coordinator@example.com", "Sam", PASSWORD, Role.COORDINATOR)
        create_user("admin@example.com", "Adam", PASSWORD, Role.ADMIN)
        x = db.session.scalar(db.select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        y = db.session.scalar(db.select(ResponsibleParty).filter_by(name="Trafikverket"))
        create_user("party_x@example.com", "Xena", PASSWORD, Role.RESPONSIBLE, party=x)
        user_y = create_user("party_y@example.com", "Yngve", PASSWORD, Role.RESPONSIBLE, party=y)
        category = db.session.scalar(db.select(Category).filter_by(slug="belysning"))
        walk_a = walks.create_walk(coordinator, title="A", starts_at=datetime(2026, 12, 1, 17))
        walk_b = walks.create_walk(coordinator, title="B", starts_at=datetime(2026, 12, 2, 17),
                                   status=WalkStatus.ONGOING)
        place = walks.add_suggested_place(walk_a, text="Mörk trappa")
        participant_a = walks.join_walk(walk_a, None, name="Pia Deltagare", organisation="Boende")
        photo = process_photo(jpeg_bytes((800, 600)))
        finding_a, _ = findings.create_finding(walk_a, coordinator, category=category, photos=[photo])
        finding_a2, _ = findings.create_finding(walk_a, coordinator, category=category)
        finding_b, _ = findings.create_finding(walk_b, coordinator, category=category)
        item = actions.create_action_item([finding_a], coordinator, title="Laga", responsible_party=x)
        event = actions.add_comment(item, coordinator, "Efter", photo=process_photo(jpeg_bytes((900, 600))))
        actions.add_comment(item, coordinator, "Internt för samordnare", internal=True)
        meeting = followup.create_meeting(coordinator, held_on=date(2026, 12, 10), walk=walk_a)
        commitment = followup.add_commitment(coordinator, year=2026, text="Två vandringar",
                                             activity=PromiseActivity.WALKS, target=2)
        db.session.commit()
        return {"walk_a": walk_a.id, "walk_b": walk_b.id, "code_a": walk_a.join_code,
                "code_b": walk_b.join_code, "place": place.id, "finding_a": finding_a.id,
                "finding_a2": finding_a2.id, "finding_b": finding_b.id, "item": item.id,
                "photo_a": finding_a.photos[0].id, "photo_event": event.photos[0].id, "user_y": user_y.id,
                "meeting": meeting.id, "commitment": commitment.id, "uuid_a": finding_a.uuid,
                "participant_a": participant_a.id}


def become(client, role, world):
    """Log the client in as the role (guests join their walk by its link)."""
    if role == "anonymous":
        return
    if role.startswith("guest_"):
        client.post(f"/join/{world['code_' + role[-1]]}", data={"name": "Gäst", "organisation": "Boende"})
        return
    response = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD})
    assert response.status_code == 302


def test_every_route_has_a_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - PUBLIC
    assert endpoints == set(MATRIX), (endpoints ^ set(MATRIX))


CASES = [(name, role) for name in list(MATRIX) + list(EXTRA) for role in ROLES]


@pytest.mark.parametrize("name, role", CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_access(app, client, world, name, role):
    method, template, allowed, data = MATRIX.get(name) or EXTRA[name]
    become(client, role, world)
    url = template.format(**world)
    if method == "GET":
        with client.get(url) as response:
            status, body = response.status_code, response.get_data()
    elif url.startswith("/api/") and data.get("photo") == "jpeg":
        response = client.post(url, data={"photo": (io.BytesIO(jpeg_bytes((300, 200))), "p.jpg")})
        status, body = response.status_code, response.get_data()
    elif url.startswith("/api/"):
        response = client.post(url, json=data)
        status, body = response.status_code, response.get_data()
    else:
        response = client.post(url, data=data)
        status, body = response.status_code, response.get_data()
    if role in allowed:
        assert status not in (401, 403, 404), (status, body[:300])
        if name != "auth.logout":  # logging out rightly ends on the login page
            assert not (status == 302 and "/login" in response.headers.get("Location", ""))
    elif role == "anonymous" and url.startswith("/api/"):
        assert status == 401, status
    elif role == "anonymous":
        assert status == 302 and "/login" in response.headers["Location"], status
    else:
        assert status in (403, 404), (status, body[:300])
    if name == "internal note of party X" and status == 200:
        assert (b"Internt f\xc3\xb6r samordnare" in body) == (role in STAFF)
