"""Absolute links (mails, the join link and its QR code, exports): always built on BASE_URL."""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """An absolute link to `endpoint` on BASE_URL: the same from a request, a cron job or a worker, and
    never taken from the request's Host or X-Forwarded-Host (which an attacker chooses)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
