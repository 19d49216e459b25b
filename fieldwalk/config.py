"""Configuration defaults; instance/config.py, FIELDWALK_* variables, DATABASE_URL and SECRET_KEY (or
FIELDWALK_DATABASE_URL and FIELDWALK_SECRET_KEY) override them."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

# Names overridable from the environment as FIELDWALK_<NAME>; ints/bools are converted by type of the default.
DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_DATABASE_URI": None,  # set in load_config: sqlite file in the instance folder
    # SQLite: how long a write waits for another process's write (SQLite has one writer at a time) before it
    # fails, answered as 503 with Retry-After. A write holds the lock for milliseconds, but on a machine
    # overloaded four times over a walk evening's writers queued for more than 5 s (SQLite's default).
    "SQLITE_BUSY_TIMEOUT_MS": 30_000,
    # Where photos are stored: "filesystem" (PHOTO_DIR) or "s3" (a bucket of any S3-compatible store, so that
    # app servers keep no files). Empty S3 credentials and region fall back to boto3's own (AWS_* variables,
    # an instance role); S3_ENDPOINT_URL is empty for AWS itself.
    "PHOTO_STORE": "filesystem",
    "PHOTO_DIR": None,  # set in load_config: instance/photos
    "S3_ENDPOINT_URL": "",
    "S3_BUCKET": "",
    "S3_PREFIX": "photos",
    "S3_REGION": "",
    "S3_ACCESS_KEY_ID": "",
    "S3_SECRET_ACCESS_KEY": "",
    "PHOTO_MAX_BYTES": 20 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 50_000_000,
    # PNG, WebP and HEIF are always decoded at full size (JPEG is drafted at 1/2-1/8 scale).
    "PHOTO_MAX_PIXELS_FULL_DECODE": 24_000_000,
    # Pixels all photos of one request may decode together (~20-40 ns each): bounds the CPU time
    # one post can cost. Ten phone JPEGs (drafted to ~3 MP each) need about 30 MP.
    "PHOTO_DECODE_BUDGET_PIXELS": 80_000_000,
    "PHOTO_MAX_PER_FINDING": 10,
    # `flask photos gc` removes unreferenced photo files only once they are this old (requests in flight).
    "PHOTO_GC_GRACE_HOURS": 24,
    # A photo's EXIF position places a finding only within this distance of the walk's meeting point or
    # of one of its findings (a gallery photo taken at home must not put the finding there).
    "PHOTO_GPS_MAX_DISTANCE_M": 2000,
    # The capture form offers findings and open action items of the same category this close as possible
    # duplicates ("Jag håller med" instead of a new finding). FixMyStreet uses 250 m; walks are denser.
    "DUPLICATE_RADIUS_M": 25,
    "DUPLICATE_MAX_RESULTS": 10,
    # None: computed by request_size_limit() so that PHOTO_MAX_PER_FINDING photos of PHOTO_MAX_BYTES
    # each always fit; each photo is then checked against PHOTO_MAX_BYTES by our code so that the
    # form can be shown again with what the user typed.
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
    "TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "TILE_ATTRIBUTION": "&copy; OpenStreetMap contributors",
    "MAP_CENTER": "59.3326,18.0649",  # used when a walk has no position yet
    # The protocol's map on a background of map tiles, fetched by the server when the protocol is made (e.g.
    # "https://tile.example.se/{z}/{x}/{y}.png"; mind the tile server's usage policy). Empty: the schematic
    # map only. Tiles are cached on disk (default instance/tile-cache) by z/x/y; any fetch error or a
    # server slower than the timeouts gives the schematic map, never an error page.
    "PROTOCOL_TILES_URL": "",
    "PROTOCOL_TILES_ATTRIBUTION": "© OpenStreetMap contributors",
    "PROTOCOL_TILES_CACHE_DIR": None,
    "PROTOCOL_TILES_TIMEOUT": 4,  # seconds per tile
    "PROTOCOL_TILES_TOTAL_TIMEOUT": 10,  # seconds for all tiles of one map
    "PROTOCOL_TILES_MAX_AGE_DAYS": 30,
    "PROTOCOL_TILES_CACHE_MB": 200,
    "PROTOCOL_TILES_MAX_ZOOM": 18,
    # Protocol PDFs of a period (or of a walk with more findings than PROTOCOL_PDF_DIRECT_MAX_FINDINGS) are
    # made by a background job and kept for the person who asked for PROTOCOL_PDF_KEEP_HOURS; then the file
    # and its row go (`flask purge-protocols`, and whenever a new one is asked for). They are stored like the
    # photos: under PROTOCOL_DIR (default instance/protocols), or with PHOTO_STORE=s3 in the same bucket
    # under PROTOCOL_S3_PREFIX/, so that any app server serves what the worker made.
    "PROTOCOL_PDF_KEEP_HOURS": 24,
    "PROTOCOL_PDF_DIRECT_MAX_FINDINGS": 200,
    # A larger PDF is laid out in parts of at most this many findings rows or action items, joined into one
    # tagged file: a layout process holds one part in memory at a time.
    "PROTOCOL_PDF_PART_ROWS": 200,
    "PROTOCOL_PDF_PART_ITEMS": 60,
    # The parts are laid out in this many processes at once (python -m fieldwalk.followup.layout), each
    # holding one part; 1 lays them out one after the other in one process of its own.
    "PROTOCOL_PDF_PROCESSES": 2,
    "PROTOCOL_DIR": None,
    "PROTOCOL_S3_PREFIX": "protocols",
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "LANGUAGES": ["sv", "en"],
    "WTF_CSRF_TIME_LIMIT": None,  # a walk can last for hours; the token lives as long as the session
    # FIELDWALK_PRODUCTION=1 under gunicorn: SECRET_KEY required, cookies Secure, HTTPS enforced.
    "PRODUCTION": False,
    "PROXY_FIX": 0,  # how many reverse proxies (TLS terminators) sit in front and set X-Forwarded-*
    # "json": one JSON line per request and per log record on stderr (`make serve`, gunicorn.conf.py sets
    # it); "text": Flask's readable log and the development server's request lines (`make run`).
    "LOG_FORMAT": "text",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DAYS": 2,  # a guest stays in for the walk and its evening, not for weeks
    "SESSION_HOURS": 12,  # a session cookie is refused this long after it was last written (a working day)
    # The job queue (mail; later protocols and exports) and the rate limits' shared store, e.g.
    # redis://127.0.0.1:6379/0. Empty (the embedded default): jobs run in the web process after the
    # response, and rate limits are counted per process. /readyz and the production check PING it when set.
    "REDIS_URL": "",
    # Seconds before each retry of a failed job (as many retries as intervals); then it is shown to the admin.
    "JOB_RETRY_INTERVALS": [60, 600, 3600],
    "RATELIMIT_STORAGE_URI": None,  # set in load_config: REDIS_URL when set, else memory://
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Failed log-ins per account, from any address: 5, then 10, then 20 wait 5 minutes, an hour, a day.
    "LOGIN_ACCOUNT_RATE_LIMIT": "5 per 5 minutes;10 per hour;20 per day",
    # Reset mails asked for one address (known or not), from any client address.
    "RESET_ACCOUNT_RATE_LIMIT": "3 per hour;10 per day",
    # The join link, per address (a walk's participants may share one mobile network address).
    "JOIN_RATE_LIMIT": "60 per minute;600 per hour",
    "RATELIMIT_STRATEGY": "moving-window",  # a fixed window lets a burst through at each minute boundary
    "PASSWORD_RESET_MAX_AGE": 3600,
    "PASSWORD_HASH_METHOD": "scrypt",  # the tests use a cheap method; never lower it in production
    "PASSWORD_MIN_LENGTH": 10,
    "MAIL_SERVER": "",  # empty: mails are written to MAIL_OUTBOX instead of sent
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "fieldwalk <noreply@localhost>",  # the sender of every mail
    "MAIL_TIMEOUT": 30,  # seconds to wait for the SMTP server (in the job, never in a request)
    "MAIL_OUTBOX": None,  # set in load_config: instance/outbox
    # Static files and data compressed on the way out (gzip/brotli); HTML pages are not, so a page's
    # CSRF token never shares a compressed response with text from the request (BREACH).
    "COMPRESS_MIMETYPES": [
        "text/css",
        "text/javascript",
        "application/javascript",
        "image/svg+xml",
        "application/manifest+json",
        "application/geo+json",
        "application/json",
    ],
    "DUE_SOON_DAYS": 14,
    # A finding made on a phone before its walk was closed (genomförd) is still accepted this many
    # days after closing: the phone may have had no network until then.
    "LATE_FINDING_GRACE_DAYS": 7,
    # The public address: every absolute link (mails, join link, QR code, exports) is built on it, never
    # on the request's Host (a forged Host would otherwise put an attacker's address into reset mails).
    # Required in production, where it also sets TRUSTED_HOSTS; development falls back to DEV_BASE_URL.
    "BASE_URL": None,
    # `flask send-reminders` mails about an item at most once per "week" (ISO week) or "month".
    "REMINDER_PERIOD": "week",
}


DEV_BASE_URL = "http://127.0.0.1:5000"


def _coerce(value: str, default: Any) -> Any:
    """Turn an environment string into the type of the default value."""
    if isinstance(default, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, list):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


# Room in a request for the form's text fields and the multipart headers around each part.
FORM_MARGIN_BYTES = 1024 * 1024


def request_size_limit(config: dict[str, Any]) -> int:
    """The largest request body accepted: a full set of photos at the per-photo limit plus the form."""
    return (
        config["PHOTO_MAX_PER_FINDING"] * config["PHOTO_MAX_BYTES"] + config["MAX_FORM_MEMORY_SIZE"] + FORM_MARGIN_BYTES
    )


def _dev_secret_key(instance_path: Path) -> str:
    """A per-checkout random key kept in instance/ so development sessions survive restarts."""
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _either(name: str) -> str | None:
    """NAME (what hosting platforms set) or FIELDWALK_NAME (as every other setting is named): either one;
    both with different values is a mistake that must not pick one silently."""
    values = {os.environ.get(name) or None, os.environ.get(f"FIELDWALK_{name}") or None} - {None}
    if len(values) > 1:
        raise RuntimeError(f"{name} and FIELDWALK_{name} are both set, to different values: set only one.")
    return values.pop() if values else None


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and the test dict, in that order."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name, default in DEFAULTS.items():
        env = os.environ.get(f"FIELDWALK_{name}")
        if env is not None:
            app.config[name] = _coerce(env, default) if default is not None else env
    database_url, secret_key = _either("DATABASE_URL"), _either("SECRET_KEY")
    if database_url:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    if secret_key:
        app.config["SECRET_KEY"] = secret_key
    if test_config:
        app.config.update(test_config)
    production = app.config["PRODUCTION"]
    if not app.config.get("SQLALCHEMY_DATABASE_URI") and not production:  # production must name its database
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'fieldwalk.sqlite'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"] or ""
    if uri.startswith("postgres://"):  # Heroku-style URLs
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif uri.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://") :]
    if (app.config["SQLALCHEMY_DATABASE_URI"] or "").startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        # pysqlite's timeout is SQLite's busy timeout (sqlite3_busy_timeout), in seconds.
        options["connect_args"] = {
            "timeout": int(app.config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000,
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    if not app.config.get("MAIL_OUTBOX"):
        app.config["MAIL_OUTBOX"] = str(instance / "outbox")
    if not app.config.get("PHOTO_DIR"):
        app.config["PHOTO_DIR"] = str(instance / "photos")
    if not app.config.get("PROTOCOL_DIR"):
        app.config["PROTOCOL_DIR"] = str(instance / "protocols")
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = request_size_limit(app.config)
    else:  # FIELDWALK_MAX_CONTENT_LENGTH arrives as a string (the default None carries no type)
        app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_CONTENT_LENGTH"])
    if production:
        # Every problem at once (secret key, base URL, database, photo store, Redis), or none.
        from fieldwalk.production import check

        check(app)
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _dev_secret_key(instance)
    _check_base_url(app)
    _check_photo_store(app)
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_COOKIE_DAYS"])
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])


def _check_photo_store(app: Flask) -> None:
    """PHOTO_STORE names a backend; the S3 one needs a bucket."""
    store = app.config["PHOTO_STORE"]
    if store not in {"filesystem", "s3"}:
        raise RuntimeError(f"PHOTO_STORE must be 'filesystem' or 's3', not {store!r}.")
    if store == "s3" and not app.config["S3_BUCKET"]:
        raise RuntimeError(
            "PHOTO_STORE is 's3' but S3_BUCKET is not set: set FIELDWALK_S3_BUCKET (and FIELDWALK_S3_ENDPOINT_URL, "
            "FIELDWALK_S3_ACCESS_KEY_ID and FIELDWALK_S3_SECRET_ACCESS_KEY for a store other than AWS)."
        )


def _check_base_url(app: Flask) -> None:
    """BASE_URL must be an absolute http(s) address (production.check has required it there); production
    trusts only its host."""
    if not app.config.get("BASE_URL"):
        app.config["BASE_URL"] = DEV_BASE_URL
    base = urlsplit(app.config["BASE_URL"])
    if base.scheme not in {"http", "https"} or not base.hostname:
        raise RuntimeError(
            f"BASE_URL must be an absolute http(s) address such as https://trygghet.example.se, "
            f"not {app.config['BASE_URL']!r}."
        )
    if app.config["PRODUCTION"]:
        # Flask answers 400 to a request whose Host (or X-Forwarded-Host behind PROXY_FIX) is another one.
        app.config["TRUSTED_HOSTS"] = [base.hostname, *(app.config.get("TRUSTED_HOSTS") or [])]
