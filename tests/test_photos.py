"""Tests for fieldwalk.photos: real images built with Pillow, no fixture files."""

import hashlib
import io
import os
import pickle
import random
import struct
import time
import warnings
import zlib
from datetime import datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFile, ImageOps, JpegImagePlugin, TiffImagePlugin

from fieldwalk.photos import pipeline as photos
from fieldwalk.photos.pipeline import DecodeBudget, PhotoError, PhotoLimits, ProcessedPhoto, process_photo

R = TiffImagePlugin.IFDRational
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# ---------------------------------------------------------------- builders


def make_exif(
    orientation: int | None = None,
    gps: tuple[str, tuple, str, tuple] | None = None,
    taken: str | None = None,
) -> Image.Exif:
    """EXIF with optional orientation, GPS IFD (refs + DMS rationals) and DateTimeOriginal."""
    exif = Image.Exif()
    exif[0x010F] = "TestMaker"
    exif[0x0110] = "TestPhone 1"
    if orientation is not None:
        exif[0x0112] = orientation
    if gps is not None:
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2], ifd[3], ifd[4] = gps
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    return exif


def quadrants(size: tuple[int, int]) -> Image.Image:
    """Top-left red, top-right green, bottom-left blue, bottom-right white."""
    w, h = size
    im = Image.new("RGB", size, WHITE)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, w // 2 - 1, h // 2 - 1), fill=RED)
    draw.rectangle((w // 2, 0, w - 1, h // 2 - 1), fill=GREEN)
    draw.rectangle((0, h // 2, w // 2 - 1, h - 1), fill=BLUE)
    return im


def encode(im: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    """Save an image to bytes."""
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    """Open and fully load image bytes."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def quadrant_colours(im: Image.Image) -> tuple[tuple[int, ...], ...]:
    """Colours at the centres of the four quadrants: TL, TR, BL, BR."""
    w, h = im.size
    points = (
        (w // 4, h // 4),
        (3 * w // 4, h // 4),
        (w // 4, 3 * h // 4),
        (3 * w // 4, 3 * h // 4),
    )
    return tuple(im.convert("RGB").getpixel(p) for p in points)


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    """Colours equal within JPEG tolerance."""
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def png_bytes(width: int, height: int) -> bytes:
    """A valid all-black 1-bit greyscale PNG, built without ever holding width*height pixels."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def icc_profile(red_xyz, green_xyz, blue_xyz) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile with the given D50 colorants."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(v) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(c) for c in v)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    text = b"fieldwalk test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz(red_xyz)),
        (b"gXYZ", xyz(green_xyz)),
        (b"bXYZ", xyz(blue_xyz)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


# sRGB primaries adapted to D50, as in every sRGB ICC profile.
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    """4032x3024 JPEG, quadrant pattern, orientation 6, GPS in the southern/western hemisphere."""
    exif = make_exif(
        orientation=6,
        gps=("S", (R(33), R(51), R(5436, 100)), "W", (R(70), R(40), R(3, 2))),
        taken="2026:11:20 18:42:07",
    )
    return encode(quadrants((4032, 3024)), quality=92, exif=exif)


# ---------------------------------------------------------------- the phone photo


def test_phone_photo_is_upright_downscaled_and_stripped(phone_photo: bytes) -> None:
    result = process_photo(phone_photo)
    out = decode(result.image)

    # Orientation 6 means "rotate 90 degrees clockwise to view": dimensions swap, and the
    # stored top-left (red) ends up top-right, stored bottom-left (blue) top-left.
    assert (result.width, result.height) == out.size == (1512, 2016)
    tl, tr, bl, br = quadrant_colours(out)
    assert close(tl, BLUE) and close(tr, RED) and close(bl, WHITE) and close(br, GREEN)

    assert 1600 <= max(out.size) <= 2048
    assert out.format == "JPEG" and out.mode == "RGB"
    assert result.content_type == "image/jpeg"

    # The GPS position and the phone model must not travel with the stored file.
    assert not out.getexif() and not out.getexif().get_ifd(0x8825)
    assert "exif" not in out.info and b"Exif\x00\x00" not in result.image
    assert b"TestPhone" not in result.image and b"TestPhone" not in result.thumbnail


def test_phone_photo_metadata(phone_photo: bytes) -> None:
    result = process_photo(phone_photo)
    assert result.gps == pytest.approx((-(33 + 51 / 60 + 54.36 / 3600), -(70 + 40 / 60 + 1.5 / 3600)))
    assert result.taken_at == datetime(2026, 11, 20, 18, 42, 7)
    assert result.source_sha256 == hashlib.sha256(phone_photo).hexdigest()
    assert result.sha256 == hashlib.sha256(result.image).hexdigest()


def test_draft_decodes_at_half_scale(phone_photo: bytes, monkeypatch) -> None:
    # Without draft the 4032 px side would be LANCZOS-resized to max_long_side, 2048.
    calls = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    result = process_photo(phone_photo)
    assert (result.width, result.height) == (1512, 2016)
    assert calls and calls[-1][1] == (2016, 1512)


def test_thumbnail_is_made_from_the_normalized_image(phone_photo: bytes, monkeypatch) -> None:
    sources = []
    real_resize = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        sources.append((self.size, tuple(size)))
        return real_resize(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    result = process_photo(phone_photo)
    assert (result.thumb_width, result.thumb_height) == (300, 400)
    assert ((result.width, result.height), (300, 400)) in sources
    thumb = decode(result.thumbnail)
    assert thumb.size == (300, 400) and thumb.format == "JPEG"
    tl, tr, bl, br = quadrant_colours(thumb)
    assert close(tl, BLUE) and close(tr, RED) and close(bl, WHITE) and close(br, GREEN)


@pytest.mark.parametrize(
    ("orientation", "with_icc"),
    [(1, False), (3, True), (6, False)],
    ids=["untouched-pixels", "rotated-with-icc", "rotated"],
)
def test_output_carries_no_metadata(orientation: int, with_icc: bool) -> None:
    exif = make_exif(
        orientation=orientation,
        gps=("N", (R(59), R(20), R(0)), "E", (R(18), R(3), R(0))),
        taken="2026:01:02 03:04:05",
    )
    extra = {"icc_profile": icc_profile(SRGB_RED, SRGB_GREEN, SRGB_BLUE)} if with_icc else {}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    source = encode(quadrants((800, 600)), exif=exif, comment=b"secret comment", xmp=xmp, **extra)
    src = decode(source)
    assert {"exif", "comment", "xmp"} <= set(src.info)  # the test input has it all

    result = process_photo(source)
    assert result.gps is not None  # read before stripping
    for blob in (result.image, result.thumbnail):
        out = decode(blob)
        assert not out.getexif()
        assert not out.getexif().get_ifd(0x8825)
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(out.info)
        for marker in (
            b"Exif\x00\x00",
            b"ICC_PROFILE",
            b"secret comment",
            b"adobe:ns:meta",
            b"TestMaker",
        ):
            assert marker not in blob


# ---------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(orientation: int) -> None:
    source_image = quadrants((640, 480))
    source = encode(source_image, quality=95, exif=make_exif(orientation=orientation))
    expected = ImageOps.exif_transpose(decode(source))  # Pillow's reference implementation

    out = decode(process_photo(source).image)
    assert out.size == expected.size
    got, want = quadrant_colours(out), quadrant_colours(expected)
    assert all(close(g, w) for g, w in zip(got, want, strict=True)), (got, want)
    if orientation >= 5:
        assert out.size == (480, 640)


def test_orientation_8_explicitly() -> None:
    # Independent of Pillow's exif_transpose: 8 = rotate 90 degrees counter-clockwise to view,
    # so the stored top-right (green) becomes top-left and top-left (red) bottom-left.
    out = decode(process_photo(encode(quadrants((640, 480)), exif=make_exif(orientation=8))).image)
    tl, tr, bl, br = quadrant_colours(out)
    assert close(tl, GREEN) and close(tr, WHITE) and close(bl, RED) and close(br, BLUE)


# ---------------------------------------------------------------- GPS and time


@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        (
            ("N", (R(59), R(19), R(3)), "E", (R(18), R(4), R(12))),
            (59 + 19 / 60 + 3 / 3600, 18 + 4 / 60 + 12 / 3600),
        ),
        (
            ("S", (R(33), R(51), R(54)), "W", (R(151), R(12), R(30))),
            (-(33 + 51 / 60 + 54 / 3600), -(151 + 12 / 60 + 30 / 3600)),
        ),
        (
            ("N", (R(40), R(26), R(46)), "W", (R(79), R(58), R(56))),
            (40 + 26 / 60 + 46 / 3600, -(79 + 58 / 60 + 56 / 3600)),
        ),
        (("S", (R(1), R(0), R(0)), "E", (R(36), R(49), R(0))), (-1.0, 36 + 49 / 60)),
        (("N", (R(5935, 100), R(0), R(0)), "E", (R(1805, 100), R(0), R(0))), (59.35, 18.05)),
    ],
)
def test_gps_is_parsed_with_hemispheres(gps, expected) -> None:
    source = encode(Image.new("RGB", (64, 48), RED), exif=make_exif(gps=gps))
    assert process_photo(source).gps == pytest.approx(expected)


@pytest.mark.parametrize(
    "gps",
    [
        pytest.param(("", (R(59), R(0), R(0)), "E", (R(18), R(0), R(0))), id="missing-lat-ref"),
        pytest.param(("N", (R(59), R(0), R(0)), "X", (R(18), R(0), R(0))), id="bogus-lon-ref"),
        pytest.param(("N", (R(1, 0), R(0), R(0)), "E", (R(18), R(0), R(0))), id="zero-denominator"),
        pytest.param(("N", (R(91), R(0), R(0)), "E", (R(18), R(0), R(0))), id="latitude-over-90"),
        pytest.param(("N", (R(0), R(0), R(0)), "E", (R(0), R(0), R(0))), id="null-island"),
    ],
)
def test_implausible_gps_is_dropped(gps) -> None:
    source = encode(Image.new("RGB", (64, 48), RED), exif=make_exif(gps=gps))
    assert process_photo(source).gps is None


def test_no_exif_means_no_gps_and_no_time() -> None:
    result = process_photo(encode(Image.new("RGB", (64, 48), RED)))
    assert result.gps is None and result.taken_at is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026:11:23 07:08:09", datetime(2026, 11, 23, 7, 8, 9)),
        ("0000:00:00 00:00:00", None),
        ("    :  :     :  :  ", None),
        ("2026:13:01 00:00:00", None),
    ],
)
def test_taken_at(raw: str, expected: datetime | None) -> None:
    source = encode(Image.new("RGB", (64, 48), RED), exif=make_exif(taken=raw))
    assert process_photo(source).taken_at == expected


def test_corrupt_exif_does_not_reject_the_photo() -> None:
    good = encode(Image.new("RGB", (64, 48), RED))
    bad_tiff = b"MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x00" * 10  # claims 65535 entries
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(bad_tiff)) + b"Exif\x00\x00" + bad_tiff
    result = process_photo(good[:2] + app1 + good[2:])
    assert result.gps is None and (result.width, result.height) == (64, 48)


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("source_size", "expected"),
    [
        pytest.param((4032, 3024), (2016, 1512), id="12MP-draft-half"),
        pytest.param((4000, 3000), (2000, 1500), id="samsung-12MP-draft-half"),
        pytest.param((6000, 4000), (2048, 1365), id="draft-half-then-resize"),
        pytest.param((13000, 1000), (2048, 158), id="panorama-draft-quarter-then-resize"),
        pytest.param((8000, 6000), (2048, 1536), id="48MP-draft-half-then-resize"),
        pytest.param((2400, 1800), (2048, 1536), id="2400-no-draft-resize"),
        pytest.param((3000, 2000), (2048, 1365), id="no-draft-resize"),
        pytest.param((3300, 2000), (1650, 1000), id="draft-half-in-range"),
        pytest.param((2048, 1536), (2048, 1536), id="exactly-max-untouched"),
        pytest.param((1200, 900), (1200, 900), id="small-not-upscaled"),
    ],
)
def test_output_size(source_size, expected) -> None:
    # Flat content keeps encoding fast; the sizes are what is under test.
    result = process_photo(encode(Image.new("RGB", source_size, (90, 140, 200)), quality=80))
    assert (result.width, result.height) == expected == decode(result.image).size
    thumb_long = max(result.thumb_width, result.thumb_height)
    assert thumb_long == min(400, max(expected))
    assert decode(result.thumbnail).size == (result.thumb_width, result.thumb_height)


