"""Stored photos: never deleted while a row refers to them; `flask photos gc` removes only old orphans.

Each test runs on both stores (`store_backend`): files under the test's PHOTO_DIR, and objects in a bucket of
a real S3 server (SeaweedFS, tests/s3.py). The S3 server sets an object's time itself (LastModified, whole
seconds) and it cannot be set back, so ages are tested by running the collector at a later `now` instead.
"""

import io
import os
import time
import uuid

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from pypdf import PdfReader
from sqlalchemy import select

from fieldwalk.actions import operations as actions
from fieldwalk.actions.inputs import ActionItemInput
from fieldwalk.extensions import db
from fieldwalk.findings import operations as findings
from fieldwalk.findings.inputs import FindingInput
from fieldwalk.models import Category, Finding, Photo, Role, User, Walk
from fieldwalk.photos.pipeline import process_photo
from fieldwalk.photos.service import attach_photo, collect_garbage, photo_store
from fieldwalk.photos.store import FilesystemStore
from tests.helpers import jpeg_bytes, stored_files

DAY = 24 * 3600


def _times(app) -> dict[str, float]:
    """Each stored object's time, as the store reports it."""
    with app.app_context():
        return {item.key: item.modified for item in photo_store().stored()}


def _next_second(times) -> None:
    """Wait until what is stored next is at least 0.6 seconds younger than every given time, on either store
    (S3 counts whole seconds: the next one is at least a second younger)."""
    while time.time() < int(max(times)) + 1.6:
        time.sleep(0.05)


def _store(app, *processed) -> None:
    with app.app_context():
        store = photo_store()
        for photo in processed:  # the files of requests that failed after writing them
            store.put(photo.sha256, "full", photo.image)
            store.put(photo.sha256, "thumb", photo.thumbnail)


@pytest.mark.committed  # two requests at once need two connections: request A's rollback must not undo B's commit
def test_rolled_back_request_keeps_a_file_a_committed_row_shares(
    app, client, auth, make_walk, category_id, store_backend
):
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


