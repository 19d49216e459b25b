"""Work done outside the request: mail now, the reminder run, later protocols and large exports.

One interface, ``enqueue(fn, *args, **kwargs)``: `fn` is an importable module-level function and the
arguments are plain values (str, int, float, bool, None, lists and dicts of them), so that a job can be
stored in Redis, written to failed_jobs as JSON and run again from there.

* With FIELDWALK_REDIS_URL (config REDIS_URL): an RQ job on the "fieldwalk" queue, run by `flask worker`,
  retried after each of JOB_RETRY_INTERVALS (seconds); a job whose last attempt fails stays in RQ's failed
  registry and is written to failed_jobs.
* Without (the embedded default): in the web process. In a request the job runs once the response has gone
  out (the WSGI server closes it), so the answer never waits for a mail server; a failed attempt is tried
  again on a timer thread after the next interval. Outside a request (a CLI command) it runs at once, and a
  retry waits in the command. The last failure is written to failed_jobs. Retries not yet due are lost
  when the process stops: sites that need more use Redis.

Either way the admin sees what failed for good under Administration → Misslyckade jobb, and can run it again.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from fieldwalk.extensions import db
from fieldwalk.models import FailedJob

QUEUE_NAME = "fieldwalk"
IN_PROCESS, REDIS = "in-process", "redis"
_AFTER_RESPONSE = "fieldwalk_jobs_after_response"
_AFTER_COMMIT = "fieldwalk_jobs_after_commit"


def summary(describe: Callable[..., str]) -> Callable:
    """Decorate a job function with what a failed job of it was about, from its arguments (e.g. a mail's
    recipients and subject), for the admin's list of failed jobs."""

    def mark(fn: Callable) -> Callable:
        fn.job_summary = describe  # type: ignore[attr-defined]  # our mark, read with getattr
        return fn

    return mark


def long_running(seconds: int) -> Callable:
    """Decorate a job function that may take longer than RQ's default limit (180 s), e.g. a period's protocol
    PDF on a loaded machine: its RQ job may run this long before the worker stops it."""

    def mark(fn: Callable) -> Callable:
        fn.job_timeout = seconds  # type: ignore[attr-defined]  # our mark, read with getattr
        return fn

    return mark


def not_retried(fn: Callable) -> Callable:
    """Decorate a job function whose failure the person who asked sees and answers themselves (a protocol
    PDF: "Försök igen"): no retries behind their back, so that a failure shown is the end of that job."""
    fn.job_retried = False  # type: ignore[attr-defined]  # our mark, read with getattr
    return fn


def function_path(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def load_function(path: str) -> Callable:
    module, _dot, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def describe(fn: Callable, args: tuple | list, kwargs: dict) -> str:
    describe_job = getattr(fn, "job_summary", None)
    return describe_job(*args, **kwargs) if describe_job else function_path(fn)


def retry_intervals(app: Flask, fn: Callable | None = None) -> list[int]:
    """Seconds before each retry of `fn`; as many retries as intervals (FIELDWALK_JOB_RETRY_INTERVALS=60,600,3600),
    none for a job marked not_retried."""
    if fn is not None and not getattr(fn, "job_retried", True):
        return []
    return [int(seconds) for seconds in app.config["JOB_RETRY_INTERVALS"]]


def enqueue(fn: Callable, *args: Any, **kwargs: Any) -> None:
    """Run fn(*args, **kwargs) as a job (see the module's doc). Never raises for the job's sake: an
    unreachable Redis is logged and the job is written to failed_jobs, where the admin can run it again."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's; typed as the Flask app
    if app.config.get("REDIS_URL"):
        from rq import Callback, Retry

        intervals = retry_intervals(app, fn)
        try:
            redis_queue(app).enqueue_call(
                fn,
                args=args,
                kwargs=kwargs,
                description=describe(fn, args, kwargs),
                timeout=getattr(fn, "job_timeout", None),
                retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
                on_failure=Callback(_rq_job_failed),
            )
        except Exception as error:  # redis.ConnectionError, a timeout: the job must not be lost silently
            app.logger.exception("Could not queue the job %s", function_path(fn))
            record_failure(function_path(fn), describe(fn, args, kwargs), args, kwargs, error, 0, REDIS)
        return
    attempt = partial(_attempt, app, fn, args, kwargs, 1)
    if has_request_context():
        g.setdefault(_AFTER_RESPONSE, []).append(attempt)
    else:
        attempt(background=False)


def enqueue_after_commit(fn: Callable, *args: Any, **kwargs: Any) -> None:
    """enqueue(fn, ...) once the session's transaction is committed (a job about a row just added must not
    reach a worker before the row does); dropped when it is rolled back."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append((fn, args, kwargs))


