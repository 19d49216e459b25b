"""Server time of hostile photo posts (issue 9.13): ten tiny 49 MP PNGs, ten 24 MP PNGs, ten thin JPEGs.

Posts each set to the real capture route (test client, temporary SQLite) and prints the wall time
and status. A measurement to run by hand (`python bench/photo_bombs.py`), not a timed test.
"""

import io
import struct
import sys
import tempfile
import time
import zlib
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def png_bytes(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG of any declared size, a few kB on disk."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def thin_jpeg(size: tuple[int, int]) -> bytes:
    """A flat greyscale JPEG of the given (extreme) shape."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", size, 120).save(out, "JPEG")
    return out.getvalue()


def main() -> None:
    """Post each hostile set once and print what it cost."""
    from fieldwalk import create_app
    from fieldwalk.extensions import db
    from fieldwalk.models import Category, Role, Walk, WalkStatus
    from fieldwalk.seed import create_user, ensure_reference_data

    base = Path(tempfile.mkdtemp(prefix="fieldwalk-bombs-"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'bench.sqlite'}",
            "PHOTO_DIR": str(base / "photos"),
            "MAIL_OUTBOX": str(base / "outbox"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        ensure_reference_data()
        create_user("bench@example.com", "Bench", "bench password 1", Role.COORDINATOR)
        walk = Walk(title="Bench", area="Centrum", starts_at=datetime(2026, 11, 24, 17, 0), status=WalkStatus.ONGOING)
        db.session.add(walk)
        db.session.commit()
        walk_id, category = walk.id, db.session.scalar(db.select(Category.id))
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.com", "password": "bench password 1"})

    cases = {
        "ten 49 MP PNGs": [png_bytes(7000, 7000)] * 10,
        "ten 24 MP PNGs": [png_bytes(6000, 4000)] * 10,
        "thin JPEGs 16000x4, 6400x3, 4x16000": [thin_jpeg(s) for s in ((16000, 4), (6400, 3), (4, 16000))],
    }
    print(f"{'case':40} {'bytes':>8} {'status':>6} {'seconds':>8}")
    for name, files in cases.items():
        data = {
            "category": category,
            "description": "bench",
            "photos": [(io.BytesIO(f), f"{n}.png") for n, f in enumerate(files)],
        }
        started = time.perf_counter()
        response = client.post(f"/walks/{walk_id}/findings/new", data=data)
        elapsed = time.perf_counter() - started
        print(f"{name:40} {sum(map(len, files)):>8} {response.status_code:>6} {elapsed:>8.2f}")


if __name__ == "__main__":
    main()
