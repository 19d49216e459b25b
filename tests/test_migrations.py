"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from fieldwalk.extensions import db
from fieldwalk.models import Base


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
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    Base.metadata)
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