def test_tiny_image_thumbnail_is_not_upscaled() -> None:
    result = process_photo(encode(Image.new("RGB", (120, 80), RED), "PNG"))
    assert (result.width, result.height) == (120, 80)
    assert (result.thumb_width, result.thumb_height) == (120, 80)


def test_large_png_is_resized_to_max_long_side() -> None:
    result = process_photo(encode(quadrants((2600, 1300)), "PNG"))
    assert (result.width, result.height) == (2048, 1024)
    tl, tr, bl, br = quadrant_colours(decode(result.image))
    assert close(tl, RED) and close(tr, GREEN) and close(bl, BLUE) and close(br, WHITE)


# ---------------------------------------------------------------- formats and modes


def test_png_with_alpha_is_flattened_onto_white() -> None:
    im = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 99, 99), fill=(0, 0, 255, 255))
    out = decode(process_photo(encode(im, "PNG")).image)
    assert out.mode == "RGB"
    assert close(out.getpixel((50, 50)), BLUE)
    assert close(out.getpixel((150, 50)), WHITE)  # transparent -> white, not black


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda: Image.new("LA", (80, 60), (0, 0)), WHITE, id="LA-transparent"),
        pytest.param(lambda: Image.new("LA", (80, 60), (0, 255)), (0, 0, 0), id="LA-opaque"),
        pytest.param(lambda: Image.new("L", (80, 60), 128), (128, 128, 128), id="L"),
        pytest.param(lambda: Image.new("I;16", (80, 60), 32768), (128, 128, 128), id="16-bit-grey"),
        pytest.param(lambda: Image.new("RGB", (80, 60), GREEN), GREEN, id="RGB"),
    ],
)
def test_png_modes_become_rgb(make, expected) -> None:
    out = decode(process_photo(encode(make(), "PNG")).image)
    assert out.mode == "RGB" and close(out.getpixel((40, 30)), expected), out.getpixel((40, 30))


