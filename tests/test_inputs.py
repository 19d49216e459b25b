"""One input type per entity (issue 11, point 4): the capture form and the API schema make the same
FindingInput from the same finding, and the action item form's input is exactly what its operations take."""

import dataclasses
from datetime import datetime

from werkzeug.datastructures import MultiDict

from fieldwalk.actions.forms import ActionItemForm
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.actions.operations import EDITABLE_FIELDS
from fieldwalk.api.schemas import FindingCreateSchema
from fieldwalk.extensions import db
from fieldwalk.findings.forms import FindingForm
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, PositionSource, Priority, ResponsibleParty, Severity

UUID = "3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e0a4c31"


def test_the_capture_form_and_the_api_make_the_same_finding_input(app, category_id):
    cid = category_id()
    with app.test_request_context(method="POST"):
        category = db.session.get(Category, cid)
        form = FindingForm(
            MultiDict(
                {
                    "category": str(cid),
                    "description": "Trasig lampa",
                    "severity": "high",
                    "lat": "56.879",
                    "lon": "14.8059",
                    "accuracy_m": "8",
                    "position_source": "gps",
                    "place": "Storgatan 12",
                    "device_created_at": "2026-11-23T18:05:00+01:00",
                    "uuid": UUID,
                }
            )
        )
        assert form.validate(), form.errors
        from_form = form.to_input()
        from_api = FindingCreateSchema().load(
            {
                "category_id": cid,
                "description": "Trasig lampa",
                "severity": "high",
                "lat": 56.879,
                "lon": 14.8059,
                "accuracy_m": 8.0,
                "position_source": "gps",
                "place": "Storgatan 12",
                "device_created_at": "2026-11-23T18:05:00+01:00",
                "uuid": UUID,
            }
        )
    expected = FindingInput(
        category=category,
        description="Trasig lampa",
        severity=Severity.HIGH,
        lat=56.879,
        lon=14.8059,
        accuracy_m=8.0,
        position_source=PositionSource.GPS,
        place="Storgatan 12",
        device_created_at=datetime(2026, 11, 23, 17, 5),  # naive UTC from both
        uuid=UUID,
    )
    assert from_form == expected
    assert from_api == expected


def test_the_api_leaves_an_unknown_category_to_the_operation(app):
    with app.test_request_context():
        data = FindingCreateSchema().load({"category_id": 2**31 - 1, "uuid": UUID})
    assert data.category is None and data.uuid == UUID and data.position_source == PositionSource.GPS


def test_the_action_item_input_holds_exactly_the_details_an_edit_may_change(app):
    assert [field.name for field in dataclasses.fields(ActionItemInput)] == list(EDITABLE_FIELDS)
    with app.test_request_context(method="POST"):
        party = db.session.scalar(db.select(ResponsibleParty).order_by(ResponsibleParty.id))
        form = ActionItemForm(
            MultiDict(
                {"title": "  Byt lampan ", "responsible_party": str(party.id), "assignee": "0", "priority": "high"}
            )
        )
        assert form.validate(), form.errors
        data = form.to_input()
    assert data == ActionItemInput(title="Byt lampan", responsible_party=party, priority=Priority.HIGH)
    assert data.changes() == {
        "title": "Byt lampan",
        "description": "",
        "responsible_party": party,
        "assignee": None,
        "due_date": None,
        "priority": Priority.HIGH,
    }
