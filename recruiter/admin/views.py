"""Users and roles, and the audit log; admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from ..audit.services import audit_query, known_actions, one_line
from ..auth.access import roles_required
from ..auth.services import UserError, change_role, set_active
from ..extensions import db
from ..models import Role, User
from .forms import ActiveForm, AuditFilterForm, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def get_user(user_id: int) -> User:
    """The user, or 404."""
    return db.get_or_404(User, user_id)


@bp.get("/users")
@login_required
@roles_required(Role.ADMIN)
def users():
    """Every user with role and state, and the forms to change them."""
    people = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    forms = {u.id: RoleForm(role=u.role.value, prefix=f"u{u.id}") for u in people}
    return render_template("admin/users.html", users=people, forms=forms, active_form=ActiveForm())


@bp.post("/users/<int:user_id>/role")
@login_required
@roles_required(Role.ADMIN)
def role(user_id: int):
    """Give a user another role."""
    user = get_user(user_id)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        change_role(user, Role(form.role.data), current_user._get_current_object())
    except UserError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(f"{user.name} is now {user.role.value}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@login_required
@roles_required(Role.ADMIN)
def active(user_id: int):
    """Deactivate a user (their sessions end at once) or reactivate them."""
    user = get_user(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    try:
        set_active(user, not user.active, current_user._get_current_object())
    except UserError as error:
        flash(str(error), "danger")
    else:
        db.session.commit()
        state = "active again" if user.active else "deactivated and signed out everywhere"
        flash(f"{user.name} is {state}.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@login_required
@roles_required(Role.ADMIN)
def audit():
    """The audit log, newest first, filtered by action and by who did it."""
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "Any action")] + [
        SelectChoice(a, a) for a in known_actions()
    ]
    people = db.session.scalars(select(User).order_by(User.name)).all()
    form.actor.choices = [SelectChoice("", "Anyone")] + [
        SelectChoice(str(u.id), u.name) for u in people
    ]
    actor_id = form.actor.data if (form.actor.data or "").isdigit() else None
    query = audit_query(action=form.action.data or None, actor_id=actor_id and int(actor_id))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=50)
    filters = {k: v for k, v in request.args.items() if k in ("action", "actor") and v}
    return render_template(
        "admin/audit.html", page=page, form=form, filters=filters, one_line=one_line
    )
