"""Export, erasure, legal holds and retention. Flush, never commit; the caller commits."""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, or_, select

from ..audit.services import record_event
from ..auth.throttle import forget_old_failures
from ..extensions import db
from ..models import (
    ACTIVE_STAGES,
    Application,
    AuditEvent,
    Candidate,
    LegalHold,
    MessageStatus,
    OutboxMessage,
    User,
    utcnow,
)
from .registry import hooks

ERASED_NAME = "Erased candidate"
PENDING = (MessageStatus.QUEUED, MessageStatus.SENDING)


class UnderLegalHold(Exception):
    """The candidate's data must be kept while the hold lasts."""


class AlreadyErased(Exception):
    """There is nothing personal left to erase."""


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_candidate(candidate: Candidate) -> dict:
    """Everything held about ``candidate``, ready for json.dumps.

    The internal reason of a rejection is left out: it is the company's private note and the
    product's promise is that it never reaches the candidate. The words sent are included.
    """
    hold = legal_hold_of(candidate)
    data = {
        "exported_at": when(utcnow()),
        "candidate": {
            "id": candidate.id,
            "name": candidate.name,
            "email": candidate.email,
            "phone": candidate.phone,
            "location": candidate.location,
            "timezone": candidate.timezone,
            "created_at": when(candidate.created_at),
            "do_not_contact_since": when(candidate.do_not_contact_at),
            "do_not_contact_reason": candidate.do_not_contact_reason,
            "email_bouncing_since": when(candidate.email_bouncing_at),
            "erased_at": when(candidate.erased_at),
            "legal_hold": {"since": when(hold.set_at), "reason": hold.reason} if hold else None,
        },
        "applications": [export_application(a) for a in candidate.applications],
        "messages": [
            {
                "id": m.id,
                "to": m.recipient,
                "subject": m.subject,
                "text": m.text_body,
                "status": m.status.value,
                "created_at": when(m.created_at),
                "sent_at": when(m.sent_at),
            }
            for m in messages_of(candidate)
        ],
    }
    for hook in hooks():
        if hook.exporter:
            data[hook.name] = hook.exporter(candidate)
    return data


def export_application(application: Application) -> dict:
    return {
        "id": application.id,
        "opening": {"id": application.opening_id, "title": application.opening.title},
        "stage": application.stage.value,
        "applied_at": when(application.applied_at),
        "stage_changes": [
            {
                "from": c.from_stage.value if c.from_stage else None,
                "to": c.to_stage.value,
                "at": when(c.changed_at),
            }
            for c in application.stage_changes
        ],
        "rejections_sent": [
            {
                "subject": r.subject,
                "note": r.body,
                "created_at": when(r.created_at),
                "message_status": r.message.status.value if r.message else None,
                "sent_at": when(r.message.sent_at) if r.message else None,
            }
            for r in application.rejections
        ],
    }


def messages_of(candidate: Candidate) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(
        or_(OutboxMessage.candidate_id == candidate.id, OutboxMessage.recipient == candidate.email)
    )
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def erase_candidate(candidate: Candidate, by: User | None, cause: str) -> None:
    """Remove the candidate's personal data everywhere; keep the rows for anonymous counts.

    Pending mail is cancelled; names, address, phone, location, note and message text are
    blanked; audit details that mention them are replaced. ``cause`` is "request" or
    "retention".
    """
    if candidate.erased_at is not None:
        raise AlreadyErased(f"Candidate #{candidate.id} was erased already.")
    if legal_hold_of(candidate) is not None:
        raise UnderLegalHold("This candidate is under a legal hold; release it first.")
    for hook in hooks():
        if hook.eraser:
            hook.eraser(candidate)
    terms = personal_terms(candidate)
    placeholder = f"erased-{candidate.id}@erased.invalid"
    for message in messages_of(candidate):
        if message.status in PENDING:
            message.status = MessageStatus.CANCELLED
        message.recipient = placeholder
        message.subject = message.text_body = message.html_body = message.last_error = ""
    for application in candidate.applications:
        for rejection in application.rejections:
            rejection.subject = rejection.body = rejection.internal_reason = ""
    redact_audit_details(terms)
    candidate.name = ERASED_NAME
    candidate.email = placeholder
    candidate.phone = candidate.location = candidate.do_not_contact_reason = ""
    candidate.timezone = "UTC"
    candidate.erased_at = utcnow()
    db.session.flush()
    record_event(by, "candidate.erased", candidate, cause=cause)


def personal_terms(candidate: Candidate) -> list[str]:
    """What identifies the candidate in free text: address, full name and its longer parts."""
    parts = [p for p in candidate.name.split() if len(p) >= 3]
    return [t for t in {candidate.email, candidate.name, *parts} if t.strip()]


def redact_audit_details(terms: list[str]) -> None:
    """Replace the details of audit events that mention any of ``terms``."""
    if not terms:
        return
    patterns = [re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", re.IGNORECASE) for t in terms]
    query = select(AuditEvent).where(or_(*(AuditEvent.details.ilike(f"%{t}%") for t in terms)))
    for event in db.session.scalars(query):
        if any(p.search(event.details) for p in patterns):
            event.details = '{"redacted": "personal data erased"}'


def legal_hold_of(candidate: Candidate) -> LegalHold | None:
    return db.session.scalar(select(LegalHold).where(LegalHold.candidate_id == candidate.id))


def set_legal_hold(candidate: Candidate, reason: str, by: User) -> LegalHold:
    """Keep this candidate's data (retention and erasure skip them) until released."""
    hold = legal_hold_of(candidate) or LegalHold(candidate_id=candidate.id)
    hold.reason, hold.set_by_id, hold.set_at = reason.strip(), by.id, utcnow()
    db.session.add(hold)
    db.session.flush()
    record_event(by, "candidate.legal_hold_set", candidate)
    return hold


def release_legal_hold(candidate: Candidate, by: User) -> None:
    hold = legal_hold_of(candidate)
    if hold is not None:
        db.session.delete(hold)
        db.session.flush()
        record_event(by, "candidate.legal_hold_released", candidate)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError(moment)  # pragma: no cover


def due_for_erasure(now: datetime | None = None) -> list[Candidate]:
    """Candidates past retention: no decision pending, nothing since the cut-off, no hold,
    and no feature (e.g. pool consent) that retains them."""
    cutoff = months_before(now or utcnow(), current_app.config["RETENTION_MONTHS"])
    recent_or_open = exists().where(
        Application.candidate_id == Candidate.id,
        or_(Application.stage.in_(ACTIVE_STAGES), Application.stage_changed_at >= cutoff),
    )
    held = exists().where(LegalHold.candidate_id == Candidate.id)
    query = select(Candidate).where(
        Candidate.erased_at.is_(None),
        Candidate.created_at < cutoff,
        ~recent_or_open,
        ~held,
    )
    return [c for c in db.session.scalars(query.order_by(Candidate.id)) if expired(c, cutoff)]


def expired(candidate: Candidate, cutoff: datetime) -> bool:
    """No registered feature keeps the candidate or saw activity since ``cutoff``."""
    for hook in hooks():
        if hook.retains and hook.retains(candidate):
            return False
        latest = hook.last_activity(candidate) if hook.last_activity else None
        if latest is not None and latest >= cutoff:
            return False
    return True


def purge(now: datetime | None = None, dry_run: bool = False) -> list[int]:
    """Erase every candidate past retention; return their ids. Safe to run daily."""
    due = due_for_erasure(now)
    if not dry_run:
        for candidate in due:
            erase_candidate(candidate, None, "retention")
        forget_old_failures()
    return [c.id for c in due]
