"""The home page after sign-in."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.access import visible_openings
from ..extensions import db
from ..models import Opening, OpeningStatus, Stage
from ..openings.services import decisions_waiting, stage_counts
from ..pool.services import due_follow_ups
from ..referrals.services import for_user as referrals_for

bp = Blueprint("desk", __name__)


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
    waiting_days = current_app.config["NO_GHOSTING_DAYS"]
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
        waiting=decisions_waiting(current_user, waiting_days),
        waiting_days=waiting_days,
        follow_ups=db.session.scalars(
            due_follow_ups(None if current_user.sees_everything else current_user).limit(10)
        ).all(),
        referrals=db.session.scalars(referrals_for(current_user).limit(10)).all(),
    )
