"""The home page after sign-in."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..models import ACTIVE_STAGES, utcnow
from ..openings.services import decisions_waiting, stage_counts
from ..pool.services import due_follow_up_rows
from ..referrals.services import waiting_rows as waiting_referrals
from ..templating import waited
from .services import open_openings

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
    openings = open_openings(current_user, 20)
    counts = stage_counts([o.id for o in openings])
    now = utcnow()
    # Each list's rows as the row macros (templates/desk/_rows.html) take them: the row and
    # what it shows besides (the counts per stage, the time waited).
    return render_template(
        "desk/index.html",
        openings=[(o, tuple(counts[o.id].get(s, 0) for s in ACTIVE_STAGES)) for o in openings],
        stages=ACTIVE_STAGES,
        waiting=[
            (a, waited(a.stage_changed_at, now))
            for a in decisions_waiting(current_user, waiting_days)
        ],
        waiting_days=waiting_days,
        follow_ups=[
            (e,)
            for e in due_follow_up_rows(None if current_user.sees_everything else current_user, 10)
        ],
        referrals=[(r, waited(r.introduced_at, now)) for r in waiting_referrals(current_user, 10)],
    )
