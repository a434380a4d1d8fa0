"""A candidate's page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..auth.access import get_candidate
from .services import candidate_history

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.get("/<int:candidate_id>")
@login_required
def show(candidate_id: int):
    """The candidate and every application of theirs that the user may see."""
    candidate = get_candidate(candidate_id)
    return render_template(
        "candidates/show.html",
        candidate=candidate,
        applications=candidate_history(candidate, current_user),
    )
