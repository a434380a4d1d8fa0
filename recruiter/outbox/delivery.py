"""The delivery worker: claim due messages with a lease, send them, record the outcomes.

The guarantees, and where each comes from:

- A message is claimed by one worker at a time: a conditional claim (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) sets it ``sending`` with a lease.
- Messages are sent in small groups. Before a group, one transaction records what the
  previous group sent, leaves out candidates who may no longer be contacted, and renews
  the lease and counts the attempt of each message of the group that this worker still
  holds; only those are sent. A worker that died leaves its messages to be claimed again
  once the lease has run out; one that was merely slow finds it has lost them, and sends
  nothing. The first group after each claim, and after any failure, is one message;
  once the server has taken it, groups are ``MAX_UNRECORDED`` messages. So a worker that
  hangs on a silent server, or dies there, has counted an attempt for only the message it
  was on.
- Outcomes are written only while the worker still holds the lease. Sent messages are
  recorded at the next group, and at least every ``RECORD_SECONDS`` (which also renews the
  lease of the group's unsent messages, so every send starts within ``RECORD_SECONDS`` of
  its lease being renewed: the lease must outlast one send). A failure is recorded at once.
- A crash between the server's "250 OK" and that record sends the message again when the
  lease ends: at least once, never lost. That window is at most one group (``MAX_UNRECORDED``
  messages) or ``RECORD_SECONDS``, and the message carries the same Message-ID, so receivers
  can recognise the duplicate.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from flask import current_app
from sqlalchemy import and_, bindparam, select, update

from ..audit.services import record_event
from ..extensions import db
from ..models import Candidate, MessageStatus, OutboxMessage, utcnow
from .mime import OutgoingMail
from .transport import SMTPConnection, SMTPUnavailable, check_message_headers

log = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__
# Sent messages not yet recorded: at most one group of this many, and at most this long.
MAX_UNRECORDED = 32
RECORD_SECONDS = 0.5


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
    """A claimed message, copied out of the database so nothing is lazily reloaded.

    ``lease_until`` is this worker's own lease, the value the row must still hold for any
    write of this worker to apply. ``started``: its attempt is counted and its lease
    renewed for this pass. ``done``: nothing more to do with it in this pass (tried, or
    refused, lost or put back).
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
    started: bool = False
    done: bool = False


def lease_length() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def claim_query(condition):
    return (
        select(
            OutboxMessage.id,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.text_body,
            OutboxMessage.html_body,
            OutboxMessage.message_id_header,
            OutboxMessage.candidate_id,
            OutboxMessage.attempts,
        )
        .where(condition)
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )


# The two kinds of claimable message, each a condition one index walk answers: first those
# whose worker's lease ran out (it died or lost them: they are overdue), then the queued
# ones that are due, oldest first. Each is read in the order of the index on (status,
# send_after) and stops at the limit, instead of collecting every due message and sorting
# them, which grows with the backlog.
CLAIMABLE = (
    claim_query(
        and_(
            OutboxMessage.status == MessageStatus.SENDING,
            OutboxMessage.lease_until < bindparam("now"),
        )
    ),
    claim_query(
        and_(
            OutboxMessage.status == MessageStatus.QUEUED,
            OutboxMessage.send_after <= bindparam("due"),
        )
    ),
)
CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=MessageStatus.SENDING, lease_until=bindparam("lease"))
)


def claim_due_messages(limit: int, due_before: datetime | None = None) -> list[Claim]:
    """Lease up to ``limit`` due messages to this worker and commit the claim.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets workers claim side by side (the rows stay
    locked until the UPDATE commits). SQLite: the transaction starts with BEGIN IMMEDIATE
    (see database.py), so claims are serial. ``due_before`` leaves out messages that became
    due later (a retry put back this run).
    """
    now = utcnow()
    due = min(now, due_before or now)
    rows = []
    for query in CLAIMABLE:
        if len(rows) < limit:
            params = {"now": now, "due": due, "limit": limit - len(rows)}
            rows += db.session.connection().execute(query, params).all()
    lease = now + lease_length()
    if rows:
        db.session.connection().execute(CLAIM, {"ids": [row.id for row in rows], "lease": lease})
    db.session.commit()
    return [Claim(*row, lease_until=lease) for row in rows]


def held_update(**values):
    """An UPDATE of the rows ``:ids`` that still hold lease ``:lease``, returning their ids."""
    return (
        update(OUTBOX)
        .where(
            OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
            OUTBOX.c.status == MessageStatus.SENDING,
            OUTBOX.c.lease_until == bindparam("lease"),
        )
        .values(**values)
        .returning(OUTBOX.c.id)
    )


# Built once: SQLAlchemy then reuses their cache keys and compiled forms.
START = held_update(lease_until=bindparam("new_lease"), attempts=OUTBOX.c.attempts + 1)
RENEW = held_update(lease_until=bindparam("new_lease"))
SENT = held_update(
    status=MessageStatus.SENT,
    sent_at=bindparam("at"),
    last_attempt_at=bindparam("at"),
    transport=bindparam("via"),
    last_error="",
    lease_until=None,
)
PUT_BACK = held_update(status=MessageStatus.QUEUED, lease_until=None)
PUT_BACK_STARTED = held_update(
    status=MessageStatus.QUEUED, lease_until=None, attempts=OUTBOX.c.attempts - 1
)


