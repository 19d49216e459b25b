"""Log-in and account hardening: no timing oracle for known addresses, reset mail after the answer,
per-account back-off and IPv6 /64 limits, the new-password policy, a rate-limited join link, suggested
places without names for participants, and a uuid of another walk that tells nothing."""

import statistics
import time
import uuid
from pathlib import Path

import pytest

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Role, User, Walk, WalkStatus
from tests.conftest import PASSWORD

SLOW_HASH = "pbkdf2:sha256:400000"  # a few hundred ms per check: the difference a log-in must not show


def _login_time(client, email: str) -> float:
    started = time.perf_counter()
    response = client.post(
        "/login",
        data={"email": email, "password": "inte rätt lösenord"},
        environ_base={"REMOTE_ADDR": f"198.51.100.{int(started * 1000) % 250}"},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 401
    return elapsed


def test_unknown_inactive_and_guest_accounts_cost_a_hash_check_too(app, client, auth, monkeypatch, make_walk, guest):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", SLOW_HASH)
    _id, known = auth.make_user(Role.COORDINATOR)
    inactive_id, inactive = auth.make_user(Role.COORDINATOR)
    with app.app_context():
        db.session.get(User, inactive_id).active = False
        db.session.commit()
    known_time = statistics.median(_login_time(client, known) for _ in range(2))
    assert known_time > 0.05, "the slow hash method is not slow on this machine; the comparison means nothing"
    for email in ("nobody@example.com", "nobody2@example.com", inactive):
        # Loose on purpose (a busy machine): without the dummy check an unknown address answers 20× faster.
        assert _login_time(client, email) > known_time / 3, email


def test_dummy_hash_uses_the_configured_method(app, monkeypatch):
    from fieldwalk.auth.passwords import dummy_hash

    with app.app_context():
        assert dummy_hash().startswith("pbkdf2:sha256:1000$")
        monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", SLOW_HASH)
        assert dummy_hash().startswith(SLOW_HASH + "$")


def _outbox(app) -> list[Path]:
    return sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))


def test_reset_mail_is_sent_after_the_answer(app, client, auth):
    _id, email = auth.make_user(Role.COORDINATOR)
    response = client.post("/reset", data={"email": email})
    assert response.status_code == 302
    response.get_data()
    assert _outbox(app) == []  # the whole answer is out, and no mail was sent while it was being made
    response.close()  # what the WSGI server does once the answer is sent
    assert len(_outbox(app)) == 1 and f"To: {email}" in _outbox(app)[0].read_text()
    # An unknown address gets the same answer and no mail at all.
    unknown = client.post("/reset", data={"email": "okand@example.com"})
    assert unknown.status_code == 302 and unknown.headers["Location"] == response.headers["Location"]
    unknown.close()
    assert len(_outbox(app)) == 1


def _fail(client, email: str, address: str = "192.0.2.1", password: str = "fel lösenord"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    ).status_code


def test_failed_log_ins_lock_the_account_whatever_the_address(app, client, auth):
    _id, email = auth.make_user(Role.COORDINATOR)
    _id, other = auth.make_user(Role.COORDINATOR)
    # Five failures from five addresses (a botnet): the account waits now, even with the right password.
    assert [_fail(client, email, f"192.0.2.{n}") for n in range(1, 6)] == [401] * 5
    assert _fail(client, email.upper(), "192.0.2.77", PASSWORD) == 429
    response = client.post(
        "/login", data={"email": f" {email} ", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "192.0.2.78"}
    )
    assert response.status_code == 429 and "Vänta" in response.get_data(as_text=True)
    # Another account is not affected, and a successful log-in does not count as a failure.
    assert _fail(client, other, "192.0.2.1", PASSWORD) == 302


def test_ipv6_addresses_share_the_limit_of_their_64_network(app, client):
    # The per-address limit (10 a minute): a host picks any address of its /64, so the /64 is counted.
    statuses = [_fail(client, f"nobody{n}@example.com", f"2001:db8:1:2::{n:x}") for n in range(1, 11)]
    assert statuses == [401] * 10
    assert _fail(client, "nobody11@example.com", "2001:db8:1:2:ffff:1:2:3") == 429
    assert _fail(client, "nobody12@example.com", "2001:db8:1:3::1") == 401  # another network
    assert _fail(client, "nobody13@example.com", "192.0.2.9") == 401


COMMON = ["1234567890", "qwertyuiop", "Password123", "ILOVEYOU12"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused_on_change(app, client, auth, password):
    auth.login(Role.COORDINATOR)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": password, "new_password_again": password},
    )
    assert response.status_code == 400
    assert "för vanligt" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "password, message",
    [
        ("aaaaaaaaaaaa", "för vanligt"),
        ("abababababab", "för vanligt"),
        ("fieldwalk123", "liknar"),
        ("trygghetsvandring", "liknar"),
        ("Trygghet2026!", "liknar"),
        ("{local}@example.com", "liknar"),
        ("{name}1", "liknar"),
        (PASSWORD, "skilja sig"),
    ],
)
def test_passwords_like_the_account_or_the_app_are_refused(app, client, auth, password, message):
    """What an outside tester could still choose: one character repeated, the app's name with digits, the
    e-mail address or name with a digit, the same password again."""
    user_id = auth.login(Role.COORDINATOR)
    with app.app_context():
        user = db.session.get(User, user_id)
        password = password.format(local=user.email.split("@")[0], name=user.name)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": password, "new_password_again": password},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_sentence_is_a_good_password(app, client, auth):
    auth.login(Role.COORDINATOR)
    new = "lampan vid tunneln blinkar"
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "new_password_again": new}
    )
    assert response.status_code == 302


