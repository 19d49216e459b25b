"""Hostile query values: every query parameter of every GET route, as every role, never a 5xx (hypothesis).

Unicode digits (² passes str.isdigit but not int()), Arabic-Indic and full-width digits, numbers beyond
any database integer, negatives, empty and repeated parameters, NUL, very long and odd Unicode strings.
QUERY_PARAMS lists what each GET endpoint reads from its query string; a check below keeps it in step
with app.url_map and with the names the views read. FIELDWALK_HOSTILE_EXAMPLES sets the number of
generated examples per role (more for a deeper run).
"""

import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldwalk.extensions import db, limiter
from fieldwalk.models import (
    ActionItem,
    Category,
    Finding,
    FollowUpMeeting,
    PromiseCommitment,
    PromiseKind,
    ResponsibleParty,
    Role,
    Walk,
    WalkStatus,
)
from fieldwalk.seed import create_user
from tests.conftest import PASSWORD

EXAMPLES = int(os.environ.get("FIELDWALK_HOSTILE_EXAMPLES", "40"))
ROLES = ["anonymous", "guest", "ansvarig", "samordnare", "admin"]

# What each GET endpoint reads from the query string (forms read their fields, db.paginate reads page).
ACTION_FILTERS = ("walk", "status", "category", "party", "overdue", "page")
QUERY_PARAMS: dict[str, tuple[str, ...]] = {
    "static": ("v",),
    "api-docs.openapi_json": (),
    "api.session_info": (),
    "api.categories": (),
    "api.walks": (),
    "api.walk": (),
    "api.walk_findings": (),
    "api.walk_nearby": ("category_id", "lat", "lon"),
    "api.finding": (),
    "api.finding_by_uuid": (),
    "api.action_items": ("walk", "status"),
    "api.action_item": (),
    "auth.login": ("next",),
    "auth.change_password": (),
    "auth.reset_request": (),
    "auth.reset_password": (),
    "walks.index": ("status",),
    "walks.create": (),
    "walks.edit": (),
    "walks.detail": (),
    "walks.stop_notices": (),
    "walks.confirm_close": (),
    "walks.join": (),
    "walks.qr_code": (),
    "walks.confirm_revoke": (),
    "walks.invitation": (),
    "findings.capture": ("saved",),
    "findings.detail": (),
    "findings.edit": (),
    "photos.photo": (),
    "actions.index": ACTION_FILTERS,
    "actions.create": ("finding", "walk"),
    "actions.detail": (),
    "actions.edit": (),
    "admin.users": (),
    "admin.user": (),
    "admin.export": (),
    "admin.categories": (),
    "admin.category": (),
    "admin.parties": (),
    "admin.party": (),
    "admin.audit": ("page",),
    "admin.failed_jobs": ("page",),
    "exports.actions": ACTION_FILTERS,
    "exports.findings": ("walk", "category", "from", "to", "reporters"),
    "followup.index": ("walk",),
    "followup.meeting": (),
    "followup.step": (),
    "followup.triage": ("also",),  # read from the POSTed form
    "followup.edit_commitment": (),
    "followup.protocol": ("meeting", "walk", "from", "to"),
    "followup.protocol_pdf": ("meeting", "walk", "from", "to"),
    "followup.protocol_file": (),
    "followup.protocol_file_download": (),
    "followup.dashboard": ("year",),
    "followup.promise": ("year",),
    "pwa.manifest": (),
    "pwa.service_worker": (),
    "health.healthz": (),
    "health.readyz": (),
}
STRAY = ("id", "page", "per_page", "finding", "walk", "next", "fmt", "_external")

NAMED_VALUES = [
    "²",
    "٣",
    "１",
    "۱۲",
    "99999999999999999999",
    str(2**31),
    str(2**63),
    "-1",
    "0",
    "",
    " ",
    "\x00",
    "1\x00",
    "1e3",
    "0x10",
    "1.5",
    "+1",
    " 1 ",
    "1" * 5000,
    "x" * 5000,
    "🚀",
    "\u202e1",
    "ǅ",
    "NaN",
    "2026-13-45",
]
VALUES = st.one_of(
    st.sampled_from(NAMED_VALUES),
    st.integers().map(str),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=12),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
)


def _routes(app):
    """(endpoint, url) for every GET rule, its path filled with objects of the world."""
    return [(rule.endpoint, rule) for rule in app.url_map.iter_rules() if "GET" in rule.methods]


