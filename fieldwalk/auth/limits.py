"""Rate-limit keys: the client's network (an IPv6 host by its /64) and the account a log-in is aimed at."""

import hashlib
import ipaddress

from flask import request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address


def client_network() -> str:
    """The client's IPv4 address, or the /64 network of its IPv6 address (a host may use any address in
    its /64, so counting single addresses would give it 2**64 tries)."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key() -> str:
    """The log-in's e-mail address as the accounts are looked up (trimmed, lower case), hashed: the
    limiter's store (Redis in production) holds no addresses."""
    email = request.form.get("email", "").strip().lower()
    return "account:" + hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()


def failed_login(response) -> bool:
    """A log-in attempt counts against the account when it failed (wrong address or password)."""
    return response.status_code == 401


def too_many_attempts() -> str:
    """The message of a per-address limit (the limiter's own is English: "10 per 1 minute")."""
    return _("För många försök från din adress på kort tid. Vänta en stund och försök igen.")


def too_many_for_account() -> str:
    """The message of a per-account limit."""
    return _("För många försök för det här kontot. Vänta en stund och försök igen.")
