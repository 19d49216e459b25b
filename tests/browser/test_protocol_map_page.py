"""The protocol map in a browser at 360×640: a crowded walk keeps its markers apart, none covering
another's number; and the finding and action item pages with their small maps (screenshots)."""

import os
from datetime import datetime

import pytest
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, ResponsibleParty, Role, User, Walk, WalkStatus

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("FIELDWALK_SHOTS")


def test_protocol_map_of_a_crowded_walk_on_a_phone(app, phone):
    page = phone(role=Role.COORDINATOR)
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(role=Role.COORDINATOR))
        party = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
        lamp = db.session.scalar(select(Category).filter_by(slug="belysning"))
        walk = Walk(
            title="Stor vandring", starts_at=datetime(2026, 10, 1, 17), status=WalkStatus.COMPLETED, created_by=actor
        )
        db.session.add(walk)
        spot = (56.8800, 14.8000)
        made = []
        for n in range(1, 31):
            lat, lon = spot if n in (1, 3, 4, 5, 6) else (56.88 + n / 2000, 14.80 + n / 1500)
            finding, _ = findings.create_finding(
                walk,
                actor,
                FindingInput(
                    category=lamp, description=f"Lampa {n}", lat=lat, lon=lon, place="Storgatan 3" if n == 1 else ""
                ),
            )
            made.append(finding)
        item = actions.create_action_item(
            [made[0]], actor, ActionItemInput(title="Byt lampan", responsible_party=party)
        )
        db.session.commit()
        walk_id, finding_id, item_id = walk.id, made[0].id, item.id
    page.goto(f"/followup/protocol?walk={walk_id}")
    svg = page.locator("svg.points-map")
    svg.scroll_into_view_if_needed()
    groups = svg.locator("g.marker")
    assert groups.count() >= 10
    assert "1, 3–6" in svg.text_content()
    # The labels as the browser lays them out: none overlaps another.
    boxes = [groups.nth(i).locator("circle, rect").first.bounding_box() for i in range(groups.count())]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (
                a["x"] < b["x"] + b["width"]
                and b["x"] < a["x"] + a["width"]
                and a["y"] < b["y"] + b["height"]
                and b["y"] < a["y"] + a["height"]
            ), (a, b)
    if SHOTS:
        svg.screenshot(path=os.path.join(SHOTS, "protocol-map-overlap-map.png"))
        page.screenshot(path=os.path.join(SHOTS, "protocol-map-overlap.png"))
        page.goto(f"/findings/{finding_id}")
        page.screenshot(path=os.path.join(SHOTS, "finding-map.png"), full_page=True)
        page.goto(f"/actions/{item_id}")
        page.screenshot(path=os.path.join(SHOTS, "action-map.png"), full_page=True)
