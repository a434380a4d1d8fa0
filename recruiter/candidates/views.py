"""A candidate's page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..auth.access import get_candidate
from ..extensions import db
from ..models import User
from ..pool.services import entry_panel
from ..referrals.services import referrals_of
from .forms import DoNotContactForm, EmailAddressForm
from .services import (
    DNC_REASONS,
    CandidateErased,
    NotAllowed,
    candidate_history,
    correct_email,
    lift_do_not_contact,
    mark_do_not_contact,
)

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
        entry=entry_panel(candidate),
        dnc_reasons=DNC_REASONS,
        dnc_by=db.session.get(User, by) if (by := candidate.do_not_contact_by_id) else None,
        referrals=referrals_of(candidate, current_user),
    )


@bp.post("/<int:candidate_id>/do-not-contact")
@login_required
def do_not_contact(candidate_id: int):
    """Mark the candidate do-not-contact: no note, check-in or referral reaches them."""
    candidate = get_candidate(candidate_id)
    form = DoNotContactForm()
    if form.validate_on_submit():
        cancelled = mark_do_not_contact(
            candidate, current_user, form.reason.data, form.detail.data or ""
        )
        db.session.commit()
        flash(
            f"{candidate.name} will not be contacted again ({cancelled} queued cancelled).", "info"
        )
    else:
        flash("Choose a reason.", "danger")
    return redirect(url_for("candidates.show", candidate_id=candidate.id))


@bp.post("/<int:candidate_id>/do-not-contact/lift")
@login_required
def lift(candidate_id: int):
    """Lift a do-not-contact (recruiters and admins)."""
    candidate = get_candidate(candidate_id)
    try:
        lift_do_not_contact(candidate, current_user)
    except NotAllowed as error:
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"{candidate.name} may be contacted again.", "success")
    return redirect(url_for("candidates.show", candidate_id=candidate.id))


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
