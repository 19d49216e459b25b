"""Bad input on the capture form: a clear Swedish message, a 4xx, the typed text kept, nothing written."""

import io
import os

import pytest
from PIL import Image
from sqlalchemy import func, select

from fieldwalk.extensions import db
from fieldwalk.models import Finding, Photo, Role
from tests.helpers import jpeg_bytes, post_multipart, stored_files

TYPED = "Mörk gångtunnel, två lampor trasiga <b>nu</b>"


def _png_20000() -> bytes:
    """A 20000×20000 PNG: 400 MP, tiny on disk (1-bit, all white), a decompression bomb to us."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000), 1).save(out, "PNG")
    return out.getvalue()


def _thirty_mb() -> bytes:
    """30 MB that start like a JPEG."""
    return jpeg_bytes((200, 200)) + os.urandom(30 * 1024 * 1024)


CASES = {
    "text file named photo.jpg": (lambda: b"Hej! Det har ar ingen bild.\n" * 50, 422, "är ingen bild"),
    "truncated jpeg": (lambda: jpeg_bytes((1200, 900))[:6000], 422, "trasigt"),
    "30 MB upload": (_thirty_mb, 413, "för stort (högst 20 MB)"),
    "20000x20000 png": (_png_20000, 422, "för många bildpunkter"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_photo_is_refused_and_text_kept(app, client, guest, auth, make_walk, category_id, case):
    make_bytes, status, message = CASES[case]
    walk_id = make_walk()
    guest(walk_id)
    response = post_multipart(client, f"/walks/{walk_id}/findings/new", {
        "category": category_id(), "description": TYPED, "severity": "high", "place": "Tunneln",
        "photos": [(io.BytesIO(jpeg_bytes((800, 600))), "ok.jpg"), (io.BytesIO(make_bytes()), "photo.jpg")],
    })
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in page
    assert "Mörk gångtunnel, två lampor trasiga &lt;b&gt;nu&lt;/b&gt;" in page  # kept, and escaped
    assert 'value="Tunneln"' in page
    assert 'id="severity-high" value="high" checked' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 0
        assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert stored_files(app) == []  # not even the good photo that came first


def test_bad_photo_as_json(app, client, guest, auth, make_walk, category_id):
    """The enhanced form (fetch with Accept: application/json) gets the same refusal as JSON."""
    walk_id = make_walk()
    guest(walk_id)
    response = client.post(f"/walks/{walk_id}/findings/new", headers={"Accept": "application/json"},
                           data={"category": category_id(), "description": TYPED,
                                 "photos": [(io.BytesIO(b"not an image"), "photo.jpg")]})
    assert response.status_code == 422
    assert "är ingen bild" in response.json["error"]["message"]


def test_missing_category(app, client, guest, auth, make_walk):
    walk_id = make_walk()
    guest(walk_id)
    response = client.post(f"/walks/{walk_id}/findings/new",
                           data={"description": TYPED, "severity": "low"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Välj en kategori." in page
    assert "Mörk gångtunnel" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 0


@pytest.mark.parametrize("data, message", [
    ({"lat": "91", "lon": "14.8"}, "Latituden måste vara mellan -90 och 90."),
    ({"lat": "56.8"}, "Ange både latitud och longitud"),
    ({"lon": "14.8"}, "Ange både latitud och longitud"),
    ({"category": "999999"}, "Inte ett giltigt val"),
])
def test_wrong_fields(app, client, guest, auth, make_walk, category_id, data, message):
    walk_id = make_walk()
    guest(walk_id)
    form = {"category": category_id(), "description": TYPED, **data}
    response = client.post(f"/walks/{walk_id}/findings/new", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "Mörk gångtunnel" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 0


def test_failed_commit_removes_new_photo_files(app, client, guest, auth, make_walk, category_id):
    """A database failure after the files were written leaves no orphan files."""
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    uuid = "6f1c1e5c-2a8b-4c1d-9a5e-3b2f1d0c9e8a"
    client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "uuid": uuid})
    other_walk = make_walk(title="Annan")
    # Same client id on another walk: refused after photo processing, before anything is kept.
    response = client.post(f"/walks/{other_walk}/findings/new", data={
        "category": category_id(), "uuid": uuid,
        "photos": [(io.BytesIO(jpeg_bytes((900, 700))), "a.jpg")]})
    assert response.status_code == 400  # answered like a malformed id (test_login_hardening)
    assert stored_files(app) == []


def test_walk_closed_while_typing_keeps_the_text(app, client, guest, make_walk, category_id):
    from fieldwalk.models import Walk, WalkStatus

    walk_id = make_walk()
    guest(walk_id)
    with app.app_context():
        db.session.get(Walk, walk_id).status = WalkStatus.COMPLETED
        db.session.commit()
    response = client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "description": TYPED})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "tar inte emot fler fynd" in page and "Mörk gångtunnel" in page
