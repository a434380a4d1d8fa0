"""The delivery worker: claim due messages with a lease, send them, record the outcome."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import and_, or_, select, update

from ..extensions import db
from ..models import MessageStatus, OutboxMessage, utcnow
from .services import check_header_value
from .transport import SMTPConnection


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


class PermanentFailure(Exception):
    """The server said no for good (a 5xx reply), or the message can never be sent."""


def due_condition(now):
    """Queued and due, or claimed by a worker whose lease has run out."""
    return or_(
        and_(OutboxMessage.status == MessageStatus.QUEUED, OutboxMessage.send_after <= now),
        and_(OutboxMessage.status == MessageStatus.SENDING, OutboxMessage.lease_until < now),
    )


def claim_due_messages(limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages to this worker and commit the claim.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets workers claim side by side. SQLite: the
    transaction starts with BEGIN IMMEDIATE (see database.py), so claims are serial.
    """
    now = utcnow()
    query = (
        select(OutboxMessage)
        .where(due_condition(now))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list(db.session.scalars(query))
    lease = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    for message in messages:
        message.status = MessageStatus.SENDING
        message.lease_until = lease
        message.attempts += 1
    db.session.commit()
    return messages


def to_mail_message(message: OutboxMessage) -> Message:
    """The Flask-Mail message for one outbox row, with its stable Message-ID."""
    mail_message = Message(
        subject=check_header_value("subject", message.subject),
        recipients=[check_header_value("recipient", message.recipient)],
        body=message.text_body,
        html=message.html_body or None,
    )
    mail_message.msgId = message.message_id_header
    return mail_message


def classify(error: Exception) -> bool:
    """True when ``error`` is permanent (5xx), False when worth retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2x base, 4x base ..., capped at six hours."""
    base = current_app.config["OUTBOX_RETRY_BASE_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def finish(message: OutboxMessage, **values) -> None:
    """Record the outcome, only if this worker still holds the message; commit."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == MessageStatus.SENDING,
            OutboxMessage.lease_until == message.lease_until,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def record_failure(message: OutboxMessage, error: Exception, report: DeliveryReport) -> None:
    """Retry later with backoff, or stop for good after a permanent failure or the last try."""
    text = f"{type(error).__name__}: {error}"[:2000]
    give_up = classify(error) or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    if give_up:
        finish(message, status=MessageStatus.FAILED, last_error=text)
        report.failed.append(message.id)
    else:
        send_after = utcnow() + retry_delay(message.attempts)
        finish(message, status=MessageStatus.QUEUED, last_error=text, send_after=send_after)
        report.retrying.append(message.id)


def deliver_due(limit: int | None = None) -> DeliveryReport:
    """One pass: claim what is due and send it, to SMTP or to the development mailbox."""
    report = DeliveryReport()
    messages = claim_due_messages(limit or current_app.config["OUTBOX_BATCH_SIZE"])
    if not messages:
        return report
    if not current_app.config.get("MAIL_SERVER"):
        for message in messages:
            finish(message, status=MessageStatus.SENT, sent_at=utcnow(), transport="mailbox")
            report.sent.append(message.id)
        return report
    send_over_smtp(messages, report)
    return report


def send_over_smtp(messages: list[OutboxMessage], report: DeliveryReport) -> None:
    """Send over one SMTP connection, reconnecting after a failure or MAIL_MAX_EMAILS."""
    connection = SMTPConnection()
    try:
        for message in messages:
            try:
                connection.deliver(to_mail_message(message))
            except (smtplib.SMTPException, OSError, ValueError) as error:
                record_failure(message, error, report)
                connection.__exit__(None, None, None)  # a fresh line for the next one
                continue
            finish(
                message,
                status=MessageStatus.SENT,
                sent_at=utcnow(),
                transport="smtp",
                last_error="",
            )
            report.sent.append(message.id)
    finally:
        connection.__exit__(None, None, None)
