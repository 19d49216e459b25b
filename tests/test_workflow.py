"""The workflows have one source each: the action item table in actions/workflow.py and the walk's order on
WalkStatus. Every (from, to, kind of user) is tried on the operation itself: what the table gives that user
is accepted and offered (allowed_transitions, so the buttons and the API), everything else is refused with
a 4xx that changes nothing. The status sets on the enums filter the database as they filter in Python."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.actions.workflow import TRANSITIONS, Mover
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.http_errors import OperationError
from fieldwalk.models import ActionEvent, ActionItem, ActionStatus, Category, ResponsibleParty, Role, Walk, WalkStatus
from fieldwalk.seed import create_user
from fieldwalk.walks import operations as walks
from tests.conftest import PASSWORD

# Who each kind of user is in the table's terms, written out here rather than asked of permissions.py.
MOVERS = {
    "coordinator": {Mover.STAFF},
    "admin": {Mover.STAFF},
    "own_party": {Mover.PARTY},  # a member of the item's responsible party
    "other_party": set(),
    "participant": set(),
}
# The walk's workflow in its order; a walk moves one step forward or back.
WALK_FLOW = [WalkStatus.PLANNED, WalkStatus.ONGOING, WalkStatus.COMPLETED, WalkStatus.FOLLOWED_UP]


def _world() -> tuple[ActionItem, dict[str, object]]:
    """A walk with one finding and its action item, assigned to Gatu- och parkavdelningen, and one user
    of each kind."""
    own = db.session.scalar(select(ResponsibleParty).filter_by(name="Gatu- och parkavdelningen"))
    other = db.session.scalar(select(ResponsibleParty).filter_by(name="Trafikverket"))
    coordinator = create_user("samordnare@example.com", "Sam", PASSWORD, Role.COORDINATOR)
    users = {
        "coordinator": coordinator,
        "admin": create_user("admin@example.com", "Adam", PASSWORD, Role.ADMIN),
        "own_party": create_user("gata@example.com", "Gun", PASSWORD, Role.RESPONSIBLE, party=own),
        "other_party": create_user("trafik@example.com", "Tor", PASSWORD, Role.RESPONSIBLE, party=other),
    }
    walk = walks.create_walk(coordinator, title="Centrum", starts_at=datetime(2026, 11, 24, 17))
    users["participant"] = walks.join_walk(walk, None, name="Pia", organisation="Boende")
    category = db.session.scalar(select(Category).filter_by(slug="belysning"))
    finding, _ = findings.create_finding(
        walk, users["participant"], FindingInput(category=category, description="Mörkt")
    )
    item = actions.create_action_item(
        [finding], coordinator, ActionItemInput(title="Byt lampan", responsible_party=own)
    )
    return item, users


def _events(item: ActionItem) -> int:
    return db.session.scalar(select(func.count()).select_from(ActionEvent).filter_by(action_item_id=item.id))


@pytest.mark.parametrize("role", list(MOVERS))
def test_every_move_is_the_tables(app, role):
    with app.app_context():
        item, users = _world()
        actor = users[role]
        db.session.commit()
        for from_status in ActionStatus:
            item.status = from_status
            db.session.commit()
            events = _events(item)
            permitted = {to for to, movers in TRANSITIONS[from_status].items() if movers & MOVERS[role]}
            assert set(actions.allowed_transitions(actor, item)) == permitted, from_status
            for to in ActionStatus:
                case = f"{role}: {from_status} → {to}"
                try:
                    actions.transition(item, to, actor, text="Därför")
                except OperationError as exc:
                    db.session.rollback()
                    assert to not in permitted, f"{case} refused: {exc.message}"
                    assert 400 <= exc.status < 500, case
                    assert (item.status, _events(item)) == (from_status, events), case
                else:
                    assert to in permitted, f"{case} accepted"
                    assert item.status == to, case
                    assert _events(item) == events + 1, case
                    db.session.rollback()


def test_the_table_covers_every_status():
    assert set(TRANSITIONS) == set(ActionStatus)
    assert all(to in ActionStatus and movers for moves in TRANSITIONS.values() for to, movers in moves.items())
    assert ActionStatus.OPEN | ActionStatus.FINISHED == set(ActionStatus)
    assert ActionStatus.RESOLVED <= ActionStatus.FINISHED
    assert WalkStatus.OPEN | WalkStatus.HELD == set(WalkStatus)


@pytest.mark.parametrize("from_status", WALK_FLOW)
def test_a_walk_moves_one_step_of_its_flow(app, from_status):
    with app.app_context():
        coordinator = create_user("samordnare@example.com", "Sam", PASSWORD, Role.COORDINATOR)
        walk = walks.create_walk(coordinator, title="Centrum", starts_at=datetime(2026, 11, 24, 17))
        walk.status = from_status
        db.session.commit()
        here = WALK_FLOW.index(from_status)
        assert walk.status.following == (WALK_FLOW[here + 1] if here + 1 < len(WALK_FLOW) else None)
        for to in WALK_FLOW:
            try:
                walks.set_walk_status(walk, to, coordinator)
            except OperationError as exc:
                db.session.rollback()
                assert abs(WALK_FLOW.index(to) - here) != 1, f"{from_status} → {to} refused"
                assert exc.status == 409 and walk.status == from_status
            else:
                assert abs(WALK_FLOW.index(to) - here) == 1, f"{from_status} → {to} accepted"
                assert walk.status == to and walk.is_open == (to in (WalkStatus.PLANNED, WalkStatus.ONGOING))
                db.session.rollback()


def test_status_sets_filter_the_database_like_the_models(app):
    with app.app_context():
        item, users = _world()
        walk = item.walk
        for from_status in ActionStatus:
            item.status = from_status
            db.session.flush()
            for name in ("OPEN", "FINISHED", "RESOLVED", "TO_REVIEW"):
                statuses = getattr(ActionStatus, name)
                found = db.session.scalar(select(func.count()).where(ActionItem.status.in_(statuses)))
                assert found == (from_status in statuses), (from_status, name)
            assert item.is_open == (from_status in {ActionStatus.NEW, ActionStatus.ASSIGNED, ActionStatus.IN_PROGRESS})
            assert item.is_resolved == (from_status in {ActionStatus.DONE, ActionStatus.CLOSED})
        for status in WalkStatus:
            walk.status = status
            db.session.flush()
            held = db.session.scalar(select(func.count()).select_from(Walk).where(Walk.status.in_(WalkStatus.HELD)))
            assert held == (status in {WalkStatus.COMPLETED, WalkStatus.FOLLOWED_UP}), status
