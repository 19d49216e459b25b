"""The period protocol PDF job at 10,000 action items (issue 12, benchmark 2): wall time and peak memory.

Fills a fresh SQLite file with bench/bigdata.py (200 walks, 20,000 findings, 10,000 action items, ~41,000
events; the photos are rows without files, so the PDF has no thumbnails), then runs the job that "Gör en PDF"
queues (fieldwalk.followup.protocol_files.make_protocol_file) for one full calendar quarter in a process of
its own, and reports its wall time, CPU time, peak memory, pages, parts and file size. The job lays the parts
out in PROTOCOL_PDF_PROCESSES processes of its own (2), so its memory is the highest sum of the resident
memory (VmRSS) of the job's process and its layout processes at one time, read every 20 ms (shared library
pages counted once per process: an upper bound); ru_maxrss of the job's process and of its largest child are
reported beside it. The same job then runs with its parts laid out one after the other in one layout process
(PROTOCOL_PDF_PROCESSES=1) as the baseline of the same run; `--single` also runs it laid out as one document
(the old way, no parts) for comparison: slow (minutes) and over a gigabyte.

Exit status 1 when a target fails: the job within TARGET_SECONDS and TARGET_MIB. `--markdown` prints a row
for docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0
TARGET_MIB = 400.0
QUARTER = (date(2021, 1, 1), date(2021, 3, 31))  # the fullest quarter of bigdata's 200 walks (2020-01 … 2021-04)
EMAIL = "bench-pdf@example.com"


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):  # ended meanwhile
        return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's id, after the state
            found.append(int(stat.parent.name))
    return found


class MemorySampler(threading.Thread):
    """The highest sum of VmRSS of this process and its children while running: the memory every 20 ms, the
    children looked for every 0.5 s (a scan of /proc costs ~3 ms of CPU; the layout processes live through
    the whole layout)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self._done = 0.0, threading.Event()

    def run(self) -> None:
        me, children, scanned = os.getpid(), [], 0.0
        while not self._done.wait(0.02):
            if time.monotonic() - scanned >= 0.5:
                children, scanned = _children(me), time.monotonic()
            self.peak = max(self.peak, _rss_mib(me) + sum(_rss_mib(pid) for pid in children))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak


def child(url: str, folder: str, mode: str) -> None:
    """In a process of its own: run the job once and print its figures as JSON."""
    import logging

    from sqlalchemy import select

    from fieldwalk import create_app
    from fieldwalk.extensions import db
    from fieldwalk.followup.protocol_files import make_protocol_file
    from fieldwalk.models import ProtocolFile, User

    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-" + "x" * 32,
        "PHOTO_DIR": f"{folder}/photos",
        "PROTOCOL_DIR": f"{folder}/protocols",
        "JOB_RETRY_INTERVALS": [],
    }
    if mode == "one document":
        config.update(PROTOCOL_PDF_PART_ROWS=10**9, PROTOCOL_PDF_PART_ITEMS=10**9)
    elif mode == "in parts, one process":
        config.update(PROTOCOL_PDF_PROCESSES=1)
    app = create_app(config)
    app.logger.setLevel(logging.ERROR)  # one "file missing" warning per photo row otherwise
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        row = ProtocolFile(
            requested_by=user, locale="sv", period_start=QUARTER[0], period_end=QUARTER[1], file_name="bench.pdf"
        )
        db.session.add(row)
        db.session.commit()
        file_id = row.id
        sampler = MemorySampler()
        sampler.start()
        wall, cpu = time.perf_counter(), time.process_time()
        make_protocol_file(file_id)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = sampler.stop()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        db.session.expire_all()
        row = db.session.get(ProtocolFile, file_id)
        figures = {
            "state": row.state.value,
            "items": row.items,
            "findings": row.findings,
            "parts": row.parts,
            "pages": row.pages,
            "bytes": row.size,
            "seconds": wall,
            "cpu": cpu,  # the job's process
            "children_cpu": children.ru_utime + children.ru_stime,  # its layout processes
            "mib": peak,
            "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "child_mib": children.ru_maxrss / 1024,
        }
    print(json.dumps(figures))


MODES = ("in parts", "in parts, one process", "one document")


def measure(url: str, folder: str, mode: str) -> dict:
    command = [sys.executable, __file__, "--child", url, folder, "--mode", mode]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--single", action="store_true", help="also lay it out as one document (slow)")
    parser.add_argument("--mode", choices=MODES, default=MODES[0], help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, mode=args.mode)
        return 0

    from bench.bigdata import build
    from fieldwalk.extensions import db
    from fieldwalk.models import Role
    from fieldwalk.seed import create_user

    with tempfile.TemporaryDirectory(prefix="fieldwalk-bench-pdf-") as folder:
        url = f"sqlite:///{folder}/big.sqlite"
        app, counts, _seconds = build(url, 200, 100, photo_dir=f"{folder}/photos", items_per_walk=50)
        with app.app_context():
            create_user(EMAIL, "Bench Samordnare", "bench-lösenord-1234", Role.COORDINATOR, "Kommunen", None)
            db.session.commit()
            db.engine.dispose()
        modes = [MODES[0], MODES[1]] + [MODES[2]] * args.single
        runs = {mode: measure(url, folder, mode) for mode in modes}
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("weasyprint", "pikepdf", "flask"))
    print(
        f"# {date.today()}, nproc={os.cpu_count()}, Python {platform.python_version()}, {versions}; "
        f"{counts.items} items, {counts.findings} findings, {counts.events} events; quarter {QUARTER[0]}–{QUARTER[1]}",
        file=sys.stderr if args.markdown else sys.stdout,
    )
    failed = False
    for name, run in runs.items():
        ok = run["state"] == "done" and run["seconds"] <= TARGET_SECONDS and run["mib"] <= TARGET_MIB
        if name == "in parts":
            failed = not ok
        line = (
            f"{name}: {run['items']} items, {run['findings']} findings → {run['pages']} pages in {run['parts']} parts, "
            f"{run['bytes'] / 2**20:.1f} MB; {run['seconds']:.1f} s wall ({run['cpu']:.1f} s CPU in the job's "
            f"process, {run['children_cpu']:.1f} s in its layout processes), highest memory {run['mib']:.0f} MiB "
            f"(ru_maxrss: job {run['self_mib']:.0f}, largest layout process {run['child_mib']:.0f} MiB) "
            f"(targets {TARGET_SECONDS:.0f} s, {TARGET_MIB:.0f} MiB: {'met' if ok else 'NOT met'})"
        )
        if args.markdown:
            line = (
                f"| {name} | {run['items']} | {run['findings']} | {run['pages']} | {run['parts']} | "
                f"{run['bytes'] / 2**20:.1f} MB | {run['seconds']:.1f} s | {run['cpu'] + run['children_cpu']:.1f} s | "
                f"{run['mib']:.0f} MiB |"
            )
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