def test_rgb_png_with_colour_key_transparency() -> None:
    im = Image.new("RGB", (80, 60), (0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 39, 59), fill=RED)
    out = decode(process_photo(encode(im, "PNG", transparency=(0, 0, 0))).image)
    assert close(out.getpixel((10, 30)), RED)
    assert close(out.getpixel((70, 30)), WHITE)


def test_palette_png_with_transparency() -> None:
    im = Image.new("P", (80, 60), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    ImageDraw.Draw(im).rectangle((0, 0, 39, 59), fill=1)
    out = decode(process_photo(encode(im, "PNG", transparency=0)).image)
    assert close(out.getpixel((10, 30)), RED)
    assert close(out.getpixel((70, 30)), WHITE)


def test_cmyk_jpeg_becomes_rgb() -> None:
    out = decode(process_photo(encode(Image.new("CMYK", (80, 60), (0, 255, 255, 0)))).image)
    assert out.mode == "RGB" and close(out.getpixel((40, 30)), RED, tolerance=20)


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_is_accepted(lossless: bool) -> None:
    source = encode(quadrants((1000, 700)), "WEBP", lossless=lossless, quality=90)
    result = process_photo(source)
    out = decode(result.image)
    assert out.format == "JPEG" and out.size == (1000, 700)
    tl, tr, bl, br = quadrant_colours(out)
    assert close(tl, RED) and close(tr, GREEN) and close(bl, BLUE) and close(br, WHITE)


def test_webp_exif_orientation_and_gps() -> None:
    exif = make_exif(orientation=6, gps=("N", (R(59), R(0), R(0)), "E", (R(18), R(0), R(0))))
    result = process_photo(encode(quadrants((400, 300)), "WEBP", exif=exif, quality=95))
    assert (result.width, result.height) == (300, 400)
    assert result.gps == pytest.approx((59.0, 18.0))


def test_multi_picture_jpeg_is_accepted() -> None:
    source = encode(
        Image.new("RGB", (300, 200), BLUE),
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", (300, 200), (255, 255, 0))],
    )
    assert Image.open(io.BytesIO(source)).format == "MPO"
    out = decode(process_photo(source).image)
    assert out.size == (300, 200) and close(out.getpixel((10, 10)), BLUE)


def test_wide_gamut_profile_is_converted_to_srgb() -> None:
    pytest.importorskip("PIL.ImageCms")
    # A profile whose "red" primary is sRGB green (and vice versa): colour management must
    # turn stored (255, 0, 0) into green, proving the pixels were converted before the
    # profile was dropped.
    swapped = icc_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE)
    source = encode(Image.new("RGB", (64, 48), RED), icc_profile=swapped, quality=95)
    out = decode(process_photo(source).image)
    assert "icc_profile" not in out.info
    assert close(out.getpixel((32, 24)), GREEN, tolerance=25), out.getpixel((32, 24))