def update_held(claims: Iterable[Claim], statement, **params) -> set[int]:
    """Run a ``held_update`` for those of ``claims`` this worker still holds; their ids.

    One execution per distinct lease (the claims of one group share theirs). No commit.
    """
    written: set[int] = set()
    by_lease = sorted(claims, key=lambda claim: claim.lease_until)
    for lease, group in groupby(by_lease, key=lambda claim: claim.lease_until):
        ids = [claim.id for claim in group]
        # Core statements on the session's connection: no ORM work to do for them.
        result = db.session.connection().execute(statement, {"ids": ids, "lease": lease, **params})
        written.update(result.scalars())
    return written


def lost(claim: Claim) -> None:
    claim.done = True
    log.warning("outbox message %s: lease lost to another worker; left to it", claim.id)


def start_group(claims: list[Claim], report: DeliveryReport) -> None:
    """Make a group ready to send; the caller commits.

    Refuses messages to candidates who may no longer be contacted, then renews the lease
    and counts the attempt of the others this worker still holds (``started``); the ones it
    lost to another worker are ``done``.
    """
    refuse_uncontactable(claims, report)
    todo = [claim for claim in claims if not claim.done]
    lease = utcnow() + lease_length()
    kept = update_held(todo, START, new_lease=lease) if todo else set()
    for claim in todo:
        if claim.id in kept:
            claim.lease_until, claim.started = lease, True
            claim.attempts += 1
        else:
            lost(claim)


def renew(claims: list[Claim]) -> None:
    """Renew the lease of claims this worker holds and has yet to send. No commit."""
    lease = utcnow() + lease_length()
    kept = update_held(claims, RENEW, new_lease=lease)
    for claim in claims:
        if claim.id in kept:
            claim.lease_until = lease
        else:
            lost(claim)


def record_sent(claims: list[Claim], transport: str, report: DeliveryReport) -> None:
    """Mark messages the server accepted ``sent``, in one UPDATE. No commit.

    ``sent_at`` is the time of this record, at most ``RECORD_SECONDS`` (or one send)
    after the server's "250 OK".
    """
    recorded = update_held(claims, SENT, at=utcnow(), via=transport)
    for claim in claims:
        if claim.id in recorded:
            report.sent.append(claim.id)
            report.lines.append(f"message {claim.id}: sent ({transport})")
        else:
            log.warning("outbox message %s: sent, but its lease was lost first", claim.id)


def finish(claim: Claim, **values) -> bool:
    """Record the outcome, only if this worker still holds the message. No commit.

    Returns False (and changes nothing) when the lease was lost to another worker. A
    message whose attempt was counted but which was never tried gets that count back.
    """
    tried = values.pop("tried", True)
    if claim.started and not tried:
        values["attempts"] = OUTBOX.c.attempts - 1
    claim.done = True
    if update_held([claim], held_update(lease_until=None, **values)):
        return True
    log.warning("outbox message %s: lease lost before the outcome was recorded", claim.id)
    return False


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


def record_failure(
    claim: Claim, error: Exception, tried_at: datetime, report: DeliveryReport
) -> bool:
    """Retry later with backoff, or stop for good after a permanent failure or the last try.

    Commits. True if the candidate's address was marked bouncing.
    """
    text = describe_error(error)
    bounced = False
    if is_permanent(error) or claim.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        if finish(claim, status=MessageStatus.FAILED, last_error=text, last_attempt_at=tried_at):
            if is_bounce(error):
                mark_bouncing(claim.candidate_id, text)
                bounced = claim.candidate_id is not None
            report.failed.append(claim.id)
            report.lines.append(f"message {claim.id}: failed after {claim.attempts} tries: {text}")
    else:
        send_after = utcnow() + retry_delay(claim.attempts)
        if finish(
            claim,
            status=MessageStatus.QUEUED,
            last_error=text,
            send_after=send_after,
            last_attempt_at=tried_at,
        ):
            report.retrying.append(claim.id)
            when = send_after.strftime("%H:%M:%S UTC")
            report.lines.append(f"message {claim.id}: will retry at {when}: {text}")
    db.session.commit()
    return bounced


BOUNCING = (MessageStatus.FAILED, "Not sent: the address is bouncing.")
UNCONTACTABLE = (MessageStatus.CANCELLED, "Not sent: the candidate may not be contacted.")


def refuse(claim: Claim, outcome: tuple[MessageStatus, str], report: DeliveryReport) -> None:
    """Record that a message was not sent, and why. No commit."""
    status, text = outcome
    if finish(claim, status=status, last_error=text, tried=False):
        (report.failed if status == MessageStatus.FAILED else report.cancelled).append(claim.id)
        report.lines.append(f"message {claim.id}: {status.value}: {text}")


