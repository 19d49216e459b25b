"""Request ids and JSON logs.

Every request gets an id: a sane incoming `X-Request-ID` (from a proxy or load balancer that logs it too),
else a new one. It is `g.request_id`, goes back as the `X-Request-ID` header, and appears on the error page
and in API error bodies. With LOG_FORMAT=json (`make serve`, the repo's gunicorn.conf.py) the app writes one
JSON line per request to stderr — time, request id, method, path (no query string; tokens in the path
replaced), status, duration, user id, client address (as ProxyFix gives it) — and its own log records
(warnings, errors) as JSON lines with the request id. LOG_FORMAT=text (`make run`) keeps Flask's
human-readable log and the development server's request lines.
"""

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect
from werkzeug.routing import BuildError

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Path parts that open something by themselves (a walk's join code, a password reset token): never logged.
SECRET_PATH_ARGS = {"code", "token"}
REDACTED = "REDACTED"
request_logger = logging.getLogger("fieldwalk.request")


def request_id() -> str:
    """This request's id (set before any other before_request function; made here if one ran first)."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


def logged_path() -> str:
    """The request's path without its query string, with secret path parts (join codes, reset tokens)
    replaced by REDACTED."""
    rule, args = request.url_rule, request.view_args or {}
    secret = SECRET_PATH_ARGS & args.keys()
    if rule is None or not secret:
        return request.path
    try:
        built = rule.build({**args, **dict.fromkeys(secret, REDACTED)}, append_unknown=False)
        return built[1] if built else rule.rule
    except (BuildError, ValueError, TypeError):
        return rule.rule


def _user_id() -> int | None:
    """The logged-in user's id when Flask-Login loaded the user in this request, read from the identity
    map: no query (the transaction may have failed) and nothing but the id."""
    state = inspect(g.get("_login_user"), raiseerr=False)
    return state.identity[0] if state is not None and state.identity else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the request id inside a
    request, the fields a record carries in `extra={"fields": {...}}`, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        message = record.getMessage()
        if has_request_context():
            path = logged_path()
            if path != request.path:  # Flask's "Exception on /join/<code> [GET]" and the like
                message = message.replace(request.path, path)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if has_request_context():
            entry["request_id"] = request_id()
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, ensure_ascii=False, default=str)


class JsonHandler(logging.StreamHandler):
    """The app's JSON log handler (a class of its own, so a second create_app replaces it, not adds one)."""


def _set_request_id_header(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def _log_request(response: Response) -> Response:
    _set_request_id_header(response)
    started = g.get("request_started")
    fields = {
        "request_id": request_id(),
        "method": request.method,
        "path": logged_path(),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": _user_id(),
        "remote_addr": request.remote_addr,
    }
    request_logger.info("%s %s %s", request.method, fields["path"], response.status_code, extra={"fields": fields})
    return response


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def configure_json_logging(app: Flask, stream=None) -> None:
    """Send the app's log records (logger "fieldwalk" and below, e.g. "fieldwalk.request") to the stream
    (stderr) as JSON lines, instead of Flask's default text handler."""
    from flask.logging import default_handler

    logger = logging.getLogger("fieldwalk")
    logger.removeHandler(default_handler)
    for handler in [h for h in logger.handlers if isinstance(h, JsonHandler)]:
        logger.removeHandler(handler)
    handler = JsonHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False  # gunicorn's or the root logger's handlers would print each record again
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """Give each request its id (first of all before_request functions) and, with LOG_FORMAT=json, log it."""
    app.before_request(_start)
    if str(app.config["LOG_FORMAT"]).lower() == "json":
        configure_json_logging(app)
        app.after_request(_log_request)
    else:
        app.after_request(_set_request_id_header)
