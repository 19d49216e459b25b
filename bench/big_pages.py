"""The pages and exports at 100 and at 10,000 action items (issue 12, benchmark 2): statements and time per
request, and the action list's requests per second against a bare Flask + SQLAlchemy page of the same 50 rows.

Fills two databases in the same run with bench/bigdata.py: a small one (2 walks, 200 findings, 100 action
items) and a large one (200 walks, 20,000 findings, 10,000 action items, ~41,000 events), fresh SQLite
files by default or the two empty databases given (--small-url, --url; e.g. PostgreSQL). Each page is
requested once to warm up, then RUNS times through Flask's test client as a logged-in coordinator (no HTTP
server: only the app's own work); the median is reported. Then, on the large database, the bare page and the
action list are each served by gunicorn with the same workers and threads (gunicorn.conf.py, --workers) and
loaded in turns by the same Python client (CLIENTS threads on keep-alive connections, browser headers) for
--seconds each: the action list must reach THROUGHPUT_TARGET of the bare page's requests per second.

Exit status 1 when a target fails: every page's statements the same at both sizes (and at most
MAX_STATEMENTS), every page but the quarter's protocol and the whole-list exports within PAGE_TARGET_MS at
10,000 items, the protocol HTML within PROTOCOL_TARGET_MS, the throughput. `--markdown` prints rows for
docs/benchmarks.md. `--only pages` skips the gunicorn comparison; `--only throughput` fills only the large
database and runs only the comparison (a minute with `--seconds 15`).
"""

import argparse
import http.client
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import flask  # noqa: E402
import sqlalchemy  # noqa: E402
from sqlalchemy import create_engine, event, func, select, text  # noqa: E402

from bench.bigdata import build  # noqa: E402
from fieldwalk.extensions import db  # noqa: E402
from fieldwalk.followup.queries import quarter_of  # noqa: E402
from fieldwalk.models import OPEN_RANK_SQL, ActionItem, Finding, Role, Walk  # noqa: E402
from fieldwalk.seed import create_user  # noqa: E402
from tests.helpers import app_env, free_port, gunicorn  # noqa: E402

RUNS = 5
MAX_STATEMENTS = 40
PAGE_TARGET_MS = 1000.0
PROTOCOL_TARGET_MS = 2000.0
THROUGHPUT_TARGET = 0.5  # the action list's requests per second over the bare page's
PASSWORD = "bench-lösenord-1234"
EMAIL = "bench@example.com"
SECRET = "bench-" + "x" * 32
# (walks, findings per walk, items per walk): 100 and 10,000 action items of the same shape
SIZES = {"100": (2, 100, 50), "10k": (200, 100, 50)}
CLIENTS = 8
BROWSER = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br", "Accept-Language": "sv-SE,sv;q=0.9"}


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    return f"nproc={os.cpu_count()}, {model}"


BARE_SQL = text(
    "SELECT a.id, a.title, a.status, a.due_date, w.title AS walk, p.name AS party FROM action_items a"
    " JOIN walks w ON w.id = a.walk_id LEFT JOIN responsible_parties p ON p.id = a.responsible_party_id"
    f" ORDER BY {OPEN_RANK_SQL.format(status='a.status')},"
    " a.due_date IS NULL, a.due_date, a.id LIMIT 50"
)
BARE_TEMPLATE = (
    "<!doctype html><title>Åtgärder</title><table>{% for r in rows %}<tr><td>{{ r.id }}</td>"
    "<td>{{ r.title }}</td><td>{{ r.status }}</td><td>{{ r.due_date }}</td><td>{{ r.walk }}</td>"
    "<td>{{ r.party }}</td></tr>{% endfor %}</table>"
)


def bare_app(url: str | None = None) -> flask.Flask:
    """The baseline: Flask and SQLAlchemy Core, one query for the first 50 items in the list's order (open
    first, by due date) with their walk and party names, rendered by a small Jinja template. Under gunicorn
    (`bench.big_pages:bare_app()`) the database is BENCH_DATABASE_URL."""
    app = flask.Flask("bare")
    engine = create_engine(url or os.environ["BENCH_DATABASE_URL"])

    @app.route("/")
    def index():
        with engine.connect() as conn:
            rows = conn.execute(BARE_SQL).all()
        return flask.render_template_string(BARE_TEMPLATE, rows=rows)

    @app.route("/healthz")
    def healthz():
        return "ok"

    return app


