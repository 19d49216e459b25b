"""Backups: one tar archive with a consistent database snapshot, every photo object and a manifest of checksums.

`flask backup` writes it, `flask backup --verify` checks it and `flask restore` brings it back into an empty
installation. The archive holds

* ``database/fieldwalk.sqlite`` — made with SQLite's online backup API (consistent while the app runs), or
  ``database/fieldwalk.pgdump`` — ``pg_dump --format=custom`` of the configured PostgreSQL database;
* ``photos/ab/cd/<sha256>.jpg`` (and ``.thumb.jpg``) — every object of the photo store, read through the store's
  interface, so a filesystem store and an S3 store give the same members (an S3 prefix is not part of the name);
* ``manifest.json`` (last) — format version, app version, Alembic revision, time, database dialect, photo store
  kind, and the sha256 and size of every other member.

The database is snapshotted first and the photos listed afterwards: objects are content-addressed and the
collector (`flask photos gc`) removes only objects no row has referred to for its grace period, so every photo
the snapshot refers to is still in the store when it is read; one uploaded meanwhile is merely extra. A snapshot
is restored into the same kind of database only (a SQLite backup does not go into PostgreSQL).
"""

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any, TypeVar

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import exists, inspect, select, table
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from fieldwalk.extensions import db
from fieldwalk.photos.service import photo_store
from fieldwalk.photos.store import VARIANTS, relative_key

FORMAT = "fieldwalk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/fieldwalk.sqlite", "postgresql": "database/fieldwalk.pgdump"}
_PHOTO_MEMBER = re.compile(
    r"photos/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})(" + "|".join(map(re.escape, VARIANTS.values())) + ")"
)
_VARIANT_OF = {suffix: variant for variant, suffix in VARIANTS.items()}
_CHUNK = 1024 * 1024
T = TypeVar("T")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (for the command's output)."""


@dataclass
class Written:
    """What `create_backup` wrote."""

    path: Path
    photos: int
    size: int


@dataclass
class Restored:
    """What `restore_backup` did."""

    photos: int
    revision: str | None
    upgraded: bool
    notes: list[str] = field(default_factory=list)


def default_output() -> Path:
    """instance/backups/fieldwalk-<UTC timestamp>.tar"""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(current_app.instance_path) / "backups" / f"fieldwalk-{stamp}.tar"


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_MEMBERS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"the SQLite database {database!r} is not a file that can be backed up or restored")
    return Path(database)


def _pg_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return program


def _pg_connection() -> tuple[str, dict[str, str]]:
    """The configured database as a libpq URI without the password, and an environment with PGPASSWORD (so that
    the password is not on a command line other users can read)."""
    url: URL = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    """Run a client program; its error output becomes the BackupError."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _database_snapshot(dialect: str, target: Path) -> None:
    """A consistent copy of the configured database in the target file."""
    if dialect == "sqlite":
        source = sqlite3.connect(_sqlite_path())
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # the online backup API: one consistent state, while others write
        finally:
            copy.close()
            source.close()
        return
    uri, env = _pg_connection()
    _run([_pg_program("pg_dump"), "--format=custom", "--no-password", f"--file={target}", f"--dbname={uri}"], env)


def revision_scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def _reachable(work: Callable[[], T]) -> T:
    """The work's result; a database that cannot be reached (or does not exist) is a BackupError."""
    try:
        return work()
    except SQLAlchemyError as error:
        raise BackupError(f"cannot use the database: {str(getattr(error, 'orig', None) or error).strip()}") from error


def code_revision() -> str | None:
    """The newest Alembic revision this version of the code has (the head of migrations/versions)."""
    return revision_scripts().get_current_head()


