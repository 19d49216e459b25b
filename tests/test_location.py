"""Finding and action item pages say where it is: place, coordinates, a geo: link and an OpenStreetMap link,
also for a responsible party's member who may not open the walk."""

from datetime import datetime

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, ResponsibleParty, Role, User, Walk, WalkStatus

PARTY = "Gatu- och parkavdelningen"


def _item(app):
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(role=Role.COORDINATOR))
        category = db.session.scalar(db.select(Category).filter_by(slug="belysning"))
        walk = Walk(title="Platsvandring", starts_at=datetime(2026, 10, 1, 17), status=WalkStatus.COMPLETED)
        db.session.add(walk)
        one, _ = findings.create_finding(
            walk, actor, FindingInput(category=category, lat=56.879012, lon=14.806034, place="Storgatan 3")
        )
        two, _ = findings.create_finding(walk, actor, FindingInput(category=category, lat=56.88, lon=14.81))
        party = db.session.scalar(db.select(ResponsibleParty).filter_by(name=PARTY))
        item = actions.create_action_item(
            [one, two], actor, ActionItemInput(title="Byt lampor", responsible_party=party)
        )
        db.session.commit()
        return walk.id, one.id, item.id


def test_party_member_sees_where_the_finding_and_item_are(app, client, auth):
    auth.make_user(Role.COORDINATOR)
    walk_id, finding_id, item_id = _item(app)
    auth.login(Role.RESPONSIBLE, party_name=PARTY)
    assert client.get(f"/walks/{walk_id}").status_code in (403, 404)
    for url in (f"/findings/{finding_id}", f"/actions/{item_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "Storgatan 3" in html and "56,879012; 14,806034" in html
        assert 'href="geo:56.879012,14.806034?q=56.879012,14.806034(Storgatan%203)"' in html
        assert ("https://www.openstreetmap.org/?mlat=56.879012&amp;mlon=14.806034#map=18/56.879012/14.806034") in html
        assert 'id="walk-map"' in html and "Öppna i kartappen" in html
    html = client.get(f"/actions/{item_id}").get_data(as_text=True)
    assert "geo:56.880000,14.810000" in html  # the item's location is all its findings' positions


def test_revoking_the_join_link_asks_first(app, client, auth, make_walk):
    auth.login()
    walk_id = make_walk()
    html = client.get(f"/walks/{walk_id}").get_data(as_text=True)
    assert f'href="/walks/{walk_id}/join-link/revoke"' in html
    assert 'name="enabled" value="0"' not in html  # no one-tap revoke on the walk page
    page = client.get(f"/walks/{walk_id}/join-link/revoke")
    assert page.status_code == 200 and 'name="enabled" value="0"' in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Walk, walk_id).join_enabled  # asking changes nothing
    client.post(f"/walks/{walk_id}/join-link", data={"enabled": "0"})
    with app.app_context():
        assert not db.session.get(Walk, walk_id).join_enabled
    auth.login(Role.RESPONSIBLE, party_name=PARTY)
    assert client.get(f"/walks/{walk_id}/join-link/revoke").status_code in (403, 404)