def test_gc_removes_only_old_unreferenced_objects(app, client, auth, make_walk, category_id, runner, store_backend):
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
    fresh, old = process_photo(fresh_orphan), process_photo(old_orphan)
    _store(app, old)
    _next_second(_times(app).values())
    _store(app, fresh)
    with app.app_context():
        in_use = db.session.scalar(select(Photo.sha256))
        store = photo_store()
        fresh_time = min(store.modified(store.key(fresh.sha256, v)) for v in ("full", "thumb"))
    assert len(stored_files(app)) == 6
    # The collector a day after the fresh orphan came, less a moment: the old one is over the grace.
    later = fresh_time + DAY - 0.25

    with app.app_context():
        dry = collect_garbage(24, dry_run=True, now=later)
    assert len(dry.removed) == 2 and (dry.kept_referenced, dry.kept_recent) == (2, 2)
    assert len(stored_files(app)) == 6  # a dry run removes nothing

    with app.app_context():
        run = collect_garbage(24, now=later)
        store = photo_store()
        assert sorted(run.removed) == sorted(store.key(old.sha256, v) for v in ("full", "thumb"))
        for variant in ("full", "thumb"):
            assert store.exists(in_use, variant)  # referenced: kept however old
            assert store.exists(fresh.sha256, variant)  # within the grace period: a request may be committing it
            assert not store.exists(old.sha256, variant)

    # `flask photos gc` now: everything is within the default 24 hours; --grace-hours 0 lets the orphan go.
    result = runner.invoke(args=["photos", "gc", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "0 unreferenced files to remove; kept 0 in use and 4 younger than 24 hours" in result.output
    result = runner.invoke(args=["photos", "gc", "--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    assert "2 unreferenced files removed; kept 2 in use and 0 younger than 0 hours" in result.output
    with app.app_context():
        store = photo_store()
        assert not store.exists(fresh.sha256) and store.exists(in_use) and store.exists(in_use, "thumb")
    assert len(stored_files(app)) == 2


def test_gc_removes_an_interrupted_write(app, runner):
    """A temporary file left by a write that was cut off (filesystem only: an S3 upload is whole or absent)."""
    store = FilesystemStore(app.config["PHOTO_DIR"])
    processed = process_photo(jpeg_bytes((320, 240)))
    store.put(processed.sha256, "full", processed.image)
    interrupted = store.path(processed.sha256).parent / ".tmp-abc123"
    interrupted.write_bytes(b"half a file")
    past = time.time() - 2 * DAY
    os.utime(interrupted, (past, past))
    result = runner.invoke(args=["photos", "gc"])
    assert result.exit_code == 0, result.output
    assert "1 unreferenced files removed; kept 0 in use and 1 younger than 24 hours" in result.output
    assert not interrupted.exists() and store.exists(processed.sha256)


def test_reusing_an_old_orphan_renews_it(app, store_backend):
    """A request about to commit a row for a file that was an orphan: the collector must leave the file."""
    processed = process_photo(jpeg_bytes((500, 400)))
    _store(app, processed)
    first = _times(app)
    _next_second(first.values())
    with app.app_context():
        store = photo_store()
        assert store.put(processed.sha256, "full", processed.image) is False  # a new request reuses it
        key = store.key(processed.sha256, "full")
        renewed = store.modified(key)
        assert renewed >= int(first[key]) + 1
        # The collector a day after the renewal, less a moment: only the thumbnail, not renewed, is over it.
        run = collect_garbage(24, now=renewed + DAY - 0.25)
        assert run.removed == [store.key(processed.sha256, "thumb")]
        assert store.exists(processed.sha256) and store.read(processed.sha256) == processed.image


def test_gc_grace_from_config(app, runner, store_backend):
    _store(app, process_photo(jpeg_bytes((320, 240))))
    app.config["PHOTO_GC_GRACE_HOURS"] = 0
    try:
        result = runner.invoke(args=["photos", "gc"])
    finally:
        app.config["PHOTO_GC_GRACE_HOURS"] = 24
    assert result.exit_code == 0, result.output
    assert "2 unreferenced files removed; kept 0 in use and 0 younger than 0 hours" in result.output
    assert stored_files(app) == []


def test_photos_are_served_with_an_etag_and_revalidated(app, client, auth, make_walk, category_id, store_backend):
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        data={"category": category_id(), "photos": [(io.BytesIO(jpeg_bytes((640, 480))), "a.jpg")]},
    )
    assert response.status_code == 302
    with app.app_context():
        photo = db.session.scalar(select(Photo))
        photo_id, sha = photo.id, photo.sha256
        stored = {v: photo_store().read(sha, v) for v in ("full", "thumb")}
    for variant in ("full", "thumb"):
        with client.get(f"/photos/{photo_id}/{variant}.jpg") as response:
            assert response.status_code == 200
            assert response.data == stored[variant]
            assert response.content_length == len(stored[variant])
            assert response.headers["Cache-Control"] == "private, max-age=86400, immutable"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            etag = response.headers["ETag"]
        assert etag == f'"{sha}{variant}"'
        with client.get(f"/photos/{photo_id}/{variant}.jpg", headers={"If-None-Match": etag}) as response:
            assert response.status_code == 304 and response.data == b""
        with client.get(f"/photos/{photo_id}/{variant}.jpg", headers={"Range": "bytes=100-199"}) as response:
            assert response.status_code == 206 and response.data == stored[variant][100:200]
        past_the_end = f"bytes={len(stored[variant]) + 10}-"
        assert client.get(f"/photos/{photo_id}/{variant}.jpg", headers={"Range": past_the_end}).status_code == 416
    with app.app_context():  # the object is gone (a partial restore): 404, not an error
        store = photo_store()
        store.delete(stored_files(app)[0])
        missing = next(v for v in ("full", "thumb") if not store.exists(sha, v))
    assert client.get(f"/photos/{photo_id}/{missing}.jpg").status_code == 404


def test_s3_objects_are_private_and_need_the_keys(app, s3_server):
    """The bucket is reached only with the configured identity; an object is never readable without it."""
    prefix = f"private-{uuid.uuid4().hex}"
    settings = s3_server.settings(prefix=prefix)
    saved = {name: app.config[name] for name in settings}
    app.config.update(settings)
    try:
        processed = process_photo(jpeg_bytes((320, 240)))
        _store(app, processed)
        with app.app_context():
            key = photo_store().key(processed.sha256)
    finally:
        app.config.update(saved)
    assert key == f"{prefix}/{processed.sha256[:2]}/{processed.sha256[2:4]}/{processed.sha256}.jpg"
    owner = s3_server.client()
    assert owner.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read() == processed.image
    grants = owner.get_object_acl(Bucket=s3_server.bucket, Key=key)["Grants"]
    assert not [g for g in grants if "AllUsers" in g["Grantee"].get("URI", "")]
    anonymous = s3_server.client(config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
    wrong = s3_server.client(secret_access_key="not-the-secret")
    for client, code in ((anonymous, "AccessDenied"), (wrong, "SignatureDoesNotMatch")):
        with pytest.raises(ClientError) as refused:
            client.get_object(Bucket=s3_server.bucket, Key=key)
        assert refused.value.response["Error"]["Code"] == code


def test_capture_serve_protocol_and_gc_round_trip(
    app, client, auth, guest, make_walk, category_id, runner, store_backend
):
    """The whole life of a photo on either store: taken with a finding, served, removed from the finding by
    its reporter, the other one in the protocol PDF, the removed one collected by `flask photos gc`."""
    walk_id = make_walk()
    guest(walk_id)
    fields = {"category": category_id(), "description": "Trasig lampa", "severity": "medium"}
    photos = [(io.BytesIO(jpeg_bytes((800, 600))), "a.jpg"), (io.BytesIO(jpeg_bytes((600, 800))), "b.jpg")]
    response = client.post(f"/walks/{walk_id}/findings/new", data={**fields, "photos": photos})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        finding = db.session.scalar(select(Finding))
        finding_id, (kept, removed) = finding.id, [(p.id, p.sha256) for p in finding.photos]
        store = photo_store()
        stored = {(sha, v): store.read(sha, v) for _id, sha in (kept, removed) for v in ("full", "thumb")}
    assert len(stored_files(app)) == 4
    if store_backend == "s3":  # a stateless app server: nothing of the photos on its own disk
        assert not os.path.exists(app.config["PHOTO_DIR"])
    for photo_id, sha in (kept, removed):
        for variant in ("full", "thumb"):
            with client.get(f"/photos/{photo_id}/{variant}.jpg") as response:
                assert response.status_code == 200 and response.data == stored[(sha, variant)]

    response = client.post(f"/findings/{finding_id}/edit", data={**fields, "remove_photos": [str(removed[0])]})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get(f"/photos/{removed[0]}/thumb.jpg").status_code == 404  # its row is gone
    assert len(stored_files(app)) == 4  # its objects stay until the collector comes

    user_id = auth.login(Role.COORDINATOR)
    with app.app_context():  # an action item, so that the protocol shows the finding's photo as "before"
        item = db.session.get(Finding, finding_id)
        actions.create_action_item([item], db.session.get(User, user_id), ActionItemInput(title="Byt lampan"))
        db.session.commit()
    response = client.get(f"/followup/protocol.pdf?walk={walk_id}")
    assert response.status_code == 200
    images = {image.data for page in PdfReader(io.BytesIO(response.data)).pages for image in page.images}
    assert len(images) == 1  # the kept photo, read from the store

    result = runner.invoke(args=["photos", "gc", "--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    assert "2 unreferenced files removed; kept 2 in use and 0 younger than 0 hours" in result.output
    with app.app_context():
        store = photo_store()
        assert stored_files(app) == sorted(store.key(kept[1], v) for v in ("full", "thumb"))
    for variant in ("full", "thumb"):
        with client.get(f"/photos/{kept[0]}/{variant}.jpg") as response:
            assert response.status_code == 200 and response.data == stored[(kept[1], variant)]


def test_s3_gc_leaves_objects_that_are_not_photos_alone(app, runner, s3_server):
    """A bucket may hold other things, even under the prefix: the collector lists and removes only keys in
    the store's own layout."""
    prefix = f"shared-{uuid.uuid4().hex}"
    settings = s3_server.settings(prefix=prefix)
    saved = {name: app.config[name] for name in settings}
    app.config.update(settings)
    owner = s3_server.client()
    foreign = [f"{prefix}/README.txt", f"{prefix}/ab/cd/not-a-digest.jpg", f"{prefix}-other/ab/cd/{'0' * 64}.jpg"]
    try:
        for key in foreign:
            owner.put_object(Bucket=s3_server.bucket, Key=key, Body=b"not ours")
        processed = process_photo(jpeg_bytes((320, 240)))
        _store(app, processed)
        result = runner.invoke(args=["photos", "gc", "--grace-hours", "0"])
    finally:
        app.config.update(saved)
    assert result.exit_code == 0, result.output
    assert "2 unreferenced files removed; kept 0 in use and 0 younger than 0 hours" in result.output
    for key in foreign:
        assert owner.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read() == b"not ours"