def test_common_and_short_passwords_are_refused_on_reset(app, client, auth):
    from fieldwalk.auth.tokens import make_reset_token

    user_id, email = auth.make_user(Role.COORDINATOR)
    with app.app_context(), app.test_request_context():
        token = make_reset_token(db.session.get(User, user_id))
    for password, message in (("qwertyuiop", "för vanligt"), ("kort", "minst 10 tecken")):
        response = client.post(f"/reset/{token}", data={"new_password": password, "new_password_again": password})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    good = "lång egen mening om hösten"
    response = client.post(f"/reset/{token}", data={"new_password": good, "new_password_again": good})
    assert response.status_code == 302


def test_create_user_command_refuses_a_common_password(app, runner):
    result = runner.invoke(
        args=["create-user", "--email", "ny@example.com", "--name", "Ny", "--password", "password123"]
    )
    assert result.exit_code != 0 and "för vanligt" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(email="ny@example.com")) is None


def test_join_link_is_rate_limited(app, client, make_walk, monkeypatch):
    monkeypatch.setitem(app.config, "JOIN_RATE_LIMIT", "3 per minute")
    walk_id = make_walk()
    with app.app_context():
        code = db.session.get(Walk, walk_id).join_code
    statuses = [
        client.get(f"/join/{code}").status_code,
        client.get("/join/gissning1").status_code,
        client.post("/join/gissning2", data={"name": "X"}).status_code,
    ]
    assert statuses == [200, 404, 404]
    assert client.get(f"/join/{code}").status_code == 429
    assert client.post(f"/join/{code}", data={"name": "Y"}).status_code == 429
    assert client.get(f"/join/{code}", environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code == 200


def test_suggested_places_show_who_suggested_them_to_staff_only(app, client, auth, guest, make_walk):
    walk_id = make_walk(status=WalkStatus.PLANNED)
    guest(walk_id, name="Anna Andersson")
    response = client.post(
        f"/walks/{walk_id}/places", data={"text": "Mörk passage vid skolan", "suggested_by": "Anna på Storgatan 5"}
    )
    assert response.status_code == 302
    guest(walk_id, name="Bertil Berg")
    page = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert "Mörk passage vid skolan" in page and "Anna på Storgatan 5" not in page
    auth.login(Role.COORDINATOR)
    assert "Anna på Storgatan 5" in client.get(f"/walks/{walk_id}").get_data(as_text=True)


def test_a_uuid_of_another_walk_answers_like_any_invalid_uuid(app, client, auth, make_walk, category_id):
    auth.login(Role.COORDINATOR)
    mine, other = make_walk(), make_walk(title="Annan vandring")
    taken = str(uuid.uuid4())
    body = {"uuid": taken, "category_id": category_id(), "description": "Trasig lampa"}
    assert client.post(f"/api/v1/walks/{other}/findings", json=body).status_code == 201
    foreign = client.post(f"/api/v1/walks/{mine}/findings", json=body)
    malformed = client.post(f"/api/v1/walks/{mine}/findings", json={**body, "uuid": "inte-ett-id"})
    assert foreign.status_code == malformed.status_code == 422
    answers = [{k: v for k, v in r.json["error"].items() if k != "request_id"} for r in (foreign, malformed)]
    assert answers[0] == answers[1]  # all but the request's own reference
    # The capture form (also used by the phones' outbox, as JSON) answers the same way.
    form = {"category": str(category_id()), "description": "Trasig lampa", "severity": "medium"}
    headers = {"Accept": "application/json"}
    foreign = client.post(f"/walks/{mine}/findings/new", data={**form, "uuid": taken}, headers=headers)
    malformed = client.post(f"/walks/{mine}/findings/new", data={**form, "uuid": "inte-ett-id"}, headers=headers)
    assert foreign.status_code == malformed.status_code == 400
    answers = [{k: v for k, v in r.json["error"].items() if k != "request_id"} for r in (foreign, malformed)]
    assert answers[0] == answers[1]  # all but the request's own reference
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Finding)) == 1


def test_reset_mails_for_one_address_are_limited_known_or_not(app, client, auth):
    _id, email = auth.make_user(Role.COORDINATOR)
    for target in (email, "okand@example.com"):
        statuses = []
        for n in range(4):
            response = client.post("/reset", data={"email": target}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
            statuses.append(response.status_code)
            response.close()
        assert statuses == [302, 302, 302, 429], target
    assert len(_outbox(app)) == 3
    page = client.post("/reset", data={"email": email}).get_data(as_text=True)
    assert "Vänta en stund" in page
