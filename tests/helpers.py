"""Test helpers: real JPEGs with EXIF made by Pillow, and a look into the photo folder."""

import io
from pathlib import Path

from PIL import Image


def jpeg_bytes(size=(3000, 2000), orientation: int | None = None, gps: tuple | None = None,
               quality: int = 90) -> bytes:
    """A real JPEG with a red top-left quadrant, optional EXIF orientation and GPS (lat, lon)."""
    img = Image.new("RGB", size, (30, 60, 200))
    img.paste((220, 20, 20), (0, 0, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        lat, lon = gps
        ifd = exif.get_ifd(0x8825)
        ifd[1] = "N" if lat >= 0 else "S"
        ifd[2] = _dms(abs(lat))
        ifd[3] = "E" if lon >= 0 else "W"
        ifd[4] = _dms(abs(lon))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    return (float(d), float(m), round(((value - d) * 60 - m) * 60, 4))


def stored_files(app) -> list:
    """Every photo file in the test's photo folder."""
    root = Path(app.config["PHOTO_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []



def post_multipart(client, url: str, data: dict):
    """POST a large multipart body and close the temporary file werkzeug's test client spools it to."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path=url, method="POST", data=data)
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
