"""The database fixtures themselves: each test starts from the reference data, ids start over, what a
request commits is seen by the next request, and a committed test's data reaches another connection."""

import pytest
from sqlalchemy import func, select, text

from fieldwalk.extensions import db
from fieldwalk.models import Category, Walk

LEFT_BEHIND = "Lämnad kvar av förra testet"


@pytest.mark.parametrize("attempt", [1, 2])
def test_a_test_starts_without_the_walks_of_the_one_before(app, make_walk, attempt):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Walk)) == 0
        assert db.session.scalar(select(func.count()).select_from(Category)) > 0  # reference data stays
    assert make_walk(title=LEFT_BEHIND) == 1  # ids start where a fresh schema starts, on PostgreSQL too


def test_what_one_request_commits_the_next_one_sees(app, make_walk, auth, client):
    auth.login()
    walk_id = make_walk(title="Sedd")
    assert "Sedd" in client.get(f"/walks/{walk_id}").get_data(as_text=True)


@pytest.mark.committed
def test_a_committed_test_reaches_another_connection(app, make_walk):
    walk_id = make_walk(title="Bekräftad")
    with app.app_context(), db.engine.connect() as other:
        assert other.execute(text("SELECT title FROM walks WHERE id = :id"), {"id": walk_id}).scalar() == "Bekräftad"
