"""Messages about referrals: the candidate's question, and notices to the two managers.

Managers are users, not candidates: their notices carry a link into the app, never a
candidate link, and do not go through the candidate contact rules.
"""

from __future__ import annotations

from flask import current_app, url_for

from ..candidates.links import external_link
from ..models import OutboxMessage, Referral
from ..outbox.services import queue_email
from ..pool.services import pool_email

ANSWER_PURPOSE = "referral-answer"


def answer_url(referral: Referral) -> str:
    """The candidate's signed link to agree to (or refuse) the introduction."""
    return external_link(
        "public.referral_answer", ANSWER_PURPOSE, referral.candidate_id, r=referral.id
    )


def ask_candidate(referral: Referral) -> OutboxMessage:
    """Ask the candidate whether they would like to be introduced to this opening."""
    opening = referral.opening
    return pool_email(
        referral.entry,
        f"A role at {current_app.config['COMPANY_NAME']} you might like: {opening.title}",
        "referral_ask",
        answer_url=answer_url(referral),
        opening=opening,
        referrer_name=referral.from_manager.name,
        owner_name=opening.owner.name,
        days=current_app.config["REFERRALS_LINK_DAYS"],
    )


def referral_url(referral: Referral) -> str:
    return url_for("referrals.show", referral_id=referral.id, _external=True)


def notify_receiver(referral: Referral) -> OutboxMessage:
    """Tell the opening's manager a referral waits for them."""
    return queue_email(
        referral.opening.owner.email,
        f"A referral for {referral.opening.title}: {referral.candidate.name}",
        "referral_for_you",
        referral=referral,
        url=referral_url(referral),
    )


def notify_referrer(referral: Referral) -> OutboxMessage:
    """Tell the referrer what became of their referral."""
    outcome = {
        "accepted": "accepted",
        "declined": "declined",
        "withdrawn": "not taken up",
    }[referral.status.value]
    return queue_email(
        referral.from_manager.email,
        f"Your referral of {referral.candidate.name} to {referral.opening.title}: {outcome}",
        "referral_outcome",
        referral=referral,
        outcome=outcome,
        url=url_for("referrals.made", _external=True),
    )
