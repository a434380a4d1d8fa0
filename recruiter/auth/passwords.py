"""The password rule (OWASP ASVS 5.0, 6.2): long enough, long pass-phrases welcome, not common.

No composition rules: length and a list of the most common passwords do more good. The list
(``common_passwords.txt``, 10,000 entries, lower-cased) ships with the package.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class WeakPassword(ValueError):
    """The password breaks the rule; the message says which part, in plain words."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """Listed as is, or a listed word with digits or punctuation added at either end."""
    lowered = password.lower()
    trimmed = lowered.strip(string.digits + string.punctuation + " ")
    common = common_passwords()
    return lowered in common or trimmed in common or len(set(lowered)) <= 2


def check_new_password(password: str, email: str = "") -> None:
    """Raise WeakPassword unless ``password`` may be used (by the user with ``email``)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if is_common(password):
        raise WeakPassword("That password is one of the most common; choose another.")
    local_part = email.partition("@")[0].lower()
    if local_part and len(local_part) >= 4 and local_part in password.lower():
        raise WeakPassword("Choose a password that does not contain your email address.")