def test_srgb_profile_keeps_colours() -> None:
    pytest.importorskip("PIL.ImageCms")
    source = encode(Image.new("RGB", (64, 48), RED), icc_profile=icc_profile(SRGB_RED, SRGB_GREEN, SRGB_BLUE))
    out = decode(process_photo(source).image)
    assert close(out.getpixel((32, 24)), RED, tolerance=20), out.getpixel((32, 24))


@pytest.mark.skipif(photos.HEIF_SUPPORTED, reason="pillow_heif installed: HEIC is accepted")
def test_heic_without_pillow_heif_is_unsupported() -> None:
    fake_heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    with pytest.raises(PhotoError) as info:
        process_photo(fake_heic)
    assert info.value.code == "unsupported_format"


# ---------------------------------------------------------------- rejections


def code_of(data: bytes, limits: PhotoLimits | None = None) -> str:
    """The PhotoError code process_photo raises for data."""
    with pytest.raises(PhotoError) as info:
        process_photo(data, limits or PhotoLimits())
    assert str(info.value).startswith(info.value.code)
    return info.value.code


def test_empty() -> None:
    assert code_of(b"") == "empty"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(
            b"Hej! Det h\xc3\xa4r \xc3\xa4r ingen bild, bara text i photo.jpg\n" * 20,
            "not_image",
            id="text",
        ),
        pytest.param(
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 5,
            "not_image",
            id="pdf",
        ),
        pytest.param(b'{"photo": "no"}', "not_image", id="json"),
        pytest.param(b"\x00" * 4096, "not_image", id="zeros"),
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "unsupported_format",
            id="svg",
        ),
    ],
)
def test_non_images_are_refused(data: bytes, code: str) -> None:
    assert code_of(data) == code


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    assert code_of(encode(Image.new("RGB", (64, 64), RED), fmt)) == "unsupported_format"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.95])
def test_truncated_files(fmt: str, fraction: float) -> None:
    rng = random.Random(7)
    noisy = Image.frombytes("RGB", (300, 200), rng.randbytes(300 * 200 * 3))
    data = encode(noisy, fmt)
    assert code_of(data[: max(16, int(len(data) * fraction))]) == "truncated"