def database_revision() -> str | None:
    """The Alembic revision of the configured database (None without an alembic_version table)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class _Hashing:
    """A read-only stream that counts and hashes what is read through it."""

    def __init__(self, stream: IO[bytes]):
        self.stream, self.sha256, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add(archive: tarfile.TarFile, name: str, stream: IO[bytes], size: int, mtime: float) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    hashing = _Hashing(stream)
    archive.addfile(info, hashing)  # tarfile reads exactly size bytes
    if hashing.size != size:
        raise BackupError(f"{name}: the store gave {hashing.size} bytes instead of {size}")
    return {"sha256": hashing.sha256.hexdigest(), "size": size}


def create_backup(output: Path) -> Written:
    """Write the archive (gzip-compressed when the name ends in .gz or .tgz). It is written under a temporary
    name in the same folder and renamed at the end, so there is never a half archive under the given name."""
    dialect = _dialect()
    store_kind = current_app.config["PHOTO_STORE"]
    compress = output.name.endswith((".gz", ".tgz"))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": metadata.version("fieldwalk"),
        "alembic_revision": _reachable(database_revision),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": dialect,
        "photo_store": store_kind,
        "members": {},
    }
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
    except OSError as error:
        raise BackupError(f"cannot write into {output.parent}: {error}") from error
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as work:
            snapshot = Path(work) / "snapshot"
            _database_snapshot(dialect, snapshot)
            with tarfile.open(partial, "w:gz") if compress else tarfile.open(partial, "w") as archive:
                name = DATABASE_MEMBERS[dialect]
                with snapshot.open("rb") as stream:
                    manifest["members"][name] = _add(archive, name, stream, snapshot.stat().st_size, time.time())
                snapshot.unlink()
                photos = _add_photos(archive, manifest["members"])
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                archive.addfile(info, io.BytesIO(data))
        os.replace(partial, output)
    except BaseException as error:
        Path(partial).unlink(missing_ok=True)
        if isinstance(error, BackupError) or not isinstance(error, Exception):
            raise
        # the disk full, the store unreachable (OSError, botocore's errors), the database locked…
        raise BackupError(f"the backup stopped ({error.__class__.__name__}: {error}); nothing was written") from error
    return Written(output, photos, output.stat().st_size)


def _add_photos(archive: tarfile.TarFile, members: dict[str, Any]) -> int:
    store = photo_store()
    count = 0
    for item in store.stored():
        if item.sha256 is None:  # a temporary file of an interrupted write
            continue
        variant = "thumb" if item.key.endswith(VARIANTS["thumb"]) else "full"
        try:
            opened = store.open(item.sha256, variant)
        except FileNotFoundError:  # removed by the collector since the listing: no row refers to it
            continue
        name = f"photos/{relative_key(item.sha256, variant)}"
        try:
            members[name] = _add(archive, name, opened.stream, opened.size, item.modified)
        finally:
            opened.stream.close()
        count += 1
    return count


@dataclass
class Checked:
    """An archive read once from end to end: its manifest, the problems found, and the database snapshot
    copied into a temporary file (while the `checked` block lasts)."""

    manifest: dict[str, Any] | None
    problems: list[str]
    database: Path | None
    members: dict[str, dict[str, Any]]


def _expected(name: str) -> bool:
    return name in DATABASE_MEMBERS.values() or bool(_PHOTO_MEMBER.fullmatch(name))


@contextmanager
def checked(path: Path) -> Iterator[Checked]:
    """Read the archive: every member against the manifest (sha256, size, nothing missing or extra), and the
    database snapshot opened (SQLite's integrity check; `pg_restore --list` for a PostgreSQL dump)."""
    with tempfile.TemporaryDirectory() as work:
        result = _read(path, Path(work))
        if result.manifest is not None:
            _compare(result)
        if result.database is not None and not result.problems:
            result.problems += _database_problems(result.manifest or {}, result.database)
        yield result


def verify_backup(path: Path) -> Checked:
    """The archive's problems (none: it can be restored) and its manifest."""
    with checked(path) as result:
        return result


def _read(path: Path, work: Path) -> Checked:
    result = Checked(None, [], None, {})
    try:
        archive = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as error:
        result.problems.append(f"not a readable tar archive (.tar or .tar.gz): {str(error).splitlines()[0]}")
        return result
    with archive:
        try:
            for info in archive:
                if not info.isfile():
                    result.problems.append(f"{info.name}: not a regular file")
                    continue
                if info.name in result.members or (info.name == MANIFEST and result.manifest is not None):
                    result.problems.append(f"{info.name}: more than once in the archive")
                    continue
                stream = archive.extractfile(info)
                assert stream is not None  # a regular file
                if info.name == MANIFEST:
                    result.manifest = _manifest(stream.read(), result.problems)
                    continue
                copy = None
                if info.name in DATABASE_MEMBERS.values():
                    result.database = copy = work / Path(info.name).name
                result.members[info.name] = _digest(stream, copy)
        except (OSError, EOFError, tarfile.TarError, zlib.error) as error:
            result.problems.append(f"the archive is damaged or cut short: {error}")
    if result.manifest is None and not result.problems:
        result.problems.append(f"{MANIFEST} is missing: this is not a complete fieldwalk backup")
    return result


def _digest(stream: IO[bytes], copy: Path | None) -> dict[str, Any]:
    sha256, size = hashlib.sha256(), 0
    out = copy.open("wb") if copy else None
    try:
        while chunk := stream.read(_CHUNK):
            sha256.update(chunk)
            size += len(chunk)
            if out:
                out.write(chunk)
    finally:
        if out:
            out.close()
    return {"sha256": sha256.hexdigest(), "size": size}


def _manifest(data: bytes, problems: list[str]) -> dict[str, Any] | None:
    try:
        manifest = json.loads(data)
    except ValueError as error:
        problems.append(f"{MANIFEST} is not valid JSON: {error}")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST} is not the manifest of a fieldwalk backup")
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(
            f"{MANIFEST}: format version {manifest.get('format_version')!r}; this version of fieldwalk reads "
            f"{FORMAT_VERSION}"
        )
        return None
    members = manifest.get("members")
    if manifest.get("database") not in DATABASE_MEMBERS or not isinstance(members, dict):
        problems.append(f"{MANIFEST} names no known database or lists no members")
        return None
    return manifest


