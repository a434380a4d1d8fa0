"""A candidate's page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..auth.access import get_candidate, may_see_opening
from ..extensions import db
from .forms import EmailAddressForm
from .services import CandidateErased, correct_email

bp = Blueprint("candidates", __name__, url_prefix="/candidates")


@bp.get("/<int:candidate_id>")
@login_required
def show(candidate_id: int):
    """The candidate and every application of theirs that the user may see."""
    candidate = get_candidate(candidate_id)
    applications = [a for a in candidate.applications if may_see_opening(a.opening, current_user)]
    applications.sort(key=lambda a: a.applied_at, reverse=True)
    return render_template("candidates/show.html", candidate=candidate, applications=applications)


@bp.route("/<int:candidate_id>/email", methods=["GET", "POST"])
@login_required
def edit_email(candidate_id: int):
    """Correct the candidate's address; this also lifts a bouncing mark."""
    candidate = get_candidate(candidate_id)
    form = EmailAddressForm(candidate, data={"email": candidate.email})
    if form.validate_on_submit():
        try:
            correct_email(candidate, form.email.data, current_user)
        except CandidateErased as error:
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(f"Saved. Mail to {candidate.name} can go out again.", "success")
        return redirect(url_for("candidates.show", candidate_id=candidate.id))
    return render_template("candidates/edit_email.html", form=form, candidate=candidate)
