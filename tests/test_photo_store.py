"""Stored photo files: never deleted while a row refers to them; `flask photos gc` removes only old orphans."""

import io
import os
import time

import pytest
from sqlalchemy import select

from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, Finding, Photo, Role, User, Walk
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.photos.service import attach_photo, photo_store
from fieldwalk.photos.store import PhotoStore
from tests.helpers import jpeg_bytes, stored_files

DAY = 24 * 3600


def _age(path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.mark.committed  # two requests at once need two connections: request A's rollback must not undo B's commit
def test_rolled_back_request_keeps_a_file_a_committed_row_shares(app, client, auth, make_walk, category_id):
    """Request A stores a photo's files and fails; request B stored the same photo and committed meanwhile."""
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    data = jpeg_bytes((900, 700))
    with app.app_context():
        walk = db.session.get(Walk, walk_id)
        user = db.session.scalar(select(User))
        a_finding_id = findings.create_finding(
            walk, user, FindingInput(category=db.session.get(Category, category_id()))
        )[0].id
        db.session.commit()
    with app.app_context():  # request A: the photo's files written, its row not yet flushed
        attach_photo(process_photo(data), finding=db.session.get(Finding, a_finding_id))
        with app.app_context():  # request B, at the same time: the same photo, committed
            response = client.post(
                f"/walks/{walk_id}/findings/new",
                data={"category": category_id(), "photos": [(io.BytesIO(data), "same.jpg")]},
            )
            assert response.status_code == 302
        db.session.rollback()  # request A fails
    with app.app_context():
        photo = db.session.scalar(select(Photo))
        assert photo is not None and photo.finding_id != a_finding_id
        photo_id = photo.id
    for variant in ("full", "thumb"):
        response = client.get(f"/photos/{photo_id}/{variant}.jpg")
        assert response.status_code == 200, variant
        response.close()


def test_gc_removes_only_old_unreferenced_files(app, client, auth, make_walk, category_id, runner):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    referenced, fresh_orphan, old_orphan = (jpeg_bytes((300 + i, 200)) for i in range(3))
    assert (
        client.post(
            f"/walks/{walk_id}/findings/new",
            data={"category": category_id(), "photos": [(io.BytesIO(referenced), "kept.jpg")]},
        ).status_code
        == 302
    )
    with app.app_context():
        store = photo_store()
        in_use = db.session.scalar(select(Photo.sha256))
        fresh, old = process_photo(fresh_orphan), process_photo(old_orphan)
        for processed in (fresh, old):  # files of requests that failed after writing them
            store.save(processed.sha256, "full", processed.image)
            store.save(processed.sha256, "thumb", processed.thumbnail)
        for variant in ("full", "thumb"):
            _age(store.path(in_use, variant), 30 * DAY)
            _age(store.path(old.sha256, variant), 2 * DAY)
        interrupted = store.path(old.sha256).parent / ".tmp-abc123"
        interrupted.write_bytes(b"half a file")
        _age(interrupted, 2 * DAY)
    assert len(stored_files(app)) == 7

    dry = runner.invoke(args=["photos", "gc", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "3 unreferenced files to remove" in dry.output
    assert len(stored_files(app)) == 7  # a dry run removes nothing

    result = runner.invoke(args=["photos", "gc"])
    assert result.exit_code == 0, result.output
    assert "3 unreferenced files removed; kept 2 in use and 2 younger than 24 hours" in result.output
    store = PhotoStore(app.config["PHOTO_DIR"])
    for variant in ("full", "thumb"):
        assert store.exists(in_use, variant)  # referenced: kept however old
        assert store.exists(fresh.sha256, variant)  # within the grace period: a request may be committing it
        assert not store.exists(old.sha256, variant)
    assert not interrupted.exists()

    # A shorter grace period from the command line (or PHOTO_GC_GRACE_HOURS) lets the fresh orphan go too.
    result = runner.invoke(args=["photos", "gc", "--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    assert not store.exists(fresh.sha256) and store.exists(in_use)


def test_reusing_an_old_orphan_renews_it(app, client, auth, make_walk, category_id, runner):
    """A request about to commit a row for a file that was an orphan: the collector must leave the file."""
    auth.login(Role.COORDINATOR)
    data = jpeg_bytes((500, 400))
    with app.app_context():
        processed = process_photo(data)
        store = photo_store()
        store.save(processed.sha256, "full", processed.image)
        _age(store.path(processed.sha256), 2 * DAY)
        assert store.save(processed.sha256, "full", processed.image) is False  # a new request reuses it
    result = runner.invoke(args=["photos", "gc"])
    assert result.exit_code == 0, result.output
    assert PhotoStore(app.config["PHOTO_DIR"]).exists(processed.sha256)


def test_gc_grace_from_config(app, runner):
    app.config["PHOTO_GC_GRACE_HOURS"] = 1
    with app.app_context():
        processed = process_photo(jpeg_bytes((320, 240)))
        store = photo_store()
        store.save(processed.sha256, "full", processed.image)
        _age(store.path(processed.sha256), 2 * 3600)
    try:
        result = runner.invoke(args=["photos", "gc"])
    finally:
        app.config["PHOTO_GC_GRACE_HOURS"] = 24
    assert result.exit_code == 0, result.output
    assert "1 unreferenced files removed" in result.output
    assert stored_files(app) == []