def test_jpeg_cut_in_half(phone_photo: bytes) -> None:
    assert code_of(phone_photo[: len(phone_photo) // 2]) == "truncated"


def test_too_large_by_limit_boundary() -> None:
    data = encode(Image.new("RGB", (64, 48), RED))
    assert process_photo(data, PhotoLimits(max_bytes=len(data))).width == 64
    assert code_of(data, PhotoLimits(max_bytes=len(data) - 1)) == "too_large"


def test_too_large_default_limit_is_checked_before_parsing() -> None:
    # 20 MiB + 1 byte that starts like a JPEG: refused on length alone.
    data = b"\xff\xd8\xff\xe0" + b"\x00" * (20 * 1024 * 1024 - 3)
    assert code_of(data) == "too_large"


def test_too_many_pixels_by_custom_limit(phone_photo: bytes) -> None:
    assert code_of(phone_photo, PhotoLimits(max_pixels=4032 * 3024 - 1)) == "too_many_pixels"
    assert process_photo(phone_photo, PhotoLimits(max_pixels=4032 * 3024)).width == 1512


def test_gigantic_png_is_refused_without_decoding(monkeypatch) -> None:
    data = png_bytes(20000, 20000)
    assert len(data) < 200_000  # tiny on disk, 400 megapixels when decoded

    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    started = time.perf_counter()
    assert code_of(data) == "too_many_pixels"
    assert time.perf_counter() - started < 1.0


def test_pillow_bomb_warning_is_an_error_locally_only() -> None:
    # 90 megapixels is between Pillow's warning and error thresholds; with our own limit
    # raised above it, only the escalated DecompressionBombWarning can refuse it.
    assert Image.MAX_IMAGE_PIXELS < 10_000 * 9_000 < 2 * Image.MAX_IMAGE_PIXELS
    data = png_bytes(10_000, 9_000)
    with warnings.catch_warnings():
        # Like production, where the warning is just printed (pytest would escalate it).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        filters_before = list(warnings.filters)
        max_before = Image.MAX_IMAGE_PIXELS
        assert code_of(data, PhotoLimits(max_pixels=200_000_000)) == "too_many_pixels"
        assert warnings.filters == filters_before
        assert Image.MAX_IMAGE_PIXELS == max_before


def test_huge_webp_canvas_is_refused_before_opening(monkeypatch) -> None:
    data = bytearray(encode(Image.new("RGB", (64, 48), RED), "WEBP", exif=make_exif(orientation=1)))
    assert data[12:16] == b"VP8X"
    data[24:27] = (16000 - 1).to_bytes(3, "little")
    data[27:30] = (16000 - 1).to_bytes(3, "little")
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Image.open was called"))
    assert code_of(bytes(data)) == "too_many_pixels"


def test_small_webp_over_custom_pixel_limit() -> None:
    data = encode(Image.new("RGB", (100, 100), RED), "WEBP", lossless=True)
    assert code_of(data, PhotoLimits(max_pixels=9_999)) == "too_many_pixels"


def test_mutated_files_never_escape_as_other_exceptions() -> None:
    # Whatever garbage arrives, the web layer must get a ProcessedPhoto or a PhotoError.
    rng = random.Random(20261123)
    outcomes = set()
    for fmt in ("JPEG", "PNG", "WEBP"):
        source = encode(Image.frombytes("RGB", (96, 64), rng.randbytes(96 * 64 * 3)), fmt)
        for _ in range(60):
            mutated = bytearray(source)
            for _ in range(rng.randrange(1, 6)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            try:
                process_photo(bytes(mutated))
                outcomes.add("ok")
            except PhotoError as error:
                outcomes.add(error.code)
    assert "truncated" in outcomes and "ok" in outcomes


# ---------------------------------------------------------------- contract


def test_deterministic(phone_photo: bytes) -> None:
    first, second = process_photo(phone_photo), process_photo(phone_photo)
    assert first == second
    assert first.image == second.image and first.thumbnail == second.thumbnail


def test_result_is_frozen() -> None:
    result = process_photo(encode(Image.new("RGB", (64, 48), RED)))
    assert isinstance(result, ProcessedPhoto)
    with pytest.raises(AttributeError):
        result.width = 1  # type: ignore[misc]


def test_photo_error_contract() -> None:
    error = PhotoError("truncated", "cut at 50%")
    assert error.code == "truncated" and error.detail == "cut at 50%"
    assert str(error) == "truncated: cut at 50%" and str(PhotoError("empty")) == "empty"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.detail) == ("truncated", "cut at 50%")
    with pytest.raises(ValueError):
        PhotoError("no_such_code")
    assert photos.ERROR_CODES == {
        "empty",
        "too_large",
        "not_image",
        "unsupported_format",
        "truncated",
        "too_many_pixels",
        "too_many_pixels_full_decode",
        "decode_budget",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_long_side": 3000},
        {"max_bytes": 0},
        {"max_pixels": 0},
        {"quality": 0},
        {"thumb_long_side": 0},
    ],
)
def test_invalid_limits(kwargs) -> None:
    with pytest.raises(ValueError):
        PhotoLimits(**kwargs)


# ---------------------------------------------------------------- thin, huge and costly photos


def strip_jpeg(size: tuple[int, int], fmt: str = "JPEG", **params) -> bytes:
    """A flat JPEG (or MPO) of any size, down to one pixel per side."""
    im = Image.new("L", size, 120)
    if fmt == "MPO":
        params = {"save_all": True, "append_images": [im.copy()], **params}
    return encode(im, fmt, **params)


@pytest.mark.parametrize("size", [(16000, 4), (6400, 3), (4, 16000), (20000, 1), (1, 20000)])
@pytest.mark.parametrize("kind", ["baseline", "progressive", "mpo"])
def test_thin_jpegs_are_accepted(size: tuple[int, int], kind: str) -> None:
    """Issue 9.13: draft() divided by zero on a side shorter than the draft scale (a 500)."""
    params = {"progressive": True} if kind == "progressive" else {}
    data = strip_jpeg(size, "MPO" if kind == "mpo" else "JPEG", **params)
    result = process_photo(data)
    out = decode(result.image)
    assert out.size == (result.width, result.height)
    assert max(out.size) == 2048 and min(out.size) == 1
    assert (out.width > out.height) == (size[0] > size[1])
    assert decode(result.thumbnail).size == (result.thumb_width, result.thumb_height)
    assert max(result.thumb_width, result.thumb_height) == 400


def test_fifty_megapixel_jpeg_is_drafted_and_cheap_in_budget() -> None:
    data = strip_jpeg((20000, 2500))
    budget = DecodeBudget(50_000_000)
    result = process_photo(data, budget=budget)
    assert (result.width, result.height) == (2048, 256)
    # Decoded at 1/8 scale: 2500x313 pixels, not 50 million.
    assert 50_000_000 - budget.remaining == 2500 * 313


def test_progressive_jpeg_costs_its_full_size() -> None:
    # libjpeg entropy-decodes every coefficient of a progressive file even when drafting.
    budget = DecodeBudget(100_000_000)
    process_photo(strip_jpeg((4000, 3000)), budget=budget)
    baseline_cost = 100_000_000 - budget.remaining
    assert baseline_cost == 2000 * 1500
    process_photo(strip_jpeg((4000, 3000), progressive=True), budget=budget)
    assert 100_000_000 - budget.remaining - baseline_cost == 4000 * 3000


@pytest.mark.parametrize("size", [(20000, 1), (1, 20000), (16000, 4)])
def test_thin_png_is_accepted(size: tuple[int, int]) -> None:
    result = process_photo(png_bytes(*size))
    assert max(result.width, result.height) == 2048 and min(result.width, result.height) == 1


def test_thin_webp_is_accepted() -> None:
    result = process_photo(encode(Image.new("RGB", (16383, 2), RED), "WEBP", lossless=True))
    assert (result.width, result.height) == (2048, 1)


def test_tiny_49_megapixel_png_is_refused_without_decoding(monkeypatch) -> None:
    """Issue 9.13: a 134-byte-class PNG declaring 49 MP was decoded at full size (~2 s each)."""
    data = png_bytes(7000, 7000)
    assert len(data) < 10_000

    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert code_of(data) == "too_many_pixels_full_decode"


def test_jpeg_of_the_same_size_is_accepted() -> None:
    # JPEG keeps the higher limit: libjpeg decodes it at 1/2 scale (3500 px), resampled to max_long_side.
    assert process_photo(strip_jpeg((7000, 7000))).width == 2048


def test_full_decode_limit_boundary() -> None:
    data = png_bytes(100, 100)
    assert process_photo(data, PhotoLimits(max_pixels_full_decode=10_000)).width == 100
    assert code_of(data, PhotoLimits(max_pixels_full_decode=9_999)) == "too_many_pixels_full_decode"
    jpeg = strip_jpeg((100, 100))
    assert process_photo(jpeg, PhotoLimits(max_pixels_full_decode=9_999)).width == 100


def test_webp_over_full_decode_limit_is_refused_before_opening(monkeypatch) -> None:
    data = bytearray(encode(Image.new("RGB", (64, 48), RED), "WEBP", exif=make_exif(orientation=1)))
    assert data[12:16] == b"VP8X"
    data[24:27] = (6000 - 1).to_bytes(3, "little")
    data[27:30] = (5000 - 1).to_bytes(3, "little")  # 30 MP: under 50, over 24
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Image.open was called"))
    assert code_of(bytes(data)) == "too_many_pixels_full_decode"
    budget = DecodeBudget(1000)
    data[24:27], data[27:30] = (99).to_bytes(3, "little"), (99).to_bytes(3, "little")
    with pytest.raises(PhotoError) as info:
        process_photo(bytes(data), budget=budget)
    assert info.value.code == "decode_budget" and budget.remaining == 1000


def test_decode_budget_is_shared_and_a_refusal_takes_nothing() -> None:
    budget = DecodeBudget(25_000)
    png = encode(Image.new("RGB", (100, 100), RED), "PNG")
    process_photo(png, budget=budget)
    process_photo(png, budget=budget)
    assert budget.remaining == 5_000
    with pytest.raises(PhotoError) as info:
        process_photo(png, budget=budget)
    assert info.value.code == "decode_budget" and budget.remaining == 5_000
    with pytest.raises(ValueError):
        DecodeBudget(-1)


# Which source modes each format can store; Pillow converts the others when saving WebP.
FORMAT_MODES = {
    "JPEG": ("1", "L", "RGB", "CMYK"),
    "JPEG-progressive": ("1", "L", "RGB", "CMYK"),
    "MPO": ("1", "L", "RGB"),
    "PNG": ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"),
    "WEBP": ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"),
}
# Modes whose colours survive to the output so the quadrants can be compared (a 1-bit image is
# dithered noise, and 16-bit grey is rescaled by design).
COLOUR_CHECKED_MODES = {"L", "LA", "P", "RGB", "RGBA", "CMYK"}
# Generated images stay below this many pixels so the property test is fast; the huge and thin
# cases above are explicit.
GENERATED_PIXELS = 120_000
PROPERTY_EXAMPLES = int(os.environ.get("FIELDWALK_PHOTO_EXAMPLES", "100"))


def any_quadrants(size: tuple[int, int], mode: str) -> Image.Image:
    """The quadrant pattern at any size (a 1-pixel side included), in the given mode."""
    w, h = size
    im = Image.new("RGB", size, WHITE)
    im.paste(RED, (0, 0, w // 2, h // 2))
    im.paste(GREEN, (w // 2, 0, w, h // 2))
    im.paste(BLUE, (0, h // 2, w // 2, h))
    if mode == "I;16":
        return im.convert("L").convert("I;16")
    return im.convert(mode)


@st.composite
def photo_inputs(draw):
    """(bytes, format, mode, size, orientation) of a valid image."""
    fmt, mode = draw(st.sampled_from([(f, m) for f, ms in FORMAT_MODES.items() for m in ms]))
    # Hypothesis favours small integers, so the extreme shapes get their own branch: strips of
    # 1 to 16 pixels by up to 20000 (where draft() once divided by zero), any side from 1 to 20000
    # with an other side that keeps the pixel count bounded, and ordinary photo-like shapes.
    shape = draw(st.sampled_from(["strip", "any", "ordinary"]))
    if shape == "strip":
        side = draw(st.one_of(st.integers(1, 20000), st.integers(3000, 20000)))
        other = draw(st.integers(1, 16))
    elif shape == "any":
        side = draw(st.integers(1, 20000))
        other = draw(st.integers(1, max(1, min(20000, GENERATED_PIXELS // side))))
    else:
        side, other = draw(st.integers(1, 400)), draw(st.integers(1, 300))
    size = (side, other) if draw(st.booleans()) else (other, side)
    if fmt == "WEBP":  # the format's maximum
        size = (min(size[0], 16383), min(size[1], 16383))
    orientation = draw(st.sampled_from([None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    params = {} if orientation is None else {"exif": make_exif(orientation=orientation)}
    im = any_quadrants(size, mode)
    if fmt == "JPEG-progressive":
        data = encode(im, "JPEG", progressive=True, **params)
    elif fmt == "MPO":
        data = encode(im, "MPO", save_all=True, append_images=[im.copy()], **params)
    else:
        data = encode(im, fmt, **params)
    return data, fmt, mode, size, orientation


@settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    photo=photo_inputs(),
    # Half the examples run with the default limits; the others with limits of the images' size.
    custom=st.one_of(
        st.none(), st.tuples(*[st.one_of(st.none(), st.integers(low, GENERATED_PIXELS)) for low in (1, 1, 0)])
    ),
)
def test_any_valid_photo_comes_out_upright_and_bounded_or_is_refused_by_a_limit(photo, custom) -> None:
    """Issue 9.13: sizes, modes, formats and orientations give a bounded upright JPEG or a PhotoError."""
    data, fmt, mode, (w, h), orientation = photo
    max_pixels, max_full, budget_pixels = custom or (None, None, None)
    limits = PhotoLimits(
        max_pixels=max_pixels or PhotoLimits.max_pixels,
        max_pixels_full_decode=max_full or PhotoLimits.max_pixels_full_decode,
    )
    budget = DecodeBudget(budget_pixels) if budget_pixels is not None else None
    full_decode = fmt in ("PNG", "WEBP")
    try:
        result = process_photo(data, limits, budget)
    except PhotoError as error:  # anything else fails the test
        event(f"refused: {error.code}")
        # A valid image may only be refused by a limit it really exceeds.
        if error.code == "too_many_pixels":
            assert w * h > limits.max_pixels
        elif error.code == "too_many_pixels_full_decode":
            assert full_decode and w * h > limits.max_pixels_full_decode
        else:
            assert error.code == "decode_budget" and budget is not None
            assert budget.remaining == budget_pixels  # a refusal takes nothing
        return
    event(f"accepted: {fmt}")
    assert w * h <= limits.max_pixels
    assert not full_decode or w * h <= limits.max_pixels_full_decode
    if budget is not None:
        spent = budget_pixels - budget.remaining
        assert 0 < spent <= w * h and (spent == w * h or not full_decode)

    reference = ImageOps.exif_transpose(decode(data))  # Pillow's reading of the orientation
    ew, eh = reference.size
    assert {ew, eh} == {w, h}
    out = decode(result.image)
    assert out.format == "JPEG" and out.mode == "RGB"
    assert out.size == (result.width, result.height)
    assert min(out.size) >= 1
    if max(ew, eh) <= limits.max_long_side:
        assert out.size == (ew, eh)
    else:
        assert limits.min_long_side <= max(out.size) <= limits.max_long_side
        ratio = max(out.size) / max(ew, eh)
        assert abs(out.width - ew * ratio) <= 1.5 and abs(out.height - eh * ratio) <= 1.5
    thumb = decode(result.thumbnail)
    assert thumb.size == (result.thumb_width, result.thumb_height)
    assert max(thumb.size) == min(limits.thumb_long_side, max(out.size))
    assert thumb.width <= out.width and thumb.height <= out.height
    assert not out.getexif() and b"Exif\x00\x00" not in result.image
    if mode in COLOUR_CHECKED_MODES and min(out.size) >= 64:
        got, want = quadrant_colours(out), quadrant_colours(reference.convert("RGB"))
        assert all(close(g, c, tolerance=40) for g, c in zip(got, want, strict=True)), (got, want)