@pytest.fixture(scope="module")
def world(module_app):
    """One walk with a finding, an action item of a party, a meeting, and a logged-in client per role (what
    the hostile requests write stays until the module's end, then it is rolled back)."""
    app = module_app
    with app.app_context():
        party = db.session.scalars(db.select(ResponsibleParty)).first()
        users = {
            role: create_user(
                f"{role}@example.com",
                f"Test {role}",
                PASSWORD,
                Role(role),
                "Kommunen",
                party if role == "ansvarig" else None,
            )
            for role in ("ansvarig", "samordnare", "admin")
        }
        walk = Walk(title="Vandring", area="Centrum", starts_at=datetime(2026, 11, 24, 17), status=WalkStatus.ONGOING)
        db.session.add(walk)
        category = db.session.scalars(db.select(Category)).first()
        finding = Finding(
            walk=walk,
            category=category,
            description="Mörkt",
            reporter=users["samordnare"],
            reporter_name="Test",
            reporter_org="",
        )
        item = ActionItem(walk=walk, title="Laga lampan", findings=[finding], responsible_party=party)
        meeting = FollowUpMeeting(title="Möte", walk=walk, held_on=date(2026, 12, 1))
        commitment = PromiseCommitment(year=2026, text="Två vandringar", kind=PromiseKind.WALKS, target=2)
        db.session.add_all([finding, item, meeting, commitment])
        db.session.commit()
        values = {
            "walk_id": walk.id,
            "finding_id": finding.id,
            "item_id": item.id,
            "photo_id": 1,
            "user_id": users["admin"].id,
            "category_id": category.id,
            "party_id": party.id,
            "meeting_id": meeting.id,
            "commitment_id": commitment.id,
            "file_id": 1,
            "code": walk.join_code,
            "token": "x.y.z",
            "finding_uuid": finding.uuid,
            "fmt": "csv",
            "variant": "thumb",
            "filename": "css/app.css",
        }
        urls = []
        with app.test_request_context():
            for endpoint, rule in _routes(app):
                args = {name: values[name] for name in rule.arguments}
                urls.append((endpoint, app.url_map.bind("localhost").build(endpoint, args)))
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role == "guest":
            response = client.post(f"/join/{values['code']}", data={"name": "Gäst", "organisation": ""})
            assert response.status_code == 302
        elif role != "anonymous":
            response = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD})
            assert response.status_code == 302
        clients[role] = client
    yield {"app": app, "urls": urls, "clients": clients, "path_values": values}
    limiter.reset()


def test_every_get_endpoint_is_listed(world):
    endpoints = {endpoint for endpoint, _url in world["urls"]}
    assert endpoints == set(QUERY_PARAMS), "add the new GET endpoint and the query parameters it reads"


def test_every_query_parameter_read_is_listed():
    """Names a view reads (request.args.get("x"), args["x"], getlist("x")) are in QUERY_PARAMS."""
    listed = {name for names in QUERY_PARAMS.values() for name in names}
    pattern = re.compile(
        r"""(?:\bargs\.get(?:list)?\(|\bargs\[|request\.values\.get(?:list)?\(|query_(?:ids?|int)\()"""
        r"""["']([\w-]+)["']"""
    )
    read = set()
    for path in Path(__file__).resolve().parent.parent.joinpath("fieldwalk").rglob("*.py"):
        read.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert read and read <= listed, read - listed


def _check(client, url, query):
    response = client.get(url, query_string=query)
    assert response.status_code < 500, (url, query, response.status_code, response.get_data(as_text=True)[:500])
    response.close()


@pytest.mark.parametrize("role", ROLES)
def test_named_hostile_values_never_make_a_server_error(world, role):
    client = world["clients"][role]
    for endpoint, url in world["urls"]:
        names = QUERY_PARAMS[endpoint]
        if not names:  # the generated test sends stray parameters there
            continue
        for value in NAMED_VALUES:
            _check(client, url, [(name, value) for name in names])
        _check(client, url, [(name, v) for name in names for v in ("1", "²", "-1")])  # repeated


# url_for's own keywords: a view that passes the query string on to url_for must not let them through
URL_FOR_KEYWORDS = ("endpoint", "_method", "_anchor", "_scheme", "_external", "values")


