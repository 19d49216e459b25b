"""Mail about action items: change notices sent after the commit, the periodic overdue reminders, and the
one mail per finding and outcome to a reporter who asked for it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import Flask, current_app
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, contains_eager, selectinload

from fieldwalk import jobs
from fieldwalk.dates import format_day
from fieldwalk.extensions import db
from fieldwalk.labels import label
from fieldwalk.links import external_url
from fieldwalk.mail import queue_mail, send_mail
from fieldwalk.models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    EventKind,
    Finding,
    FindingNotice,
    NoticeOutcome,
    Reminder,
    ReminderKind,
    ResponsibleParty,
    Role,
    User,
    utcnow,
)
from fieldwalk.timeline import event_text
from fieldwalk.transactions import savepoint
from fieldwalk.walks.notice_links import stop_link

MAIL_LOCALE = "sv"  # mails go to departments and shared mailboxes: the product language
_PENDING = "fieldwalk_notifications"  # (item, actor, event) queued by the operations
# (recipients, subject, body, language, stop link or None) composed just before the commit
_OUTGOING = "fieldwalk_outgoing_mail"


# --- Who gets mail ---------------------------------------------------------------------------------


def _dedupe(addresses) -> list[str]:
    seen, result = set(), []
    for address in addresses:
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def party_recipients(party: ResponsibleParty) -> list[str]:
    """The party's own address (if any) and those of its active members with an account, without repeats."""
    members = db.session.scalars(
        select(User.email)
        .where(
            User.responsible_party_id == party.id,
            User.role == Role.RESPONSIBLE,
            User.active.is_(True),
            User.email.is_not(None),
        )
        .order_by(User.id)
    )
    return _dedupe([party.email, *members])


def assignee_recipients(item: ActionItem) -> list[str]:
    """The item's handläggare if it has one with an address, otherwise everyone of its responsible party."""
    if item.assignee is not None and item.assignee.active and item.assignee.email:
        return [item.assignee.email]
    return party_recipients(item.responsible_party) if item.responsible_party is not None else []


# --- Change notices, sent only once the change is committed ----------------------------------------


def notify_change(item: ActionItem, actor: User, event: ActionEvent) -> None:
    """Queue a notice to the item's assignee about this change; it is mailed if and when the transaction commits."""
    db.session.info.setdefault(_PENDING, []).append((item, actor, event))


def drop_pending_notifications(session: Session) -> None:
    """Forget the notices queued in this transaction (demo data mails nobody)."""
    session.info.pop(_PENDING, None)


def _compose_notice(item: ActionItem, actor: User, change: ActionEvent) -> tuple[list[str], str, str] | None:
    recipients = [r for r in assignee_recipients(item) if not actor.email or r.lower() != actor.email.lower()]
    if not recipients:
        return None
    assigned = change.kind == EventKind.EDITED or change.to_status == ActionStatus.ASSIGNED
    whom = (
        item.assignee.name
        if item.assignee is not None
        else (item.responsible_party.name if item.responsible_party is not None else "")
    )
    if assigned:
        subject = _("Tilldelad åtgärd: %(title)s", title=item.title)
        intro = _("%(actor)s har tilldelat en åtgärd till %(whom)s.", actor=change.actor_name, whom=whom)
    else:
        subject = _("Ny status för åtgärd: %(title)s", title=item.title)
        intro = _("%(actor)s har ändrat status för en åtgärd som ni ansvarar för.", actor=change.actor_name)
    lines = [
        _("Hej!"),
        "",
        intro,
        "",
        _("Åtgärd: %(title)s", title=item.title),
        _("Vandring: %(walk)s", walk=item.walk.title),
    ]
    if change.from_status is not None and change.to_status is not None:
        lines.append(
            _("Status: %(from)s → %(to)s", **{"from": label(change.from_status), "to": label(change.to_status)})
        )
    elif change.to_status is None:
        lines.append(_("Status: %(status)s", status=label(item.status)))
    if item.due_date is not None:
        lines.append(_("Klart senast: %(date)s", date=format_day(item.due_date)))
    written = event_text(change)  # the system's line in the mail's language, then what was typed
    if written:
        lines += ["", written]
    lines += ["", _("Öppna åtgärden: %(link)s", link=external_url("actions.detail", item_id=item.id))]
    return recipients, subject, "\n".join(lines) + "\n"