def timed(client, url: str, runs: int, engine=None) -> tuple[float, int, int]:
    """(median ms, statements of the last run, bytes) for GET url, the whole body read (a streamed export's
    rows are queried and written while it is read)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    counter = [0]

    def count(*_args):
        counter[0] += 1

    times = []
    for _ in range(runs):
        counter[0] = 0
        if engine is not None:
            event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()  # a streamed export does its work while its body is read
        times.append((time.perf_counter() - started) * 1000)
        if engine is not None:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), counter[0], len(response.data)


def pages(app) -> dict[str, str]:
    """Every page and export to measure, on the newest walk, item and finding, the newest quarter and the
    quarter with the most walks."""
    with app.app_context():
        walk = db.session.scalar(select(func.max(Walk.id)))
        item = db.session.scalar(select(func.max(ActionItem.id)).where(ActionItem.walk_id == walk))
        finding = db.session.scalar(select(func.max(Finding.id)).where(Finding.walk_id == walk))
        newest = db.session.get(Walk, walk).starts_at.date()
        # The quarter with the most walks (at 10,000 items 2021-Q1: 39 walks, 2,050 items, 4,100 findings)
        walks_by_quarter = Counter(quarter_of(day.date()) for day in db.session.scalars(select(Walk.starts_at)))
    start, end = quarter_of(newest)
    (full_start, full_end), _walks = walks_by_quarter.most_common(1)[0]
    return {
        "walks index": "/",
        "walk page (100 findings)": f"/walks/{walk}",
        "action list, page 1": "/actions/",
        "action list, category filter": "/actions/?category=1",
        "action list, open + overdue": "/actions/?overdue=1",
        "action list, one walk": f"/actions/?walk={walk}",
        "action item page": f"/actions/{item}",
        "finding page": f"/findings/{finding}",
        "dashboard": f"/followup/dashboard?year={newest.year}",
        "API action items, page 1 (50)": "/api/v1/action-items",
        "API walks, page 1 (50)": "/api/v1/walks",
        "period protocol, newest quarter": f"/followup/protocol?from={start}&to={end}",
        "period protocol, fullest quarter": f"/followup/protocol?from={full_start}&to={full_end}",
        "export: action list CSV (every item)": "/exports/actions.csv",
        "export: action list XLSX (every item)": "/exports/actions.xlsx",
        "export: action list GeoJSON (every item)": "/exports/actions.geojson",
        "export: one walk's findings CSV": f"/exports/findings.csv?walk={walk}",
    }


def measure(url: str, size: str, tmp: str, runs: int):
    """Fill the database at url to the size; (counts, fill seconds, backend, {page: (ms, statements, bytes)})."""
    walks, findings_per_walk, items_per_walk = SIZES[size]
    app, counts, fill_s = build(url, walks, findings_per_walk, photo_dir=f"{tmp}/photos", items_per_walk=items_per_walk)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        create_user(EMAIL, "Bench Samordnare", PASSWORD, Role.COORDINATOR, "Kommunen", None)
        db.session.commit()
        engine = db.engine
    client = app.test_client()
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 302
    results = {name: timed(client, page, runs, engine) for name, page in pages(app).items()}
    return counts, fill_s, engine.dialect.name, results


def _load(port: int, path: str, cookie: str, seconds: float, clients: int) -> float:
    """Requests per second that CLIENTS threads, each on its own keep-alive connection, got answered (200)."""
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {**BROWSER, "Cookie": cookie} if cookie else BROWSER
        while time.monotonic() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
            done[n] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)


def _login(port: int) -> str:
    """The session cookie of the bench coordinator, logged in through the login form (with its CSRF token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login", headers=BROWSER)
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"email": EMAIL, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie,
        "Origin": f"http://127.0.0.1:{port}",
    }
    conn.request("POST", "/login", body=urlencode(form), headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status == 302, ("login", response.status)
    return response.getheader("Set-Cookie", "").split(";")[0]


def throughput(url: str, tmp: str, seconds: float, workers: int, rounds: int = 3) -> tuple[float, float]:
    """(bare page, action list) requests per second, both under gunicorn with the same workers and threads
    (gunicorn.conf.py), loaded in turns (rounds of seconds / rounds each) so a busy machine weighs on both."""
    bare_port, app_port = free_port(), free_port()
    while app_port == bare_port:
        app_port = free_port()
    settings = {"LOG_FORMAT": "json", "PHOTO_DIR": f"{tmp}/photos", "BASE_URL": None}
    served_env = {**app_env(app_port, url, SECRET, settings), "WEB_CONCURRENCY": str(workers)}
    bare_env = {**served_env, "BENCH_DATABASE_URL": url, "PORT": str(bare_port)}
    rates: dict[str, list[float]] = {"bare": [], "app": []}
    with (
        gunicorn(bare_env, Path(tmp, "bare.log"), "bench.big_pages:bare_app()"),
        gunicorn(served_env, Path(tmp, "app.log")),
    ):
        cookie = _login(app_port)
        for port, path, c in ((bare_port, "/", ""), (app_port, "/actions/", cookie)):
            _load(port, path, c, 1.0, CLIENTS)  # warm every worker
        for _ in range(rounds):
            rates["bare"].append(_load(bare_port, "/", "", seconds / rounds, CLIENTS))
            rates["app"].append(_load(app_port, "/actions/", cookie, seconds / rounds, CLIENTS))
    return statistics.mean(rates["bare"]), statistics.mean(rates["app"])


def throughput_summary(bare_rps: float, app_rps: float, args) -> tuple[str, bool]:
    """The throughput line of the report and whether the action list reached THROUGHPUT_TARGET."""
    ratio = app_rps / bare_rps
    verdict = "PASS" if ratio >= THROUGHPUT_TARGET else "FAIL"
    summary = (
        f"gunicorn, {args.workers} workers x 4 threads each, {CLIENTS} client threads, {args.seconds:.0f} s each at"
        f" 10k items: bare page {bare_rps:.0f} req/s, action list {app_rps:.0f} req/s = {ratio:.0%} of the bare"
        f" page (target {THROUGHPUT_TARGET:.0%}) {verdict}"
    )
    return summary, ratio >= THROUGHPUT_TARGET


def only_throughput(large_url: str, tmp: str, args) -> int:
    """`--only throughput`: fill the large database, log the bench user in, and compare the two servers."""
    walks, findings_per_walk, items_per_walk = SIZES["10k"]
    app, counts, _fill_s = build(
        large_url, walks, findings_per_walk, photo_dir=f"{tmp}/photos", items_per_walk=items_per_walk
    )
    with app.app_context():
        create_user(EMAIL, "Bench Samordnare", PASSWORD, Role.COORDINATOR, "Kommunen", None)
        db.session.commit()
        db.engine.dispose()  # the servers open their own connections
    bare_rps, app_rps = throughput(large_url, tmp, args.seconds, args.workers)
    summary, ok = throughput_summary(bare_rps, app_rps, args)
    print(f"{counts.items} action items; {summary}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an empty database for 10,000 items (default: a fresh SQLite file)")
    parser.add_argument("--small-url", help="an empty database for 100 items (default: a fresh SQLite file)")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--seconds", type=float, default=30.0, help="load time of each server (in 3 turns)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both servers")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--only",
        choices=("pages", "throughput"),
        help="pages: only the statements and times through the test client; throughput: only fill the large"
        " database and compare the action list with the bare page under gunicorn",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        large_url = args.url or f"sqlite:///{tmp}/large.sqlite"
        if args.only == "throughput":
            return only_throughput(large_url, tmp, args)
        small = measure(args.small_url or f"sqlite:///{tmp}/small.sqlite", "100", tmp, args.runs)
        large = measure(large_url, "10k", tmp, args.runs)
        bare_rps, app_rps = throughput(large_url, tmp, args.seconds, args.workers) if args.only is None else (0, 0)
    backend = large[2]
    failed = False
    (c1, f1, _b1, r1), (c2, f2, _b2, r2) = small, large
    report = [
        f"Data: {c1.items} vs {c2.items} action items ({c1.walks}/{c2.walks} walks, {c1.findings}/{c2.findings}"
        f" findings, {c1.events}/{c2.events} events; {backend}; filled in {f1:.0f} + {f2:.0f} s). Median of"
        f" {args.runs} runs.",
        "",
        f"{'page':42} {'stmts 100':>9} {'stmts 10k':>9} {'ms 100':>8} {'ms 10k':>8} {'KB 10k':>7}  result",
    ]
    table = []
    for name, (ms1, n1, _size1) in r1.items():
        ms2, n2, size2 = r2[name]
        limit = (
            PROTOCOL_TARGET_MS
            if name.startswith("period protocol")
            else None
            if "(every item)" in name
            else PAGE_TARGET_MS
        )
        ok = n1 == n2 <= MAX_STATEMENTS and (limit is None or ms2 <= limit)
        failed |= not ok
        result = "PASS" if ok else "FAIL"
        report.append(f"{name:42} {n1:9d} {n2:9d} {ms1:8.1f} {ms2:8.1f} {size2 / 1024:7.0f}  {result}")
        table.append(f"| {name} | {n1} | {n2} | {ms1:.0f} ms | {ms2:.0f} ms | {size2 / 1024:.0f} KB | {result} |")
    summary = ""
    if args.only is None:
        summary, ok = throughput_summary(bare_rps, app_rps, args)
        failed |= not ok
        report += ["", summary]
    print("\n".join(report), file=sys.stderr if args.markdown else sys.stdout)
    if args.markdown:
        print(
            f"**{date.today()}**, {machine()}, Python {platform.python_version()}, Flask {metadata.version('flask')},"
            f" SQLAlchemy {sqlalchemy.__version__}, gunicorn {metadata.version('gunicorn')}, {backend}"
            + (f" {sqlite3.sqlite_version}" if backend == "sqlite" else "")
            + f"; {c1.items} vs {c2.items} items\n"
        )
        print("| page / export | statements at 100 | at 10k | time at 100 | at 10k | size at 10k | result |")
        print("|------|-----:|-----:|-----:|-----:|-----:|--------|")
        print("\n".join(table))
        if summary:
            print(f"\n{summary}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
