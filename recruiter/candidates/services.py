"""Rules about a candidate as a person: do-not-contact. Flush, never commit."""

from __future__ import annotations

from ..audit.services import record_event
from ..extensions import db
from ..models import Candidate, Role, User, utcnow
from ..outbox.services import cancel_queued_for

DNC_REASONS = {
    "asked": "Asked not to be contacted",
    "abusive": "Abusive conduct",
    "other": "Another reason",
}


class NotAllowed(Exception):
    """Only recruiters and admins may lift a do-not-contact."""


def mark_do_not_contact(candidate: Candidate, user: User, reason: str, detail: str = "") -> int:
    """Nothing may reach the candidate again; queued mail is cancelled. Returns how many."""
    label = DNC_REASONS.get(reason, reason)
    candidate.do_not_contact_at = utcnow()
    candidate.do_not_contact_reason = f"{label}: {detail.strip()}" if detail.strip() else label
    candidate.do_not_contact_by_id = user.id
    cancelled = cancel_queued_for(candidate)
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