def refuse_uncontactable(claims: list[Claim], report: DeliveryReport) -> None:
    """Do not send to candidates who became uncontactable after their message was queued.

    A bouncing address fails the message (it can be retried once the address is
    corrected); do-not-contact or erasure cancels it for good. One query for the group;
    no commit.
    """
    ids = {claim.candidate_id for claim in claims if claim.candidate_id is not None}
    if not ids:
        return
    rows = db.session.execute(
        select(
            Candidate.id,
            Candidate.do_not_contact_at,
            Candidate.email_bouncing_at,
            Candidate.erased_at,
        ).where(Candidate.id.in_(ids))
    )
    refusals = {}
    for candidate_id, do_not_contact_at, bouncing_at, erased_at in rows:
        if do_not_contact_at or erased_at:
            refusals[candidate_id] = UNCONTACTABLE
        elif bouncing_at:
            refusals[candidate_id] = BOUNCING
    for claim in claims:
        if claim.candidate_id in refusals:
            refuse(claim, refusals[claim.candidate_id], report)


def deliver_due(
    limit: int | None = None,
    *,
    due_before: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """One pass: claim what is due and send it, to SMTP or to the development mailbox.

    ``should_stop`` is asked before each message; when it says yes, what was sent is
    recorded and the messages not yet tried are put back at once, so stopping never waits
    for a lease to run out.
    """
    report = DeliveryReport()
    try:
        claims = claim_due_messages(limit or current_app.config["OUTBOX_BATCH_SIZE"], due_before)
        report.claimed = len(claims)
        if claims:
            deliver_claimed(claims, report, should_stop)
    finally:
        db.session.close()
    return report


def put_back(claims: list[Claim], report: DeliveryReport) -> None:
    """Put untried messages back, due at once, in one transaction."""
    todo = [claim for claim in claims if not claim.done]
    started = [claim for claim in todo if claim.started]
    waiting = [claim for claim in todo if not claim.started]
    back = set()
    if started:  # their attempt was counted ahead: give it back
        back |= update_held(started, PUT_BACK_STARTED)
    if waiting:
        back |= update_held(waiting, PUT_BACK)
    db.session.commit()
    for claim in todo:
        claim.done = True
        if claim.id in back:
            report.released.append(claim.id)


def deliver_claimed(
    claims: list[Claim],
    report: DeliveryReport,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Send claimed messages in order, in groups (see the module's docstring)."""
    connection = SMTPConnection() if current_app.config.get("MAIL_SERVER") else None
    sender = default_sender()
    transport = "smtp" if connection is not None else "mailbox"
    unrecorded: list[Claim] = []
    bounced: set[int] = set()  # candidates whose address bounced in this pass
    group_size, recorded_at = 1, time.monotonic()

    def record(renewing: list[Claim] = (), starting: list[Claim] = ()) -> None:
        """One transaction: record what was sent, renew leases, start the next group."""
        nonlocal unrecorded, recorded_at
        if unrecorded:
            record_sent(unrecorded, transport, report)
        if renewing:
            renew(renewing)
        if starting:
            start_group(starting, report)
        db.session.commit()
        unrecorded, recorded_at = [], time.monotonic()

    try:
        for index, claim in enumerate(claims):
            if should_stop():
                record()
                put_back(claims[index:], report)
                break
            if claim.done:  # refused or lost when its group started
                continue
            if not claim.started:  # the group before is over: record it, start the next
                record(starting=[c for c in claims[index : index + group_size] if not c.done])
                group_size = MAX_UNRECORDED  # next time, unless a send fails (below)
            elif time.monotonic() - recorded_at >= RECORD_SECONDS:
                record([c for c in claims[index:] if c.started and not c.done])
            if claim.done:
                continue
            if claim.candidate_id in bounced:
                record()
                refuse(claim, BOUNCING, report)
                db.session.commit()
                continue
            tried_at = utcnow()
            try:
                mail_message = to_mail_message(claim, sender)
                if connection is None:
                    check_message_headers(mail_message)
                else:
                    connection.deliver(mail_message)
            except SMTPUnavailable as error:  # nothing was sent: try the rest later
                record()
                record_failure(claim, error, tried_at, report)
                put_back(claims[index + 1 :], report)
                break
            except Exception as error:  # noqa: BLE001 (one bad message must not stop the rest)
                if not isinstance(error, smtplib.SMTPException | OSError | ValueError):
                    log.exception("outbox message %s: unexpected error while sending", claim.id)
                record()
                if record_failure(claim, error, tried_at, report):
                    bounced.add(claim.candidate_id)
                group_size = 1  # count attempts ahead again only once mail goes through
                if connection is not None:
                    connection.close()  # a fresh line for the next message
                continue
            claim.done = True
            unrecorded.append(claim)
        record()
    finally:
        if unrecorded:  # an error interrupted the pass: record what went out, if possible
            try:
                db.session.rollback()
                record()
            except Exception:
                log.exception(
                    "outbox: %d sent messages could not be recorded; they will be sent "
                    "again when their lease ends",
                    len(unrecorded),
                )
        if connection is not None:
            connection.close()
