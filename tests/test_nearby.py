"""Duplicates nearby: the radius query behind the capture form's box (who sees what, within how many metres),
and "Jag håller med" agreements (one per person and finding, whatever is sent)."""

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import (
    ActionStatus,
    Category,
    Finding,
    FindingAgreement,
    ResponsibleParty,
    Role,
    User,
    Walk,
    WalkStatus,
)
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.seed import create_user
from fieldwalk.walks import operations as walks
from tests.conftest import PASSWORD
from tests.helpers import jpeg_bytes

HERE = (56.8790, 14.8059)
M_LAT = 1 / 111_195  # degrees of latitude per metre
M_LON = M_LAT / 0.5469  # degrees of longitude per metre at 56.88° N (cos 56.88° ≈ 0.5469)


def north(metres: float) -> tuple[float, float]:
    return HERE[0] + metres * M_LAT, HERE[1]


def east(metres: float) -> tuple[float, float]:
    return HERE[0], HERE[1] + metres * M_LON


@pytest.fixture
def area(app):
    """Walk now (ongoing, a guest joined) and an earlier walk; findings at known distances from HERE."""
    with app.app_context():
        coordinator = create_user("sam@example.com", "Sam Samordnare", PASSWORD, Role.COORDINATOR)
        party = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        light = db.session.scalar(select(Category).filter_by(slug="belysning"))
        other = db.session.scalar(select(Category).where(Category.slug != "belysning").order_by(Category.id))
        now = walks.create_walk(coordinator, title="Nu", starts_at=datetime(2026, 12, 1, 17), status=WalkStatus.ONGOING)
        before = walks.create_walk(
            coordinator, title="I våras", starts_at=datetime(2026, 4, 1, 17), status=WalkStatus.COMPLETED
        )
        guest = walks.join_walk(now, None, name="Gunnel Gäst", organisation="Boende")
        neighbour = walks.join_walk(now, None, name="Nils Granne", organisation="Boende")
        ids = {"now": now.id, "before": before.id, "guest": guest.id, "light": light.id, "other": other.id}

        def log(key, walk, where, category=light, reporter=neighbour, photo=False, **kw):
            finding, _ = findings.create_finding(
                walk,
                reporter if walk is now else coordinator,
                FindingInput(
                    category=category, lat=where[0], lon=where[1], description=f"Text {key}", place=f"Plats {key}"
                ),
                photos=[process_photo(jpeg_bytes((400, 300)))] if photo else [],
                **kw,
            )
            ids[key] = finding.id
            return finding

        log("near", now, north(10), photo=True)
        log("east24", now, east(24))
        log("east26", now, east(26))
        log("far", now, north(30))
        log("other_category", now, north(5), category=other)
        log("mine", now, north(3), reporter=guest)
        old_open = log("old_open", before, north(8), photo=True)
        old_done = log("old_done", before, north(6))
        old_rejected = log("old_rejected", before, north(7))
        log("old_untriaged", before, north(4))
        item = actions.create_action_item(
            [old_open], coordinator, ActionItemInput(title="Byt lampan", responsible_party=party)
        )
        done = actions.create_action_item(
            [old_done], coordinator, ActionItemInput(title="Klar", responsible_party=party)
        )
        actions.transition(done, ActionStatus.DONE, coordinator)
        rejected = actions.create_action_item(
            [old_rejected], coordinator, ActionItemInput(title="Nej", responsible_party=party)
        )
        actions.transition(rejected, ActionStatus.REJECTED, coordinator, text="Privat mark")
        ids["item"] = item.id
        db.session.commit()
        return ids


def _nearby(client, area, category="light", where=HERE):
    return client.get(
        f"/api/v1/walks/{area['now']}/nearby",
        query_string={"category_id": area[category], "lat": where[0], "lon": where[1]},
    )


def _join_as_guest(app, client, area):
    with app.app_context():
        code = db.session.get(Walk, area["now"]).join_code
    client.post(f"/join/{code}", data={"name": "Gunnel Gäst", "organisation": "Boende"})


def test_radius_category_and_open_items_decide_what_is_offered(client, auth, area):
    auth.login(Role.COORDINATOR)
    answer = _nearby(client, area)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    got = {e["finding_id"]: e for e in answer.json}
    # inside 25 m, the same category: this walk's findings and the earlier walk's open item
    assert {area["near"], area["east24"], area["old_open"]} <= set(got)
    # outside 25 m (26 m east, 30 m north), another category, resolved or rejected items, never-triaged
    # findings of an earlier walk: not offered
    for key in ("east26", "far", "other_category", "old_done", "old_rejected", "old_untriaged"):
        assert area[key] not in got, key
    distances = [e["distance_m"] for e in answer.json]
    assert distances == sorted(distances)
    assert got[area["near"]]["distance_m"] == 10 and got[area["east24"]]["distance_m"] == 24
    assert got[area["near"]]["distance_label"] == "10 m härifrån"
    old = got[area["old_open"]]
    assert old["kind"] == "action_item" and old["action_item_id"] == area["item"] and not old["same_walk"]
    assert old["title"] == "Byt lampan" and old["status"] == "assigned" and old["status_label"]


def test_another_category_finds_only_its_own(client, auth, area):
    auth.login(Role.COORDINATOR)
    got = [e["finding_id"] for e in _nearby(client, area, category="other").json]
    assert got == [area["other_category"]]


