"""The home page after sign-in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.access import visible_openings
from ..extensions import db
from ..models import Opening, OpeningStatus, Stage
from ..openings.services import decisions_waiting, stage_counts

bp = Blueprint("desk", __name__)

WAITING_DAYS = 10


@bp.get("/")
def home():
    """Send visitors to sign in, and users to their desk."""
    if current_user.is_authenticated:
        return redirect(url_for("desk.index"))
    return redirect(url_for("auth.login"))


@bp.get("/desk")
@login_required
def index():
    """My open openings with counts per stage, and decisions waiting too long."""
    openings = db.session.scalars(
        visible_openings(select(Opening))
        .where(Opening.status == OpeningStatus.OPEN)
        .options(joinedload(Opening.owner))
        .order_by(Opening.created_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "desk/index.html",
        openings=openings,
        counts=stage_counts([o.id for o in openings]),
        stages=[s for s in Stage if s.is_active],
        waiting=decisions_waiting(current_user, WAITING_DAYS),
        waiting_days=WAITING_DAYS,
    )
