"""The authorization matrix: every route of the app × every kind of user → allowed or denied.

Routes are enumerated from app.url_map, so a new route without a row here fails the test.
Denials are 403 or 404 (never someone else's data with 200); anonymous users are sent to log in.
Then field by field: who may change an action item's party, due date, assignee, priority, text and
status through each path that can carry it (edit form, status form with extra fields, API, the
operation itself as the CLI would call it); and every write operation called directly by every kind
of user, so a rule that only a view checks fails here. A refusal leaves the database as it was.
"""

import io
from datetime import date, datetime
from urllib.parse import urlsplit

import pytest

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.admin import operations as admin
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.followup import operations as followup
from fieldwalk.http_errors import OperationError
from fieldwalk.models import (
    ActionItem,
    ActionStatus,
    Category,
    FailedJob,
    Finding,
    FollowUpMeeting,
    Priority,
    PromiseCommitment,
    PromiseKind,
    ProtocolFile,
    ResponsibleParty,
    Role,
    SuggestedPlace,
    User,
    Walk,
    WalkStatus,
)
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.seed import create_user
from fieldwalk.walks import operations as walks
from fieldwalk.walks.notice_links import stop_link
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
    "admin.failed_jobs": ("GET", "/admin/jobs", {"admin"}, None),
    "admin.retry_job": ("POST", "/admin/jobs/{failed_job}/retry", {"admin"}, {}),
    "admin.dismiss_job": ("POST", "/admin/jobs/{failed_job}/dismiss", {"admin"}, {}),
    "walks.index": ("GET", "/", LOGGED_IN, None),
    "walks.create": ("GET", "/walks/new", STAFF, None),
    "walks.edit": ("GET", "/walks/{walk_a}/edit", STAFF, None),
    "walks.detail": ("GET", "/walks/{walk_a}", STAFF | {"guest_a"}, None),
    "walks.set_status": ("POST", "/walks/{walk_a}/status", STAFF, {"status": "ongoing"}),
    "walks.confirm_close": ("GET", "/walks/{walk_b}/close", STAFF, None),
    "walks.confirm_revoke": ("GET", "/walks/{walk_a}/join-link/revoke", STAFF, None),
    "walks.suggest_place": ("POST", "/walks/{walk_a}/places", STAFF | {"guest_a"}, {"text": "Mörkt"}),
    "walks.check_place": ("POST", "/walks/{walk_a}/places/{place}/check", STAFF, {"checked": "1"}),
    "walks.join": ("GET", "/join/{code_a}", EVERYONE, None),
    "walks.stop_notices": ("GET", "{stop_link}", EVERYONE, None),  # the signed link from a mail: no session
    "walks.qr_code": ("GET", "/walks/{walk_a}/qr.svg", STAFF, None),
    "walks.invitation": ("GET", "/walks/{walk_a}/invitation", STAFF, None),
    "walks.join_link": ("POST", "/walks/{walk_a}/join-link", STAFF, {"enabled": "0"}),
    "walks.remove_participant": ("POST", "/walks/{walk_a}/participants/{participant_a}/remove", STAFF, {}),
    "walks.notify_email": ("POST", "/walks/{walk_a}/notify-email", {"guest_a"}, {"notify_email": "gast@example.org"}),
    "findings.capture": ("GET", "/walks/{walk_a}/findings/new", STAFF | {"guest_a"}, None),
    "findings.detail": ("GET", "/findings/{finding_a}", STAFF | {"guest_a", "party_x"}, None),
    # Only the reporter edits a finding (finding_a is the coordinator's): not other staff, not other guests.
    "findings.edit": ("GET", "/findings/{finding_a}/edit", {"coordinator"}, None),
    "findings.no_action": ("POST", "/findings/{finding_a2}/no-action", STAFF, {"note": "ok"}),
    "photos.photo": ("GET", "/photos/{photo_a}/thumb.jpg", STAFF | {"guest_a", "party_x"}, None),
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
    "api.create_finding": (
        "POST",
        "/api/v1/walks/{walk_a}/findings",
        STAFF | {"guest_a"},
        {"uuid": "7a0c4a52-3f4e-4c8e-9a55-0d6a2f1b9e11", "category_id": 1},
    ),
    "api.finding": ("GET", "/api/v1/findings/{finding_a}", STAFF | {"guest_a", "party_x"}, None),
    "api.finding_by_uuid": ("GET", "/api/v1/findings/by-uuid/{uuid_a}", STAFF | {"guest_a", "party_x"}, None),
    "api.add_photo": ("POST", "/api/v1/findings/{finding_a}/photos", STAFF, {"photo": "jpeg"}),
    "api.walk_nearby": (
        "GET",
        "/api/v1/walks/{walk_a}/nearby?category_id=1&lat=56.879&lon=14.806",
        STAFF | {"guest_a"},
        None,
    ),
    # finding_a is the first finding of the world (id 1); the coordinator reported it (no agreeing with oneself)
    "api.agree": ("POST", "/api/v1/walks/{walk_a}/agreements", {"admin", "guest_a"}, {"finding_id": 1}),
    # (nobody agreed yet: those allowed get 409 "agree first", the others 403/404)
    "api.agreement_photo": (
        "POST",
        "/api/v1/walks/{walk_a}/agreements/{finding_a}/photo",
        {"admin", "guest_a"},
        {"photo": "jpeg"},
    ),
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
    "followup.triage": ("GET", "/followup/meetings/{meeting}/findings/{finding_a2}", STAFF, None),
    "followup.finish": ("POST", "/followup/meetings/{meeting}/finish", STAFF, {"notes": ""}),
    "followup.protocol": ("GET", "/followup/protocol?walk={walk_a}", STAFF, None),
    "followup.protocol_pdf": ("GET", "/followup/protocol.pdf?walk={walk_a}", STAFF, None),
    "followup.protocol_file_create": ("POST", "/followup/protocol-files?walk={walk_a}", STAFF, {}),
    # A PDF being made for the coordinator: theirs alone (the admin gets 404 too).
    "followup.protocol_file": ("GET", "/followup/protocol-files/{protocol_file}", {"coordinator"}, None),
    "followup.protocol_file_download": (
        "GET",
        "/followup/protocol-files/{protocol_file}/download",
        {"coordinator"},
        None,
    ),
    "followup.dashboard": ("GET", "/followup/dashboard", STAFF, None),
    "followup.promise": ("GET", "/followup/promise", STAFF, None),
    "followup.edit_commitment": ("GET", "/followup/promise/{commitment}/edit", STAFF, None),
    "followup.remove_commitment": ("POST", "/followup/promise/{commitment}/delete", STAFF, {}),
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
PUBLIC = {"static", "api-docs.openapi_json", "pwa.manifest", "pwa.service_worker", "health.healthz", "health.readyz"}


