"""gunicorn settings for fieldwalk (`make serve`; gunicorn reads this file from the current folder by itself).

Any setting can be changed for one start without editing this file: `GUNICORN_CMD_ARGS="--workers 3"`
or command-line options (both override this file); `WEB_CONCURRENCY` sets the number of workers.
"""

import ctypes
import os
import signal

wsgi_app = "fieldwalk:create_app()"
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"]


def _cores() -> int:
    """The cores this process may run on (a container's CPU set), not every core of the machine."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Threads for the waits (database, SMTP, map tiles); processes for the CPU work, which holds the GIL:
# photo decoding and the protocol PDF. cores + 1 processes keep every core busy while one waits; at most
# 8, as each process holds its own WeasyPrint and Pillow (~150 MB).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(_cores() + 1, 8))
threads = 4


def _keep_freed_memory() -> None:
    """Freed memory stays with the process for the next request instead of going back to the kernel.

    A photo upload moves a few large buffers (the 3 MB body and its copies, Pillow's ~12 MB decode). With
    glibc's defaults each worker thread's malloc arena gave them back after the request and the next request
    faulted them in again page by page: 3,700-5,200 page faults and 10-16 ms of kernel time per capture (now
    under 100 and 3-5 ms), which a single-threaded process (the walk evening bench's bare pipeline) never pays
    (docs/benchmarks.md, "Memory kept for the next upload"). Blocks up to 32 MiB now come from the arenas (not
    mmap) and each arena keeps up to 64 MiB free; a worker holds some 30-110 MB more after a burst of uploads
    (max_requests recycles it). Set here, in the master before the app is loaded, the setting is inherited by
    every forked worker. Where the C library has no mallopt (macOS) nothing is set; MALLOC_MMAP_THRESHOLD_ and
    MALLOC_TRIM_THRESHOLD_ in the environment are overridden."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except AttributeError:
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    mallopt(m_trim_threshold, 64 * 1024 * 1024)


_keep_freed_memory()

# The longest synchronous request is the period protocol PDF: 1.9 s for the demo data's 2026 (two walks,
# 14 items with photos; measured on a loaded 2-core machine). 120 s leaves room for a year of a large
# kommun (50x the demo) until PDFs move to the job queue. For gthread workers the timeout is how long the
# worker's main loop may stay silent before it is killed, so a slow upload does not trip it.
timeout = 120
# On a reload or stop, requests in flight get this long to finish before their worker is killed.
graceful_timeout = 120
# Seconds an idle connection stays open. Short on purpose: a kept-alive connection stays with the worker that
# accepted it, and with 75 s (which would outlast a phone's 15 s pause between posts, so that the server never
# closes a connection a phone is just sending on) the walk evening's phones most likely stayed bunched on few
# workers: the saturated phase stored 41-88 % of the bare pipeline's photos/s against 85-107 % with 5 s
# (docs/benchmarks.md, walk evening).
# The price of 5 s: a request sent at the moment the server closes the idle connection is reset; a browser
# (the outbox) sends it again. Behind nginx (docs/deploy.md) gunicorn gets one connection per request anyway.
keepalive = 5

# The app is imported once in the master and forked: workers start fast, share memory, and a release that
# fails to import (or fails the production check, FIELDWALK_PRODUCTION=1) stops at start with the
# message instead of leaving a master that restarts broken workers forever. With preload the code lives
# in the master, so `kill -HUP` re-reads only this file; a new release is loaded with `make reload`
# (SIGUSR2: a new master with the new code; when it is ready it stops the old one gracefully, below).
preload_app = True

# Recycle a worker now and then (memory held by large PDFs and photos); the jitter staggers them.
max_requests = 2000
max_requests_jitter = 200

# Requests are logged by the app as JSON lines with their request id (fieldwalk/request_log.py);
# gunicorn's access log would be a second, different line per request. gunicorn's own lines (workers
# booting, timeouts) and other libraries' warnings are JSON lines too, on stderr.
os.environ.setdefault("FIELDWALK_LOG_FORMAT", "json")
accesslog = None
errorlog = "-"
loglevel = "info"
if os.environ["FIELDWALK_LOG_FORMAT"] == "json":
    logconfig_dict = {
        "root": {"level": "WARNING", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False, "qualname": "gunicorn.error"},
            "gunicorn.access": {"handlers": ["null"], "propagate": False, "qualname": "gunicorn.access"},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "null": {"class": "logging.NullHandler"},
        },
        "formatters": {"json": {"()": "fieldwalk.request_log.JsonFormatter"}},
    }

# Whose X-Forwarded-* headers gunicorn believes (only for wsgi.url_scheme; the app's own ProxyFix,
# FIELDWALK_PROXY_FIX=<number of proxies>, decides the client address and host): the proxy in front.
# 127.0.0.1 by default; set FORWARDED_ALLOW_IPS to the proxy's address when it runs elsewhere, never "*"
# on a port the internet can reach.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server):
    """Say plainly when gunicorn serves the development settings (no checks, cookies not Secure)."""
    production = os.environ.get("FIELDWALK_PRODUCTION", "").lower() in {"1", "true", "yes", "on"}
    if not production:
        server.log.warning(
            "FIELDWALK_PRODUCTION is not set: serving with development settings (no production check, "
            "cookies not Secure, HTTP allowed). `make serve` sets it."
        )


def when_ready(server):
    """After `kill -USR2 <master>` (make reload), the new master stops the old one once it listens:
    SIGTERM lets the old workers finish their requests (graceful_timeout) while the new ones take over."""
    old_master = getattr(server, "master_pid", 0)
    if old_master:
        server.log.info("New master ready; stopping the old master %s gracefully", old_master)
        os.kill(old_master, signal.SIGTERM)
