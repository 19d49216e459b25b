"""The medborgarlöfte's commitment kinds counted from the data: quarters with a finished meeting, and the
share of action items resolved within N calendar days (from the timeline's timestamps), per quarter."""

from datetime import date, datetime

import pytest
from sqlalchemy import text

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.followup.promises import days_taken, progress
from fieldwalk.models import (
    ActionStatus,
    Category,
    FollowUpMeeting,
    PromiseCommitment,
    PromiseKind,
    ResponsibleParty,
    Role,
    User,
    Walk,
    WalkStatus,
)


def _category(slug):
    return db.session.scalar(db.select(Category).filter_by(slug=slug))


def _make_item(walk, actor, slug, created, done=(), reopen=False, reject=False):
    """An item whose timeline says: created at `created`, marked åtgärdad at each time in `done` (re-opened
    in between); naive UTC like the columns."""
    party = db.session.scalar(db.select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
    finding, _ = findings.create_finding(walk, actor, FindingInput(category=_category(slug)))
    item = actions.create_action_item(
        [finding], actor, ActionItemInput(title=f"{slug} {created}", responsible_party=party)
    )
    item.created_at = created
    for event in item.events:
        event.created_at = created
    if reject:
        actions.transition(item, ActionStatus.REJECTED, actor, text="Inte vårt")
    for n, when in enumerate(done):
        if n:
            actions.transition(item, ActionStatus.ASSIGNED, actor, text="Inte bra nog")
        event = actions.transition(item, ActionStatus.DONE, actor)
        event.created_at = when
    if reopen:
        actions.transition(item, ActionStatus.ASSIGNED, actor, text="Inte bra nog")
    db.session.flush()
    return item


@pytest.fixture
def year_of_items(app, auth):
    auth.login(Role.COORDINATOR)
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(role=Role.COORDINATOR))
        walk = Walk(title="V", area="Centrum", starts_at=datetime(2025, 1, 8, 17), status=WalkStatus.COMPLETED)
        db.session.add(walk)
        db.session.flush()
        made = {
            # Stockholm is UTC+1 in January: 22:30 UTC is 23:30 on the same local day, 23:30 UTC the next.
            "two_days_late_evening": _make_item(
                walk, actor, "klotter", datetime(2025, 1, 10, 10), [datetime(2025, 1, 12, 22, 30)]
            ),
            "three_local_days": _make_item(
                walk, actor, "klotter", datetime(2025, 1, 10, 10), [datetime(2025, 1, 12, 23, 30)]
            ),
            "same_day": _make_item(walk, actor, "belysning", datetime(2025, 1, 20, 8), [datetime(2025, 1, 20, 15)]),
            "done_again_later": _make_item(
                walk, actor, "belysning", datetime(2025, 2, 1, 8), [datetime(2025, 2, 2, 8), datetime(2025, 2, 6, 8)]
            ),
            "open_in_q2": _make_item(walk, actor, "belysning", datetime(2025, 4, 10, 8)),
            "reopened": _make_item(
                walk, actor, "klotter", datetime(2025, 5, 2, 8), [datetime(2025, 5, 2, 9)], reopen=True
            ),
            "rejected": _make_item(walk, actor, "klotter", datetime(2025, 1, 15, 8), reject=True),
            "last_year": _make_item(walk, actor, "klotter", datetime(2024, 12, 30, 8), [datetime(2024, 12, 30, 9)]),
        }
        db.session.commit()
        return {name: item.id for name, item in made.items()}


def test_days_taken_are_calendar_days_in_the_kommun_from_the_timeline(app, year_of_items):
    from fieldwalk.models import ActionItem

    with app.app_context():
        taken = {name: days_taken(db.session.get(ActionItem, i)) for name, i in year_of_items.items()}
        assert taken == {
            "two_days_late_evening": 2,
            "three_local_days": 3,
            "same_day": 0,
            "done_again_later": 5,
            "open_in_q2": None,
            "reopened": None,
            "rejected": None,
            "last_year": 0,
        }


def test_share_resolved_within_n_days_per_quarter(app, year_of_items):
    with app.app_context():
        c = PromiseCommitment(
            year=2025, text="Hälften inom 2 dagar", kind=PromiseKind.RESOLVED_WITHIN, target=50, days=2
        )
        db.session.add(c)
        db.session.flush()
        p = progress(c, today=date(2026, 1, 10))
        # Q1: 2 of 4 within 2 days (the rejected item is not counted); Q2: 0 of 2 (open now); 2024's item is out.
        assert [(q.text, q.ok) for q in p.quarters] == [("2 av 4", True), ("0 av 2", False), ("–", None), ("–", None)]
        assert p.actual == 33 and not p.met and p.shown == "33 % / 50 %"
        assert p.missing_quarters == [2]
        # On 11 April the item made on the 10th still has time: it is not a failure yet.
        early = progress(c, today=date(2025, 4, 11))
        assert [q.text for q in early.quarters][:2] == ["2 av 4", "–"]
        assert early.actual == 50 and early.met
        # Per category ("klotter sanerat inom 2 dagar"): only the graffiti items count.
        c.category_id = _category("klotter").id
        klotter = progress(c, today=date(2026, 1, 10))
        assert [q.text for q in klotter.quarters][:2] == ["1 av 2", "0 av 1"]
        assert klotter.actual == 33


