"""Bounded work per request: every main page, API list and export runs the same number of SQL statements
whatever the amount of data (issue 12). Each page is requested on a small data set and again after five
times as much was added (longer walks, more items, events and photos); the statement counts must be equal."""

import io
import json
import uuid
from datetime import date, datetime

import pytest
import requests
from sqlalchemy import event, func, select

from fieldwalk.bulk_data import fill
from fieldwalk.extensions import db
from fieldwalk.followup.protocol_files import protocol_store
from fieldwalk.models import ActionItem, Finding, FollowUpMeeting, ProtocolFile, ProtocolFileState, Role, User, Walk
from tests.helpers import jpeg_bytes


class StatementCounter:
    """Counts the statements sent to the database while it is on."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _count(self, *_args, **_kwargs):
        self.count += 1

    def __enter__(self):
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _newest(model, **where):
    return db.session.scalar(select(func.max(model.id)).filter_by(**where))


def _pages() -> dict[str, str]:
    """The pages to measure, on the newest walk, item, finding and meeting (the biggest after a fill)."""
    walk = _newest(Walk)
    item = _newest(ActionItem, walk_id=walk)
    finding = db.session.scalar(
        select(func.max(Finding.id)).where(Finding.walk_id == walk, ~Finding.action_items.any())
    )
    meeting = _newest(FollowUpMeeting)
    period = "from=2024-01-01&to=2024-12-31"
    queued = _newest(ProtocolFile, state=ProtocolFileState.QUEUED)
    done = _newest(ProtocolFile, state=ProtocolFileState.DONE)
    return {
        "walks index": "/",
        "walk page": f"/walks/{walk}",
        "action list": "/actions/",
        "action list, category filter": "/actions/?category=1",
        "action list, overdue": "/actions/?overdue=1",
        "action list, page 2": "/actions/?page=2",
        "action item": f"/actions/{item}",
        "finding": f"/findings/{finding}",
        "follow-up index": "/followup/",
        "meeting": f"/followup/meetings/{meeting}",
        "meeting step": f"/followup/meetings/{meeting}/items/{item}",
        "meeting triage": f"/followup/meetings/{meeting}/findings/{finding}",
        "dashboard": "/followup/dashboard?year=2024",
        "period protocol": f"/followup/protocol?{period}",
        "walk protocol": f"/followup/protocol?walk={walk}",
        "protocol PDF, ask": f"/followup/protocol.pdf?{period}",
        "protocol PDF, progress": f"/followup/protocol-files/{queued}",
        "protocol PDF, ready": f"/followup/protocol-files/{done}",
        "protocol PDF, download": f"/followup/protocol-files/{done}/download",
        "api walks": "/api/v1/walks",
        "api walk": f"/api/v1/walks/{walk}",
        "api walk findings": f"/api/v1/walks/{walk}/findings",
        "api action items": "/api/v1/action-items",
        "api action item": f"/api/v1/action-items/{item}",
        "api finding": f"/api/v1/findings/{finding}",
        "export actions csv": "/exports/actions.csv",
        "export actions xlsx": "/exports/actions.xlsx",
        "export actions geojson": "/exports/actions.geojson",
        "export findings csv": "/exports/findings.csv",
        "export findings geojson": "/exports/findings.geojson",
        "export findings xlsx": "/exports/findings.xlsx",
    }


def _measure(app, client) -> dict[str, int]:
    counts = {}
    with app.app_context():
        pages = _pages()
        engine = db.engine
    for name, url in pages.items():
        client.get(url).close()  # once to warm caches (a session's user, the locale) that any request has
        with StatementCounter(engine) as counter:
            response = client.get(url)
            response.get_data()  # a streamed export runs its queries while its body is read
        assert response.status_code == 200, (name, url, response.status_code)
        response.close()
        counts[name] = counter.count
    return counts


def _protocol_files(app, client, user_id: int) -> None:
    """A period PDF being made (asked for; its job not run) and one that is ready, for the person logged in."""
    assert client.post("/followup/protocol-files?from=2024-01-01&to=2024-12-31").status_code == 303
    with app.app_context():
        key = protocol_store().put_file("bounds-test.pdf", b"%PDF-1.7 made earlier", "application/pdf")
        db.session.add(
            ProtocolFile(
                requested_by=db.session.get(User, user_id),
                locale="sv",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 3, 31),
                state=ProtocolFileState.DONE,
                file_key=key,
                file_name="protokoll-2024-K1.pdf",
                parts=1,
                parts_done=1,
                pages=1,
            )
        )
        db.session.commit()


def _add(app, walks: int, findings_per_walk: int, first_walk_at: datetime) -> None:
    with app.app_context():
        fill(db.session, walks, findings_per_walk, first_walk_at=first_walk_at, days_between_walks=7)
        db.session.add(
            FollowUpMeeting(
                title="Uppföljning 2024",
                held_on=date(2024, 12, 15),
                period_start=date(2024, 1, 1),
                period_end=date(2024, 12, 31),
            )
        )
        db.session.commit()


@pytest.mark.parametrize("role", [Role.COORDINATOR])
def test_statements_per_request_do_not_grow_with_the_data(app, client, auth, role):
    user_id = auth.login(role)
    _add(app, walks=6, findings_per_walk=20, first_walk_at=datetime(2024, 1, 8, 17))
    _protocol_files(app, client, user_id)
    small = _measure(app, client)
    _add(app, walks=24, findings_per_walk=50, first_walk_at=datetime(2024, 3, 4, 17))
    big = _measure(app, client)
    grown = {name: (small[name], big[name]) for name in small if small[name] != big[name]}
    assert not grown, "statements (small, 5x) per page: " + ", ".join(f"{n}: {s} → {b}" for n, (s, b) in grown.items())


def _follow(client, url: str) -> tuple[list[int], list[dict]]:
    """Every id of a paged API list, following its Link rel="next" to the end; also each page's metadata."""
    ids, metas = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        ids += [row["id"] for row in response.json]
        metas.append(json.loads(response.headers["X-Pagination"]))
        links = requests.utils.parse_header_links(response.headers.get("Link", ""))
        url = next((link["url"] for link in links if link.get("rel") == "next"), None)
        if url:  # built on BASE_URL; the test client asks for the path
            assert url.startswith(app_base_url := "http://127.0.0.1:5000/"), url
            url = "/" + url.removeprefix(app_base_url)
    return ids, metas


