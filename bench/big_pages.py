"""The main pages at 10,000 action items (issue 12): time and SQL statements per request, against a bare
Flask + SQLAlchemy page listing the same 50 action item rows from the same database in the same run.

Builds the data with bench/bigdata.py (1,000 walks, 22,000 findings, 10,000 items, 41,000 events) in a fresh
SQLite file, or uses --url (e.g. an empty PostgreSQL database, filled the same way). Each page is requested
once to warm up, then RUNS times; the median is reported. Pages are served by the real app through Flask's
test client as a logged-in coordinator (no HTTP server, so only the app's own work is timed). Exit status 1
when a target fails: every page's statements independent of the data (at most MAX_STATEMENTS) and every
page but the quarter's protocol within PAGE_TARGET_MS. `--markdown` prints rows for docs/benchmarks.md.
"""

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import flask  # noqa: E402
import sqlalchemy  # noqa: E402
from sqlalchemy import create_engine, event, func, select, text  # noqa: E402

from bench.bigdata import build  # noqa: E402
from fieldwalk.extensions import db  # noqa: E402
from fieldwalk.models import ActionItem, Finding, Role, Walk  # noqa: E402
from fieldwalk.seed import create_user  # noqa: E402

RUNS = 5
MAX_STATEMENTS = 40
PAGE_TARGET_MS = 1000.0
PASSWORD = "bench-lösenord-1234"


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


def bare_app(url: str) -> flask.Flask:
    """The baseline: Flask and SQLAlchemy Core, one query for the first 50 items in the list's order (open
    first, by due date) with their walk and party names, rendered by a small Jinja template."""
    app = flask.Flask("bare")
    engine = create_engine(url)
    sql = text(
        "SELECT a.id, a.title, a.status, a.due_date, w.title AS walk, p.name AS party FROM action_items a"
        " JOIN walks w ON w.id = a.walk_id LEFT JOIN responsible_parties p ON p.id = a.responsible_party_id"
        " ORDER BY CASE WHEN a.status IN ('new', 'assigned', 'in_progress') THEN 0 ELSE 1 END,"
        " a.due_date IS NULL, a.due_date, a.id LIMIT 50"
    )
    template = (
        "<!doctype html><title>Åtgärder</title><table>{% for r in rows %}<tr><td>{{ r.id }}</td>"
        "<td>{{ r.title }}</td><td>{{ r.status }}</td><td>{{ r.due_date }}</td><td>{{ r.walk }}</td>"
        "<td>{{ r.party }}</td></tr>{% endfor %}</table>"
    )

    @app.route("/")
    def index():
        with engine.connect() as conn:
            rows = conn.execute(sql).all()
        return flask.render_template_string(template, rows=rows)

    return app


def timed(client, url: str, runs: int, engine=None) -> tuple[float, int, int]:
    """(median ms, statements of the last run, bytes) for GET url."""
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
        times.append((time.perf_counter() - started) * 1000)
        if engine is not None:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), counter[0], len(response.data)


def pages(app) -> dict[str, str]:
    with app.app_context():
        walk = db.session.scalar(select(func.max(Walk.id)))
        item = db.session.scalar(select(func.max(ActionItem.id)).where(ActionItem.walk_id == walk))
        finding = db.session.scalar(select(func.max(Finding.id)).where(Finding.walk_id == walk))
        newest = db.session.get(Walk, walk).starts_at.date()
    quarter = (newest.month - 1) // 3
    start = date(newest.year, 3 * quarter + 1, 1)
    end = date(newest.year + (quarter == 3), 1 if quarter == 3 else 3 * quarter + 4, 1) - timedelta(days=1)
    return {
        "walks index (1,000 walks)": "/",
        "walk page (22 findings)": f"/walks/{walk}",
        "action list, page 1 of 200": "/actions/",
        "action list, category filter": "/actions/?category=1",
        "action list, open + overdue": "/actions/?overdue=1",
        "action item page": f"/actions/{item}",
        "finding page": f"/findings/{finding}",
        "dashboard": f"/followup/dashboard?year={newest.year}",
        "API action items, page 1 (50)": "/api/v1/action-items",
        "API walks, page 1 (50)": "/api/v1/walks",
        "period protocol, newest quarter": f"/followup/protocol?from={start}&to={end}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an empty database to fill (default: a fresh SQLite file)")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/big.sqlite"
        app, counts, fill_s = build(url, 1000, 22, photo_dir=f"{tmp}/photos")
        app.config["WTF_CSRF_ENABLED"] = False
        with app.app_context():
            create_user("bench@example.com", "Bench Samordnare", PASSWORD, Role.COORDINATOR, "Kommunen", None)
            db.session.commit()
            engine = db.engine
        client = app.test_client()
        assert client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302
        bare_ms, _n, bare_bytes = timed(bare_app(url).test_client(), "/", args.runs)
        rows = [(name, *timed(client, page, args.runs, engine)) for name, page in pages(app).items()]
        backend = engine.dialect.name
    failed = False
    report = [
        f"Data: {counts.walks} walks, {counts.findings} findings, {counts.items} action items, {counts.events}"
        f" events ({backend}; filled in {fill_s:.0f} s). Median of {args.runs} runs.",
        f"Bare Flask + SQLAlchemy page, the same 50 rows: {bare_ms:.1f} ms ({bare_bytes / 1024:.0f} KB)",
        "",
        f"{'page':34} {'stmts':>5} {'ms':>8} {'x bare':>7} {'KB':>6}  result",
    ]
    table = []
    for name, ms, statements, size in rows:
        protocol = name.startswith("period protocol")
        ok = statements <= MAX_STATEMENTS and (protocol or ms <= PAGE_TARGET_MS)
        failed |= not ok
        result = "PASS" if ok else "FAIL"
        report.append(f"{name:34} {statements:5d} {ms:8.1f} {ms / bare_ms:7.1f} {size / 1024:6.0f}  {result}")
        table.append(f"| {name} | {statements} | {ms:.0f} ms | {ms / bare_ms:.1f}x | {size / 1024:.0f} KB | {result} |")
    print("\n".join(report), file=sys.stderr if args.markdown else sys.stdout)
    if args.markdown:
        print(
            f"**{date.today()}**, {machine()}, Python {platform.python_version()}, Flask {metadata.version('flask')},"
            f" SQLAlchemy {sqlalchemy.__version__}, {backend}"
            + (f" {sqlite3.sqlite_version}" if backend == "sqlite" else "")
            + f"; bare page {bare_ms:.1f} ms\n"
        )
        print("| page | statements | median | vs bare | size | result |")
        print("|------|-----------:|-------:|--------:|-----:|--------|")
        print("\n".join(table))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