@pytest.mark.parametrize("role", ["samordnare", "admin"])
def test_url_for_keywords_in_the_query_never_make_a_server_error(world, role):
    """?endpoint=x or ?_method=POST (found by a tester: the protocol and the paged API passed the query
    string to url_for, which took them as its own arguments and answered 500)."""
    client = world["clients"][role]
    for endpoint, url in world["urls"]:
        for name in URL_FOR_KEYWORDS:
            _check(client, url, [*((n, "1") for n in QUERY_PARAMS[endpoint]), (name, "POST")])
    period = "/followup/protocol?from=2026-01-01&to=2026-12-31&_anchor=x&_method=POST&endpoint=x"
    response = client.get(period)
    links = re.findall(r'"(/followup/protocol-files[^"]*)"', response.get_data(as_text=True))  # the PDF button
    assert response.status_code == 200 and links and not any("_anchor" in link for link in links), links


@pytest.mark.parametrize("role", ROLES)
def test_generated_hostile_values_never_make_a_server_error(world, role):
    client = world["clients"][role]
    urls = world["urls"]

    @given(route=st.sampled_from(urls), data=st.data())
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(route, data):
        endpoint, url = route
        names = st.sampled_from(QUERY_PARAMS[endpoint] + STRAY)
        query = data.draw(st.lists(st.tuples(names, VALUES), max_size=6))
        _check(client, url, query)

    call()


@pytest.mark.parametrize("role", ["anonymous", "guest", "samordnare"])
def test_hostile_text_in_paths_never_makes_a_server_error(world, role):
    """The string parts of paths (join code, reset token) get the same values, percent-encoded."""
    from urllib.parse import quote

    client = world["clients"][role]
    limiter.reset()  # the join link's limit would answer 429 before the code is looked at

    @given(prefix=st.sampled_from(["/join/", "/reset/", "/api/v1/findings/by-uuid/"]), value=VALUES)
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(prefix, value):
        _check(client, prefix + quote(value, safe=""), [])

    call()


POST_VALUES = ["²", "٣", "１", "99999999999999999999", "-1", "", " ", "x" * 5000, "🚀", "2026-13-45", "NaN", "1"]
VIEW_FORM_NAMES = {
    "status",
    "checked",
    "enabled",
    "undo",
    "finding",
    "decision",
    "also",  # read by views
    # the meeting's triage step: the action item and no-action forms under their prefixes
    "item-title",
    "item-description",
    "item-responsible_party",
    "item-assignee",
    "item-due_date",
    "item-priority",
    "none-note",
}


def _form_field_names() -> set[str]:
    """Every field of every form class, and the names views read from request.form themselves."""
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    names, classes = set(VIEW_FORM_NAMES), list(FlaskForm.__subclasses__())
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        names |= {
            name for klass in cls.__mro__ for name, value in vars(klass).items() if isinstance(value, UnboundField)
        }
    return names


def test_every_form_value_a_view_reads_is_listed(session_app):  # the app: every form class imported
    pattern = re.compile(r"""request\.(?:form|values)\.get(?:list)?\(["']([\w-]+)["']""")
    read = set()
    for path in Path(__file__).resolve().parent.parent.joinpath("fieldwalk").rglob("*.py"):
        read.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert read <= _form_field_names(), read - _form_field_names()


@pytest.mark.parametrize("role", ["guest", "ansvarig", "samordnare", "admin"])
def test_hostile_form_values_never_make_a_server_error(world, role):
    """Every POST route (but log-out and erasure) gets every form field set to each hostile value."""
    app, client = world["app"], world["clients"][role]
    names = _form_field_names()
    posts = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint not in ("auth.logout", "admin.erase"):
            args = {name: world["path_values"].get(name, 1) for name in rule.arguments}
            posts.append(app.url_map.bind("localhost").build(rule.endpoint, args))
    for url in posts:
        for value in POST_VALUES:
            response = client.post(url, data={name: value for name in names})
            assert response.status_code < 500, (url, value, response.get_data(as_text=True)[:300])
            response.close()


# NUL: PostgreSQL refuses it in text, so it must be refused with a message before any query sees it.