def test_api_lists_page_through_everything_without_a_cut(app, client, auth):
    auth.login(Role.COORDINATOR)
    _add(app, walks=11, findings_per_walk=100, first_walk_at=datetime(2024, 1, 8, 17))  # 539 items
    with app.app_context():
        every_item = set(db.session.scalars(select(ActionItem.id)))
        every_walk = set(db.session.scalars(select(Walk.id)))
    assert len(every_item) > 500  # the old list stopped at 500, silently
    ids, metas = _follow(client, "/api/v1/action-items?page_size=200")
    assert sorted(ids) == sorted(every_item) and len(metas) == 3
    assert metas[0] == {
        "total": len(every_item),
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 1,
        "next_page": 2,
    }
    assert "next_page" not in metas[-1]
    default = client.get("/api/v1/action-items?status=new")
    assert len(default.json) == 50 and "status=new" in default.headers["Link"]  # the filters travel on
    ids, _metas = _follow(client, "/api/v1/walks?page_size=5")
    assert sorted(ids) == sorted(every_walk)
    far = client.get("/api/v1/walks?page=3074457345618258604&page_size=3")  # found by the fuzzer: was a 500
    assert far.status_code == 200 and far.json == [] and "next_page" not in far.headers["X-Pagination"]
    for bad in ("page_size=201", "page_size=0", "page=0", "page=x"):
        response = client.get(f"/api/v1/action-items?{bad}")
        assert response.status_code == 422 and response.json["error"]["fields"], bad