def _compose_queued_notices(session: Session) -> None:
    """Write the notices while the session can still load what they show; they are sent after the commit."""
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    outgoing = session.info.setdefault(_OUTGOING, [])
    with force_locale(MAIL_LOCALE):
        for item, actor, change in pending:
            try:
                message = _compose_notice(item, actor, change)
            except Exception:  # a notice must never cost the user the change itself
                current_app.logger.exception("Could not compose the notice about action item %s", item.id)
                continue
            if message is not None:
                outgoing.append((*message, MAIL_LOCALE, None))


def _queue_composed_mail(session: Session) -> None:
    """Committed: queue the composed mails as jobs (sent after the response, or by the worker)."""
    if session.in_nested_transaction():
        return
    for recipients, subject, body, lang, unsubscribe in session.info.pop(_OUTGOING, []):
        try:
            queue_mail(", ".join(recipients), subject, body, lang, unsubscribe)
        except Exception as error:  # a mail must never break the request that made the change
            current_app.logger.warning("Could not queue the mail %r to %s: %s", subject, recipients, error)


def _forget_unsent_mail(session: Session, transaction: SessionTransaction) -> None:
    """Rolled back or closed without a commit: notices about changes that never happened are dropped, and
    so are the outcome mails (their records are gone with the transaction)."""
    if transaction.parent is None:
        for key in (_PENDING, _OUTGOING, _PENDING_OUTCOMES):
            session.info.pop(key, None)


# --- Reminders about overdue and soon-due items (flask send-reminders, from cron) ------------------


def reminder_period(today: date) -> str:
    """The period a reminder counts for: the ISO week ("2026-W48") or the month ("2026-11") of `today`."""
    kind = current_app.config["REMINDER_PERIOD"]
    if kind == "week":
        year, week, _day = today.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{today.year}-{today.month:02d}"
    raise ValueError(f"REMINDER_PERIOD must be 'week' or 'month', not {kind!r}")


@dataclass
class ReminderRun:
    """What one run of send_reminders did."""

    period: str
    mails: int = 0
    items: int = 0
    without_address: list[tuple[str, int]] = field(default_factory=list)  # party name, items
    failed: list[tuple[str, str]] = field(default_factory=list)  # party name, error


def _due_items(today: date, period: str) -> dict[ResponsibleParty, list[tuple[ActionItem, ReminderKind]]]:
    """Open items of active parties, overdue or due within DUE_SOON_DAYS, not yet reminded of in this period."""
    soon = today + timedelta(days=current_app.config["DUE_SOON_DAYS"])
    items = db.session.scalars(
        select(ActionItem)
        .join(ActionItem.responsible_party)
        .where(
            ActionItem.status.in_(ActionStatus.OPEN),
            ActionItem.due_date.is_not(None),
            ActionItem.due_date <= soon,
            ResponsibleParty.active.is_(True),
        )
        .options(contains_eager(ActionItem.responsible_party), selectinload(ActionItem.walk))
        .order_by(ResponsibleParty.name, ActionItem.due_date, ActionItem.id)
    )
    done = set(db.session.execute(select(Reminder.action_item_id, Reminder.kind).where(Reminder.period == period)))
    by_party: dict[ResponsibleParty, list[tuple[ActionItem, ReminderKind]]] = defaultdict(list)
    for item in items:
        party, due = item.responsible_party, item.due_date
        if party is None or due is None:  # the query's join and where leave these out already
            continue
        kind = ReminderKind.OVERDUE if due < today else ReminderKind.DUE_SOON
        if (item.id, kind) not in done:
            by_party[party].append((item, kind))
    return by_party


def _reminder_mail(
    party: ResponsibleParty, entries: list[tuple[ActionItem, ReminderKind]], today: date
) -> tuple[str, str]:
    overdue = [item for item, kind in entries if kind == ReminderKind.OVERDUE]
    soon = [item for item, kind in entries if kind == ReminderKind.DUE_SOON]
    subject = _("Påminnelse: åtgärder för %(party)s", party=party.name)
    lines = [_("Hej!"), "", _("Det här är en påminnelse om åtgärder som %(party)s ansvarar för.", party=party.name)]
    for heading, items in (
        (_("Försenade"), overdue),
        (_("Snart dags (inom %(days)d dagar)", days=current_app.config["DUE_SOON_DAYS"]), soon),
    ):
        if not items:
            continue
        lines += ["", f"{heading} ({len(items)})", ""]
        for item in items:
            assert item.due_date is not None  # _due_items took only items with a due date
            days = (today - item.due_date).days
            if days > 0:
                when = ngettext("%(num)d dag försenad", "%(num)d dagar försenad", days)
            elif days == 0:
                when = _("ska vara klar i dag")
            else:
                when = ngettext("om %(num)d dag", "om %(num)d dagar", -days)
            lines += [
                f"- {item.title}",
                "  " + _("Vandring: %(walk)s", walk=item.walk.title),
                "  " + _("Klart senast: %(date)s (%(when)s)", date=format_day(item.due_date), when=when),
                "  " + _("Status: %(status)s", status=label(item.status)),
                "  " + external_url("actions.detail", item_id=item.id),
                "",
            ]
    lines += [
        _("Alla era åtgärder: %(link)s", link=external_url("actions.index", party=party.id)),
        "",
        _(
            "Ni får högst en påminnelse per åtgärd och period. Ändra status i fieldwalk när en åtgärd är "
            "klar, så slutar påminnelserna."
        ),
    ]
    return subject, "\n".join(lines) + "\n"


