"""Users: creating them, checking passwords, loading them from a session."""

from __future__ import annotations

from functools import cache

from flask import current_app
from sqlalchemy import bindparam, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record_event
from ..extensions import db
from ..models import Role, User
from .passwords import WeakPassword, check_new_password
from .throttle import TooManyAttempts, check_throttle, clear_failures, record_failure


class UserError(Exception):
    """A user could not be created or changed; the message says why."""


def find_user_by_email(email: str) -> User | None:
    """The user with this address, compared case-insensitively."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, name: str, role: Role, password: str) -> User:
    """Add a user; flush, never commit."""
    email = email.strip().lower()
    if find_user_by_email(email) is not None:
        raise UserError(f"A user with the address {email} already exists.")
    try:
        check_new_password(password, email)
    except WeakPassword as error:
        raise UserError(f"The password is not accepted: {error}") from error
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password, or None (same answer for every miss)."""
    user = find_user_by_email(email)
    if user is None:
        # Spend the same time as for a real account, so timing does not tell either.
        check_password_hash(dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def sign_in(email: str, password: str, address: str) -> User | None:
    """The user, if not throttled and the password matches; failures are counted and audited.

    Raises TooManyAttempts while the account or the client address is paused. Flush only.
    """
    try:
        check_throttle(email, address)
    except TooManyAttempts:
        record_event(None, "user.sign_in_throttled", find_user_by_email(email), address=address)
        raise
    user = authenticate(email, password)
    if user is None:
        record_failure(email, address)
        record_event(None, "user.sign_in_failed", find_user_by_email(email), address=address)
        return None
    clear_failures(email)
    record_event(user, "user.signed_in", user, address=address)
    return user


@cache
def dummy_hash(method: str) -> str:
    """A hash of nothing in particular, checked when no account matches."""
    return generate_password_hash("no account has this password", method=method)


def change_password(user: User, current: str, new: str) -> None:
    """Check the current password, set the new one and end every other session."""
    if not user.check_password(current):
        raise UserError("That is not your current password.")
    try:
        check_new_password(new, user.email)
    except WeakPassword as error:
        raise UserError(str(error)) from error
    user.set_password(new)
    end_sessions(user)
    record_event(user, "user.password_changed", user)


def change_role(user: User, role: Role, by: User) -> None:
    """Give ``user`` another role; admins cannot demote themselves (someone must stay admin)."""
    if user.id == by.id and role != Role.ADMIN:
        raise UserError("You cannot take away your own admin role.")
    if user.role == role:
        return
    record_event(by, "user.role_changed", user, old=user.role.value, new=role.value)
    user.role = role


def set_active(user: User, active: bool, by: User) -> None:
    """Deactivate (every session ends at once) or reactivate a user."""
    if user.id == by.id:
        raise UserError("You cannot deactivate yourself.")
    if user.active == active:
        return
    user.active = active
    end_sessions(user)
    record_event(by, "user.reactivated" if active else "user.deactivated", user)


def end_sessions(user: User) -> None:
    """Invalidate every session cookie this user holds (sign-out, password change)."""
    user.session_version += 1
    db.session.flush()


# Every signed-in request runs this: a statement built once costs less than session.get's.
USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login's loader: refuse sessions of inactive users or of an older generation."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.scalars(USER_BY_ID, {"user_id": int(user_id)}).first()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
