"""Backups: `flask backup` → `flask backup --verify` → `flask restore` into an empty installation gives back every
row of every table and every photo file's bytes, on SQLite and PostgreSQL and on the filesystem and S3 stores.

Each installation here is an app of its own on a database of its own (a new SQLite file, or a PostgreSQL database
created for the test and dropped after it) with its own photo folder or S3 prefix on the real SeaweedFS of
tests/s3.py, built with `flask init-db` and `flask seed-demo` as an operator would. PostgreSQL needs pg_dump and
pg_restore (Debian's postgresql-client): without them the PostgreSQL cases are skipped, except under CI.
"""

import hashlib
import io
import json
import os
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session

from fieldwalk import create_app
from fieldwalk.backup import DATABASE_MEMBERS, MANIFEST, revision_scripts
from fieldwalk.extensions import db
from fieldwalk.models import Base, ResponsibleParty
from fieldwalk.photos.service import photo_store
from fieldwalk.photos.store import relative_key
from tests.conftest import BACKENDS, WORKER

pytestmark = pytest.mark.committed  # real commits, through databases of the tests' own


class Installations:
    """Makes installations (app, database, photo store) for one test and drops their databases afterwards."""

    def __init__(self, request, tmp_path: Path, backend: str, store: str):
        self.request, self.tmp_path, self.backend, self.store = request, tmp_path, backend, store
        self.apps: list = []
        self.databases: list[str] = []
        if backend == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
            reason = "pg_dump/pg_restore (apt-get install postgresql-client) missing: PostgreSQL backups not tested"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)

    def _admin(self):
        return create_engine(make_url(os.environ["FIELDWALK_TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT")

    def database(self, name: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / f'{name}.sqlite'}"
        url = make_url(os.environ["FIELDWALK_TEST_DATABASE_URL"])
        database = f"{url.database}{'_' + WORKER if WORKER else ''}_backup_{name}"
        admin = self._admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            admin.dispose()
        self.databases.append(database)
        return url.set(database=database).render_as_string(hide_password=False)

    def make(self, name: str):
        """A new, empty installation: no tables, no photo objects."""
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": self.database(name),
            "PHOTO_DIR": str(self.tmp_path / f"{name}-photos"),
            "MAIL_OUTBOX": str(self.tmp_path / f"{name}-outbox"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
        if self.store == "s3":
            config.update(self.request.getfixturevalue("s3_server").settings(prefix=f"backup-{uuid.uuid4().hex}"))
        app = create_app(config)
        self.apps.append(app)
        return app

    def close(self) -> None:
        for app in self.apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if self.databases:
            admin = self._admin()
            try:
                with admin.connect() as conn:
                    for database in self.databases:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            finally:
                admin.dispose()


@pytest.fixture
def installations(request, tmp_path):
    """Installations on the test's `backend` (SQLite unless it is parametrized) and `store` (the filesystem)."""
    params = request.node.callspec.params if hasattr(request.node, "callspec") else {}
    made = Installations(request, tmp_path, params.get("backend", "sqlite"), params.get("store", "filesystem"))
    yield made
    made.close()


def _invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _seeded(installations: Installations, name: str = "source"):
    app = installations.make(name)
    for command in (["init-db"], ["seed-demo"]):
        result = _invoke(app, *command)
        assert result.exit_code == 0, result.output
    return app


def _rows(app) -> dict[str, list]:
    """Every row of every table (and the Alembic revision), in primary-key order."""
    with app.app_context(), db.engine.connect() as conn:
        tables = Base.metadata.sorted_tables
        rows = {t.name: conn.execute(select(t).order_by(*t.primary_key.columns)).all() for t in tables}
        rows["alembic_version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return rows


def _files(app) -> dict[str, bytes]:
    """Every photo object's bytes by its name inside the store (without an S3 prefix)."""
    with app.app_context():
        store = photo_store()
        files = {}
        for item in store.stored():
            assert item.sha256 is not None
            variant = "thumb" if item.key.endswith(".thumb.jpg") else "full"
            files[relative_key(item.sha256, variant)] = store.read(item.sha256, variant)
    return files


@pytest.mark.parametrize("store", ["filesystem", "s3"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_verify_restore_round_trip(installations, backend, store, tmp_path):
    source = _seeded(installations)
    archive = tmp_path / "backups" / ("fieldwalk.tar" if store == "filesystem" else "fieldwalk.tar.gz")
    result = _invoke(source, "backup", "--output", str(archive))
    assert result.exit_code == 0, result.output
    assert "24 photo files" in result.output
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # no temporary file left behind

    result = _invoke(source, "backup", "--verify", str(archive))
    assert result.exit_code == 0, result.output
    assert "is intact" in result.output

    target = installations.make("target")
    result = _invoke(target, "restore", str(archive))
    assert result.exit_code == 0, result.output

    rows, restored_rows = _rows(source), _rows(target)
    assert rows["photos"] and rows["action_events"] and rows["followup_meetings"]  # a realistic installation
    assert restored_rows == rows
    files = _files(source)
    assert len(files) == 24
    assert _files(target) == files

    result = _invoke(target, "restore", str(archive))  # the target is no longer empty
    assert result.exit_code == 1
    assert "needs an empty installation" in result.output
    assert "tables with rows" in result.output and "the photo store" in result.output


@pytest.mark.parametrize("store", ["s3"])
def test_a_backup_that_fails_leaves_no_archive(installations, store, tmp_path):
    """The store refuses the listing half-way (a wrong secret, after the database snapshot): a clear message,
    exit 1, and nothing in the backup folder, not even the temporary file."""
    source = _seeded(installations)
    source.config["S3_SECRET_ACCESS_KEY"] = "not-the-secret"
    folder = tmp_path / "backups"
    result = _invoke(source, "backup", "--output", str(folder / "fieldwalk.tar"))
    assert result.exit_code == 1
    assert "the backup stopped (ClientError" in result.output and "nothing was written" in result.output
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_while_another_connection_writes(installations, backend, tmp_path):
    """The snapshot is one consistent state: a transaction still open in another connection (the app at work)
    neither blocks the backup nor leaves a trace in it."""
    source = _seeded(installations)
    archive = tmp_path / "fieldwalk.tar"
    with source.app_context(), db.engine.connect() as conn:
        with Session(bind=conn) as other:
            other.add(ResponsibleParty(name="Inte sparad ännu"))
            other.flush()  # written, not committed
            result = _invoke(source, "backup", "--output", str(archive))
            assert result.exit_code == 0, result.output
            other.rollback()
    target = installations.make("target")
    assert _invoke(target, "restore", str(archive)).exit_code == 0
    assert _rows(target) == _rows(source)


def _rewritten(archive: Path, target: Path, change=None, manifest=None) -> None:
    """A copy of the archive with `change(name, data)` applied to each member but the manifest (None leaves the
    member out). The manifest is copied as it is, or, given `manifest(dict)`, edited by it and made to agree
    with the changed members."""
    with tarfile.open(archive) as source:
        members = [(info, source.extractfile(info).read()) for info in source]
    changed = []
    for info, data in members:
        if info.name != MANIFEST and change is not None:
            data = change(info.name, data)
            if data is None:
                continue
        changed.append((info, data))
    if manifest is not None:
        info, data = next(member for member in changed if member[0].name == MANIFEST)
        edited = json.loads(data)
        edited["members"] = {
            i.name: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for i, d in changed if i.name != MANIFEST
        }
        manifest(edited)
        changed = [m for m in changed if m[0].name != MANIFEST] + [(info, json.dumps(edited).encode())]
    with tarfile.open(target, "w") as copy:
        for info, data in changed:
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))


@pytest.fixture
def sqlite_backup(tmp_path, installations):
    """A backup of a seeded SQLite installation (the archive checks do not depend on the database) and the name
    of a photo member."""
    source = _seeded(installations)
    archive = tmp_path / "fieldwalk.tar"
    result = _invoke(source, "backup", "--output", str(archive))
    assert result.exit_code == 0, result.output
    with tarfile.open(archive) as opened:
        photo = next(name for name in opened.getnames() if name.startswith("photos/"))
    return archive, photo


def test_verify_names_a_flipped_byte_and_a_missing_member(sqlite_backup, tmp_path, installations):
    archive, photo = sqlite_backup
    flipped = tmp_path / "flipped.tar"

    def flip(name, data):
        return data[:100] + bytes([data[100] ^ 1]) + data[101:] if name == photo else data

    _rewritten(archive, flipped, flip)
    missing = tmp_path / "missing.tar"
    _rewritten(archive, missing, lambda name, data: None if name == photo else data)
    app = installations.make("checker")
    damages = ((flipped, "sha256 "), (missing, "missing from the archive"))
    for damaged, problem in damages:
        result = _invoke(app, "backup", "--verify", str(damaged))
        assert result.exit_code == 1
        assert f"{photo}: {problem}" in result.output
        result = _invoke(app, "restore", str(damaged))
        assert result.exit_code == 1
        assert "does not verify" in result.output and photo in result.output
    with app.app_context():
        assert not list(photo_store().stored())

    extra = tmp_path / "extra.tar"
    with tarfile.open(archive) as source, tarfile.open(extra, "w") as copy:
        for info in source:
            copy.addfile(info, source.extractfile(info))
        info = tarfile.TarInfo("photos/notes.txt")
        info.size = 2
        copy.addfile(info, io.BytesIO(b"hi"))
    result = _invoke(app, "backup", "--verify", str(extra))
    assert result.exit_code == 1
    assert "photos/notes.txt: in the archive but not in the manifest" in result.output

    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    result = _invoke(app, "backup", "--verify", str(cut))
    assert result.exit_code == 1
    assert "cut short" in result.output or "manifest.json is missing" in result.output


def test_restore_refuses_an_archive_of_a_newer_version(sqlite_backup, tmp_path, installations):
    archive, _photo = sqlite_backup
    newer = tmp_path / "newer.tar"
    _rewritten(archive, newer, manifest=lambda manifest: manifest.update(alembic_revision="9999_from_the_future"))
    assert _invoke(installations.make("checker"), "backup", "--verify", str(newer)).exit_code == 0
    target = installations.make("target")
    result = _invoke(target, "restore", str(newer))
    assert result.exit_code == 1
    assert "schema revision 9999_from_the_future is unknown to this version" in result.output
    with target.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar() == 0


def test_restore_refuses_a_store_with_objects(sqlite_backup, installations):
    archive, photo = sqlite_backup
    target = installations.make("target")
    with target.app_context():
        sha256 = photo.rsplit("/", 1)[1].split(".")[0]
        photo_store().put(sha256, "full", b"a photo of another installation")
    result = _invoke(target, "restore", str(archive))
    assert result.exit_code == 1
    assert "the photo store (filesystem) has objects" in result.output
    assert "tables with rows" not in result.output
    with target.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar() == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_opens_the_database_snapshot(installations, backend, tmp_path):
    """A snapshot whose checksums agree with the manifest but that is no database (cut short) fails the check."""
    source = _seeded(installations)
    archive = tmp_path / "fieldwalk.tar"
    assert _invoke(source, "backup", "--output", str(archive)).exit_code == 0
    member = DATABASE_MEMBERS[backend]
    damaged = tmp_path / "damaged.tar"
    _rewritten(archive, damaged, lambda name, data: data[: len(data) // 3] if name == member else data, dict)
    result = _invoke(source, "backup", "--verify", str(damaged))
    assert result.exit_code == 1
    assert f"{member}: " in result.output
    assert (
        ("integrity check" in result.output or "does not open" in result.output)
        if backend == "sqlite"
        else ("pg_restore failed" in result.output)
    )
    target = installations.make("target")
    result = _invoke(target, "restore", str(damaged))
    assert result.exit_code == 1 and "does not verify" in result.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_upgrades_an_older_schema(installations, backend, tmp_path):
    source = installations.make("old")
    with source.app_context():
        scripts = revision_scripts()
        head = scripts.get_current_head()
        upgrade(revision=scripts.get_revision(head).down_revision)
    archive = tmp_path / "old.tar"
    result = _invoke(source, "backup", "--output", str(archive))
    assert result.exit_code == 0, result.output
    target = installations.make("target")
    result = _invoke(target, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert f"(then upgraded) at revision {head}" in result.output
    assert _rows(target)["alembic_version"] == [(head,)]