@pytest.fixture(scope="module")
def world(module_app):
    """Two walks (A planned, B ongoing) with findings and photos, an action item of party X: built once for
    the module, each test rolls back to it."""
    app = module_app
    with app.app_context():
        coordinator = create_user("coordinator@example.com", "Sam", PASSWORD, Role.COORDINATOR)
        admin_user = create_user("admin@example.com", "Adam", PASSWORD, Role.ADMIN)
        x = db.session.scalar(db.select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        y = db.session.scalar(db.select(ResponsibleParty).filter_by(name="Trafikverket"))
        create_user("party_x@example.com", "Xena", PASSWORD, Role.RESPONSIBLE, party=x)
        user_y = create_user("party_y@example.com", "Yngve", PASSWORD, Role.RESPONSIBLE, party=y)
        participant = create_user("participant@example.com", "Pia", PASSWORD, Role.PARTICIPANT)
        category = db.session.scalar(db.select(Category).filter_by(slug="belysning"))
        walk_a = walks.create_walk(coordinator, title="A", starts_at=datetime(2026, 12, 1, 17))
        walk_b = walks.create_walk(
            coordinator, title="B", starts_at=datetime(2026, 12, 2, 17), status=WalkStatus.ONGOING
        )
        place = walks.add_suggested_place(walk_a, coordinator, text="Mörk trappa")
        walks.join_walk(walk_a, participant)
        guest_a = walks.join_walk(walk_a, None, name="Gäst A", organisation="Boende")
        guest_b = walks.join_walk(walk_b, None, name="Gäst B", organisation="Boende")
        participant_a = walks.join_walk(walk_a, None, name="Pia Deltagare", organisation="Boende")
        photo = process_photo(jpeg_bytes((800, 600)))
        finding_a, _ = findings.create_finding(walk_a, coordinator, FindingInput(category=category), photos=[photo])
        finding_a2, _ = findings.create_finding(walk_a, coordinator, FindingInput(category=category))
        finding_b, _ = findings.create_finding(walk_b, coordinator, FindingInput(category=category))
        item = actions.create_action_item([finding_a], coordinator, ActionItemInput(title="Laga", responsible_party=x))
        event = actions.add_comment(item, coordinator, "Efter", photo=process_photo(jpeg_bytes((900, 600))))
        actions.add_comment(item, coordinator, "Internt för samordnare", internal=True)
        meeting = followup.create_meeting(coordinator, held_on=date(2026, 12, 10), walk=walk_a)
        commitment = followup.add_commitment(
            admin_user, year=2026, text="Två vandringar", kind=PromiseKind.WALKS, target=2
        )
        guest_b.notify_email = "gast.b@example.org"
        failed_job = FailedJob(function="fieldwalk.mail.send_mail", summary="x@example.com: Hej", error="SMTP")
        db.session.add(failed_job)
        protocol_file = ProtocolFile(
            requested_by=coordinator, locale="sv", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31)
        )
        db.session.add(protocol_file)
        db.session.commit()
        return {
            "failed_job": failed_job.id,
            "protocol_file": protocol_file.id,
            "walk_a": walk_a.id,
            "walk_b": walk_b.id,
            "code_a": walk_a.join_code,
            "code_b": walk_b.join_code,
            "place": place.id,
            "finding_a": finding_a.id,
            "finding_a2": finding_a2.id,
            "finding_b": finding_b.id,
            "item": item.id,
            "photo_a": finding_a.photos[0].id,
            "photo_event": event.photos[0].id,
            "user_y": user_y.id,
            "meeting": meeting.id,
            "commitment": commitment.id,
            "uuid_a": finding_a.uuid,
            "party_x": x.id,
            "party_y": y.id,
            "guest_a_id": guest_a.id,
            "guest_b_id": guest_b.id,
            "participant_a": participant_a.id,
            "stop_link": urlsplit(stop_link(guest_b, "gast.b@example.org")).path,
        }


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
    assert endpoints == set(MATRIX), endpoints ^ set(MATRIX)


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


