"""Sign-in throttling per account and per client address, counted in the database.

Failures within SIGNIN_WINDOW are counted; at SIGNIN_MAX_FAILURES_PER_ACCOUNT for one
address typed, or SIGNIN_MAX_FAILURES_PER_ADDRESS from one client, sign-in waits until the
oldest counted failure leaves the window. Unknown accounts are counted exactly like real
ones, so the answer never tells whether an account exists. A successful sign-in clears the
account's failures (not the address's).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import SignInFailure, utcnow


class TooManyAttempts(Exception):
    """Sign-in is paused; ``minutes`` says for how long."""

    def __init__(self, minutes: int):
        super().__init__(f"Too many sign-in attempts. Please wait {minutes} minutes.")
        self.minutes = minutes


def account_key(email: str) -> str:
    """A keyed hash of the address typed: comparable, but not the address itself."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _oldest_counted(column, value: str, limit: int, since: datetime) -> datetime | None:
    """The time of the oldest failure in the window if there are ``limit`` or more."""
    count, oldest = db.session.execute(
        select(func.count(), func.min(SignInFailure.at)).where(
            column == value, SignInFailure.at > since
        )
    ).one()
    return oldest if count >= limit else None


def check_throttle(email: str, address: str) -> None:
    """Raise TooManyAttempts while this account or this address is paused."""
    config = current_app.config
    window = config["SIGNIN_WINDOW"]
    now = utcnow()
    since = now - window
    blocked = [
        _oldest_counted(
            SignInFailure.account_key,
            account_key(email),
            config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"],
            since,
        ),
        _oldest_counted(
            SignInFailure.address, address, config["SIGNIN_MAX_FAILURES_PER_ADDRESS"], since
        ),
    ]
    oldest = [at for at in blocked if at is not None]
    if oldest:
        wait = min(oldest) + window - now
        raise TooManyAttempts(max(1, math.ceil(wait.total_seconds() / 60)))


def record_failure(email: str, address: str) -> None:
    """Count one failed sign-in; flush, never commit."""
    db.session.add(SignInFailure(account_key=account_key(email), address=address[:64]))
    db.session.flush()


def clear_failures(email: str) -> None:
    """A successful sign-in: the account's counter starts again."""
    db.session.execute(delete(SignInFailure).where(SignInFailure.account_key == account_key(email)))


def forget_old_failures() -> int:
    """Delete failures that no longer count (run by ``flask privacy purge``)."""
    since = utcnow() - current_app.config["SIGNIN_WINDOW"]
    result = db.session.execute(delete(SignInFailure).where(SignInFailure.at <= since))
    return result.rowcount or 0
