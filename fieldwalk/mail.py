"""Sending e-mail: SMTP when MAIL_SERVER is set, otherwise .eml files in the outbox folder (development).

Requests and the change notices queue mail (queue_mail, a job); the reminder run sends it itself (send_mail)."""

import re
import smtplib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

from fieldwalk import jobs

URL = re.compile(r"https?://\S+")


def message_id() -> str:
    """A new Message-ID on the public host (BASE_URL), e.g. <175…@trygghet.example.se>."""
    return make_msgid(domain=urlsplit(current_app.config["BASE_URL"]).hostname)


def _html_lines(body: str) -> list[list[list[tuple[str, str]]]]:
    """The text as paragraphs of lines of (text, link) pieces, for the HTML part (the template escapes)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = []
        for line in block.splitlines():
            pieces, at = [], 0
            for match in URL.finditer(line):
                pieces.append((line[at : match.start()], match.group()))
                at = match.end()
            pieces.append((line[at:], ""))
            lines.append(pieces)
        paragraphs.append(lines)
    return paragraphs


def compose_mail(
    to: str,
    subject: str,
    body: str,
    lang: str | None = None,
    msgid: str | None = None,
    unsubscribe: str | None = None,
) -> EmailMessage:
    """A complete message: From (MAIL_FROM), To, Subject, Date, Message-ID, Auto-Submitted, and the text
    as plain text (UTF-8) with an HTML alternative in `lang` (default: the product language). With
    `unsubscribe` (a link that stops such mails on a POST), List-Unsubscribe and RFC 8058's one-click."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = msgid or message_id()
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # The header is a URL that mail clients read raw (RFC 2369): folded at 78 characters, Python would
        # write the long token as RFC 2047 encoded-words, which no client takes for a URL. So this message's
        # header lines are folded at SMTP's limit of 998 instead.
        message.policy = message.policy.clone(max_line_length=998)
    message.set_content(body)
    lang = lang or config["BABEL_DEFAULT_LOCALE"]
    # The template alone (autoescaped), without the page context: a worker or cron job has no request.
    template = current_app.jinja_env.get_template("mail/message.html")
    html = template.render(lang=lang, subject=subject, paragraphs=_html_lines(body))
    message.add_alternative(html, subtype="html")
    return message


@jobs.summary(lambda to, subject, *args, **kwargs: f"{to}: {subject}")
def send_mail(
    to: str,
    subject: str,
    body: str,
    lang: str | None = None,
    msgid: str | None = None,
    unsubscribe: str | None = None,
) -> EmailMessage:
    """Send the message now (compose_mail; SMTP when MAIL_SERVER is set, else a file in MAIL_OUTBOX) and
    return it. Requests queue mail instead (queue_mail): the answer never waits for a mail server."""
    config = current_app.config
    message = compose_mail(to, subject, body, lang, msgid, unsubscribe)
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        outbox = Path(config["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{time.time_ns()}.eml").write_bytes(bytes(message))
    return message


def queue_mail(to: str, subject: str, body: str, lang: str | None = None, unsubscribe: str | None = None) -> None:
    """Send the mail as a job (jobs.enqueue): after the response, or by `flask worker` with Redis; retried,
    and visible to the admin if it fails for good. The Message-ID is fixed now, so a retry keeps it."""
    jobs.enqueue(send_mail, to, subject, body, lang=lang, msgid=message_id(), unsubscribe=unsubscribe)


@dataclass
class OutboxMail:
    """One .eml file in the outbox, with the headers an export shows."""

    path: Path
    written_at: str  # ISO time (UTC) the file was written
    subject: str


def outbox_mails_mentioning(pattern: re.Pattern | None) -> list[OutboxMail]:
    """The outbox mails whose headers or decoded text match `pattern` (None: no mails).

    The outbox only exists without MAIL_SERVER (development, or a site without SMTP); mails sent by
    SMTP are kept by nobody here. Erasing a person deletes the outbox mails to or about them.
    """
    root = current_app.config.get("MAIL_OUTBOX")
    if pattern is None or not root or not Path(root).is_dir():
        return []
    found = []
    for path in sorted(Path(root).glob("*.eml")):
        raw = path.read_bytes()
        message = message_from_bytes(raw, policy=policy.default)
        try:  # bodies are base64 or quoted-printable: search the decoded text as well as the raw bytes
            plain = message.get_body(preferencelist=("plain",))
            text = plain.get_content() if plain is not None else ""
        except (KeyError, LookupError, ValueError):  # an odd file someone dropped in the folder
            text = ""
        headers = "\n".join(f"{k}: {v}" for k, v in message.items())
        if any(pattern.search(part) for part in (headers, text, raw.decode("utf-8", "replace"))):
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None).isoformat() + "Z"
            found.append(OutboxMail(path, written, str(message.get("Subject", ""))))
    return found
