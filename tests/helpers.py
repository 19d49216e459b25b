"""Test helpers: real JPEGs with EXIF made by Pillow, a look into the photo store, and the app served in
subprocesses (gunicorn, `flask worker`, `flask <command>`) with the environment a deployment gives them; the
served tests and the benchmarks start, wait for and stop their servers only through these."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests
from PIL import Image

from fieldwalk import ROOT


def jpeg_bytes(size=(3000, 2000), orientation: int | None = None, gps: tuple | None = None, quality: int = 90) -> bytes:
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


def stored_files(app) -> list[str]:
    """The key of every object in the test's photo store (its PHOTO_DIR, or its prefix in the S3 bucket)."""
    from fieldwalk.photos.service import photo_store

    with app.app_context():
        return sorted(item.key for item in photo_store().stored())


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


def camera_jpeg(seed: int, gps: tuple[float, float], size=(4000, 3000), quality: int = 92) -> bytes:
    """A 12 MP phone-camera-like JPEG (about 3–4 MB): gradients, hard-edged shapes, texture and sensor grain
    (so it does not compress to nothing), EXIF orientation 6 and GPS. Made like bench/photo_ingest.py's."""
    import random

    from PIL import ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)
    w, h = size
    vertical = Image.linear_gradient("L").resize((w, h), Image.Resampling.BILINEAR)
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90).resize((w, h))
    img = Image.merge(
        "RGB",
        (
            vertical.point(lambda v: 90 + v * 0.5),
            ImageChops.blend(vertical, horizontal, 0.5).point(lambda v: 120 + v * 0.3),
            horizontal.point(lambda v: 200 - v * 0.5),
        ),
    )
    draw = ImageDraw.Draw(img)
    for _ in range(900):
        x, y = rng.randrange(w), rng.randrange(h)
        colour = tuple(rng.randrange(256) for _ in range(3))
        box = (x, y, x + rng.randrange(8, 700), y + rng.randrange(8, 500))
        (draw.rectangle if rng.random() < 0.6 else draw.ellipse)(box, fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(0.8))

    def noise(dims, amplitude):
        raw = Image.frombytes("L", dims, rng.randbytes(dims[0] * dims[1]))
        return raw.point(lambda v: v * amplitude // 256)

    texture = noise((w // 6, h // 6), 48).resize((w, h), Image.Resampling.BICUBIC)
    img = ImageChops.add(img, Image.merge("RGB", (texture,) * 3), offset=-24)
    img = ImageChops.add(img, Image.merge("RGB", [noise((w, h), 14) for _ in range(3)]), offset=-7)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "samsung", "SM-S918B", 6
    lat, lon = gps
    ifd = exif.get_ifd(0x8825)
    ifd[1], ifd[2], ifd[3], ifd[4] = "N", _dms(lat), "E", _dms(lon)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


LOCAL_REDIS = "redis://127.0.0.1:6379/0"  # PING only: tests write nothing there


def need_local_redis() -> None:
    """Skip the test when no Redis answers at 127.0.0.1:6379 (CI has one: there the test fails instead)."""
    import pytest
    import redis

    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis at 127.0.0.1:6379")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def no_control_socket() -> list[str]:
    """Newer gunicorns open a control socket at one fixed path per user; parallel test runs would share it."""
    import gunicorn.config

    return ["--no-control-socket"] if hasattr(gunicorn.config, "ControlSocketDisable") else []


def gunicorn_command() -> list[str]:
    """The gunicorn script next to this Python, as `make serve` runs it (a master started with `python -m
    gunicorn` cannot re-execute itself on SIGUSR2: the package folder would shadow the standard library)."""
    script = Path(sys.executable).with_name("gunicorn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]


def ensure_postgres_database(server_url, name: str) -> None:
    """Create the PostgreSQL database `name` unless it exists, connected through `server_url` (any database
    of that server; CREATE DATABASE refuses a transaction, so in autocommit)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def app_env(
    port: int,
    database_url: str,
    secret_key: str,
    settings: Mapping[str, str | None] | None = None,
    *,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of an app process (gunicorn, `flask worker`, `flask init-db`) as a deployment sets it:
    base (default: this process's environment) with DATABASE_URL, SECRET_KEY, PORT and each setting as
    FIELDWALK_<NAME> (a setting of None: not set). FIELDWALK_BASE_URL is the server's own address unless the
    settings name another BASE_URL (or None)."""
    env = dict(os.environ if base is None else base)
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": secret_key, "PORT": str(port)})
    for name, value in {"BASE_URL": f"http://127.0.0.1:{port}", **(settings or {})}.items():
        if value is None:
            env.pop(f"FIELDWALK_{name}", None)
        else:
            env[f"FIELDWALK_{name}"] = value
    return env


def without_fieldwalk_settings() -> dict[str, str]:
    """This process's environment without any FIELDWALK_* variable (a server configured by its test alone)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("FIELDWALK_")}


def _stop(process: subprocess.Popen, stop_signal: int) -> None:
    """Send the signal and wait 30 s for the process to end; kill it if it has not (a loaded machine): SIGKILL
    always ends it, so nothing is left and nothing is raised."""
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()  # a gunicorn master's workers notice their parent gone and exit
        process.wait()


def _wait_until_healthy(url: str, server: subprocess.Popen, log_path: Path, seconds: float = 60) -> None:
    """Wait until GET url/healthz answers; RuntimeError with the server's log when it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=30).close()
            return
        except requests.RequestException:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.2)


@contextmanager
def gunicorn(env: dict, log_path: Path, *args: str) -> Iterator[subprocess.Popen]:
    """gunicorn started in the repository (so with its gunicorn.conf.py) with the environment and options,
    its output in log_path; waits until /healthz answers on 127.0.0.1:PORT and stops it at the end (SIGQUIT,
    gunicorn's quick shutdown; killed after 30 s)."""
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [*gunicorn_command(), *no_control_socket(), *args],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT), "HOST": "127.0.0.1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(f"http://127.0.0.1:{env['PORT']}", server, log_path)
            yield server
        finally:
            _stop(server, signal.SIGQUIT)


def flask_command() -> list[str]:
    """The flask script next to this Python (as a systemd unit runs it), else `python -m flask`."""
    script = Path(sys.executable).with_name("flask")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flask"]


def run_flask(env: dict, *args: str, timeout: float = 300) -> str:
    """`flask --app fieldwalk <args>` run in the repository with the environment; its output (RuntimeError
    with the output when it fails)."""
    done = subprocess.run(
        [*flask_command(), "--app", "fieldwalk", *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def flask_worker(env: dict, log_path: Path) -> Iterator[subprocess.Popen]:
    """`flask worker` (the RQ worker, as its systemd unit runs it) with the environment, its output in
    log_path; stopped at the end with SIGTERM (RQ's warm shutdown: it finishes the job at hand; killed after
    30 s)."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*flask_command(), "--app", "fieldwalk", "worker"],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            _stop(process, signal.SIGTERM)


def protocol_pdf_by_job(client, query: str):
    """The protocol PDF of ?query the way a coordinator gets a period's: "Gör en PDF" (a job, run in-process
    after the response), its progress page, the download link. Returns (progress page URL, download response)."""
    made = client.post(f"/followup/protocol-files?{query}")
    assert made.status_code == 303, made.status_code
    made.close()  # the server closes the response once it is sent: then the in-process job runs
    page_url = made.headers["Location"]
    page = client.get(page_url)
    assert page.status_code == 200
    download = page_url.rstrip("/") + "/download"
    assert download in page.get_data(as_text=True), page.get_data(as_text=True)
    response = client.get(download)
    response.get_data()  # read the streamed file, then close it as the server would
    response.close()
    return page_url, response
