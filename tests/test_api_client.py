"""The OpenAPI document is one a client generator can use: openapi-python-client generates a client from the
document the app serves, and that client logs in, reads the CSRF token and logs a finding with a photo
against a live server. Also what the document promises: security schemes, operation ids, descriptions,
examples, and only the error statuses each operation can answer."""

import importlib
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Role
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "fieldwalk_client"


def _document(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


@pytest.fixture
def generated(app, tmp_path, monkeypatch):
    """The client package openapi-python-client generates from the served document, imported."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(_document(app)), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n", encoding="utf-8")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator says "Warning(s) encountered" when it had to leave out a part it could not understand.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_a_generated_client_logs_a_finding_with_a_photo(app, live_server, generated, auth, make_walk, category_id):
    api = importlib.import_module(f"{PACKAGE}.api.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    for name in ("get_session", "create_finding", "add_finding_photo", "get_finding"):
        importlib.import_module(f"{PACKAGE}.api.api.{name}")
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the client must send the token
    _user_id, email = auth.make_user(Role.COORDINATOR)
    walk_id = make_walk()
    belysning = category_id("belysning")

    with generated.Client(base_url=live_server, raise_on_unexpected_status=True) as client:
        # Not logged in: the documented 401, parsed into the generated Error model.
        anonymous = api.get_session.sync_detailed(client=client)
        assert anonymous.status_code == 401 and isinstance(anonymous.parsed, models.Error)

        # Log in as the document's "session" scheme says: the cookie POST /login sets (the login form has
        # its own CSRF token); the client's HTTP session keeps the cookie.
        http = client.get_httpx_client()
        page = http.get("/login").text
        form_token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        logged_in = http.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": form_token})
        assert logged_in.status_code == 302, logged_in.text[:300]

        me = api.get_session.sync(client=client)
        assert isinstance(me, models.Session) and me.role == Role.COORDINATOR.value and me.csrf_token

        body = models.FindingCreate(
            uuid=uuid.uuid4(),
            category_id=belysning,
            description="Trasig lampa",
            severity=models.FindingCreateSeverity.HIGH,
            lat=56.8791,
            lon=14.8058,
            accuracy_m=9.0,
            place="Storgatan 12",
        )
        # Without the "csrf" scheme's header: the documented 400, a JSON error in the session's language.
        refused = api.create_finding.sync_detailed(walk_id, client=client, body=body)
        assert refused.status_code == 400 and isinstance(refused.parsed, models.Error)
        assert refused.parsed.error.code == "csrf_failed"
        assert refused.parsed.error.message.startswith("Formuläret har gått ut")

    # Both schemes as the document declares them: the session cookie, and the token in X-CSRFToken.
    cookie = app.config["SESSION_COOKIE_NAME"]
    with generated.Client(
        base_url=live_server,
        raise_on_unexpected_status=True,
        cookies={cookie: http.cookies[cookie]},
        headers={"X-CSRFToken": me.csrf_token},
    ) as client:
        created = api.create_finding.sync_detailed(walk_id, client=client, body=body)
        assert created.status_code == 201 and isinstance(created.parsed, models.Finding)
        finding = created.parsed
        assert finding.walk_id == walk_id and finding.description == "Trasig lampa" and finding.photos == []
        again = api.create_finding.sync_detailed(walk_id, client=client, body=body)  # a retry: the same one
        assert again.status_code == 200 and again.parsed.id == finding.id

        photo = types.File(payload=jpeg_bytes((800, 600)), file_name="lampa.jpg", mime_type="image/jpeg")
        uploaded = api.add_finding_photo.sync_detailed(finding.id, client=client, body=models.PhotoUpload(photo=photo))
        assert uploaded.status_code == 201 and isinstance(uploaded.parsed, models.PhotoUploaded)
        assert (uploaded.parsed.width, uploaded.parsed.height) == (800, 600)

        stored = api.get_finding.sync(finding.id, client=client)
        assert [p.id for p in stored.photos] == [uploaded.parsed.id]
        missing = api.get_finding.sync_detailed(finding.id + 1000, client=client)
        assert missing.status_code == 404 and missing.parsed.error.code == "not_found"

    with app.app_context():
        row = db.session.scalar(select(Finding).where(Finding.id == finding.id))
        assert row.uuid == str(body.uuid) and len(row.photos) == 1


def test_the_csrf_error_is_json_in_the_session_language(app, client, auth, make_walk, category_id):
    auth.login()
    walk = make_walk()
    client.post("/language", data={"language": "en", "next": "/"})
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(
            f"/api/v1/walks/{walk}/findings", json={"uuid": str(uuid.uuid4()), "category_id": category_id()}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400 and refused.mimetype == "application/json"
    error = refused.json["error"]
    assert error.pop("request_id")  # the request's reference, as every error answer carries
    assert error == {
        "code": "csrf_failed",
        "message": "The form has expired or was sent from another page. Reload the page and try again.",
    }


def test_every_operation_has_an_id_a_description_security_and_its_own_error_statuses(app):
    document = _document(app)
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": app.config["SESSION_COOKIE_NAME"],
        "description": schemes["session"]["description"],
    }
    assert (schemes["csrf"]["type"], schemes["csrf"]["in"], schemes["csrf"]["name"]) == (
        "apiKey",
        "header",
        "X-CSRFToken",
    )
    ids = []
    for method, path, operation in _operations(document):
        where = f"{method.upper()} {path}"
        ids.append(operation["operationId"])
        assert operation.get("summary") and operation.get("description"), where
        writes = method == "post"
        assert operation["security"] == ([{"session": [], "csrf": []}] if writes else [{"session": []}]), where
        assert "default" not in operation["responses"], where
        errors = {int(s) for s in operation["responses"] if int(s) >= 400}
        assert 401 in errors and (400 in errors) == writes, where  # only a write can fail its CSRF check
        if "{" not in path:
            assert 404 not in errors, where  # nothing to look up: never "not found"
        for status in errors:
            content = operation["responses"][str(status)]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"} and content["example"], where
    assert len(ids) == len(set(ids)) >= 15
    assert re.fullmatch(r"[a-z_]+", "".join(ids))
    create = document["components"]["schemas"]["FindingCreate"]["properties"]
    assert create["lat"]["example"] == 56.879 and create["uuid"]["example"]


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/walks/{walk_id}", 404),  # the documented statuses are real answers
        ("get", "/api/v1/action-items", 422),
        ("post", "/api/v1/action-items/{item_id}/transition", 404),
    ],
)
def test_documented_error_statuses_are_answered(app, client, auth, method, path, status):
    assert str(status) in _document(app)["paths"][path][method]["responses"]
    auth.login()
    url = path.replace("{walk_id}", "999999").replace("{item_id}", "999999")
    if status == 422:
        url += "?status=zzz"
    response = client.open(url, method=method.upper(), json={"to": "done"} if method == "post" else None)
    assert response.status_code == status and response.json["error"]["message"]
