"""Queueing messages; the worker in ``delivery.py`` sends them."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import make_msgid, parseaddr

from flask import current_app, render_template
from sqlalchemy import Select, and_, insert, or_, select, update

from ..audit.services import record_event
from ..extensions import db
from ..models import Candidate, MessageStatus, OutboxMessage, User, utcnow


class ContactRefused(Exception):
    """The candidate may not be contacted (do-not-contact, a bouncing address, or erased)."""


class HeaderInjection(ValueError):
    """A value bound for a mail header holds a line break."""


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def check_header_value(name: str, value: str) -> str:
    """Refuse CR and LF (and other control characters) in anything that becomes a header."""
    if CONTROL_CHARACTERS.search(value):
        raise HeaderInjection(f"The {name} may not contain line breaks or control characters.")
    return value


def sender_domain() -> str:
    """The domain of the configured sender, for Message-IDs."""
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return address.rpartition("@")[2] or "recruiter.local"


def message_row(
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    *,
    candidate: Candidate | None = None,
    send_after: datetime | None = None,
    domain: str | None = None,
) -> dict:
    """The column values of one message, after the checks every message must pass.

    Refuses a candidate who may not be contacted (do-not-contact, bouncing, erased) and a
    header value with a line break. ``domain`` for the Message-ID: ``sender_domain()``.
    """
    if candidate is not None and not candidate.contactable:
        raise ContactRefused(contact_refusal(candidate))
    return {
        "recipient": check_header_value("recipient", recipient.strip()),
        "subject": check_header_value("subject", subject.strip()),
        "text_body": text_body,
        "html_body": html_body,
        "candidate_id": candidate.id if candidate is not None else None,
        "send_after": send_after or utcnow(),
        "message_id_header": make_msgid(domain=domain or sender_domain()),
    }


def queue_message(
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    *,
    candidate: Candidate | None = None,
    send_after: datetime | None = None,
    flush: bool = True,
) -> OutboxMessage:
    """Add one message for one recipient to the outbox; flush, never commit.

    Every path that messages a candidate comes through here or ``queue_rows``, and both
    take their values from ``message_row``, so do-not-contact, bouncing addresses and
    erasure are enforced in one place.
    """
    row = message_row(
        recipient, subject, text_body, html_body, candidate=candidate, send_after=send_after
    )
    message = OutboxMessage(**row, candidate=candidate)
    db.session.add(message)
    if flush:  # bulk callers flush once at the end, so the inserts are batched
        db.session.flush()
    return message


def queue_rows(rows: list[dict]) -> list[int]:
    """Insert many rows made by ``message_row`` in a few statements; their ids, in order.

    For bulk callers: a Core INSERT, no ORM bookkeeping and no objects per message. The rows
    come back in any order (SQLite does not promise RETURNING's order), so each id is found
    by its Message-ID.
    """
    if not rows:
        return []
    table = OutboxMessage.__table__
    statement = insert(table).returning(table.c.message_id_header, table.c.id)
    ids = {header: id_ for header, id_ in db.session.execute(statement, rows)}
    return [ids[row["message_id_header"]] for row in rows]


def queue_email(
    recipient: str,
    subject: str,
    template: str,
    *,
    candidate: Candidate | None = None,
    send_after: datetime | None = None,
    flush: bool = True,
    **context,
) -> OutboxMessage:
    """Render ``email/<template>.txt`` and ``.html`` (autoescaped) and queue them."""
    context.setdefault("company", current_app.config["COMPANY_NAME"])
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return queue_message(
        recipient, subject, text, html, candidate=candidate, send_after=send_after, flush=flush
    )


def cancel_message(message: OutboxMessage) -> bool:
    """Cancel a message that has not been handed to the worker; True if it was cancelled.

    A conditional UPDATE, so a worker that claimed the message a moment ago wins cleanly.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    return result.rowcount == 1


def status_counts() -> dict[str, int]:
    """How many messages are in each state."""
    counts = {status.value: 0 for status in MessageStatus}
    rows = db.session.execute(
        select(OutboxMessage.status, db.func.count()).group_by(OutboxMessage.status)
    )
    for status, count in rows:
        counts[status.value] = count
    return counts


def cancel_queued_for(candidate: Candidate) -> int:
    """Cancel every message still queued for this candidate; how many were cancelled."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.candidate_id == candidate.id,
            OutboxMessage.status == MessageStatus.QUEUED,
        )
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


class NotRetryable(Exception):
    """The message was sent, cancelled, or is being sent right now."""


def retryable():
    """Failed, or waiting after a failed try (never a message still in its first wait)."""
    return or_(
        OutboxMessage.status == MessageStatus.FAILED,
        and_(OutboxMessage.status == MessageStatus.QUEUED, OutboxMessage.last_error != ""),
    )


def retry_message(message: OutboxMessage, actor: User | None = None) -> OutboxMessage:
    """Queue a failed message (or one waiting to be tried again) to go out now, afresh.

    Goes to the candidate's current address (it may have been corrected since) and keeps
    its Message-ID. Refuses a candidate who may not be contacted. Flush, never commit.
    """
    candidate = message.candidate
    if candidate is not None and not candidate.contactable:
        raise ContactRefused(contact_refusal(candidate))
    values = {"status": MessageStatus.QUEUED, "send_after": utcnow(), "attempts": 0}
    if candidate is not None:
        values["recipient"] = candidate.email
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, retryable())
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    if result.rowcount != 1:
        raise NotRetryable(f"Message {message.id} is {message.status.value}: nothing to retry.")
    record_event(actor, "outbox.retried", message)
    return message


def contact_refusal(candidate: Candidate) -> str:
    """Why no mail may go to this candidate, in words for the user."""
    name = candidate.name or "This candidate"
    if candidate.erased_at or candidate.do_not_contact:
        return f"{name} may not be contacted."
    return f"{name}'s address is bouncing: correct it on their page first."


def delivery_problems(candidate_ids: Select | None = None) -> Select:
    """Failed messages and those waiting for a retry, most recently tried first."""
    query = (
        select(OutboxMessage)
        .where(retryable())
        .order_by(OutboxMessage.last_attempt_at.desc(), OutboxMessage.id.desc())
    )
    if candidate_ids is not None:
        query = query.where(OutboxMessage.candidate_id.in_(candidate_ids))
    return query
