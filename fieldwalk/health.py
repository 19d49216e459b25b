"""/healthz (the process answers) and /readyz (the database, photo store and Redis answer) for load balancers
and orchestrators. No login, no CSRF, no rate limit; the answers name components, never settings or errors."""

import functools
import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from fieldwalk.extensions import csrf, db, limiter
from fieldwalk.photos.service import photo_store

bp = Blueprint("health", __name__)

# A fixed file kept in the photo store: each readiness check writes it (renewing its time, so that
# `flask photos gc` keeps it while the app is probed) and reads it back.
PROBE = b"fieldwalk readiness probe\n"
PROBE_SHA256 = hashlib.sha256(PROBE).hexdigest()
PROBE_VARIANT = "thumb"
REDIS_TIMEOUT_SECONDS = 3
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def probe_photo_store() -> None:
    """Write the probe file through the configured store and read it back; raises when that fails."""
    store = photo_store()
    store.put(PROBE_SHA256, PROBE_VARIANT, PROBE)
    if store.read(PROBE_SHA256, PROBE_VARIANT) != PROBE:
        raise OSError("the photo store gave back other bytes than were written")


def ping_redis(url: str) -> None:
    """PING the Redis server at url (a short timeout: an unreachable server must not hold the check)."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def redis_urls(config) -> list[str]:
    """The Redis servers the app uses: REDIS_URL and a redis:// rate limit storage (once each)."""
    urls = [config.get("REDIS_URL") or "", config.get("RATELIMIT_STORAGE_URI") or ""]
    return list(dict.fromkeys(url for url in urls if url.startswith(REDIS_SCHEMES)))


def _check_database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()  # end the read; a broken connection is dropped from the pool


@bp.get("/healthz")
def healthz():
    """The process lives and answers; touches nothing else."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/readyz")
def readyz():
    """200 when the database, the photo store and every configured Redis answer, else 503 naming which failed."""
    checks: dict[str, Callable[[], object]] = {"database": _check_database, "photo_store": probe_photo_store}
    for number, url in enumerate(redis_urls(current_app.config)):
        checks["redis" if number == 0 else f"redis_{number + 1}"] = functools.partial(ping_redis, url)
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
        except Exception:
            # The reason goes to the log (with the request id), not to whoever asks.
            current_app.logger.warning("Readiness check %s failed", name, exc_info=True)
            results[name] = "failed"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    failed = [name for name, result in results.items() if result != "ok"]
    body: dict[str, object] = {"status": "ok" if ready else "unavailable", "checks": results}
    if failed:
        body["failed"] = failed
    return jsonify(body), 200 if ready else 503


PROBE_PATHS = {"/healthz", "/readyz"}


class ProbesByAddress:
    """WSGI middleware: an orchestrator or load balancer probes an app server by its address over plain
    HTTP, which production answers with a 400 (the Host is not BASE_URL's, TRUSTED_HOSTS) or a redirect to
    https. The probes build no links and show nothing of the request, so a GET of /healthz or /readyz is
    answered as if it had come to BASE_URL."""

    def __init__(self, wsgi_app, base_url: str):
        self.wsgi_app = wsgi_app
        base = urlsplit(base_url)
        self.host, self.scheme = base.netloc, base.scheme

    def __call__(self, environ, start_response):
        """Pass the request on; a probe's with BASE_URL's host and scheme."""
        if environ.get("PATH_INFO") in PROBE_PATHS and environ.get("REQUEST_METHOD") in {"GET", "HEAD"}:
            environ = {**environ, "HTTP_HOST": self.host, "wsgi.url_scheme": self.scheme}
            for forwarded in ("HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PORT"):
                environ.pop(forwarded, None)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the probes, exempt from CSRF and rate limits (they need no login: no view here asks for one),
    and in production reachable by address (ProbesByAddress, outside ProxyFix)."""
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp)
    if app.config["PRODUCTION"]:
        app.wsgi_app = ProbesByAddress(app.wsgi_app, app.config["BASE_URL"])  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
