"""A candidate's page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..auth.access import get_candidate, may_see_opening

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.get("/<int:candidate_id>")
@login_required
def show(candidate_id: int):
    """The candidate and every application of theirs that the user may see."""
    candidate = get_candidate(candidate_id)
    applications = [a for a in candidate.applications if may_see_opening(a.opening, current_user)]
    applications.sort(key=lambda a: a.applied_at, reverse=True)
    return render_template("candidates/show.html", candidate=candidate, applications=applications)