def test_walks_index_is_paged(app, client, auth):
    auth.login(Role.COORDINATOR)
    _add(app, walks=60, findings_per_walk=3, first_walk_at=datetime(2024, 1, 8, 17))
    first = client.get("/").get_data(as_text=True)
    assert first.count('<li class="card">') == 50 and "Sida 1 av 2" in first and "/?page=2" in first
    second = client.get("/?page=2&status=completed").get_data(as_text=True)
    assert second.count('<li class="card">') == 10 and "3 fynd" in second
    assert "/?page=1&amp;status=completed" in second  # the status filter travels on


def test_the_action_list_reads_its_page_in_index_order(app, auth):
    """The list's order (open first, by due date) comes from ix_action_items_list_order on both databases:
    a page reads 50 rows of the index instead of sorting every item."""
    from fieldwalk.actions.queries import action_items_query
    from fieldwalk.models import User

    user_id, _email = auth.make_user(Role.COORDINATOR)
    with app.app_context():
        query = action_items_query(db.session.get(User, user_id)).limit(50)
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "postgresql":  # an empty table: make the planner show what it can use
                conn.exec_driver_sql("SET enable_sort = off")
                plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
            else:
                plan = "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "ix_action_items_list_order" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort" not in plan.replace("Sort Key", ""), plan


def test_the_walk_filter_offers_the_newest_walks_and_the_chosen_one(app, client, auth):
    from fieldwalk.actions.filters import FILTER_WALKS

    auth.login(Role.COORDINATOR)
    _add(app, walks=FILTER_WALKS + 5, findings_per_walk=3, first_walk_at=datetime(2024, 1, 8, 17))
    with app.app_context():
        walks = list(db.session.execute(select(Walk.id, Walk.title).order_by(Walk.starts_at.desc(), Walk.id.desc())))
    page = client.get("/actions/").get_data(as_text=True)
    offered = [w for w in walks if f'<option value="{w.id}">{w.title}</option>' in page]
    assert offered == walks[:FILTER_WALKS]
    oldest = walks[-1]
    page = client.get(f"/actions/?walk={oldest.id}").get_data(as_text=True)
    assert f'<option selected value="{oldest.id}">{oldest.title}</option>' in page
    assert page.count("<option") == client.get("/actions/").get_data(as_text=True).count("<option") + 1


def test_a_capture_reads_no_other_participant(app, client, make_walk, guest, category_id):
    """On a walk evening every phone posts a finding and its photo; asking whether the poster takes part in
    the walk reads that one membership, not every participant of the walk (60 of them, per post), and the
    statements of both posts are the same with 2 or 20 participants."""

    def capture(size: int) -> tuple[int, list[str]]:
        loaded: list[str] = []
        body = {
            "uuid": str(uuid.uuid4()),
            "category_id": category,
            "description": "Lampa",
            "lat": 56.879,
            "lon": 14.806,
        }
        data = jpeg_bytes((40 + size, 30))

        def on_load(user, _context):
            loaded.append(user.name)

        event.listen(User, "load", on_load)
        try:
            with StatementCounter(db.engine) as counter:
                finding = client.post(f"/api/v1/walks/{walk}/findings", json=body)
                assert finding.status_code == 201, finding.get_data(as_text=True)
                photo = client.post(
                    f"/api/v1/findings/{finding.json['id']}/photos",
                    data={"photo": (io.BytesIO(data), "foto.jpg")},
                    content_type="multipart/form-data",
                )
                assert photo.status_code == 201, photo.get_data(as_text=True)
        finally:
            event.remove(User, "load", on_load)
        return counter.count, loaded

    walk, category = make_walk(), category_id()
    guest(walk, name="Första")
    guest(walk, name="Den som fotar")
    with app.app_context():
        few = capture(1)
    for n in range(18):
        guest(walk, name=f"Deltagare {n}")
    guest(walk, name="Den som fotar")
    with app.app_context():
        many = capture(2)
    assert set(many[1]) <= {"Den som fotar"}, many[1]  # the poster, loaded by the log-in
    assert many[0] == few[0]
