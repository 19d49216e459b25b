"""Production settings, checked once when the app is built with FIELDWALK_PRODUCTION=1 (`make serve`, gunicorn).

Every problem is collected and reported at once: a deploy that lacks three settings learns about all three
from one failed start, not one per attempt. `python -m fieldwalk.production` runs the same check and exits
non-zero with the list (`make serve` runs it before anything else).
"""

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from flask import Flask
from sqlalchemy import create_engine, make_url, text

from fieldwalk.security import is_loopback

MIN_SECRET_KEY_BYTES = 32
CONNECT_TIMEOUT_SECONDS = 5
SECRET_KEY_HINT = "e.g. python -c 'import secrets; print(secrets.token_hex(32))'"


class ProductionSettingsError(RuntimeError):
    """The production settings are incomplete or point at something that cannot be reached."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"fieldwalk cannot start in production mode (FIELDWALK_PRODUCTION=1): "
            f"{len(problems)} problem(s) with the settings.\n{lines}"
        )


def without_password(url: str) -> str:
    """The URL as it may be shown in a message or log: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def _error_text(error: Exception) -> str:
    """The first line of an exception, with its type: enough to act on, short enough for a list."""
    first = (str(error).strip().splitlines() or [""])[0].rstrip(".")
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def secret_key_problems(key: str | bytes | None, instance_path: str) -> list[str]:
    """SECRET_KEY is set, long enough, and not the development key kept in instance/secret_key."""
    if not key:
        return [
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or SECRET_KEY in "
            f"instance/config.py) to a long random value, {SECRET_KEY_HINT}."
        ]
    raw = key.encode() if isinstance(key, str) else key
    if len(raw) < MIN_SECRET_KEY_BYTES:
        return [f"SECRET_KEY is too short: production needs at least {MIN_SECRET_KEY_BYTES} bytes, {SECRET_KEY_HINT}."]
    dev_key = Path(instance_path) / "secret_key"
    if dev_key.is_file() and dev_key.read_text().strip().encode() == raw.strip():
        return [
            "SECRET_KEY is the development key from instance/secret_key (written by `make run`); "
            f"production needs a key of its own, {SECRET_KEY_HINT}."
        ]
    return []


def base_url_problems(base_url: str | None) -> list[str]:
    """BASE_URL is the public https address: not missing, not plain http, not this machine."""
    if not base_url:
        return [
            "BASE_URL is not set. Set FIELDWALK_BASE_URL (or BASE_URL in instance/config.py) to the public "
            "address people open, e.g. https://trygghet.example.se; links in mails are built on it and "
            "requests for any other host are refused."
        ]
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [f"BASE_URL must be an absolute http(s) address such as https://trygghet.example.se, not {base_url!r}."]
    problems = []
    if parts.scheme != "https":
        problems.append(
            f"BASE_URL must be an https:// address in production, not {base_url!r}: session cookies are "
            "sent over HTTPS only and plain http is redirected."
        )
    if is_loopback(parts.hostname):
        problems.append(
            f"BASE_URL points at this machine ({parts.hostname}), so join links, QR codes and links in mails "
            "cannot be opened by anyone else. Use the public address, e.g. https://trygghet.example.se."
        )
    return problems


def database_problems(uri: str | None, engine_options: dict) -> list[str]:
    """A database URL is set and a connection answers SELECT 1."""
    if not uri:
        return [
            "DATABASE_URL is not set. Set it to the PostgreSQL database, e.g. "
            "postgresql://fieldwalk@db.internal/fieldwalk (or to sqlite:////srv/fieldwalk/fieldwalk.sqlite "
            "for a single machine)."
        ]
    url = make_url(uri)
    options = dict(engine_options)
    if url.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **options.get("connect_args", {})}
    shown = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(url, **options)
    except Exception as error:  # an unknown driver, a malformed URL
        return [f"DATABASE_URL {shown} cannot be used: {_error_text(error)}."]
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return [f"The database at {shown} is not reachable: {_error_text(error)}."]
    finally:
        engine.dispose()  # nothing of this check's connections is inherited by forked workers
    return []


def photo_store_problems(app: Flask) -> list[str]:
    """The configured photo store takes a file and gives it back."""
    from fieldwalk.health import probe_photo_store

    try:
        with app.app_context():
            probe_photo_store()
    except Exception as error:
        return [
            f"The photo store ({app.config.get('PHOTO_DIR')}) cannot be written and read back: "
            f"{_error_text(error)}. Set FIELDWALK_PHOTO_DIR to a folder this user may write."
        ]
    return []


def redis_problems(urls: list[str]) -> list[str]:
    """Each configured Redis answers PING."""
    from fieldwalk.health import ping_redis

    problems = []
    for url in urls:
        try:
            ping_redis(url)
        except Exception as error:
            problems.append(f"Redis at {without_password(url)} is not reachable: {_error_text(error)}.")
    return problems


def problems(app: Flask) -> list[str]:
    """Everything wrong with the production settings of a configured (not yet initialised) app."""
    config = app.config
    found = secret_key_problems(config.get("SECRET_KEY"), app.instance_path)
    found += base_url_problems(config.get("BASE_URL"))
    found += database_problems(config.get("SQLALCHEMY_DATABASE_URI"), config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    found += photo_store_problems(app)
    from fieldwalk.health import redis_urls

    found += redis_problems(redis_urls(config))
    return found


def check(app: Flask) -> None:
    """Raise ProductionSettingsError listing every problem; note what is allowed but limited."""
    found = problems(app)
    if found:
        raise ProductionSettingsError(found)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if make_url(uri).get_backend_name() == "sqlite":
        app.logger.warning(
            "The database is SQLite (%s): fine for one machine; with several app servers use PostgreSQL.",
            make_url(uri).render_as_string(hide_password=True),
        )


def main() -> int:
    """`python -m fieldwalk.production`: build the app in production mode and report the settings."""
    import os

    from fieldwalk import create_app
    from fieldwalk.production import ProductionSettingsError  # this module's class, not __main__'s

    os.environ["FIELDWALK_PRODUCTION"] = "1"
    try:
        create_app()
    except ProductionSettingsError as error:
        print(error, file=sys.stderr)
        return 2
    print("Production settings are complete; the database, photo store and Redis (when set) answer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
