"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..audit.services import record_event
from ..extensions import db
from .forms import ChangePasswordForm, LoginForm
from .services import UserError, change_password, end_sessions, sign_in
from .throttle import TooManyAttempts

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside this app, else None.

    Werkzeug 3 no longer makes Location absolute, so ``//evil.example``, ``/\\evil`` and
    ``https:evil.example`` would leave the site: accept only "/" followed by a non-slash.
    """
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("desk.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = sign_in(form.email.data, form.password.data, request.remote_addr or "")
        except TooManyAttempts as error:
            db.session.commit()
            flash(f"{error} Then try again.", "danger")
            return render_template("auth/login.html", form=form), 429
        db.session.commit()
        if user is None:
            flash("That email and password do not match an active account.", "danger")
            return render_template("auth/login.html", form=form)
        login_user(user, remember=form.remember.data)
        flash(f"Welcome back, {user.name}.", "success")
        return redirect(safe_next(form.next.data) or url_for("desk.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere this session was copied to."""
    user = current_user._get_current_object()
    end_sessions(user)
    record_event(user, "user.signed_out", user)
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change my password; every other session of mine ends, this one stays signed in."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user._get_current_object(), form.current.data, form.new.data)
        except UserError as error:
            field = form.current if "current" in str(error) else form.new
            field.errors.append(str(error))
        else:
            db.session.commit()
            login_user(current_user._get_current_object())
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("desk.index"))
    return render_template("auth/password.html", form=form)
