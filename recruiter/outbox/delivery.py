"""The delivery worker: claim due messages with a lease, send them, record the outcome.

The guarantees, and where each comes from:

- A message is claimed by one worker at a time: a conditional claim (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) sets it ``sending`` with a lease.
- Just before it is sent, the worker renews the lease of that one message, and only sends
  if it still holds it. A worker that died leaves its messages to be claimed again once
  the lease has run out; one that was merely slow finds it has lost them, and sends
  nothing. The lease must outlast one send (a few SMTP round trips, each with a timeout).
- The outcome is written only while the worker still holds the lease.
- A crash between the server's "250 OK" and that write sends the message again when the
  lease ends: at least once, never lost. It carries the same Message-ID, so receivers can
  recognise the duplicate.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ..audit.services import record_event
from ..extensions import db
from ..models import Candidate, MessageStatus, OutboxMessage, utcnow
from .mime import OutgoingMail
from .transport import SMTPConnection, SMTPUnavailable, check_message_headers

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """What one pass of the worker did, and a line for each message."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    claimed: int = 0

    @property
    def total(self) -> int:
        """Messages this pass dealt with (sent, retrying or failed)."""
        return len(self.sent) + len(self.retrying) + len(self.failed)

    def summary(self) -> str:
        text = f"sent {len(self.sent)}, retrying {len(self.retrying)}, failed {len(self.failed)}"
        if self.cancelled:
            text += f", cancelled {len(self.cancelled)}"
        if self.released:
            text += f", put back untried {len(self.released)}"
        return text


@dataclass
class Claim:
    """A claimed message, copied out of the session so nothing is lazily reloaded.

    ``lease_until`` is this worker's own lease: after a commit the ORM object would reload
    the row and hand back whatever lease another worker has put there since.
    """

    id: int
    recipient: str
    subject: str
    text_body: str
    html_body: str
    message_id_header: str
    candidate_id: int | None
    attempts: int
    lease_until: datetime


def due_condition(now: datetime, due_before: datetime | None = None):
    """Queued and due, or claimed by a worker whose lease has run out."""
    return or_(
        and_(
            OutboxMessage.status == MessageStatus.QUEUED,
            OutboxMessage.send_after <= min(now, due_before or now),
        ),
        and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.lease_until < now),
    )