def _compare(result: Checked) -> None:
    assert result.manifest is not None
    listed: dict[str, Any] = result.manifest["members"]
    database = DATABASE_MEMBERS[result.manifest["database"]]
    if database not in listed:
        result.problems.append(f"{MANIFEST} lists no database snapshot ({database})")
    for name, expected in sorted(listed.items()):
        found = result.members.get(name)
        given = expected if isinstance(expected, dict) else {}
        want = {"sha256": given.get("sha256"), "size": given.get("size")}
        if not _expected(name):
            result.problems.append(f"{name}: not a member a fieldwalk backup has")
        elif found is None:
            result.problems.append(f"{name}: missing from the archive")
        elif found != want:
            result.problems.append(
                f"{name}: sha256 {found['sha256']} and {found['size']} bytes in the archive; the manifest says "
                f"{want['sha256']} and {want['size']} bytes"
            )
    for name in sorted(set(result.members) - set(listed)):
        result.problems.append(f"{name}: in the archive but not in the manifest")


def _database_problems(manifest: dict[str, Any], snapshot: Path) -> list[str]:
    name = DATABASE_MEMBERS[manifest["database"]]
    if manifest["database"] == "sqlite":
        try:
            connection = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
            try:
                rows = connection.execute("PRAGMA integrity_check").fetchall()
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            return [f"{name}: does not open as a SQLite database: {error}"]
        return [] if rows == [("ok",)] else [f"{name}: integrity check: {'; '.join(r[0] for r in rows[:5])}"]
    try:
        _run([_pg_program("pg_restore"), "--list", str(snapshot)])
    except BackupError as error:
        return [f"{name}: {error}"]
    return []


def _known_revision(scripts: ScriptDirectory, revision: str | None) -> None:
    if revision is None:
        return
    try:
        known = scripts.get_revision(revision)
    except (CommandError, RevisionError):
        known = None
    if known is None:
        raise BackupError(
            f"the archive's schema revision {revision} is unknown to this version of fieldwalk (made by a newer "
            "one?); restore it with the version that made it"
        )


def _target_problems() -> list[str]:
    """Why the configured installation is not empty: tables with rows, objects in the photo store."""
    problems = []
    with db.engine.connect() as conn:
        full = [
            name for name in inspect(conn).get_table_names() if conn.scalar(select(exists().select_from(table(name))))
        ]
    if full:
        problems.append(f"the database has tables with rows ({', '.join(full)})")
    if next(iter(photo_store().stored()), None) is not None:
        problems.append(f"the photo store ({current_app.config['PHOTO_STORE']}) has objects")
    return problems


def restore_backup(path: Path) -> Restored:
    """Bring the archive back into an empty installation: the database, then the photos through the store's
    `put` (each checked against the manifest), then the schema upgraded when the archive's is older."""
    dialect = _dialect()
    scripts = revision_scripts()
    with checked(path) as result:
        if result.problems:
            raise BackupError("the archive does not verify:\n" + "\n".join(result.problems))
        assert result.manifest is not None and result.database is not None
        if result.manifest["database"] != dialect:
            raise BackupError(
                f"the archive holds a {result.manifest['database']} database; this installation uses {dialect} "
                "(a backup is restored into the same kind of database)"
            )
        _known_revision(scripts, result.manifest.get("alembic_revision"))
        problems = _reachable(_target_problems)
        if problems:
            raise BackupError(
                "restore needs an empty installation (a new database and an empty photo store): " + "; ".join(problems)
            )
        _restore_database(dialect, result.database)
        try:
            photos = _restore_photos(path, result.manifest["members"])
        except Exception as error:  # the store unreachable or full (OSError, botocore's errors)
            raise BackupError(
                f"the database was restored but storing the photos stopped ({error.__class__.__name__}: {error}); "
                "empty the database and the photo store and run restore again"
            ) from error
    restored = Restored(photos, database_revision(), upgraded=False)
    if restored.revision is None:
        restored.notes.append("the database has no Alembic revision (its schema was not made by flask init-db)")
    elif restored.revision != code_revision():
        upgrade()
        restored.revision, restored.upgraded = database_revision(), True
    return restored


def _restore_database(dialect: str, snapshot: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        target = _sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in ("-wal", "-shm", "-journal"):  # of the empty database: never applied to the restored one
            Path(f"{target}{leftover}").unlink(missing_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        os.close(fd)
        shutil.copyfile(snapshot, partial)
        os.replace(partial, target)
        return
    uri, env = _pg_connection()
    _run(
        [
            _pg_program("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={uri}",
            str(snapshot),
        ],
        env,
    )


def _restore_photos(path: Path, members: dict[str, Any]) -> int:
    store = photo_store()
    count = 0
    with tarfile.open(path, "r:*") as archive:
        for info in archive:
            match = _PHOTO_MEMBER.fullmatch(info.name)
            if not match or not info.isfile():
                continue
            stream = archive.extractfile(info)
            assert stream is not None
            data = stream.read()
            if hashlib.sha256(data).hexdigest() != members[info.name]["sha256"]:
                raise BackupError(f"{info.name}: changed since it was verified; the restore stopped")
            store.put(match.group(3), _VARIANT_OF[match.group(4)], data)
            count += 1
    return count
