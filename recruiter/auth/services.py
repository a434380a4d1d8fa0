"""Users: creating them, checking passwords, loading them from a session."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Role, User

MIN_PASSWORD_LENGTH = 12


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password, or None (same answer for every miss)."""
    user = find_user_by_email(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie this user holds (sign-out, password change)."""
    user.session_version += 1
    db.session.flush()


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login's loader: refuse sessions of inactive users or of an older generation."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