def test_a_participant_sees_the_walks_findings_but_only_a_summary_of_earlier_walks(app, client, area):
    _join_as_guest(app, client, area)
    got = {e["finding_id"]: e for e in _nearby(client, area).json}
    near, old = got[area["near"]], got[area["old_open"]]
    assert near["description"] == "Text near" and near["thumbnail_url"].endswith("/thumb.jpg")
    with client.get(near["thumbnail_url"]) as thumbnail:
        assert thumbnail.status_code == 200
    # the earlier walk is not theirs: category, place, status and distance, never photo or description
    assert old["description"] is None and old["thumbnail_url"] is None and old["place"] == "Plats old_open"
    body = _nearby(client, area).get_data(as_text=True)
    assert "Nils Granne" not in body and "Sam Samordnare" not in body  # no names, ever


def test_the_staff_see_the_details_of_earlier_walks_too(client, auth, area):
    auth.login(Role.COORDINATOR)
    old = next(e for e in _nearby(client, area).json if e["finding_id"] == area["old_open"])
    assert old["description"] == "Text old_open" and old["thumbnail_url"]


@pytest.mark.parametrize("role", [Role.RESPONSIBLE, Role.PARTICIPANT])
def test_who_is_not_on_the_walk_gets_nothing(client, auth, area, role):
    auth.login(role, party_name="Gatu- och parkavdelningen" if role == Role.RESPONSIBLE else None)
    assert _nearby(client, area).status_code in (403, 404)
    assert client.post(f"/api/v1/walks/{area['now']}/agreements", json={"finding_id": area["near"]}).status_code in (
        403,
        404,
    )


BAD_QUERIES = [
    {},
    {"category_id": "x", "lat": 1, "lon": 1},
    {"category_id": 1, "lat": 91, "lon": 0},
    {"category_id": 1, "lat": 0, "lon": "١٢"},
    {"category_id": "١", "lat": 0, "lon": 0},
    {"category_id": 1, "lat": "nan", "lon": 0},
    {"category_id": 99999, "lat": 0, "lon": 0},
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_queries_are_a_422(client, auth, area, query):
    auth.login(Role.COORDINATOR)
    answer = client.get(f"/api/v1/walks/{area['now']}/nearby", query_string=query)
    assert answer.status_code == 422 and answer.json["error"]["message"]


def test_agreeing_twice_is_one_agreement(app, client, area):
    _join_as_guest(app, client, area)
    url = f"/api/v1/walks/{area['now']}/agreements"
    first = client.post(url, json={"finding_id": area["near"]})
    again = client.post(url, json={"finding_id": area["near"]})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert first.json["finding_id"] == area["near"] and first.json["agreements"] == 1
    assert first.json["agreements_label"] == "1 håller med" and "1 håller med" in first.json["message"]
    # the earlier walk's open item: agreed with through its first finding
    assert client.post(url, json={"finding_id": area["old_open"]}).status_code == 201
    entries = {e["finding_id"]: e for e in _nearby(client, area).json}
    assert entries[area["near"]]["agreed"] and entries[area["near"]]["agreements"] == 1
    assert entries[area["old_open"]]["agreements"] == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(FindingAgreement.id))) == 2


def test_no_agreeing_with_oneself_or_with_what_the_box_would_not_offer(app, client, area):
    _join_as_guest(app, client, area)
    with app.app_context():
        me = db.session.scalar(select(User).order_by(User.id.desc()))
        mine, _ = findings.create_finding(
            db.session.get(Walk, area["now"]),
            me,
            FindingInput(category=db.session.get(Category, area["light"]), lat=HERE[0], lon=HERE[1]),
        )
        db.session.commit()
        mine_id = mine.id
    url = f"/api/v1/walks/{area['now']}/agreements"
    own = next(e for e in _nearby(client, area).json if e["finding_id"] == mine_id)
    assert own["own"] and not own["agreed"]
    assert client.post(url, json={"finding_id": mine_id}).status_code == 403
    for key in ("old_done", "old_rejected", "old_untriaged"):
        assert client.post(url, json={"finding_id": area[key]}).status_code == 403, key
    assert client.post(url, json={"finding_id": 2**31 - 1}).status_code == 404
    assert client.post(url, json={"finding_id": "x"}).status_code == 422
    # 1.5 is no finding's id: refused, not read as finding 1 (marshmallow's Integer truncates a float)
    assert client.post(url, json={"finding_id": area["near"] + 0.5}).status_code == 422
    assert client.post(url, json={"finding_id": float(area["near"])}).status_code == 201  # 7.0 is 7
    with app.app_context():
        assert db.session.scalar(select(func.count(FindingAgreement.id))) == 1


def test_a_photo_with_the_agreement_joins_the_finding_once(app, client, area):
    _join_as_guest(app, client, area)
    url = f"/api/v1/walks/{area['now']}/agreements/{area['near']}/photo"
    data = jpeg_bytes((640, 480))

    def send(payload=data):
        return client.post(url, data={"photo": (io.BytesIO(payload), "p.jpg")})

    early = send()
    assert early.status_code == 409 and early.json["error"]["message"]  # agree first
    assert client.post(f"/api/v1/walks/{area['now']}/agreements", json={"finding_id": area["near"]}).status_code == 201
    first, again = send(), send()
    assert (first.status_code, again.status_code) == (201, 200) and first.json["id"] == again.json["id"]
    other = send(jpeg_bytes((700, 500)))
    assert other.status_code == 409  # one photo per agreement
    broken = client.post(url, data={"photo": (io.BytesIO(b"inte en bild"), "p.jpg")})
    assert broken.status_code in (409, 422)
    with app.app_context():
        finding = db.session.get(Finding, area["near"])
        agreement = db.session.scalar(select(FindingAgreement))
        assert len(finding.photos) == 2 and agreement.photo_id == first.json["id"]