# --- Field by field: who may change which detail of an action item, through which path ---------

FIELD_ROLES = ["guest_a", "participant", "party_x", "party_y", "coordinator", "admin"]
# field → roles whose change is applied (the item is party X's and assigned; X may move it on).
FIELD_ALLOWED = {
    "responsible_party": STAFF,
    "due_date": STAFF,
    "assignee": STAFF,
    "priority": STAFF,
    "text": STAFF,  # title and description
    "status": STAFF | {"party_x"},
}
# path → the fields it carries; an extra field on a path that does not carry it is never applied.
PATH_CARRIES = {
    "html_edit": {"responsible_party", "due_date", "priority", "text", "assignee"},
    "html_transition": {"status", "responsible_party"},
    "html_comment": {"status", "responsible_party"},  # the item page's one form: a comment with a status move
    "api": {"status"},
    "operation": set(FIELD_ALLOWED),
}
FIELD_CASES = [(f, p, r) for f in FIELD_ALLOWED for p in PATH_CARRIES for r in FIELD_ROLES]


def _actor(role: str, world) -> User:
    """The user behind a role, for calling operations directly (as the CLI or a job would)."""
    if role.startswith("guest_"):
        return db.session.get(User, world[f"{role}_id"])
    return db.session.scalar(db.select(User).filter_by(email=f"{role}@example.com"))


def _item_state(item_id: int) -> tuple:
    db.session.expire_all()
    item = db.session.get(ActionItem, item_id)
    return (
        item.title,
        item.description,
        item.responsible_party_id,
        item.assignee_id,
        item.due_date,
        item.priority,
        item.status,
        len(item.events),
    )


def _database_state() -> dict:
    """Every row of every table, to show that a refused change wrote nothing anywhere."""
    db.session.expire_all()
    return {
        t.name: sorted(repr(tuple(row)) for row in db.session.execute(t.select())) for t in db.metadata.sorted_tables
    }


def _new_values(world) -> dict:
    """What each case tries to set, as model values (operation) and as form/JSON values (HTTP)."""
    assignee = db.session.scalar(db.select(User.id).filter_by(email="party_x@example.com"))
    return {
        "responsible_party": (world["party_y"], {"responsible_party": world["party_y"]}),
        "due_date": (date(2027, 3, 1), {"due_date": "2027-03-01"}),
        "assignee": (assignee, {"assignee": assignee, "assignee_id": assignee}),
        "priority": (Priority.HIGH, {"priority": "high"}),
        "text": (("Ny rubrik", "Ny text"), {"title": "Ny rubrik", "description": "Ny text"}),
        "status": (ActionStatus.IN_PROGRESS, {"to": "in_progress", "status": "in_progress"}),
    }