def send_reminders(today: date) -> ReminderRun:
    """Mail each responsible party its overdue and soon-due items, once per item, kind and period.

    One mail per party and run. The Reminder rows that stop a second mail are written in the same
    transaction as the sending and committed only when the mail went out, so a party whose mail failed,
    or that has no address yet, is tried again on the next run.
    """
    run = ReminderRun(period=reminder_period(today))
    by_party = _due_items(today, run.period)
    with force_locale(MAIL_LOCALE):
        for party, entries in by_party.items():
            name = party.name
            recipients = party_recipients(party)
            if not recipients:
                run.without_address.append((name, len(entries)))
                continue
            subject, body = _reminder_mail(party, entries, today)
            for item, kind in entries:
                db.session.add(
                    Reminder(
                        action_item=item,
                        party=party,
                        kind=kind,
                        period=run.period,
                        recipients=", ".join(recipients),
                        sent_at=utcnow(),
                    )
                )
            try:
                db.session.flush()  # a concurrent run that got there first stops here, before mailing
                send_mail(", ".join(recipients), subject, body, MAIL_LOCALE)
            except IntegrityError:
                db.session.rollback()
                continue
            except Exception as error:  # smtplib errors, refused connections, timeouts
                db.session.rollback()
                current_app.logger.warning("Could not mail the reminder to %s: %s", name, error)
                run.failed.append((name, str(error) or error.__class__.__name__))
                continue
            db.session.commit()
            run.mails += 1
            run.items += len(entries)
    return run


@jobs.summary(lambda day: f"send-reminders --date {day}")
def remind(day: str) -> None:
    """send_reminders as a job (flask send-reminders --queue): fails, and so is retried, while a party's
    mail fails; each retry mails only the parties not yet reminded."""
    run = send_reminders(date.fromisoformat(day))
    if run.failed:
        raise RuntimeError("; ".join(f"{name}: {error}" for name, error in run.failed))


# --- What happened to my finding: one mail per finding and outcome to a reporter who asked for it ----------

_PENDING_OUTCOMES = "fieldwalk_outcome_notices"  # (finding, outcome) recorded by record_outcomes


def _outcome(finding: Finding) -> NoticeOutcome | None:
    """The finding's outcome once none of its action items is open: resolved if any was done, else rejected;
    a finding marked "ingen åtgärd behövs" is rejected (with the note as the reason)."""
    if finding.no_action:
        return NoticeOutcome.REJECTED
    items = finding.action_items
    if not items or any(i.is_open for i in items):
        return None
    return NoticeOutcome.RESOLVED if any(i.is_resolved for i in items) else NoticeOutcome.REJECTED


def record_outcomes(item: ActionItem) -> None:
    """After a status move of `item`: record_outcome for each of its findings."""
    for finding in item.findings:
        record_outcome(finding)


def record_outcome(finding: Finding) -> None:
    """If the finding's reporter left an address and the finding has an outcome now (_outcome), record the
    notice (unique per finding and outcome) and queue the mail.

    The record is written in the same transaction as the move and the mail goes only after the commit, so a
    move that is rolled back mails nobody; re-opening and resolving again, or a second item reaching the
    same outcome, finds the record and mails nobody a second time (two moves at once: the unique constraint).
    """
    reporter = finding.reporter
    if reporter is None or not reporter.notify_email or not reporter.active or reporter.erased_at:
        return
    outcome = _outcome(finding)
    if (
        outcome is None
        or db.session.scalar(
            select(FindingNotice.id).where(FindingNotice.finding_id == finding.id, FindingNotice.outcome == outcome)
        )
        is not None
    ):
        return
    try:
        with savepoint():
            db.session.add(FindingNotice(finding_id=finding.id, outcome=outcome))
            db.session.flush()
    except IntegrityError:  # a concurrent move recorded (and mails) it
        return
    db.session.info.setdefault(_PENDING_OUTCOMES, []).append((finding, outcome))


