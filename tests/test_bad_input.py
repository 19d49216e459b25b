"""Bad input on the capture form: a clear Swedish message, a 4xx, the typed text kept, nothing written."""

import io
import json
import os

import pytest
from flask import request
from PIL import Image
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

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
    response = post_multipart(
        client,
        f"/walks/{walk_id}/findings/new",
        {
            "category": category_id(),
            "description": TYPED,
            "severity": "high",
            "place": "Tunneln",
            "photos": [(io.BytesIO(jpeg_bytes((800, 600))), "ok.jpg"), (io.BytesIO(make_bytes()), "photo.jpg")],
        },
    )
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
    response = client.post(
        f"/walks/{walk_id}/findings/new",
        headers={"Accept": "application/json"},
        data={"category": category_id(), "description": TYPED, "photos": [(io.BytesIO(b"not an image"), "photo.jpg")]},
    )
    assert response.status_code == 422
    assert "är ingen bild" in response.json["error"]["message"]


def test_missing_category(app, client, guest, auth, make_walk):
    walk_id = make_walk()
    guest(walk_id)
    response = client.post(f"/walks/{walk_id}/findings/new", data={"description": TYPED, "severity": "low"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Välj en kategori." in page
    assert "Mörk gångtunnel" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"lat": "91", "lon": "14.8"}, "Latituden måste vara mellan -90 och 90."),
        ({"lat": "56.8"}, "Ange både latitud och longitud"),
        ({"lon": "14.8"}, "Ange både latitud och longitud"),
        ({"category": "999999"}, "Ogiltigt val. Välj ett av alternativen i listan."),
    ],
)
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


def test_failed_commit_removes_new_photo_files(app, client, guest, auth, make_walk, category_id, store_backend):
    """A finding refused before its photos are stored writes no photo files."""
    auth.login(Role.COORDINATOR)
    walk_id = make_walk()
    uuid = "6f1c1e5c-2a8b-4c1d-9a5e-3b2f1d0c9e8a"
    client.post(f"/walks/{walk_id}/findings/new", data={"category": category_id(), "uuid": uuid})
    other_walk = make_walk(title="Annan")
    # Same client id on another walk: refused after photo processing, before anything is kept.
    response = client.post(
        f"/walks/{other_walk}/findings/new",
        data={"category": category_id(), "uuid": uuid, "photos": [(io.BytesIO(jpeg_bytes((900, 700))), "a.jpg")]},
    )
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


# ---------------------------------------------------------------- photos that crash or cost too much