def _field_value(state: tuple, field: str):
    title, description, party, assignee, due, priority, status, _events = state
    return {
        "responsible_party": party,
        "due_date": due,
        "assignee": assignee,
        "priority": priority,
        "text": (title, description),
        "status": status,
    }[field]


def _call_operation(item_id: int, field: str, value, actor: User) -> None:
    item = db.session.get(ActionItem, item_id)
    if field == "status":
        actions.transition(item, value, actor, text="Påbörjat")
    elif field == "responsible_party":
        actions.update_action_item(item, actor, responsible_party=db.session.get(ResponsibleParty, value))
    elif field == "assignee":
        actions.update_action_item(item, actor, assignee=db.session.get(User, value))
    elif field == "text":
        actions.update_action_item(item, actor, title=value[0], description=value[1])
    else:
        actions.update_action_item(item, actor, **{field: value})


def _post(client, path: str, field: str, form: dict, world) -> int:
    item = world["item"]
    if path == "html_edit":
        data = {
            "title": "Laga",
            "description": "",
            "responsible_party": world["party_x"],
            "due_date": "",
            "priority": "medium",
        }
        data.update({k: v for k, v in form.items() if k != "to"})
        return client.post(f"/actions/{item}/edit", data=data).status_code
    if path in ("html_transition", "html_comment"):
        data = {"to": "in_progress", "text": "Påbörjat"}
        data.update(form)
        return client.post(f"/actions/{item}/{path.removeprefix('html_')}", data=data).status_code
    data = {"to": "in_progress"}
    data.update({k: v for k, v in form.items() if k != "status"} if field != "status" else {})
    return client.post(f"/api/v1/action-items/{item}/transition", json=data).status_code


@pytest.mark.parametrize("field, path, role", FIELD_CASES, ids=[f"{f}-{p}-{r}" for f, p, r in FIELD_CASES])
def test_action_item_fields(app, client, world, field, path, role):
    applies = role in FIELD_ALLOWED[field] and field in PATH_CARRIES[path]
    if path != "operation":
        become(client, role, world)
    with app.app_context():
        before, everything = _item_state(world["item"]), _database_state()
        value, form = _new_values(world)[field]
        if path == "operation":
            try:
                _call_operation(world["item"], field, value, _actor(role, world))
                db.session.commit()
                status = 200
            except OperationError as exc:
                db.session.rollback()
                status = exc.status
        else:
            status = _post(client, path, field, form, world)
        after = _item_state(world["item"])
        assert status < 500
        if applies:
            assert status in (200, 302), status
            assert _field_value(after, field) == value
        else:
            assert _field_value(after, field) == _field_value(before, field), (status, after)
            if status >= 400:  # refused: nothing at all was written
                assert after == before
                assert _database_state() == everything
            if role not in {"party_x"} | STAFF:  # the API refuses an unknown field before it looks the item up
                assert status in ((403, 404, 422) if path == "api" else (403, 404)), status


# --- Every write operation, called directly (as the CLI, a job or a future view would) -----------

OPERATION_ROLES = ["guest_a", "guest_b", "participant", "party_x", "party_y", "coordinator", "admin"]


def _get(model, world, key):
    return db.session.get(model, world[key])


