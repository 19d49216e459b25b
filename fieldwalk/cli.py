"""Flask commands: init-db, seed-demo, seed-large, create-user, send-reminders, worker, photos gc, backup,
restore."""

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from fieldwalk import backup, jobs
from fieldwalk.auth.passwords import password_problem
from fieldwalk.bulk_data import fill
from fieldwalk.extensions import analyze, db
from fieldwalk.followup.protocol_files import purge_expired
from fieldwalk.models import ResponsibleParty, Role
from fieldwalk.notifications import remind, reminder_period, send_reminders
from fieldwalk.photos.service import collect_garbage
from fieldwalk.seed import DEMO_PASSWORD, create_user, ensure_reference_data, has_data, seed_demo


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema (Alembic) and add missing default categories and parties."""
    upgrade()
    ensure_reference_data()
    db.session.commit()
    click.echo("Database is up to date.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has walks.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo data set (two walks in Växjö with findings, photos and action items)."""
    if has_data():
        if if_empty:
            click.echo("Demo data not loaded: the database already has walks.")
            return
        raise click.ClickException("The database already has walks; seed-demo needs an empty one.")
    seed_demo()
    db.session.commit()
    click.echo(f"Demo data loaded. Log in as samordnare@example.com / {DEMO_PASSWORD}")


@click.command("seed-large")
@with_appcontext
@click.option("--walks", type=click.IntRange(1), default=200, show_default=True)
@click.option("--findings", type=click.IntRange(1), default=20_000, show_default=True, help="In all, spread evenly.")
@click.option("--items", type=click.IntRange(0), default=10_000, show_default=True, help="Action items in all.")
def seed_large_command(walks: int, findings: int, items: int) -> None:
    """Add a large data set fast (bulk inserts, no mails or audit entries): completed walks with findings, action
    items and their events, for benchmarks and query-count checks. Needs the reference data (init-db)."""
    if findings < walks or items > findings:
        raise click.BadParameter("needs walks <= findings and items <= findings", param_hint="--findings/--items")
    counts = fill(db.session(), walks, findings // walks, items_per_walk=items // walks)
    db.session.commit()
    with db.engine.begin() as connection:
        analyze(connection)
    click.echo(
        f"Added {counts.walks} walks, {counts.findings} findings, {counts.items} action items, {counts.events} events."
    )


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PARTICIPANT.value)
@click.option("--organisation", default="")
@click.option("--party", default=None, help="Responsible party name (for the ansvarig role).")
@click.password_option()
def create_user_command(email, name, role, organisation, party, password) -> None:
    """Add a user account."""
    problem = password_problem(password, email, name)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    responsible = None
    if party:
        responsible = db.session.scalar(db.select(ResponsibleParty).filter_by(name=party))
        if responsible is None:
            raise click.BadParameter(f"no responsible party named {party!r}", param_hint="--party")
    try:
        create_user(email, name, password, Role(role), organisation, responsible)
        db.session.commit()
    except Exception as error:  # unique e-mail
        db.session.rollback()
        raise click.ClickException(f"could not create user: {error.__class__.__name__}") from None
    click.echo(f"User {email} created with role {role}.")


