"""Rules about a candidate as a person: do-not-contact, a corrected address. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select, update

from ..audit.services import record_event
from ..extensions import db
from ..models import (
    Application,
    Candidate,
    MessageStatus,
    Opening,
    OutboxMessage,
    Rejection,
    Role,
    Stage,
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


@dataclass(slots=True)
class Note:
    """The latest rejection note of an application, as the candidate's page shows it."""

    created_at: datetime
    author: str
    subject: str
    body: str
    internal_reason: str
    # The outbox message's state (None when nothing was queued), for the badge and problems.
    message: MessageState | None


@dataclass(slots=True)
class MessageState:
    status: MessageStatus
    last_error: str


@dataclass(slots=True)
class StageLine:
    changed_at: datetime
    to_stage: Stage
    by: str | None


@dataclass(slots=True)
class HistoryEntry:
    """One application on the candidate's page: plain values, no ORM object."""

    id: int
    opening_id: int
    title: str
    stage: Stage
    rejection: Note | None
    stage_changes: list[StageLine] = field(default_factory=list)


def candidate_history(candidate: Candidate, user: User) -> list[HistoryEntry]:
    """The candidate's applications that ``user`` may see, newest first, each with its latest
    rejection note and its stage changes: two statements, whatever the history."""
    params = {"candidate_id": candidate.id, "owner_id": user.id}
    entries = {}
    for row in db.session.execute(history_query(user.sees_everything), params):
        note = None
        if row.note_at is not None:
            message = MessageState(row.status, row.last_error) if row.status else None
            note = Note(row.note_at, row.author, row.subject, row.body, row.reason, message)
        entries[row.id] = HistoryEntry(row.id, row.opening_id, row.title, row.stage, note)
    if entries:
        changes = db.session.execute(stage_changes_query(), {"ids": list(entries)})
        for application_id, changed_at, to_stage, by in changes:
            entries[application_id].stage_changes.append(StageLine(changed_at, to_stage, by))
    return list(entries.values())


@cache
def history_query(sees_everything: bool) -> Select:
    """Built once: the applications (visible_openings' rule for a manager: her openings)
    with the opening's title and the latest rejection, its author and its message's state
    (not the message's bodies, which can be long). Core columns: read-only display."""
    application, opening = Application.__table__.c, Opening.__table__.c
    rejection, message = Rejection.__table__.c, OutboxMessage.__table__.c
    author = User.__table__.c
    latest = (
        select(rejection.id)
        .where(rejection.application_id == application.id)
        .order_by(rejection.created_at.desc(), rejection.id.desc())
        .limit(1)
        .correlate(Application.__table__)
        .scalar_subquery()
    )
    query = (
        select(
            application.id,
            application.opening_id,
            opening.title,
            application.stage,
            rejection.created_at.label("note_at"),
            author.name.label("author"),
            rejection.subject,
            rejection.body,
            rejection.internal_reason.label("reason"),
            message.status,
            message.last_error,
        )
        .join_from(Application.__table__, Opening.__table__, opening.id == application.opening_id)
        .outerjoin(Rejection.__table__, rejection.id == latest)
        .outerjoin(User.__table__, author.id == rejection.author_id)
        .outerjoin(OutboxMessage.__table__, message.id == rejection.message_id)
        .where(application.candidate_id == bindparam("candidate_id"))
        .order_by(application.applied_at.desc())
    )
    if not sees_everything:
        # visible_openings' rule: a manager sees her own openings only.
        query = query.where(opening.owner_id == bindparam("owner_id"))
    return query


@cache
def stage_changes_query() -> Select:
    """Built once: the stage changes of some applications, oldest first, with who moved them."""
    change, by = StageChange.__table__.c, User.__table__.c
    return (
        select(change.application_id, change.changed_at, change.to_stage, by.name)
        .outerjoin_from(StageChange.__table__, User.__table__, by.id == change.changed_by_id)
        .where(change.application_id.in_(bindparam("ids", expanding=True)))
        .order_by(change.changed_at, change.id)
    )
