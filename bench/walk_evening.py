"""Walk evening (issue 12): 60 phones against gunicorn, then saturated, on SQLite + filesystem store and on
PostgreSQL + S3 store (SeaweedFS) + the Redis job queue (DB 13, FIELDWALK_BENCH_REDIS_DB) with `flask worker`.

Each simulated participant joins the walk by its join link as a guest (a requests.Session of its own) and then,
every 15 s, logs one finding through the API (POST /api/v1/walks/<id>/findings) and uploads one ~3 MB 12 MP
camera JPEG to it (POST /api/v1/findings/<id>/photos), for `--duration` seconds (default 120: 8 findings per
phone, 480 in all). Reported: p50/p95/p99 per request type and the error count, then a check that every
finding and photo sent is stored exactly once (rows per sent uuid, one photo row per finding, both store
objects of every photo and no object besides). Then saturated: `--clients` phones post without think time for
`--saturate` seconds; photos/s of the app against photos/s of the bare pipeline (process_photo in one process
per core on the same photos), measured right after, in the same run. Target: at least 80 %.

The phones' photos are made from a few synthetic camera photos (tests/helpers.camera_jpeg); each upload gets
a JPEG comment with its finding's uuid, so every upload is different bytes (a new source digest, the full
pipeline every time) while its output pixels repeat those of its base photo (the store keeps one object per
distinct output). `--markdown` prints rows for docs/benchmarks.md on stdout (the report then goes to stderr).

The servers' logs (gunicorn.log, worker.log: JSON lines with request ids and tracebacks) go to `--log-dir`
(default: a new temporary folder, printed, removed after a clean run and kept when anything failed). When a
request fails, its request id is reported and the server's log lines of that request (the exception with its
traceback) and gunicorn's own errors (worker timeouts, aborted workers) are printed.
"""

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuid_module
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/walk_evening.py` puts bench/ on sys.path, not the repository
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

PHONES = 60
INTERVAL = 15.0  # seconds between one phone's findings
BASE_PHOTOS = 4
TARGET_RATIO = 0.80
# Redis DB 13: apart from the tests' 5-9; PostgreSQL: a database of the bench's own, created when missing.
REDIS_DB = int(os.environ.get("FIELDWALK_BENCH_REDIS_DB", "13"))
POSTGRES_URL = os.environ.get("FIELDWALK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/fieldwalk_bench")
MEETING = (56.879, 14.806)
EMAIL = "samordnare@example.com"


# ---------------------------------------------------------------- photos


def _base_photo(seed: int) -> bytes:
    from tests.helpers import camera_jpeg

    return camera_jpeg(seed, (MEETING[0] + seed * 1e-4, MEETING[1]))


def base_photos(count: int) -> list[bytes]:
    """A few 12 MP camera JPEGs of about 3 MB, made on every core."""
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        return list(pool.map(_base_photo, range(1, count + 1)))


def _tagged_pieces(photo: bytes, tag: str) -> list:
    text = tag.encode()
    return [photo[:2], b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text, memoryview(photo)[2:]]


def tagged(photo: bytes, tag: str) -> bytes:
    """The photo with a JPEG comment (COM segment) right after SOI: other bytes, the same pixels. Copied once
    (each copy of 3 MB costs the shared cores about a millisecond of page faults)."""
    return b"".join(_tagged_pieces(photo, tag))


def photo_form(photo: bytes, tag: str) -> tuple[bytes, str]:
    """The multipart/form-data body of an upload of tagged(photo, tag) as `photo`, and its Content-Type: made
    in one copy, where requests' files= copies the photo three times. The load generator runs on the cores it
    measures; what it spends there is taken from the app."""
    boundary = uuid_module.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="foto.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    body = b"".join([head.encode(), *_tagged_pieces(photo, tag), f"\r\n--{boundary}--\r\n".encode()])
    return body, f"multipart/form-data; boundary={boundary}"


def _bare_pipeline(photo: bytes) -> int:
    from fieldwalk.photos.pipeline import process_photo

    return len(process_photo(photo).image)


def pipeline_rate(photos: list[bytes], seconds: float) -> float:
    """Photos/s of process_photo alone, one process per core, on the same photos, for about `seconds`."""
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_bare_pipeline, photos[:workers]))  # imports and first-call costs are not measured
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            batch = [tagged(photos[i % len(photos)], f"bare-{done + i}") for i in range(workers * 2)]
            list(pool.map(_bare_pipeline, batch))
            done += len(batch)
        return done / (time.perf_counter() - started)


# ---------------------------------------------------------------- the served app


@dataclass
class Backend:
    name: str
    database_url: str
    settings: dict[str, str]  # app config (also given to gunicorn as FIELDWALK_<NAME>)
    redis_url: str = ""


def prepare(backend: Backend, base: Path):
    """A fresh database with the reference data, a coordinator and an ongoing walk with its join link open;
    returns (app, walk id, join code, category id)."""
    from sqlalchemy import select, text

    from fieldwalk import create_app
    from fieldwalk.extensions import db
    from fieldwalk.models import Category, Role, Walk, WalkStatus
    from fieldwalk.seed import create_user, ensure_reference_data

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": backend.database_url,
            "SECRET_KEY": "x" * 40,
            "MAIL_OUTBOX": str(base / "outbox"),
            **backend.settings,
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
        ensure_reference_data()
        create_user(EMAIL, "Sam Samordnare", "lösenord-för-bänken", Role.COORDINATOR, "Kommunen")
        walk = Walk(
            title="Kvällsvandring",
            area="Centrum",
            starts_at=datetime(2026, 12, 2, 18, 0),
            status=WalkStatus.ONGOING,
            meeting_lat=MEETING[0],
            meeting_lon=MEETING[1],
        )
        db.session.add(walk)
        db.session.commit()
        found = (walk.id, walk.join_code, db.session.scalar(select(Category.id).filter_by(slug="belysning")))
        db.session.remove()
        db.engine.dispose()
    return app, *found


def server_env(backend: Backend, base: Path, port: int) -> dict[str, str]:
    from tests.helpers import app_env

    settings = {
        "MAIL_OUTBOX": str(base / "outbox"),
        # Every phone comes from 127.0.0.1 here; at a real walk they come from 60 addresses.
        "JOIN_RATE_LIMIT": "1000 per minute",
        **backend.settings,
        **({"REDIS_URL": backend.redis_url} if backend.redis_url else {}),
    }
    return app_env(port, backend.database_url, "x" * 40, settings)


def ensure_database(url: str) -> None:
    """Create the bench's PostgreSQL database when it does not exist (a fresh machine has only `postgres`)."""
    from sqlalchemy.engine import make_url

    from tests.helpers import ensure_postgres_database

    target = make_url(url)
    ensure_postgres_database(target.set(database="postgres"), target.database)


# ---------------------------------------------------------------- the phones


@dataclass
class Tally:
    """Timings (ms) per request type and every error, shared by the phone threads."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)  # of the answers that were errors
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, started: float, problem: str | None = None, answer=None) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        request_id = answer.headers.get("X-Request-ID", "") if answer is not None else ""
        with self.lock:
            self.times.setdefault(kind, []).append(elapsed)
            if problem:
                stamp = datetime.now().strftime("%H:%M:%S")
                self.errors.append(f"{stamp} {kind}: {problem}" + (f" (request id {request_id})" if request_id else ""))
                if request_id:
                    self.request_ids.append(request_id)


def failed_answer(answer) -> str:
    """Status and the start of the body of an answer that was not the one expected."""
    return f"{answer.status_code} {answer.text[:120]}"


class Phone:
    """One participant's phone: a guest session of its own."""

    def __init__(self, number: int, url: str, walk_id: int, category_id: int, photos: list[bytes]) -> None:
        self.number, self.url, self.walk_id, self.category_id = number, url, walk_id, category_id
        self.photo = photos[number % len(photos)]
        self.http = requests.Session()
        self.token = ""

    def join(self, code: str, tally: Tally) -> bool:
        started = time.perf_counter()
        try:
            page = self.http.get(f"{self.url}/join/{code}", timeout=60)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            answer = self.http.post(
                f"{self.url}/join/{code}",
                data={"name": f"Deltagare {self.number}", "organisation": "", "csrf_token": token and token.group(1)},
                allow_redirects=False,
                timeout=60,
            )
            ok = answer.status_code == 302
            tally.add("join (GET + POST)", started, None if ok else failed_answer(answer), answer)
            if ok:
                self.token = self.http.get(f"{self.url}/api/v1/session", timeout=60).json()["csrf_token"]
            return ok
        except requests.RequestException as error:
            tally.add("join (GET + POST)", started, repr(error))
            return False

    def capture(self, tally: Tally, lat_offset: float) -> bool:
        """One finding and its photo; True when both were stored (201)."""
        finding_uuid = str(uuid_module.uuid4())
        with tally.lock:
            tally.uuids.append(finding_uuid)
        headers = {"X-CSRFToken": self.token}
        started = time.perf_counter()
        try:
            answer = self.http.post(
                f"{self.url}/api/v1/walks/{self.walk_id}/findings",
                json={
                    "uuid": finding_uuid,
                    "category_id": self.category_id,
                    "description": "Trasig belysning vid gångtunneln",
                    "lat": MEETING[0] + lat_offset,
                    "lon": MEETING[1],
                },
                headers=headers,
                timeout=120,
            )
        except requests.RequestException as error:
            tally.add("finding", started, repr(error))
            return False
        if answer.status_code != 201:
            tally.add("finding", started, failed_answer(answer), answer)
            return False
        tally.add("finding", started)
        finding_id = answer.json()["id"]
        started = time.perf_counter()
        try:
            body, content_type = photo_form(self.photo, finding_uuid)
            answer = self.http.post(
                f"{self.url}/api/v1/findings/{finding_id}/photos",
                data=body,
                headers={**headers, "Content-Type": content_type},
                timeout=120,
            )
        except requests.RequestException as error:
            tally.add("photo", started, repr(error))
            return False
        ok = answer.status_code == 201
        tally.add("photo", started, None if ok else failed_answer(answer), answer)
        return ok


def walk_evening(phones: list[Phone], duration: float, tally: Tally) -> None:
    """Every phone captures every INTERVAL seconds, the phones' starts spread over the first interval."""
    begin = time.monotonic() + 1

    def run(phone: Phone) -> None:
        offset = phone.number * INTERVAL / len(phones)
        rounds = max(1, round(duration / INTERVAL))
        for k in range(rounds):
            pause = begin + offset + k * INTERVAL - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            phone.capture(tally, lat_offset=(phone.number * 7 + k) * 1e-5)

    threads = [threading.Thread(target=run, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def saturate(phones: list[Phone], seconds: float, tally: Tally) -> float:
    """Photos/s stored with every phone posting without think time."""
    stop = time.monotonic() + seconds
    stored = [0] * len(phones)

    def run(index: int, phone: Phone) -> None:
        k = 0
        while time.monotonic() < stop:
            stored[index] += phone.capture(tally, lat_offset=-(phone.number * 97 + k) * 1e-5)
            k += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i, phone)) for i, phone in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(stored) / (time.perf_counter() - started)


def check_stored(app, uuids: list[str], walk_id: int) -> list[str]:
    """Every sent finding exactly once with exactly one photo; both objects of every photo; nothing else."""
    from sqlalchemy import select

    from fieldwalk.extensions import db
    from fieldwalk.models import Finding, Photo
    from fieldwalk.photos.service import photo_store

    problems = []
    with app.app_context():
        rows = db.session.execute(select(Finding.uuid, Finding.id).where(Finding.walk_id == walk_id)).all()
        by_uuid: dict[str, list[int]] = {}
        for finding_uuid, finding_id in rows:
            by_uuid.setdefault(str(finding_uuid), []).append(finding_id)
        sent = set(uuids)
        problems += [f"{u}: {len(by_uuid.get(u, []))} findings" for u in uuids if len(by_uuid.get(u, [])) != 1]
        problems += [f"{u}: stored, never sent" for u in by_uuid if u not in sent]
        photos = db.session.execute(select(Photo.finding_id, Photo.sha256, Photo.source_sha256)).all()
        per_finding: dict[int, int] = {}
        for finding_id, _sha, _source in photos:
            per_finding[finding_id] = per_finding.get(finding_id, 0) + 1
        problems += [f"finding {i}: {n} photos" for i, n in per_finding.items() if n != 1]
        problems += [f"finding {ids[0]}: no photo" for ids in by_uuid.values() if ids[0] not in per_finding]
        if len({source for *_rest, source in photos}) != len(photos):
            problems.append("two photo rows of the same upload")
        digests = {sha for _id, sha, _source in photos}
        keys = {item.key for item in photo_store().stored()}
        store = photo_store()
        for sha in digests:
            for variant in ("full", "thumb"):
                if not store.exists(sha, variant):
                    problems.append(f"{sha[:12]} {variant}: not in the store")
        if len(keys) != 2 * len(digests):
            problems.append(f"{len(keys)} store objects for {len(digests)} distinct photos (2 each)")
        db.session.remove()
        db.engine.dispose()
    return problems


# ---------------------------------------------------------------- report


def server_errors(log_path: Path, request_ids: list[str], limit: int = 12) -> list[str]:
    """What the server log says about the failed requests: the log records of those request ids (the
    exception with its traceback), every error record and request answered 5xx, gunicorn's own errors
    (worker timeouts, workers killed or aborted) and lines that are not JSON (a crash's raw output)."""
    if not log_path.exists():
        return [f"{log_path}: no log"]
    wanted = set(request_ids)
    found: list[str] = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.strip():
                found.append(f"(not JSON) {line[:300]}")
            continue
        if not isinstance(entry, dict):
            continue
        status = entry.get("status")
        failing = (
            entry.get("request_id") in wanted
            or entry.get("level") in ("ERROR", "CRITICAL")
            or "exception" in entry
            or (isinstance(status, int) and status >= 500)
        )
        if failing:
            text = f"{entry.get('time', '')} {entry.get('level', '')} {entry.get('request_id', '-')}: "
            text += str(entry.get("message", ""))
            if "exception" in entry:
                text += "\n    " + str(entry["exception"]).replace("\n", "\n    ")
            found.append(text)
    if len(found) > limit:
        found = found[:limit] + [f"… and {len(found) - limit} more in {log_path}"]
    return found


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def versions(pg_url: str) -> str:
    """nproc, CPU model, Python, SQLite, PostgreSQL and SeaweedFS versions."""
    import psycopg

    from tests.s3 import weed_binary

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    try:
        with psycopg.connect(pg_url) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    except psycopg.Error:
        pg = "?"
    weed = weed_binary()
    seaweed = subprocess.run([weed, "version"], capture_output=True, text=True).stdout.split("\n")[0] if weed else "?"
    return (
        f"nproc={os.cpu_count()}, {model}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {pg}, SeaweedFS {seaweed.strip()}"
    )


def run_backend(backend: Backend, args, photos: list[bytes], base: Path, log_dir: Path, say) -> dict:
    from tests.helpers import flask_worker, free_port, gunicorn

    base.mkdir()
    server_log, worker_log = log_dir / f"{base.name}-gunicorn.log", log_dir / f"{base.name}-worker.log"
    app, walk_id, code, category_id = prepare(backend, base)
    port = free_port()
    env = server_env(backend, base, port)
    url = f"http://127.0.0.1:{port}"
    tally = Tally()
    with ExitStack() as stack:
        if backend.redis_url:
            import redis

            redis.Redis.from_url(backend.redis_url).flushdb()  # our DB number only
            stack.enter_context(flask_worker(env, worker_log))
        stack.enter_context(gunicorn(env, server_log))
        phones = [Phone(i, url, walk_id, category_id, photos) for i in range(args.phones)]
        joined = [phone for phone in phones if phone.join(code, tally)]
        say(f"[{backend.name}] {len(joined)} of {len(phones)} phones joined; walking for {args.duration:.0f} s")
        walk_evening(joined, args.duration, tally)
        walk_tally = Tally(
            times={kind: list(times) for kind, times in tally.times.items()},
            errors=list(tally.errors),
            uuids=list(tally.uuids),
            request_ids=list(tally.request_ids),
        )
        # The bare pipeline just before and just after the app (the mean of both), so that a change in the
        # load of a shared machine hits both sides alike.
        bare_before = pipeline_rate(photos, args.saturate / 3)
        say(f"[{backend.name}] saturated: {args.clients} phones without think time for {args.saturate:.0f} s")
        app_rate = saturate(joined[: args.clients], args.saturate, tally)
        bare_rate = (bare_before + pipeline_rate(photos, args.saturate / 3)) / 2
    problems = check_stored(app, tally.uuids, walk_id)
    return {
        "walk": walk_tally,
        "all": tally,
        "app_rate": app_rate,
        "bare_rate": bare_rate,
        "problems": problems,
        "server_log": server_log,
    }


def print_result(name: str, result: dict, args: argparse.Namespace, say) -> bool:
    """One backend's figures (printed as soon as it is done); True when every target is met."""
    walk, everything = result["walk"], result["all"]
    ratio = result["app_rate"] / result["bare_rate"]
    passed = not everything.errors and not result["problems"] and ratio >= TARGET_RATIO
    say()
    say(f"== {name}: walk of {args.phones} phones, {args.duration:.0f} s, one finding + photo per {INTERVAL:g} s")
    say(f"{'request':<20}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, times in walk.times.items():
        p50, p95, p99 = (percentile(times, q) for q in (50, 95, 99))
        say(f"{kind:<20}{len(times):>6}{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}")
    say(f"findings sent (walk + saturated): {len(everything.uuids)}; errors: {len(everything.errors)}")
    for error in everything.errors[:20]:
        say(f"  {error}")
    if everything.errors:
        say(f"the server log ({result['server_log']}) on them:")
        for line in server_errors(result["server_log"], everything.request_ids):
            say(f"  {line}")
    say(f"stored exactly once: {'yes' if not result['problems'] else 'NO: ' + '; '.join(result['problems'][:5])}")
    say(
        f"saturated: app {result['app_rate']:.1f} photos/s, bare pipeline {result['bare_rate']:.1f} photos/s on "
        f"{os.cpu_count()} processes: {ratio * 100:.0f} % (target >= {TARGET_RATIO * 100:.0f} %): "
        f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}"
    )
    if args.markdown:
        photo = walk.times.get("photo", [0.0])
        print(
            f"| {date.today().isoformat()} | {name} | {len(walk.uuids)} | {len(everything.errors)} | "
            f"{'yes' if not result['problems'] else 'NO'} | {percentile(photo, 50):.0f} / "
            f"{percentile(photo, 95):.0f} / {percentile(photo, 99):.0f} ms | {result['app_rate']:.1f} | "
            f"{result['bare_rate']:.1f} | "
            f"{ratio * 100:.0f} % | {'PASS' if passed else 'FAIL'} |"
        )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of walk (default 120)")
    parser.add_argument("--phones", type=int, default=PHONES)
    parser.add_argument("--saturate", type=float, default=30.0, help="seconds without think time (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="phones posting without think time (default 8)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="30 s walk, 10 s saturated: a smoke run")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="folder for the servers' logs (default: a new temporary folder, kept when anything failed)",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.saturate = 30.0, 10.0
    report = sys.stderr if args.markdown else sys.stdout

    def say(line: str = "") -> None:
        print(line, file=report, flush=True)

    say("making the photos…")
    photos = base_photos(BASE_PHOTOS)
    say(f"{len(photos)} base photos of {statistics.mean(map(len, photos)) / 1e6:.2f} MB on average")
    if args.backend in ("postgresql", "both"):
        ensure_database(POSTGRES_URL)
    machine = versions(POSTGRES_URL)
    say(machine)
    ok = False  # a run that raised keeps its logs
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="walk-evening-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    say(f"server logs in {log_dir}")
    try:
        ok = run_all(args, photos, log_dir, say)
    finally:
        if args.log_dir is None and ok:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            say(f"server logs kept in {log_dir}")
    return 0 if ok else 1


def run_all(args, photos: list[bytes], log_dir: Path, say) -> bool:
    """The chosen backends one after the other; True when every target was met."""
    from tests.s3 import start_server, stop_server

    ok = True
    with tempfile.TemporaryDirectory(prefix="walk-evening-") as tmp:
        tmpdir = Path(tmp)
        if args.backend in ("sqlite", "both"):
            backend = Backend(
                "SQLite + filesystem", f"sqlite:///{tmpdir / 'walk.db'}", {"PHOTO_DIR": str(tmpdir / "photos")}
            )
            result = run_backend(backend, args, photos, tmpdir / "sqlite", log_dir, say)
            ok &= print_result(backend.name, result, args, say)
        if args.backend in ("postgresql", "both"):
            (tmpdir / "s3").mkdir()
            server, problem = start_server(tmpdir / "s3", "fieldwalk-bench")
            if server is None:
                say(f"SeaweedFS did not start: {problem}")
                return False
            try:
                backend = Backend(
                    "PostgreSQL + S3 + queue",
                    POSTGRES_URL,
                    server.settings("walk"),
                    redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
                )
                result = run_backend(backend, args, photos, tmpdir / "postgresql", log_dir, say)
                ok &= print_result(backend.name, result, args, say)
            finally:
                stop_server(server)
    return ok


if __name__ == "__main__":
    sys.exit(main())