def padded_jpeg(total_bytes: int, colour: tuple[int, int, int] = (30, 60, 200)) -> bytes:
    """A valid JPEG of about total_bytes: a small picture plus APP15 segments (which readers skip)."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    small = out.getvalue()
    payload = 65533
    count = max(0, (total_bytes - len(small)) // (payload + 4))
    segment = b"\xff\xef" + (payload + 2).to_bytes(2, "big") + b"\x00" * payload
    return small[:2] + segment * count + small[2:]


def _finding_post(category: int, photos: list) -> dict:
    """A capture post whose text fields sit before and after the photos, as a browser sends them."""
    return {
        "category": category,
        "description": TYPED,
        "severity": "high",
        "uuid": "2f0b5c1e-9a8d-4e6f-8b7a-1c2d3e4f5a6b",
        "photos": photos,
        "place": "Tunneln",
        "reporter_name": "Gunnel Gäst",
    }


def _browser_post(client, url: str, fields: dict, headers: dict | None = None):
    """POST fields as a browser encodes a form: every part in form order (the test client puts files last)."""
    boundary = "----fieldwalkTestBoundary7MA4YWxkTrZu0gW"
    body = b""
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                data, filename = item[0].getvalue(), item[1]
                head = (
                    f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: image/jpeg'
                )
            else:
                data, head = str(item).encode(), f'Content-Disposition: form-data; name="{name}"'
            body += f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return client.post(url, data=body, headers=headers or {}, content_type=f"multipart/form-data; boundary={boundary}")


def _assert_form_kept(response, message: str) -> str:
    page = response.get_data(as_text=True)
    assert message in page
    assert "Mörk gångtunnel, två lampor trasiga &lt;b&gt;nu&lt;/b&gt;" in page
    assert 'value="Tunneln"' in page and 'value="Gunnel Gäst"' in page
    assert 'id="severity-high" value="high" checked' in page
    assert 'value="2f0b5c1e-9a8d-4e6f-8b7a-1c2d3e4f5a6b"' in page  # same id: a resend stays one finding
    return page


def _nothing_written(app) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 0
        assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert stored_files(app) == []


def _photo_field_error(page: str) -> str:
    """The text of the error shown at the photo field."""
    marker = '<p class="error" id="photos-error">'
    assert marker in page, "no error at the photo field"
    start = page.index(marker)
    return page[start : page.index("</p>", start)]


def test_photo_count_error_is_shown_at_the_photo_field(app, client, guest, make_walk, category_id):
    """Issue 9.13: "Högst 10 foton per fynd." was shown only at the top of the form."""
    walk_id = make_walk()
    guest(walk_id)
    photos = [(io.BytesIO(jpeg_bytes((64, 48))), f"{n}.jpg") for n in range(11)]
    response = post_multipart(client, f"/walks/{walk_id}/findings/new", _finding_post(category_id(), photos))
    assert response.status_code == 422
    page = _assert_form_kept(response, "Högst 10 foton per fynd.")
    assert "Högst 10 foton per fynd." in _photo_field_error(page)
    _nothing_written(app)


def test_request_limit_fits_a_full_set_of_photos(app):
    """Issue 9.13: 10 photos × 20 MB were allowed, but the request limit was 120 MB."""
    config = app.config
    full_set = config["PHOTO_MAX_PER_FINDING"] * (config["PHOTO_MAX_BYTES"] + 1024)  # + part headers
    assert config["MAX_CONTENT_LENGTH"] >= full_set + config["MAX_FORM_MEMORY_SIZE"]


def test_one_photo_is_held_in_memory_and_a_large_form_in_temporary_files(app):
    """A body up to PHOTO_MAX_BYTES (one photo) keeps its file in memory, as the photo is read into memory to be
    processed anyway; a larger one (a form with many photos) spools each file to disk, as werkzeug does."""

    def upload_stream(size: int):
        builder = EnvironBuilder(path="/", method="POST", data={"photo": (io.BytesIO(b"x" * size), "a.jpg")})
        environ = builder.get_environ()
        try:
            with app.request_context(environ):
                upload = request.files["photo"]
                assert upload.read() == b"x" * size
                return upload.stream
        finally:
            environ["wsgi.input"].close()
            builder.close()

    limit = app.config["PHOTO_MAX_BYTES"]
    assert isinstance(upload_stream(3 * 1024 * 1024), io.BytesIO)
    assert not isinstance(upload_stream(limit + 1), io.BytesIO)  # werkzeug's SpooledTemporaryFile


def test_126_mb_of_valid_photos_are_saved(app, client, guest, make_walk, category_id):
    """Issue 9.13: seven valid 18 MB photos got a bare 413 page and the typed finding was lost."""
    walk_id = make_walk()
    guest(walk_id)
    photos = [(io.BytesIO(padded_jpeg(18 * 1024 * 1024, (10 * n, 60, 200))), f"{n}.jpg") for n in range(7)]
    response = post_multipart(client, f"/walks/{walk_id}/findings/new", _finding_post(category_id(), photos))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 1
        assert db.session.scalar(select(func.count(Photo.id))) == 7


@pytest.mark.parametrize("csrf", [False, True], ids=["view", "csrf-check-first"])
def test_too_large_capture_post_keeps_the_text(app, client, guest, make_walk, category_id, monkeypatch, csrf):
    """Over the request limit: the capture form again with everything typed, before and after the photos."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    walk_id = make_walk()
    guest(walk_id)
    # With CSRF on (production), the CSRF check reads the form first, so werkzeug refuses it there.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", csrf)
    photos = [(io.BytesIO(padded_jpeg(700 * 1024, (10 * n, 60, 200))), f"{n}.jpg") for n in range(2)]
    response = _browser_post(client, f"/walks/{walk_id}/findings/new", _finding_post(category_id(), photos))
    assert response.status_code == 413
    page = _assert_form_kept(response, "Det du skickade är för stort")
    assert "högst 10 foton på högst 20 MB vardera per fynd" in _photo_field_error(page)
    assert 'name="csrf_token"' in page or not csrf  # a fresh token, so the form can be sent again
    _nothing_written(app)


