"""Candidate-facing pages: consent to the pool, roles of interest, decline, withdraw, and
agreeing to a referral.

No sign-in: each page is reached through a signed link. An expired or altered link gets a
kind explanation (200 or 400), never an error page.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for

from ..candidates.links import LinkExpired, LinkInvalid, read_token
from ..extensions import db
from ..models import ConsentState, Referral, ReferralStatus, SilverMedalist
from ..pool.services import (
    CONSENT_PURPOSE,
    WITHDRAW_PURPOSE,
    decline_consent,
    give_consent,
    withdraw_consent,
)
from ..referrals.email import ANSWER_PURPOSE
from ..referrals.forms import AnswerForm
from ..referrals.services import answer_for_candidate, why_not_referable
from .forms import ConsentForm, WithdrawForm

bp = Blueprint("public", __name__, url_prefix="/p")


class LinkProblem(Exception):
    """The link cannot be used; ``kind`` says why, for the page."""

    def __init__(self, kind: str):
        self.kind = kind


def read_link(purpose: str, token: str, max_age: int) -> dict:
    """The signed link's values, or LinkProblem saying whether it expired or is not valid."""
    try:
        return read_token(purpose, token, max_age=max_age)
    except LinkExpired as error:
        raise LinkProblem("expired") from error
    except LinkInvalid as error:
        raise LinkProblem("invalid") from error


def entry_from_link(purpose: str, token: str, max_age: int) -> SilverMedalist:
    """The pool entry the signed link names, or LinkProblem."""
    data = read_link(purpose, token, max_age)
    entry = db.session.get(SilverMedalist, data.get("e", 0))
    if entry is None or entry.candidate_id != data["c"]:
        raise LinkProblem("invalid")
    return entry


def link_problem(problem: LinkProblem):
    """A friendly page for a link that cannot be used."""
    status = 200 if problem.kind == "expired" else 400
    return render_template("public/link_problem.html", kind=problem.kind), status


def consent_max_age() -> int:
    return current_app.config["POOL_CONSENT_REQUEST_DAYS"] * 86400


def withdraw_max_age() -> int:
    # A withdraw link must keep working for as long as we could hold the details.
    return (current_app.config["POOL_CONSENT_MONTHS"] * 31 + 90) * 86400


@bp.route("/pool/<token>", methods=["GET", "POST"])
def pool_consent(token: str):
    """Agree to be kept in the pool (with roles of interest), or decline."""
    try:
        entry = entry_from_link(CONSENT_PURPOSE, token, consent_max_age())
    except LinkProblem as problem:
        return link_problem(problem)
    if not entry.in_pool:
        return render_template("public/done.html", outcome="gone")
    form = ConsentForm(roles_of_interest=entry.roles_of_interest or None)
    if form.validate_on_submit():
        if form.decline.data:
            decline_consent(entry)
            outcome = "declined"
        else:
            give_consent(entry, form.roles_of_interest.data or "")
            outcome = "given"
        db.session.commit()
        return redirect(url_for("public.pool_done", outcome=outcome))
    renewing = entry.consent_state == ConsentState.GIVEN
    return render_template("public/pool_consent.html", form=form, entry=entry, renewing=renewing)


@bp.route("/pool/withdraw/<token>", methods=["GET", "POST"])
def pool_withdraw(token: str):
    """Withdraw consent: the details go and nothing pending is sent."""
    try:
        entry = entry_from_link(WITHDRAW_PURPOSE, token, withdraw_max_age())
    except LinkProblem as problem:
        return link_problem(problem)
    if not entry.in_pool:
        return render_template("public/done.html", outcome="gone")
    form = WithdrawForm()
    if form.validate_on_submit():
        withdraw_consent(entry)
        db.session.commit()
        return redirect(url_for("public.pool_done", outcome="withdrawn"))
    return render_template("public/pool_withdraw.html", form=form, entry=entry)


@bp.get("/pool/done/<any(given, declined, withdrawn):outcome>")
def pool_done(outcome: str):
    """Thank the candidate for their answer."""
    return render_template("public/done.html", outcome=outcome)


# --- Referrals (issue 6) ---


def referral_from_link(token: str) -> Referral:
    """The referral the candidate's signed link names, or LinkProblem."""
    data = read_link(ANSWER_PURPOSE, token, current_app.config["REFERRALS_LINK_DAYS"] * 86400)
    referral = db.session.get(Referral, data.get("r", 0))
    if referral is None or referral.candidate_id != data["c"]:
        raise LinkProblem("invalid")
    return referral


@bp.route("/referral/<token>", methods=["GET", "POST"])
def referral_answer(token: str):
    """Agree to be introduced to the opening a manager suggested, or say no thanks."""
    try:
        referral = referral_from_link(token)
    except LinkProblem as problem:
        return link_problem(problem)
    if referral.status != ReferralStatus.PENDING_CANDIDATE:
        return render_template("public/referral_done.html", referral=referral, outcome="answered")
    if why_not_referable(referral.entry, referral.candidate):
        return render_template("public/referral_done.html", referral=referral, outcome="gone")
    form = AnswerForm()
    if form.validate_on_submit():
        agree = not form.decline.data
        answer_for_candidate(referral, agree)
        db.session.commit()
        outcome = "agreed" if agree else "declined"
        return redirect(url_for("public.referral_done", outcome=outcome))
    return render_template("public/referral.html", form=form, referral=referral)


@bp.get("/referral/done/<any(agreed, declined):outcome>")
def referral_done(outcome: str):
    """Thank the candidate for their answer."""
    return render_template("public/referral_done.html", referral=None, outcome=outcome)