def _reason(finding: Finding, outcome: NoticeOutcome) -> str:
    """The public (non-internal) text of the latest move of the finding's items to the outcome's statuses."""
    if outcome == NoticeOutcome.REJECTED and finding.no_action:
        return finding.no_action_note.strip()
    statuses = ActionStatus.RESOLVED if outcome == NoticeOutcome.RESOLVED else {ActionStatus.REJECTED}
    events = [
        e
        for i in finding.action_items
        for e in i.events
        if e.kind == EventKind.STATUS and e.to_status in statuses and not e.internal and e.text.strip()
    ]
    return max(events, key=lambda e: (e.created_at, e.id)).text.strip() if events else ""


def _compose_outcome(finding: Finding, reporter: User, address: str, outcome: NoticeOutcome) -> tuple[str, str, str]:
    """(subject, body, the link that stops these mails) of the mail about the finding's outcome."""
    category = finding.category.name(str(get_locale()))
    walk = finding.walk
    reason = _reason(finding, outcome)
    if outcome == NoticeOutcome.RESOLVED:
        subject = _("Ditt fynd är åtgärdat: %(category)s", category=category)
        news = _("Det du rapporterade är nu åtgärdat.")
    else:
        subject = _("Ditt fynd kommer inte att åtgärdas: %(category)s", category=category)
        news = _("Det du rapporterade kommer inte att åtgärdas.")
    lines = [
        _("Hej %(name)s!", name=reporter.name),
        "",
        _(
            "Du loggade ett fynd under vandringen %(walk)s den %(date)s.",
            walk=walk.title,
            date=format_day(finding.created_at),
        ),  # the day in Swedish time, en-GB in English
        _("Fynd: %(category)s", category=category),
    ]
    if finding.place:
        lines.append(_("Plats: %(place)s", place=finding.place))
    lines += ["", news]
    if reason:
        lines += [(_("Så här blev det:") if outcome == NoticeOutcome.RESOLVED else _("Skäl:")), reason]
    stop = stop_link(reporter, address)
    lines += [
        "",
        _("Fyndet och vad som gjorts: %(link)s", link=external_url("findings.detail", finding_id=finding.id)),
        "",
        _(
            "Du får det här mejlet för att du lämnade din e-postadress när du gick med i vandringen. Du får "
            "högst ett mejl per fynd och besked. Vill du inte ha fler mejl om dina fynd: %(link)s",
            link=stop,
        ),
    ]
    return subject, "\n".join(lines) + "\n", stop


def _compose_outcome_notices(session: Session) -> None:
    """Write the outcome mails, each in its reporter's language, while the session can still load them."""
    pending = session.info.pop(_PENDING_OUTCOMES, [])
    if not pending:
        return
    outgoing = session.info.setdefault(_OUTGOING, [])
    for finding, outcome in pending:
        reporter = finding.reporter
        if reporter is None or not reporter.notify_email:  # record_outcome keeps only those with an address
            continue
        lang = reporter.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        try:
            with force_locale(lang):
                subject, body, stop = _compose_outcome(finding, reporter, reporter.notify_email, outcome)
                outgoing.append(([reporter.notify_email], subject, body, lang, stop))
        except Exception:  # a mail must never cost the coordinator the change itself
            current_app.logger.exception("Could not compose the outcome mail about finding %s", finding.id)


# --- Wiring: the listeners on the app's session ------------------------------------------------------

_LISTENERS = (
    ("before_commit", _compose_queued_notices),
    ("before_commit", _compose_outcome_notices),
    ("after_commit", _queue_composed_mail),
    ("after_transaction_end", _forget_unsent_mail),
)


_listening: set[int] = set()  # the session factories listened on (db is one per process: one of them)


def init_app(app: Flask) -> None:
    """Listen on the app's session (db.session): compose the queued mails before each commit, queue them
    as jobs after it, drop them on a rollback. Every app shares the one db, so its listeners are added once."""
    if id(db.session.session_factory) in _listening:
        return
    for name, listener in _LISTENERS:
        event.listen(db.session, name, listener)
    _listening.add(id(db.session.session_factory))