def _enqueue_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for fn, args, kwargs in session.info.pop(_AFTER_COMMIT, []):
        enqueue(fn, *args, **kwargs)


def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


_listening: set[int] = set()  # the session factories listened on (db is one per process)


def _run_after_response(response):
    """after_request: the request's jobs run when the server closes the response (it has been sent)."""
    pending = g.pop(_AFTER_RESPONSE, None)
    if pending:
        response.call_on_close(lambda: [attempt(background=True) for attempt in pending])
    return response


def _attempt(app: Flask, fn: Callable, args: tuple, kwargs: dict, number: int, background: bool) -> None:
    """Attempt `number` of an in-process job, in its own app context; schedules the next or records the end."""
    with app.app_context():
        try:
            fn(*args, **kwargs)
            return
        except Exception as error:  # SMTP down, a full disk: tried again, then shown to the admin
            intervals = retry_intervals(app, fn)
            if number > len(intervals):
                app.logger.exception("The job %s failed %d times; see failed jobs", function_path(fn), number)
                record_failure(function_path(fn), describe(fn, args, kwargs), args, kwargs, error, number, IN_PROCESS)
                return
            delay = intervals[number - 1]
            app.logger.warning("The job %s failed (%s); trying again in %d s", function_path(fn), error, delay)
    retry = partial(_attempt, app, fn, args, kwargs, number + 1, background=background)
    if background and delay > 0:
        timer = threading.Timer(delay, retry)
        timer.daemon = True
        timer.start()
    else:
        time.sleep(delay)
        retry()


def record_failure(
    function: str, about: str, args: tuple | list, kwargs: dict, error: BaseException, attempts: int, queue: str
) -> None:
    """Write the failed job to failed_jobs, in a session of its own (in an app context)."""
    session = db.session.session_factory()
    try:
        session.add(
            FailedJob(
                function=function,
                summary=about,
                arguments=json.dumps([list(args), kwargs], ensure_ascii=False),
                error=(f"{error.__class__.__name__}: {error}" if str(error) else error.__class__.__name__)[:2000],
                attempts=attempts,
                queue=queue,
            )
        )
        session.commit()
    except Exception:
        session.rollback()
        current_app.logger.exception("Could not record the failed job %s", function)
    finally:
        session.close()


def run_again(failed: FailedJob) -> None:
    """Queue a failed job again (the admin's button) and forget the record; the caller commits."""
    args, kwargs = json.loads(failed.arguments)
    db.session.delete(failed)
    enqueue(load_function(failed.function), *args, **kwargs)


# --- RQ on Redis ------------------------------------------------------------------------------------


def redis_connection(app: Flask):
    """The app's Redis client (REDIS_URL), made once."""
    connection = app.extensions.get("fieldwalk.redis")
    if connection is None:
        from redis import Redis

        connection = app.extensions["fieldwalk.redis"] = Redis.from_url(app.config["REDIS_URL"])
    return connection


def redis_queue(app: Flask):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=redis_connection(app))


def _rq_job_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback, in the worker (app context): the last attempt's failure goes to failed_jobs."""
    if job.should_retry:
        return
    record_failure(
        job.func_name,
        job.description or job.func_name,
        job.args,
        job.kwargs,
        exc_value if exc_value is not None else RuntimeError("failed"),
        len(job.retry_intervals or []) + 1,
        REDIS,
    )


def make_worker(app: Flask):
    """An RQ worker on the app's queue that runs each job in a fresh app context of `app`, in its own process
    (SimpleWorker: no fork, so no database connection is shared with a child)."""
    from rq import SimpleWorker

    class AppWorker(SimpleWorker):
        def perform_job(self, job, queue, execution):
            with app.app_context():
                return super().perform_job(job, queue, execution)

    return AppWorker([redis_queue(app)], connection=redis_connection(app))


def init_app(app: Flask) -> None:
    """Jobs queued during a request run after its response (the embedded default); jobs queued for after
    the commit are queued when the app's session commits."""
    app.after_request(_run_after_response)
    if id(db.session.session_factory) not in _listening:
        event.listen(db.session, "after_commit", _enqueue_committed)
        event.listen(db.session, "after_transaction_end", _forget_uncommitted)
        _listening.add(id(db.session.session_factory))
