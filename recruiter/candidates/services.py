"""Changing what we know about a candidate."""

from __future__ import annotations

from sqlalchemy import update

from ..audit.services import record_event
from ..extensions import db
from ..models import Candidate, MessageStatus, OutboxMessage, User


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
