"""Rules about a candidate as a person: do-not-contact, a corrected address. Flush, never commit."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..audit.services import record_event
from ..auth.access import visible_openings
from ..extensions import db
from ..models import (
    Application,
    Candidate,
    MessageStatus,
    OutboxMessage,
    Rejection,
    Role,
    StageChange,
    User,
    utcnow,
)
from ..outbox.services import cancel_queued_for
from ..referrals.services import close_open_referrals

DNC_REASONS = {
    "asked": "Asked not to be contacted",
    "abusive": "Abusive conduct",
    "other": "Another reason",
}


class NotAllowed(Exception):
    """Only recruiters and admins may lift a do-not-contact."""


def mark_do_not_contact(candidate: Candidate, user: User, reason: str, detail: str = "") -> int:
    """Nothing may reach the candidate again: queued mail is cancelled (returns how many) and
    open referrals are closed."""
    label = DNC_REASONS.get(reason, reason)
    candidate.do_not_contact_at = utcnow()
    candidate.do_not_contact_reason = f"{label}: {detail.strip()}" if detail.strip() else label
    candidate.do_not_contact_by_id = user.id
    cancelled = cancel_queued_for(candidate)
    close_open_referrals(candidate, "do_not_contact", user)
    db.session.flush()
    record_event(user, "candidate.do_not_contact", candidate, reason=reason, cancelled=cancelled)
    return cancelled


def lift_do_not_contact(candidate: Candidate, user: User) -> None:
    """Reverse a do-not-contact; recruiters and admins only."""
    if user.role not in (Role.RECRUITER, Role.ADMIN):
        raise NotAllowed("Only a recruiter or an admin can lift a do-not-contact.")
    candidate.do_not_contact_at = None
    candidate.do_not_contact_reason = ""
    candidate.do_not_contact_by_id = None
    db.session.flush()
    record_event(user, "candidate.do_not_contact_lifted", candidate)


class CandidateErased(Exception):
    """The candidate's personal data was erased; there is nothing to correct."""


def correct_email(candidate: Candidate, email: str, actor: User) -> Candidate:
    """Set the candidate's address and clear a bouncing mark. Flush, never commit.

    Saving the same address also clears the mark: the user vouches that it is right (a
    full mailbox, a typo fixed on the other side). Notes still waiting in the outbox go to
    the new address; failed ones do when retried. The audit event keeps no addresses.
    """
    if candidate.erased_at is not None:
        raise CandidateErased(f"{candidate.name}'s data was erased.")
    email = email.strip().lower()
    changed = email != candidate.email
    was_bouncing = candidate.email_bouncing_at is not None
    candidate.email = email
    candidate.email_bouncing_at = None
    candidate.email_bouncing_reason = ""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.candidate_id == candidate.id,
            OutboxMessage.status == MessageStatus.QUEUED,
        )
        .values(recipient=email)
        .execution_options(synchronize_session=False)
    )
    record_event(
        actor, "candidate.email_corrected", candidate, changed=changed, was_bouncing=was_bouncing
    )
    return candidate


def candidate_history(candidate: Candidate, user: User) -> list[Application]:
    """The candidate's applications that ``user`` may see, newest first, with their stage
    changes, rejections and note states loaded up front (no lazy load per row)."""
    query = visible_openings(
        select(Application)
        .join(Application.opening)
        .options(
            contains_eager(Application.opening),
            selectinload(Application.stage_changes).joinedload(StageChange.changed_by),
            selectinload(Application.rejections).options(
                joinedload(Rejection.author),
                # The message's state only: its bodies can be long.
                joinedload(Rejection.message).load_only(OutboxMessage.status),
            ),
        ),
        user,
    )
    query = query.where(Application.candidate_id == candidate.id)
    return list(db.session.scalars(query.order_by(Application.applied_at.desc())))