def test_too_large_capture_post_as_json(app, client, guest, make_walk, category_id, monkeypatch):
    """The enhanced form keeps its fields itself, but needs the refusal as JSON to show it."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    walk_id = make_walk()
    guest(walk_id)
    response = _browser_post(
        client,
        f"/walks/{walk_id}/findings/new",
        _finding_post(category_id(), [(io.BytesIO(padded_jpeg(1200 * 1024)), "a.jpg")]),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413
    error = response.json["error"]
    assert "Det du skickade är för stort" in error["message"]
    assert "Det du skickade är för stort" in error["fields"]["photos"][0]


def test_decode_budget_refuses_the_finding_with_the_text_kept(app, client, guest, make_walk, category_id, monkeypatch):
    """The photos of one request decode at most PHOTO_DECODE_BUDGET_PIXELS together."""
    monkeypatch.setitem(app.config, "PHOTO_DECODE_BUDGET_PIXELS", 25_000)
    walk_id = make_walk()
    guest(walk_id)
    photos = []
    for n in range(3):  # 10 000 pixels each: the third is over the budget
        out = io.BytesIO()
        Image.new("RGB", (100, 100), (80 * n, 0, 0)).save(out, "PNG")
        photos.append((io.BytesIO(out.getvalue()), f"{n}.png"))
    response = post_multipart(client, f"/walks/{walk_id}/findings/new", _finding_post(category_id(), photos))
    assert response.status_code == 413
    page = _assert_form_kept(response, "Fotona är tillsammans för stora")
    assert "stoppade vid 2.png" in _photo_field_error(page)
    _nothing_written(app)


def test_ten_tiny_49_megapixel_pngs_are_refused_without_decoding(
    app, client, guest, make_walk, category_id, monkeypatch
):
    """Issue 9.13: ten such files in one form cost 19 s of server time; now none is decoded."""
    from PIL import ImageFile

    from tests.test_photos import png_bytes

    walk_id = make_walk()
    guest(walk_id)
    data = png_bytes(7000, 7000)

    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    photos = [(io.BytesIO(data), f"{n}.png") for n in range(10)]
    response = post_multipart(client, f"/walks/{walk_id}/findings/new", _finding_post(category_id(), photos))
    assert response.status_code == 422
    page = _assert_form_kept(response, "för många bildpunkter för PNG- eller WebP-format (högst 24 megapixel)")
    assert "0.png" in _photo_field_error(page)
    _nothing_written(app)


def test_far_too_large_capture_post_is_read_only_so_far(app, client, guest, make_walk, category_id, monkeypatch):
    """Reading a refused body stops at twice the limit: the text before the photos is still recovered."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    walk_id = make_walk()
    guest(walk_id)
    photos = [(io.BytesIO(padded_jpeg(700 * 1024, (10 * n, 60, 200))), f"{n}.jpg") for n in range(2)]
    response = _browser_post(client, f"/walks/{walk_id}/findings/new", _finding_post(category_id(), photos))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Mörk gångtunnel, två lampor trasiga &lt;b&gt;nu&lt;/b&gt;" in page
    assert 'id="severity-high" value="high" checked' in page
    assert 'value="Tunneln"' not in page  # sent after 1.4 MB of photos: never read
    _nothing_written(app)


def test_a_large_json_body_is_refused_before_it_is_read(app, client, auth, make_walk, category_id):
    """The request limit fits ten photos (about 200 MB); a JSON body gets the text limit instead."""
    auth.login()
    walk_id = make_walk()
    body = json.dumps({"category_id": category_id(), "description": "x" * (3 * 1024 * 1024)})
    response = client.post(f"/api/v1/walks/{walk_id}/findings", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "för stort" in response.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Finding.id))) == 0
