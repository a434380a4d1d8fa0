"""Pages of referrals: refer, the inbox, referrals I made, one referral, and the counts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ..auth.access import get_application, get_referral, get_silver_medalist
from ..extensions import db
from ..models import Application, Opening, SilverMedalist, Stage
from ..outbox.services import ContactRefused
from ..pool.services import entry_for_candidate
from .forms import AcceptForm, DeclineForm, ReferForm, WithdrawForm
from .services import (
    ReferralError,
    accept,
    counts_by_manager,
    decline,
    for_user,
    history,
    made_by,
    may_decide,
    refer,
    target_openings,
    why_not_referable,
    withdraw,
)

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


@bp.before_request
@login_required
def require_login() -> None:
    """Every page here needs a signed-in user."""


@bp.get("/")
def index():
    """Referrals for me: waiting for my decision, oldest first."""
    page = db.paginate(
        for_user(current_user), page=request.args.get("page", 1, type=int), per_page=25
    )
    return render_template("referrals/index.html", page=page)


@bp.get("/made")
def made():
    """Referrals I made, with their outcome."""
    page = db.paginate(
        made_by(current_user), page=request.args.get("page", 1, type=int), per_page=25
    )
    return render_template("referrals/made.html", page=page)


@bp.get("/stats")
def stats():
    """Referrals made, accepted and hired, per manager."""
    return render_template("referrals/stats.html", rows=counts_by_manager())


@bp.route("/new/<int:entry_id>", methods=["GET", "POST"])
def create(entry_id: int):
    """Refer a pooled candidate to a colleague's open opening."""
    entry = get_silver_medalist(entry_id)
    return refer_page(entry, None)


@bp.route("/applications/<int:application_id>", methods=["GET", "POST"])
def from_application(application_id: int):
    """Refer the candidate of a (just rejected) application; it needs their pool entry."""
    application = get_application(application_id)
    return refer_page(entry_for_candidate(application.candidate), application)


def refer_page(entry: SilverMedalist | None, application: Application | None):
    """The referral form for ``entry``, or why the candidate cannot be referred."""
    candidate = entry.candidate if entry else application.candidate
    problem = why_not_referable(entry, candidate)
    targets = [] if problem else target_openings(entry, current_user)
    form = ReferForm()
    form.opening_id.choices = [
        SelectChoice(t.opening.id, t.opening.title) for t in targets if not t.blocked
    ]
    if not problem and form.validate_on_submit():
        opening = db.session.get(Opening, form.opening_id.data)
        try:
            referral = refer(entry, opening, current_user, form.note.data, application)
        except (ReferralError, ContactRefused) as error:
            form.opening_id.errors.append(str(error))
        else:
            db.session.commit()
            flash(referred_message(referral), "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    status = 400 if form.errors else 200
    return render_template(
        "referrals/new.html",
        form=form,
        entry=entry,
        candidate=candidate,
        application=application,
        problem=problem,
        targets=targets,
    ), status


def referred_message(referral) -> str:
    name, title = referral.candidate.name, referral.opening.title
    if referral.introduced_at is None:
        return f"Referred {name} to {title}. We asked {name} first; it goes ahead once they agree."
    return f"Referred {name} to {title}. {referral.opening.owner.name} has it in their inbox."


@bp.get("/<int:referral_id>")
def show(referral_id: int):
    """One referral: the note, the pool profile, its history and the decision."""
    referral = get_referral(referral_id)
    return render_show(referral, AcceptForm(), DeclineForm())


def render_show(referral, accept_form, decline_form, status: int = 200):
    return render_template(
        "referrals/show.html",
        referral=referral,
        steps=history(referral),
        deciding=may_decide(referral, current_user),
        blocked=why_not_referable(referral.entry, referral.candidate)
        if referral.status.is_open
        else None,
        accept_form=accept_form,
        decline_form=decline_form,
        withdraw_form=WithdrawForm(),
    ), status


@bp.post("/<int:referral_id>/accept")
def accept_referral(referral_id: int):
    """Accept: the candidate joins the opening at the chosen stage."""
    referral = get_referral(referral_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return render_show(referral, form, DeclineForm(), 400)
    try:
        application, existed = accept(referral, current_user, Stage(form.stage.data))
    except ReferralError as error:
        flash(str(error), "warning")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    db.session.commit()
    name = referral.candidate.name
    if existed:
        flash(
            f"{name} was already in {referral.opening.title} "
            f"({application.stage.label}); no second application was made.",
            "info",
        )
    else:
        flash(f"{name} joined {referral.opening.title} at {application.stage.label}.", "success")
    return redirect(url_for("openings.show", opening_id=referral.opening_id))


@bp.post("/<int:referral_id>/decline")
def decline_referral(referral_id: int):
    """Decline with a reason; the referrer is told."""
    referral = get_referral(referral_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return render_show(referral, AcceptForm(), form, 400)
    try:
        decline(referral, current_user, form.reason.data)
    except ReferralError as error:
        flash(str(error), "warning")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    db.session.commit()
    flash(f"Declined; {referral.from_manager.name} will hear your reason.", "info")
    return redirect(url_for("referrals.index"))


@bp.post("/<int:referral_id>/withdraw")
def withdraw_referral(referral_id: int):
    """The referrer takes back an undecided referral."""
    referral = get_referral(referral_id)
    try:
        withdraw(referral, current_user)
    except ReferralError as error:
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash("Referral withdrawn.", "info")
    return redirect(url_for("referrals.show", referral_id=referral.id))
