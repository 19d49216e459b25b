"""Sending e-mail: SMTP when MAIL_SERVER is set, otherwise .eml files in the outbox folder (development)."""

import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


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