def lease_length() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def claim_due_messages(limit: int, due_before: datetime | None = None) -> list[Claim]:
    """Lease up to ``limit`` due messages to this worker and commit the claim.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets workers claim side by side. SQLite: the
    transaction starts with BEGIN IMMEDIATE (see database.py), so claims are serial.
    ``due_before`` leaves out messages that became due later (a retry put back this run).
    """
    now = utcnow()
    query = (
        select(OutboxMessage)
        .where(due_condition(now, due_before))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list(db.session.scalars(query))
    lease = now + lease_length()
    claims = []
    for message in messages:
        message.status = MessageStatus.SENDING
        message.lease_until = lease
        claims.append(
            Claim(
                id=message.id,
                recipient=message.recipient,
                subject=message.subject,
                text_body=message.text_body,
                html_body=message.html_body,
                message_id_header=message.message_id_header,
                candidate_id=message.candidate_id,
                attempts=message.attempts,
                lease_until=lease,
            )
        )
    db.session.commit()
    return claims


def held(claim: Claim):
    """The WHERE clause that matches the message only while this worker holds it."""
    return and_(
        OutboxMessage.id == claim.id,
        OutboxMessage.status == MessageStatus.SENDING,
        OutboxMessage.lease_until == claim.lease_until,
    )


def start_attempt(claim: Claim) -> bool:
    """Renew the lease and count the attempt, if this worker still holds the message."""
    now = utcnow()
    lease = now + lease_length()
    result = db.session.execute(
        update(OutboxMessage)
        .where(held(claim))
        .values(lease_until=lease, attempts=OutboxMessage.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return False
    claim.lease_until = lease
    claim.attempts += 1
    return True


def finish(claim: Claim, **values) -> bool:
    """Record the outcome, only if this worker still holds the message; commit.

    Returns False (and changes nothing) when the lease was lost to another worker.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(held(claim))
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        log.warning("outbox message %s: lease lost before the outcome was recorded", claim.id)
        return False
    return True


def release(claim: Claim) -> None:
    """Put an untried message back, due at once, for this or another worker."""
    finish(claim, status=MessageStatus.QUEUED)
    db.session.commit()


def default_sender() -> str:
    sender = current_app.extensions["mail"].default_sender
    return f"{sender[0]} <{sender[1]}>" if isinstance(sender, tuple) else sender


def to_mail_message(claim: Claim, sender: str | None = None) -> OutgoingMail:
    """The email for one claimed row, with its stable Message-ID (see mime.py)."""
    return OutgoingMail(
        sender=sender or default_sender(),
        recipient=claim.recipient,
        subject=claim.subject,
        body=claim.text_body,
        html=claim.html_body or None,
        msgId=claim.message_id_header,
    )


def is_permanent(error: Exception) -> bool:
    """True when the server refused this message for good (5xx), or it can never be sent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError)  # a header with a line break, an unencodable address


def is_bounce(error: Exception) -> bool:
    """A permanent refusal of the recipient or of the message by the receiving server."""
    return is_permanent(error) and isinstance(
        error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2x base, 4x base ..., capped at six hours."""
    base = current_app.config["OUTBOX_RETRY_BASE_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def describe_error(error: Exception) -> str:
    """One line for people: the class of error and what the server said."""
    if isinstance(error, SMTPUnavailable):
        error = error.cause
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = [
            f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for code, reply in error.recipients.values()
        ]
        return f"Recipient refused: {'; '.join(replies)}"[:2000]
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{type(error).__name__}: {error.smtp_code} {text}"[:2000]
    return f"{type(error).__name__}: {error}"[:2000]


def mark_bouncing(candidate_id: int | None, reason: str) -> None:
    """Stop all mail to the candidate's address until someone corrects it. Flush only."""
    candidate = db.session.get(Candidate, candidate_id) if candidate_id else None
    if candidate is None or candidate.email_bouncing_at is not None:
        return
    candidate.email_bouncing_at = utcnow()
    candidate.email_bouncing_reason = reason
    record_event(None, "candidate.email_bouncing", candidate)


def record_failure(claim: Claim, error: Exception, report: DeliveryReport) -> None:
    """Retry later with backoff, or stop for good after a permanent failure or the last try."""
    text = describe_error(error)
    if is_permanent(error) or claim.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        if finish(claim, status=MessageStatus.FAILED, last_error=text):
            if is_bounce(error):
                mark_bouncing(claim.candidate_id, text)
            report.failed.append(claim.id)
            report.lines.append(f"message {claim.id}: failed after {claim.attempts} tries: {text}")
    else:
        send_after = utcnow() + retry_delay(claim.attempts)
        if finish(claim, status=MessageStatus.QUEUED, last_error=text, send_after=send_after):
            report.retrying.append(claim.id)
            when = send_after.strftime("%H:%M:%S UTC")
            report.lines.append(f"message {claim.id}: will retry at {when}: {text}")
    db.session.commit()


def refuse_uncontactable(claim: Claim, report: DeliveryReport) -> bool:
    """Do not send to a candidate who became uncontactable after the message was queued.

    A bouncing address fails the message (it can be retried once the address is
    corrected); do-not-contact or erasure cancels it for good. True if not sent.
    """
    candidate = db.session.get(Candidate, claim.candidate_id) if claim.candidate_id else None
    if candidate is None or candidate.contactable:
        return False
    if candidate.email_bouncing_at and not (candidate.do_not_contact or candidate.erased_at):
        status, text = MessageStatus.FAILED, "Not sent: the address is bouncing."
    else:
        status, text = MessageStatus.CANCELLED, "Not sent: the candidate may not be contacted."
    if finish(claim, status=status, last_error=text):
        (report.failed if status == MessageStatus.FAILED else report.cancelled).append(claim.id)
        report.lines.append(f"message {claim.id}: {status.value}: {text}")
    db.session.commit()
    return True


def deliver_due(
    limit: int | None = None,
    *,
    due_before: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """One pass: claim what is due and send it, to SMTP or to the development mailbox.

    ``should_stop`` is asked before each message; when it says yes, the messages not yet
    tried are put back at once, so stopping never waits for a lease to run out.
    """
    report = DeliveryReport()
    claims = claim_due_messages(limit or current_app.config["OUTBOX_BATCH_SIZE"], due_before)
    report.claimed = len(claims)
    connection = SMTPConnection() if current_app.config.get("MAIL_SERVER") else None
    try:
        for index, claim in enumerate(claims):
            if should_stop():
                put_back(claims[index:], report)
                break
            if not deliver_one(claim, connection, report):
                put_back(claims[index + 1 :], report)  # the server is down: try later
                break
    finally:
        if connection is not None:
            connection.close()
        db.session.close()
    return report


def put_back(claims: list[Claim], report: DeliveryReport) -> None:
    for claim in claims:
        release(claim)
        report.released.append(claim.id)


def deliver_one(claim: Claim, connection: SMTPConnection | None, report: DeliveryReport) -> bool:
    """Send one message and record the outcome; False if the server could not be reached."""
    if refuse_uncontactable(claim, report) or not start_attempt(claim):
        return True
    try:
        mail_message = to_mail_message(claim)
        if connection is None:
            check_message_headers(mail_message)
            transport = "mailbox"
        else:
            connection.deliver(mail_message)
            transport = "smtp"
    except SMTPUnavailable as error:
        record_failure(claim, error, report)
        return False
    except Exception as error:  # noqa: BLE001 (one bad message must not stop the rest)
        if not isinstance(error, smtplib.SMTPException | OSError | ValueError):
            log.exception("outbox message %s: unexpected error while sending", claim.id)
        record_failure(claim, error, report)
        if connection is not None:
            connection.close()  # a fresh line for the next message
        return True
    if finish(
        claim, status=MessageStatus.SENT, sent_at=utcnow(), transport=transport, last_error=""
    ):
        report.sent.append(claim.id)
        report.lines.append(f"message {claim.id}: sent ({transport})")
    db.session.commit()
    return True
