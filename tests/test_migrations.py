"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from fieldwalk.extensions import db
from fieldwalk.models import Base

# Migrations drop and build tables through their own connections: committed data, the schema rebuilt after.
pytestmark = pytest.mark.committed


def _empty(app):
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_gives_the_models_schema(app):
    with app.app_context():
        _empty(app)
        upgrade()
        # An expression index reads back in the database's own spelling (or not at all on SQLite): its name is
        # checked instead of its terms.
        expression_indexes = {"ix_action_items_list_order"}
        opts = {"compare_type": True, "include_object": lambda _o, name, *_rest: name not in expression_indexes}
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
            names = (
                "SELECT indexname FROM pg_indexes"
                if db.engine.dialect.name == "postgresql"
                else "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
            assert expression_indexes <= set(conn.exec_driver_sql(names).scalars())
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables


def test_downgrade_to_base_and_back(app):
    with app.app_context():
        _empty(app)
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "findings" in inspect(db.engine).get_table_names()


def test_init_db_and_seed_demo_commands(app, runner):
    with app.app_context():
        _empty(app)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already has walks" in result.output
    from sqlalchemy import func, select

    from fieldwalk.models import ActionItem, ActionStatus, Finding, Photo, Walk

    with app.app_context():
        assert db.session.scalar(select(func.count(Walk.id))) >= 2
        assert 12 <= db.session.scalar(select(func.count(Finding.id))) <= 20
        assert db.session.scalar(select(func.count(Photo.id))) > 5
        statuses = set(db.session.scalars(select(ActionItem.status)))
        assert statuses == set(ActionStatus)  # action items in every status


def test_seed_large_command_adds_the_numbers_asked_for(app, runner):
    from sqlalchemy import func, select

    from fieldwalk.models import ActionEvent, ActionItem, Finding, Walk, action_item_findings

    result = runner.invoke(args=["seed-large", "--walks", "4", "--findings", "40", "--items", "24"])
    assert result.exit_code == 0, result.output
    assert "4 walks, 40 findings, 24 action items" in result.output
    with app.app_context():
        count = lambda column: db.session.scalar(select(func.count(column)))  # noqa: E731
        assert (count(Walk.id), count(Finding.id), count(ActionItem.id)) == (4, 40, 24)
        assert count(ActionEvent.id) >= 4 * 24
        # Five pairs and one single finding per walk: every item has a finding
        assert count(action_item_findings.c.finding_id) == 4 * (5 * 2 + 1)
    result = runner.invoke(args=["seed-large", "--walks", "4", "--findings", "40", "--items", "41"])
    assert result.exit_code == 2 and "items <= findings" in result.output


def test_photo_uniqueness_migration_merges_double_submitted_rows(app):
    """Rows that concurrent double submits made before (finding, upload) was unique are merged on upgrade."""
    from datetime import datetime

    from sqlalchemy import MetaData, func, select

    with app.app_context():
        _empty(app)
        upgrade(revision="0003")
        now = datetime(2026, 11, 24, 17, 0)
        tables = MetaData()
        tables.reflect(bind=db.engine)
        walks, categories, findings, photos = (tables.tables[t] for t in ("walks", "categories", "findings", "photos"))
        with db.engine.begin() as conn:
            conn.execute(
                walks.insert().values(
                    id=1,
                    title="V",
                    area="",
                    starts_at=now,
                    meeting_point="",
                    route="",
                    description="",
                    organiser="",
                    invited_organisations="",
                    status="ongoing",
                    join_code="abc",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                categories.insert().values(
                    id=1, slug="x", name_sv="x", name_en="x", icon="", is_positive=False, sort_order=0, active=True
                )
            )
            conn.execute(
                findings.insert().values(
                    id=1,
                    uuid="u1",
                    walk_id=1,
                    category_id=1,
                    description="",
                    severity="medium",
                    position_source="none",
                    place="",
                    reporter_name="",
                    reporter_org="",
                    created_at=now,
                    no_action=False,
                    no_action_note="",
                )
            )
            photo = {
                "sha256": "a" * 64,
                "content_type": "image/jpeg",
                "width": 1,
                "height": 1,
                "size_bytes": 1,
                "created_at": now,
            }
            conn.execute(
                photos.insert(),
                [
                    {"id": 1, "finding_id": 1, "source_sha256": "b" * 64, **photo},
                    {"id": 2, "finding_id": 1, "source_sha256": "b" * 64, **photo},  # the double submit
                    {"id": 3, "finding_id": 1, "source_sha256": "c" * 64, **photo},
                    {"id": 4, "finding_id": None, "source_sha256": "b" * 64, **photo},  # an action event's photo
                    {"id": 5, "finding_id": None, "source_sha256": "b" * 64, **photo},
                ],
            )
        upgrade()
        with db.engine.connect() as conn:
            assert list(conn.scalars(select(photos.c.id).order_by(photos.c.id))) == [1, 3, 4, 5]
            assert conn.scalar(select(func.count()).select_from(findings)) == 1


def test_no_revision_loses_rows_of_other_tables(app, runner):
    """SQLite batch mode rebuilds a table (copy, drop, rename); with foreign keys on, the drop deletes the
    rows that refer to it (ON DELETE CASCADE). Down to the first follow-up revision and up again with
    the demo data in place: every row of every table is still there."""
    with app.app_context():
        _empty(app)
        upgrade()
        assert runner.invoke(args=["seed-demo"]).exit_code == 0

        def counts():
            with db.engine.connect() as conn:
                return {
                    t: conn.scalar(text(f"SELECT COUNT(*) FROM {t}"))
                    for t in inspect(conn).get_table_names()
                    if t != "alembic_version"
                }

        before = counts()
        assert before["photos"] > 5 and before["action_item_findings"] > 0
        downgrade(revision="0003")
        upgrade()
        assert counts() == before


OLD_EVENT_TEXTS = [  # (kind, to_status, text as the system wrote it) → (code, params, text left)
    ("status", "assigned", "Tilldelad Trafikverket", ("assigned", {"party": "Trafikverket"}, "")),
    ("status", "assigned", "Assigned to Polisen, kommunpolis", ("assigned", {"party": "Polisen, kommunpolis"}, "")),
    (
        "edited",
        None,
        "Ändrade klart senast, ansvarig part",
        ("edited", {"fields": ["due_date", "responsible_party"]}, ""),
    ),
    ("edited", None, "Changed title, case officer", ("edited", {"fields": ["title", "assignee"]}, "")),
    (
        "comment",
        None,
        "Uppföljningsmöte 2026-11-20: Leverantören är sen\nNytt datum i februari",
        ("meeting", {"date": "2026-11-20"}, "Leverantören är sen\nNytt datum i februari"),
    ),
    ("comment", None, "Follow-up meeting 11/20/26", ("meeting", {"date": "2026-11-20"}, "")),
    (
        "status",
        "closed",
        "Ansvarig part: Trafikverket\nUppföljningsmöte 2026-11-20: Klart",
        ("meeting", {"date": "2026-11-20", "party": "Trafikverket"}, "Klart"),
    ),
    (
        "status",
        "in_progress",
        "Ansvarig part: Trafikverket\nVi tar över",
        ("party_changed", {"party": "Trafikverket"}, "Vi tar över"),
    ),
    # Typed by people, or not a text this migration knows: kept as they are.
    ("comment", None, "Tilldelad Trafikverket", (None, None, "Tilldelad Trafikverket")),
    ("edited", None, "Ändrade färg", (None, None, "Ändrade färg")),
    ("comment", None, "Uppföljningsmöte i morgon", (None, None, "Uppföljningsmöte i morgon")),
    ("status", "done", "Lampan är bytt.", (None, None, "Lampan är bytt.")),
]


def test_event_codes_migration_converts_the_system_texts_it_recognises(app):
    """Old Swedish (and English) system texts become codes with params; typed text stays text; down again
    gives the Swedish lines back."""
    from datetime import datetime

    from sqlalchemy import MetaData, select

    from fieldwalk.models import ActionEvent
    from fieldwalk.timeline import event_text

    with app.app_context():
        _empty(app)
        upgrade(revision="0007_session_tokens")
        now = datetime(2026, 11, 24, 17, 0)
        tables = MetaData()
        tables.reflect(bind=db.engine)
        walks, items, events = (tables.tables[t] for t in ("walks", "action_items", "action_events"))
        with db.engine.begin() as conn:
            conn.execute(
                walks.insert().values(
                    id=1,
                    title="V",
                    area="",
                    starts_at=now,
                    meeting_point="",
                    route="",
                    description="",
                    organiser="",
                    invited_organisations="",
                    status="completed",
                    join_code="abc",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                items.insert().values(
                    id=1,
                    walk_id=1,
                    title="Lampa",
                    description="",
                    priority="medium",
                    status="closed",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                events.insert(),
                [
                    {
                        "id": n,
                        "action_item_id": 1,
                        "kind": kind,
                        "to_status": to,
                        "text": old,
                        "actor_name": "Sara",
                        "internal": False,
                        "created_at": now,
                    }
                    for n, (kind, to, old, _want) in enumerate(OLD_EVENT_TEXTS, 1)
                ],
            )
        upgrade()
        converted = {e.id: e for e in db.session.scalars(select(ActionEvent))}
        for n, (_kind, _to, _old, want) in enumerate(OLD_EVENT_TEXTS, 1):
            assert (converted[n].code, converted[n].params, converted[n].text) == want, n
        # Shown in the reader's language: Swedish by default, and an old English text too.
        assert event_text(converted[2]) == "Tilldelad Polisen, kommunpolis"
        assert event_text(converted[7]) == "Ansvarig part: Trafikverket\nUppföljningsmöte 20 nov. 2026: Klart"
        db.session.remove()
        downgrade(revision="0007_session_tokens")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, text FROM action_events")).all())
        assert back[1] == "Tilldelad Trafikverket" and back[2] == "Tilldelad Polisen, kommunpolis"
        assert back[4] == "Ändrade rubrik, handläggare"
        assert back[5] == "Uppföljningsmöte 2026-11-20: Leverantören är sen\nNytt datum i februari"
        assert back[7] == "Ansvarig part: Trafikverket\nUppföljningsmöte 2026-11-20: Klart"
        assert back[12] == "Lampan är bytt."