# operation → (call with the world and the actor, roles that may do it)
OPERATIONS = {
    "create_walk": (lambda w, a: walks.create_walk(a, title="Ny", starts_at=datetime(2027, 1, 1, 17)), STAFF),
    "update_walk": (lambda w, a: walks.update_walk(_get(Walk, w, "walk_a"), a, title="Ändrad"), STAFF),
    "set_walk_status": (lambda w, a: walks.set_walk_status(_get(Walk, w, "walk_a"), WalkStatus.ONGOING, a), STAFF),
    "add_suggested_place": (
        lambda w, a: walks.add_suggested_place(_get(Walk, w, "walk_a"), a, text="Buskar"),
        STAFF | {"guest_a", "participant"},
    ),
    "set_place_checked": (lambda w, a: walks.set_place_checked(_get(SuggestedPlace, w, "place"), True, a), STAFF),
    "set_join_link": (lambda w, a: walks.set_join_link(_get(Walk, w, "walk_a"), False, a), STAFF),
    "remove_participant": (
        lambda w, a: walks.remove_participant(_get(Walk, w, "walk_a"), _get(User, w, "participant_a"), a),
        STAFF,
    ),
    "set_no_action": (lambda w, a: findings.set_no_action(_get(Finding, w, "finding_a2"), a, True, "ok"), STAFF),
    "add_finding_photo": (
        lambda w, a: findings.add_photo(_get(Finding, w, "finding_a"), a, jpeg_bytes((320, 240)), "p.jpg"),
        STAFF,
    ),
    "create_action_item": (
        lambda w, a: actions.create_action_item([_get(Finding, w, "finding_a2")], a, ActionItemInput(title="Ny")),
        STAFF,
    ),
    "add_comment": (lambda w, a: actions.add_comment(_get(ActionItem, w, "item"), a, "Beställt"), STAFF | {"party_x"}),
    "add_comment_photo": (
        lambda w, a: actions.add_comment(
            _get(ActionItem, w, "item"), a, "", photo=process_photo(jpeg_bytes((320, 240)))
        ),
        STAFF | {"party_x"},
    ),
    "create_meeting": (
        lambda w, a: followup.create_meeting(a, held_on=date(2027, 1, 5), walk=_get(Walk, w, "walk_a")),
        STAFF,
    ),
    "record_decision": (
        lambda w, a: followup.record_decision(
            _get(FollowUpMeeting, w, "meeting"), _get(ActionItem, w, "item"), a, text="Vänta"
        ),
        STAFF,
    ),
    "record_decision_new_party": (
        lambda w, a: followup.record_decision(
            _get(FollowUpMeeting, w, "meeting"),
            _get(ActionItem, w, "item"),
            a,
            text="Till Trafikverket",
            to=ActionStatus.IN_PROGRESS,
            party=_get(ResponsibleParty, w, "party_y"),
        ),
        STAFF,
    ),
    "record_decision_party_only": (
        lambda w, a: followup.record_decision(
            _get(FollowUpMeeting, w, "meeting"),
            _get(ActionItem, w, "item"),
            a,
            text="",
            party=_get(ResponsibleParty, w, "party_y"),
        ),
        STAFF,
    ),
    "finish_meeting": (lambda w, a: followup.finish_meeting(_get(FollowUpMeeting, w, "meeting"), a), STAFF),
    "add_commitment": (
        lambda w, a: followup.add_commitment(a, year=2027, text="Tre", kind=PromiseKind.WALKS, target=3),
        STAFF,
    ),
    "update_commitment": (
        lambda w, a: followup.update_commitment(
            a, _get(PromiseCommitment, w, "commitment"), year=2026, text="Tre", kind=PromiseKind.WALKS, target=3
        ),
        STAFF,
    ),
    "remove_commitment": (lambda w, a: followup.remove_commitment(a, _get(PromiseCommitment, w, "commitment")), STAFF),
    "update_user": (
        lambda w, a: admin.update_user(_get(User, w, "user_y"), a, name="Ny", role=Role.RESPONSIBLE),
        {"admin"},
    ),
    "create_account": (
        lambda w, a: admin.create_account(a, "ny@example.com", name="Ny", role=Role.COORDINATOR),
        {"admin"},
    ),
    "erase_person": (lambda w, a: admin.erase_person(_get(User, w, "user_y"), a), {"admin"}),
    # the coordinator reported finding_a: one does not agree with oneself
    "agree": (
        lambda w, a: findings.agree(_get(Walk, w, "walk_a"), a, _get(Finding, w, "finding_a")),
        {"admin", "guest_a", "participant"},
    ),
    "add_agreement_photo": (
        lambda w, a: (
            findings.agree(_get(Walk, w, "walk_a"), a, _get(Finding, w, "finding_a")),
            findings.add_agreement_photo(
                _get(Walk, w, "walk_a"), a, _get(Finding, w, "finding_a"), jpeg_bytes((320, 240)), "p.jpg"
            ),
        ),
        {"admin", "guest_a", "participant"},
    ),
    "set_notify_email": (
        lambda w, a: walks.set_notify_email(a, a, "ny@example.org"),
        {"guest_a", "guest_b", "participant"},
    ),
}
OPERATION_CASES = [(op, role) for op in OPERATIONS for role in OPERATION_ROLES]


@pytest.mark.parametrize("op, role", OPERATION_CASES, ids=[f"{o}-{r}" for o, r in OPERATION_CASES])
def test_operation_checks_the_actor(app, world, op, role):
    call, allowed = OPERATIONS[op]
    with app.app_context():
        before = _database_state()
        try:
            call(world, _actor(role, world))
            db.session.commit()
            refused = None
        except OperationError as exc:
            db.session.rollback()
            refused = exc
        if role in allowed:
            assert refused is None, refused.message
            assert _database_state() != before
        else:
            assert refused is not None and refused.status == 403, refused and (refused.status, refused.message)
            assert _database_state() == before