def test_quarters_not_meetings_are_counted(app, auth):
    auth.login(Role.COORDINATOR)
    with app.app_context():
        for held in [date(2025, 1, 15), date(2025, 2, 20), date(2025, 3, 31), date(2025, 7, 1)]:
            db.session.add(FollowUpMeeting(title=str(held), held_on=held, finished_at=datetime(2025, 8, 1)))
        db.session.add(FollowUpMeeting(title="ej klart", held_on=date(2025, 10, 2)))  # not finished
        c = PromiseCommitment(year=2025, text="Varje kvartal", kind=PromiseKind.QUARTERLY_FOLLOWUP, target=4)
        db.session.add(c)
        db.session.flush()
        p = progress(c, today=date(2026, 1, 1))
        assert p.shown == "2 / 4" and p.missing_quarters == [2, 4] and not p.met
        # In the current year a quarter still to come is not missing yet.
        assert progress(c, today=date(2025, 8, 15)).missing_quarters == [2]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"kind": "quarterly_followup", "target": "5"}, "fyra kvartal"),
        ({"kind": "resolved_within", "target": "90"}, "inom hur många dagar"),
        ({"kind": "resolved_within", "target": "120", "days": "2"}, "procent"),
    ],
)
def test_commitment_form_refuses_targets_the_kind_cannot_have(app, client, auth, fields, message):
    auth.login(Role.COORDINATOR)
    data = {"year": "2026", "text": "Mitt löfte", **fields}
    response = client.post("/followup/promise", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'value="Mitt löfte"' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PromiseCommitment)) == 0


def test_coordinator_adds_and_edits_a_category_commitment(app, client, auth):
    auth.login(Role.COORDINATOR)
    with app.app_context():
        klotter = _category("klotter").id
    response = client.post(
        "/followup/promise",
        data={
            "year": "2026",
            "text": "Klotter saneras inom 2 dagar",
            "kind": "resolved_within",
            "target": "100",
            "days": "2",
            "category_id": str(klotter),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        c = db.session.scalar(db.select(PromiseCommitment))
        assert (c.kind, c.target, c.days, c.category_id) == (PromiseKind.RESOLVED_WITHIN, 100, 2, klotter)
        cid = c.id
    page = client.get(f"/followup/promise/{cid}/edit")
    assert page.status_code == 200 and 'value="Klotter saneras inom 2 dagar"' in page.get_data(as_text=True)
    response = client.post(
        f"/followup/promise/{cid}/edit",
        data={
            "year": "2026",
            "text": "Klotter saneras inom 3 dagar",
            "kind": "resolved_within",
            "target": "95",
            "days": "3",
            "category_id": str(klotter),
        },
    )
    assert response.status_code == 302
    html = client.get("/followup/promise?year=2026").get_data(as_text=True)
    assert "Klotter saneras inom 3 dagar" in html and "inom 3 dagar" in html and "Klotter" in html
    # A kind that needs no days drops them.
    client.post(
        f"/followup/promise/{cid}/edit",
        data={
            "year": "2026",
            "text": "Två vandringar",
            "kind": "walks",
            "target": "2",
            "days": "3",
            "category_id": str(klotter),
        },
    )
    with app.app_context():
        c = db.session.get(PromiseCommitment, cid)
        assert (c.kind, c.days, c.category_id) == (PromiseKind.WALKS, None, None)
    assert client.get("/followup/promise/99999/edit").status_code == 404


@pytest.mark.committed  # migrations build tables through their own connection
def test_migration_converts_the_old_activities(app):
    from flask_migrate import downgrade, upgrade

    from tests.test_migrations import _empty

    with app.app_context():
        _empty(app)
        upgrade(revision="0007_session_tokens")
        with db.engine.begin() as conn:
            for n, (activity, target) in enumerate([("walks", 2), ("followup_meetings", 6), ("resolved_actions", 10)]):
                conn.execute(
                    text(
                        "INSERT INTO promise_commitments (year, text, activity, target, area, created_at)"
                        " VALUES (2025, :t, :a, :n, '', '2025-01-01')"
                    ),
                    {"t": f"rad {n}", "a": activity, "n": target},
                )
        upgrade(revision="0008_promise_kinds")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, target, days, category_id FROM promise_commitments ORDER BY id"))
            assert [tuple(r) for r in rows] == [
                ("walks", 2, None, None),
                ("quarterly_followup", 4, None, None),
                ("resolved_actions", 10, None, None),
            ]
        downgrade(revision="0007_session_tokens")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT activity FROM promise_commitments ORDER BY id"))
            assert [r[0] for r in rows] == ["walks", "followup_meetings", "resolved_actions"]
        downgrade(revision="base")