@click.command("send-reminders")
@with_appcontext
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Remind as of this day (YYYY-MM-DD) instead of today.",
)
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Put the run on the job queue (flask worker runs it, retries it, shows a failure to the admin).",
)
def send_reminders_command(on, queued: bool) -> None:
    """Mail each responsible party its overdue and soon-due action items, once per item and period (cron)."""
    today = on.date() if on else date.today()
    try:
        reminder_period(today)
    except ValueError as error:  # a wrong REMINDER_PERIOD
        raise click.ClickException(str(error)) from None
    if queued:
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException(
                "--queue needs FIELDWALK_REDIS_URL (the job queue); without it run the command as it is."
            )
        jobs.enqueue(remind, today.isoformat())
        click.echo(f"Reminders as of {today.isoformat()} queued.")
        return
    run = send_reminders(today)
    for name, count in run.without_address:
        click.echo(f"No e-mail address for {name!r} ({count} items); add one to the party or a member.")
    for name, problem in run.failed:
        click.echo(f"Could not mail {name!r}: {problem}", err=True)
    click.echo(
        f"{run.period}: sent {run.mails} mails about {run.items} items; "
        f"{len(run.without_address)} parties without address; {len(run.failed)} failed."
    )
    if run.failed:
        raise click.exceptions.Exit(1)


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (instead of waiting for jobs).")
def worker_command(burst: bool) -> None:
    """Run the jobs queued on Redis (FIELDWALK_REDIS_URL): mail, reminders; retries with backoff (systemd)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's; typed as the Flask app
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "flask worker needs FIELDWALK_REDIS_URL (e.g. redis://127.0.0.1:6379/0). Without it there is no "
            "queue: jobs run in the web process after each response."
        )
    try:
        jobs.redis_connection(app).ping()
    except Exception as error:  # redis.ConnectionError
        raise click.ClickException(f"Redis at FIELDWALK_REDIS_URL does not answer: {error}") from None
    jobs.make_worker(app).work(burst=burst, with_scheduler=True)


photos = AppGroup("photos", help="Photo store maintenance.")


@photos.command("gc")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--grace-hours",
    type=click.FloatRange(min=0),
    default=None,
    help="Keep unreferenced files younger than this (default: PHOTO_GC_GRACE_HOURS).",
)
def photos_gc_command(dry_run: bool, grace_hours: float | None) -> None:
    """Remove photo files that no photo row refers to and that are older than the grace period (cron)."""
    grace = current_app.config["PHOTO_GC_GRACE_HOURS"] if grace_hours is None else grace_hours
    run = collect_garbage(grace, dry_run=dry_run)
    for key in run.removed:
        click.echo(f"{'would remove' if dry_run else 'removed'} {key}")
    click.echo(
        f"{len(run.removed)} unreferenced files {'to remove' if dry_run else 'removed'}; kept "
        f"{run.kept_referenced} in use and {run.kept_recent} younger than {grace:g} hours."
    )


@click.command("purge-protocols")
@with_appcontext
def purge_protocols_command() -> None:
    """Remove protocol PDFs (file and row) asked for more than PROTOCOL_PDF_KEEP_HOURS ago (cron, hourly)."""
    total = 0
    while True:  # in batches, each committed
        removed = purge_expired()
        db.session.commit()
        total += removed
        if not removed:
            break
    hours = current_app.config["PROTOCOL_PDF_KEEP_HOURS"]
    click.echo(f"{total} protocol PDFs older than {hours} hours removed.")


@click.command("backup")
@with_appcontext
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="The archive to write (.tar, or .tar.gz to compress); default instance/backups/fieldwalk-<UTC time>.tar.",
)
@click.option(
    "--verify",
    "verify_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check this archive instead of writing one: every member against the manifest, the database snapshot.",
)
def backup_command(output: Path | None, verify_path: Path | None) -> None:
    """Write one archive with a consistent database snapshot, every photo and a manifest of checksums (cron)."""
    if verify_path is not None:
        if output is not None:
            raise click.UsageError("--verify checks an archive; it does not take --output")
        result = backup.verify_backup(verify_path)
        for problem in result.problems:
            click.echo(f"{verify_path}: {problem}", err=True)
        if result.problems:
            raise click.ClickException(f"{verify_path} does not verify: {len(result.problems)} problem(s)")
        assert result.manifest is not None
        click.echo(
            f"{verify_path} is intact: {len(result.members)} members, {result.manifest['database']} database at "
            f"revision {result.manifest.get('alembic_revision')}, made {result.manifest.get('created_at')}."
        )
        return
    try:
        written = backup.create_backup(output or backup.default_output())
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {written.path} ({written.photos} photo files, {written.size} bytes).")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore an archive of flask backup into an empty installation (a new database, an empty photo store)."""
    try:
        restored = backup.restore_backup(path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    for note in restored.notes:
        click.echo(f"Note: {note}")
    click.echo(
        f"Restored {path}: the database{' (then upgraded)' if restored.upgraded else ''} at revision "
        f"{restored.revision} and {restored.photos} photo files."
    )


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (
        init_db,
        seed_demo_command,
        seed_large_command,
        create_user_command,
        send_reminders_command,
        worker_command,
        photos,
        backup_command,
        restore_command,
        purge_protocols_command,
    ):
        app.cli.add_command(command)
