"""Sending e-mail: SMTP when MAIL_SERVER is set, otherwise .eml files in the outbox folder (development)."""

import smtplib
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

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
    app = current_app._get_current_object()

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


def mail_link(endpoint: str, **values) -> str:
    """An absolute link for a mail, built on BASE_URL: the same from a request and from a cron job."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)