def _findings(app, walk_id: int) -> int:
    """The walk's findings (this module's world, rolled back only at the module's end, has others)."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Finding).filter_by(walk_id=walk_id))


def test_nul_in_api_text_is_a_422_with_the_field(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    body = {
        "uuid": "6f1c8a52-1f5e-4a3c-9a53-0d1f0c7f1a11",
        "category_id": category_id(),
        "description": "Mörk\x00gångväg",
        "place": "Torget",
    }
    response = client.post(f"/api/v1/walks/{walk_id}/findings", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "description" in response.json["error"]["fields"]
    assert "NUL" in response.json["error"]["fields"]["description"]
    assert _findings(app, walk_id) == 0


def test_nul_in_form_text_is_refused_with_a_message(app, client, auth, make_walk, category_id):
    from tests.helpers import jpeg_bytes

    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    form = {"category": str(category_id()), "description": "Trasig\x00lampa", "severity": "medium"}
    response = client.post(f"/walks/{walk_id}/findings/new", data=form)
    assert response.status_code in (400, 422)
    assert "NUL" in response.get_data(as_text=True)
    # With a photo the form is multipart: still refused with the message, and the typed text shown again.
    import io

    response = client.post(
        f"/walks/{walk_id}/findings/new",
        content_type="multipart/form-data",
        data={**form, "photos": (io.BytesIO(jpeg_bytes((400, 300))), "a.jpg")},
    )
    assert response.status_code in (400, 422)
    assert "NUL" in response.get_data(as_text=True)
    assert _findings(app, walk_id) == 0


@pytest.mark.parametrize("url", ["/join/%00", "/join/abc%00def", "/login?next=%2F%00"])
def test_nul_in_paths_and_query_is_a_4xx(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500


def test_nul_in_typed_e_mail_is_a_4xx(client, auth):
    auth.login(Role.ADMIN)
    response = client.post("/admin/users/new", data={"email": "a\x00b@example.com", "name": "Ny", "role": "deltagare"})
    assert 400 <= response.status_code < 500
    response = client.post("/login", data={"email": "a\x00b@example.com", "password": "x"})
    assert 400 <= response.status_code < 500


def test_the_reported_values_are_a_400_with_a_message(app, client, auth, make_walk):
    auth.login(Role.COORDINATOR)
    make_walk()
    for url in (
        "/actions/new?finding=²",
        "/actions/new?finding=99999999999999999999",
        "/actions/new?finding=-1",
        "/actions/new?finding=1&finding=٣",
        "/followup/protocol?walk=²",
        "/followup/protocol?meeting=１",
        "/followup/?walk=99999999999999999999",
        "/followup/promise?year=٢٠٢٦",
        "/admin/audit?page=²",
    ):
        response = client.get(url)
        assert response.status_code in (400, 403), url  # the audit log is the admin's
        if response.status_code == 400:
            assert "giltigt id" in response.get_data(as_text=True) or "heltal" in response.get_data(as_text=True)


def test_an_id_is_ascii_digits_within_the_database_range():
    from fieldwalk.query_args import choice_id, parse_id

    assert [parse_id(v) for v in ("12", " 7 ", str(2**31 - 1))] == [12, 7, 2**31 - 1]
    assert [parse_id(v) for v in ("²", "٣", "１", "-1", "0", "", str(2**31), "1e3", "0x1", None)] == [None] * 10
    assert choice_id("0") == 0 and choice_id(5) == 5
    with pytest.raises(ValueError):
        choice_id("٣")


@pytest.mark.parametrize(
    "target",
    [
        "http://[x",
        "//[::1",
        "http://[::1]:99999/",
        "\\\\evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
    ],
)
def test_hostile_next_and_referer_never_make_a_server_error(client, auth, target):
    """Unparseable URLs are no 500, and what a browser would read as another host is no redirect there."""
    response = client.post("/language", data={"language": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    if target.isprintable():  # a header cannot carry a newline
        response = client.post(
            "/login", data={"email": "x@example.com", "password": "fel"}, headers={"Referer": target}
        )
        assert response.status_code == 401
    user_id, email = auth.make_user(Role.COORDINATOR)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_fractional_category_id_is_a_422_not_another_category(app, client, auth, make_walk, category_id):
    """category_id 1.5 would be read as category 1 by marshmallow's Integer: the finding would be filed
    under a category nobody chose."""
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    body = {"uuid": "0b6f2a1e-3c4d-4e5f-8a9b-1c2d3e4f5a6b", "category_id": category_id() + 0.5, "place": "Torget"}
    response = client.post(f"/api/v1/walks/{walk_id}/findings", json=body)
    assert response.status_code == 422 and "category_id" in response.json["error"]["fields"]
    assert _findings(app, walk_id) == 0
