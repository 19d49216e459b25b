"""Sending e-mail: SMTP when MAIL_SERVER is set, otherwise .eml files in the outbox folder (development)."""

import re
import smtplib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, after_this_request, current_app


def send_mail(to: str, subject: str, body: str) -> EmailMessage:
    """Send a plain-text message (UTF-8) and return it."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
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


def send_mail_after_response(to: str, subject: str, body: str) -> None:
    """Send the mail once this request's response has gone out (when the server closes it), so the answer
    takes as long whether a mail is sent or not (a reset request must not tell which addresses exist)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's; typed as the Flask app

    @after_this_request
    def _send_when_closed(response):
        response.call_on_close(lambda: _send_in_app(app, to, subject, body))
        return response


def _send_in_app(app: Flask, to: str, subject: str, body: str) -> None:
    """send_mail outside the request: its own app context; a failure is logged (the answer is already out)."""
    with app.app_context():
        try:
            send_mail(to, subject, body)
        except Exception:  # SMTP down, outbox not writable: the user was told nothing either way
            app.logger.exception("Could not send the mail %r", subject)


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
            text = message.get_content() if not message.is_multipart() else ""
        except (KeyError, LookupError, ValueError):  # an odd file someone dropped in the folder
            text = ""
        headers = "\n".join(f"{k}: {v}" for k, v in message.items())
        if any(pattern.search(part) for part in (headers, text, raw.decode("utf-8", "replace"))):
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None).isoformat() + "Z"
            found.append(OutboxMail(path, written, str(message.get("Subject", ""))))
    return found
