"""Password rules: every log-in costs one hash check (known address or not), and new passwords are long
enough and not on the bundled list of common passwords."""

import gzip
import secrets
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from fieldwalk.models import User

# 20 000 common passwords, lowercased (Royce Williams' list as shipped by Django, BSD licence; see
# data/NOTICE). Compared without case.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, read once per process."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def dummy_hash() -> str:
    """A hash of a random password made with PASSWORD_HASH_METHOD: checked when there is no real one to check."""
    return _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])


def check_login(user: User | None, password: str) -> bool:
    """True when `user` may log in with `password`. Always one hash check of the configured cost, so the
    answer time does not tell whether the address has an account (or whether it is active, or a guest)."""
    if user is None or user.password_hash is None or not user.active:
        check_password_hash(dummy_hash(), password)
        return False
    return user.check_password(password)


# Words anyone guessing at a fieldwalk account would try first.
APP_WORDS = ("fieldwalk", "trygghetsvandring", "trygghet", "vandring")


def password_problem(password: str, email: str | None = None, name: str | None = None) -> str | None:
    """Why `password` may not be chosen, in the user's language; None when it may.

    Too short, on the common-password list, too few different characters ("aaaaaaaaaa"), or little more
    than the person's e-mail address, name or the app's name ("fieldwalk123", "Göran Gata1").
    """
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return _("Lösenordet måste ha minst %(n)d tecken.", n=minimum)
    lowered = password.strip().lower()
    if lowered in common_passwords() or len(set(lowered)) < 4:
        return _("Lösenordet är för vanligt och lätt att gissa. Välj ett annat, gärna en mening med flera ord.")
    words = [
        *APP_WORDS,
        *(email or "").lower().replace("@", " ").replace(".", " ").split(),
        *(name or "").lower().split(),
    ]
    rest = lowered
    for word in sorted({w for w in words if len(w) >= 3}, key=len, reverse=True):
        rest = rest.replace(word, "")
    if len("".join(c for c in rest if c.isalpha())) < 4:
        return _(
            "Lösenordet liknar din e-postadress, ditt namn eller appens namn för mycket. Välj ett annat, "
            "gärna en mening med flera ord."
        )
    return None
