"""Fill a database with a municipality's worth of data, fast: `python bench/bigdata.py DATABASE_URL`.

Migrates the schema (as `flask init-db` does, ANALYZE included), adds the default categories and parties
and then, through SQLAlchemy Core bulk inserts (fieldwalk.bulk_data.fill), 1,000 walks of 22 findings:
22,000 findings, 10,000 action items and 44,000 events by default (--walks, --findings-per-walk).
Prints the counts and the seconds it took. The database should be empty (a fresh SQLite file or an empty
PostgreSQL database).
"""

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's fieldwalk

from flask_migrate import upgrade  # noqa: E402

from fieldwalk import create_app  # noqa: E402
from fieldwalk.bulk_data import fill  # noqa: E402
from fieldwalk.extensions import analyze, db  # noqa: E402
from fieldwalk.seed import ensure_reference_data  # noqa: E402

FIRST_WALK = datetime(2020, 1, 6, 17)


def build(
    url: str,
    walks: int,
    findings_per_walk: int,
    photo_dir: str = "/tmp/fieldwalk-bench-photos",
    items_per_walk: int | None = None,
):
    """Migrate and fill the database at url (items_per_walk: as fieldwalk.bulk_data.fill); returns (app, counts,
    seconds)."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 32, "PHOTO_DIR": photo_dir, "TESTING": True}
    )
    with app.app_context():
        upgrade()
        ensure_reference_data()
        db.session.commit()
        started = time.perf_counter()
        # Three walks a week for six and a half years: a busy kommun's history.
        counts = fill(
            db.session,
            walks,
            findings_per_walk,
            first_walk_at=FIRST_WALK,
            days_between_walks=2.3,
            items_per_walk=items_per_walk,
        )
        db.session.commit()
        seconds = time.perf_counter() - started
        with db.engine.begin() as connection:
            analyze(connection)  # the statistics of the filled tables
    return app, counts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="e.g. sqlite:////tmp/big.sqlite or postgresql://postgres@127.0.0.1/big")
    parser.add_argument("--walks", type=int, default=1000)
    parser.add_argument("--findings-per-walk", type=int, default=22)
    args = parser.parse_args()
    _app, counts, seconds = build(args.url, args.walks, args.findings_per_walk)
    print(
        f"{counts.walks} walks, {counts.findings} findings, {counts.items} action items, {counts.events} events"
        f" in {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
