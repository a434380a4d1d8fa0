"""The outbox and its worker against a real SMTP server that misbehaves.

Each failure mode ends in the right state: sent, queued again with a backoff and the
server's words, or failed; nothing is lost, nothing is sent twice, and the worker goes on
with the next message.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import os
import re
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask_mail import Message
from flask_migrate import upgrade
from sqlalchemy import func, select, update

from recruiter import create_app
from recruiter.extensions import db
from recruiter.models import (
    Application,
    AuditEvent,
    Candidate,
    MessageStatus,
    OutboxMessage,
    utcnow,
)
from recruiter.outbox import delivery
from recruiter.outbox.mime import OutgoingMail
from recruiter.outbox.services import (
    ContactRefused,
    HeaderInjection,
    queue_message,
    retry_message,
)
from recruiter.outbox.transport import SMTPConnection, check_message_headers


@pytest.fixture
def config_overrides(smtp):
    return {
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT_SECONDS": 2,
        "OUTBOX_RETRY_BASE_SECONDS": 60,
        # Rejection notes go out at once here; their timing is tested in test_rejections.py.
        "REJECTION_UNDO_MINUTES": 0,
        "REJECTION_MIN_HOURS_AFTER_APPLYING": 0,
        "BUSINESS_HOURS_ENABLED": False,
    }


def queue(app, n: int = 1, *, prefix: str = "cand") -> list[int]:
    """Queue one message to each of ``n`` new candidates; return the message ids."""
    with app.app_context():
        ids = []
        for i in range(n):
            candidate = Candidate(name=f"Casey {prefix}{i}", email=f"{prefix}{i}@example.com")
            db.session.add(candidate)
            message = queue_message(
                candidate.email, f"Note {i}", f"Dear Casey {i}", candidate=candidate
            )
            ids.append(message.id)
        db.session.commit()
        return ids


def deliver(app) -> delivery.DeliveryReport:
    with app.app_context():
        return delivery.deliver_due()


def state(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


def make_due(app) -> None:
    """Pretend the backoff has passed."""
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(send_after=utcnow()))
        db.session.commit()


def assert_retrying(app, message_id: int, error: str, attempts: int = 1) -> None:
    message = state(app, message_id)
    assert message.status == MessageStatus.QUEUED
    assert error in message.last_error
    assert message.attempts == attempts
    assert message.send_after > utcnow() + timedelta(seconds=30)  # backoff, not at once
    assert message.lease_until is None


def message_ids_at_server(smtp) -> list[str]:
    return [m["Message-ID"] for m in smtp.messages]


# -- the happy path and the connection --------------------------------------------------


def test_many_messages_go_over_one_connection(app, smtp):
    ids = queue(app, 5)
    report = deliver(app)
    assert report.sent == ids
    assert len(smtp.wait_for(5)) == 5
    assert smtp.connections == 1
    assert [rcpts for _, rcpts in smtp.envelopes] == [[f"cand{i}@example.com"] for i in range(5)]
    assert all(state(app, i).status == MessageStatus.SENT for i in ids)


def test_reconnects_after_mail_max_emails(app, smtp):
    app.config["MAIL_MAX_EMAILS"] = 2
    ids = queue(app, 5)
    assert deliver(app).sent == ids
    smtp.wait_for(5)
    assert smtp.connections == 3  # 2 + 2 + 1, and no idle connection opened at the end


def test_message_id_is_the_stored_one(app, smtp):
    [mid] = queue(app)
    deliver(app)
    [received] = smtp.wait_for(1)
    assert received["Message-ID"] == state(app, mid).message_id_header
    assert received["From"] == "Acme Robotics Hiring <hiring@acme.example>"


# -- the bytes of a message -------------------------------------------------------------

BOUNDARY = re.compile(rb"===============\d+==")
SUBJECTS = [
    "Your application for Backend Engineer",
    "Your application for Backend Engineer — María",
    "Ünïcödé " * 12,  # long and non-ASCII: encoded words over several lines
    "A long subject in plain ASCII that goes on past the line length " * 2,
    "=?utf-8?q?looks_encoded?=",
    "",
]
RECIPIENTS = [
    "ada@example.com",
    "María López <maria@example.com>",
    "o'brien+jobs@example.co.uk",
    '"quoted, name"@example.com',
    "x@bücher.de",
    "a" * 70 + "@example.com",
    "josé@example.com",  # Flask-Mail cannot encode this either: both raise
]
BODIES = [
    ("Dear María,\n\nThank you for your time.\n", "<p>Dear María,</p>\n"),
    ("ASCII only\r\nwith CRLF\rand CR\n.a dot\nFrom me", "<p>x</p>"),
    ("long line " * 300, "<p>" + "long " * 400 + "</p>"),
    ("Text only, no HTML part", None),
    ("Línea sin HTML\n", ""),
    ("", None),
]
SENDERS = [
    "Acme Robotics Hiring <hiring@acme.example>",
    "Équipe RH <rh@acme.example>",
    "h@a.example",
]


def flask_mail_bytes(sender, recipient, subject, body, html, date) -> bytes:
    message = Message(subject, recipients=[recipient], body=body, html=html or None)
    message.sender, message.date, message.msgId = sender, date, "<1.2@acme.example>"
    return message.as_bytes()


def outbox_bytes(sender, recipient, subject, body, html, date) -> bytes:
    mail = OutgoingMail(sender, recipient, subject, body, html, "<1.2@acme.example>", date=date)
    return mail.as_bytes()


def built(build, *args) -> bytes | type:
    try:
        return BOUNDARY.sub(b"BOUNDARY", build(*args))
    except Exception as error:  # noqa: BLE001 (both must fail alike)
        return type(error)


def test_message_bytes_are_flask_mails_except_the_boundaries(app):
    """Every combination of awkward headers and bodies, byte for byte (one Date for both)."""
    cases = itertools.product(SENDERS, RECIPIENTS, SUBJECTS, BODIES)
    with app.app_context():
        for sender, recipient, subject, (body, html) in cases:
            args = (sender, recipient, subject, body, html, 1_700_000_000.0)
            assert built(outbox_bytes, *args) == built(flask_mail_bytes, *args), args


def parsed(raw: bytes):
    """Parsed as a receiving server would: its lines end in LF once off the wire."""
    return email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)


@pytest.mark.parametrize("html", ["<p>Dear María,</p>", None])
def test_message_parses_to_the_same_headers_and_parts(app, html):
    args = ("Acme Robotics Hiring <hiring@acme.example>", "maria@example.com")
    args += ("Your application — María", "Dear María,\n\nThank you.\n", html, None)
    with app.app_context():
        ours, theirs = parsed(outbox_bytes(*args)), parsed(flask_mail_bytes(*args))
    assert ours.items() != [] and [k for k, _ in ours.items()] == [k for k, _ in theirs.items()]
    assert ours["Subject"] == theirs["Subject"] == "Your application — María"
    assert ours["From"] == "Acme Robotics Hiring <hiring@acme.example>"
    assert ours["Message-ID"] == "<1.2@acme.example>"

    def parts(message):
        return [
            (
                p.get_content_type(),
                p.get_content_charset(),
                p["Content-Transfer-Encoding"],
                p.get_content(),
            )
            for p in message.walk()
            if not p.is_multipart()
        ]

    assert parts(ours) == parts(theirs)
    assert parts(ours)[0][3] == "Dear María,\n\nThank you.\n"


def test_boundaries_never_occur_in_the_parts(app, monkeypatch):
    """A body that holds the first boundary drawn makes the builder draw another."""
    drawn = iter([7, 7, 8, 9])
    monkeypatch.setattr("recruiter.outbox.mime.random.randrange", lambda _n: next(drawn))
    seven = "===============" + "7".rjust(19, "0") + "=="
    mail = OutgoingMail("h@a.example", "ada@example.com", "Hi", f"see {seven}", "<p>x</p>", "<1@a>")
    raw = parsed(mail.as_bytes())
    assert raw.get_boundary() != seven and raw.get_payload()[0].get_boundary() != seven
    assert raw.get_body(("plain",)).get_content() == f"see {seven}"


def test_a_received_note_reads_as_written(app, smtp):
    """Through a real SMTP server: headers, both parts and non-ASCII text intact."""
    with app.app_context():
        candidate = Candidate(name="María López", email="maria.lopez@example.com")
        db.session.add(candidate)
        message = queue_message(
            candidate.email,
            "Your application for Backend Engineer — María",
            "Dear María,\n\nThank you for your time.\n\n.Kind regards",
            "<p>Dear María,</p><p>Thank you for your time.</p>",
            candidate=candidate,
        )
        mid = message.message_id_header
        db.session.commit()
    deliver(app)
    [received] = smtp.wait_for(1)
    assert received["Subject"] == "Your application for Backend Engineer — María"
    assert received["To"] == "maria.lopez@example.com" and received["Message-ID"] == mid
    assert received["From"] == "Acme Robotics Hiring <hiring@acme.example>"
    assert received["Date"].datetime.tzinfo is not None
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain.get_content() == "Dear María,\n\nThank you for your time.\n\n.Kind regards"
    assert html.get_content() == "<p>Dear María,</p><p>Thank you for your time.</p>"
    assert plain["Content-Transfer-Encoding"] == "8bit"


# -- each failure mode ------------------------------------------------------------------


def test_421_at_greeting_is_retried_later_and_the_rest_waits(app, smtp):
    first, second = queue(app, 2)
    smtp.mode = "greeting_421"
    report = deliver(app)
    assert report.retrying == [first] and report.released == [second]
    assert_retrying(app, first, "421")
    untried = state(app, second)
    assert (untried.status, untried.attempts, untried.last_error) == (MessageStatus.QUEUED, 0, "")
    assert smtp.connections == 1  # the down server is not hammered once per message
    assert smtp.messages == []
    assert not bouncing(app, first)

    smtp.mode = "normal"
    make_due(app)
    assert sorted(deliver(app).sent) == [first, second]
    assert len(smtp.wait_for(2)) == 2


def test_451_after_data_is_retried_with_the_same_message_id(app, smtp):
    first, second = queue(app, 2)
    smtp.mode = "data_451"
    report = deliver(app)
    assert report.retrying == [first, second]  # each tried: it was about the message
    assert_retrying(app, first, "451")
    assert_retrying(app, second, "451")
    assert smtp.messages == []

    smtp.mode = "normal"
    make_due(app)
    assert sorted(deliver(app).sent) == [first, second]
    received = smtp.wait_for(2)
    assert sorted(message_ids_at_server(smtp)) == sorted(
        state(app, m).message_id_header for m in (first, second)
    )
    assert len(received) == 2
    assert state(app, first).attempts == 2
    assert state(app, first).last_error == ""


def test_550_at_rcpt_fails_marks_bouncing_and_the_next_message_goes(app, smtp):
    first, second = queue(app, 2)
    smtp.mode = "refuse_some"
    smtp.refused.add("cand0@example.com")
    report = deliver(app)
    assert report.failed == [first] and report.sent == [second]
    failed = state(app, first)
    assert failed.status == MessageStatus.FAILED
    assert "550" in failed.last_error and "Recipient refused" in failed.last_error
    assert failed.attempts == 1  # permanent: no retry
    [received] = smtp.wait_for(1)
    assert received["To"] == "cand1@example.com"
    with app.app_context():
        candidate = db.session.get(OutboxMessage, first).candidate
        assert candidate.email_bouncing_at is not None
        assert "550" in candidate.email_bouncing_reason
        assert not candidate.contactable
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.target_id == candidate.id))
        assert event.action == "candidate.email_bouncing"
        # No further mail until the address is corrected.
        with pytest.raises(ContactRefused, match="bouncing"):
            queue_message(candidate.email, "Again", "text", candidate=candidate)


def test_550_for_every_rcpt(app, smtp):
    [mid] = queue(app)
    smtp.mode = "rcpt_550"
    assert deliver(app).failed == [mid]
    assert state(app, mid).status == MessageStatus.FAILED
    assert bouncing(app, mid)
    assert deliver(app).total == 0  # nothing more is tried


def test_a_partial_refusal_is_never_reported_as_sent(app, smtp):
    """Flask-Mail drops what sendmail returns; our transport raises for the refused one."""
    smtp.mode = "refuse_some"
    smtp.refused.add("bo@example.com")
    with app.app_context():
        connection = SMTPConnection()
        message = Message("Hello", recipients=["ada@example.com", "bo@example.com"], body="x")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
            connection.deliver(message)
        connection.close()
    assert list(excinfo.value.recipients) == ["bo@example.com"]
    assert delivery.is_permanent(excinfo.value)
    assert smtp.envelopes[0][1] == ["ada@example.com"]


def test_the_worker_sends_one_recipient_per_message(app, smtp):
    queue(app, 3)
    deliver(app)
    smtp.wait_for(3)
    assert all(len(rcpts) == 1 for _, rcpts in smtp.envelopes)


def test_a_drop_after_data_is_retried_not_lost(app, smtp):
    first, second = queue(app, 2)
    smtp.mode = "drop_after_data"
    report = deliver(app)
    assert report.retrying == [first, second]
    assert_retrying(app, first, "SMTPServerDisconnected")
    assert smtp.messages == []
    assert smtp.connections == 2  # a fresh connection after the broken one
    assert not bouncing(app, first)

    smtp.mode = "normal"
    make_due(app)
    deliver(app)
    assert sorted(message_ids_at_server(smtp)) == sorted(
        state(app, m).message_id_header for m in (first, second)
    )


def test_a_silent_server_times_out(app, smtp):
    app.config["MAIL_TIMEOUT_SECONDS"] = 0.5
    first, second = queue(app, 2)
    smtp.mode = "silent"
    started = time.monotonic()
    report = deliver(app)
    assert time.monotonic() - started < 3
    assert report.retrying == [first] and report.released == [second]
    assert_retrying(app, first, "timed out")
    assert state(app, second).status == MessageStatus.QUEUED

    smtp.mode = "normal"
    make_due(app)
    assert len(deliver(app).sent) == 2


def test_a_refused_connection_is_retried(app, smtp):
    app.config["MAIL_PORT"] = 1  # nothing listens there
    [mid] = queue(app)
    assert deliver(app).retrying == [mid]
    assert_retrying(app, mid, "ConnectionRefusedError")


def test_temporary_failures_stop_after_the_last_attempt(app, smtp):
    app.config.update(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_RETRY_BASE_SECONDS=0)
    [mid] = queue(app)
    smtp.mode = "data_451"
    for expected in (MessageStatus.QUEUED, MessageStatus.QUEUED, MessageStatus.FAILED):
        deliver(app)
        assert state(app, mid).status == expected
    assert state(app, mid).attempts == 3
    assert not bouncing(app, mid)  # a temporary failure says nothing about the address


def test_backoff_doubles_up_to_six_hours(app):
    with app.app_context():
        app.config["OUTBOX_RETRY_BASE_SECONDS"] = 30
        delays = [delivery.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 20)]
    assert delays == [30, 60, 120, 240, 6 * 3600]


def test_tls_setting_is_used(app, smtp):
    """With MAIL_USE_TLS the worker refuses to talk to a server without STARTTLS."""
    app.config["MAIL_USE_TLS"] = True
    [mid] = queue(app)
    assert deliver(app).retrying == [mid]
    assert_retrying(app, mid, "STARTTLS")
    assert smtp.messages == []


def test_ssl_setting_is_used(app, smtp):
    app.config["MAIL_USE_SSL"] = True
    [mid] = queue(app)
    assert deliver(app).retrying == [mid]
    assert_retrying(app, mid, "SSL")
    assert smtp.messages == []


# -- leases -----------------------------------------------------------------------------


def test_a_dead_workers_message_is_picked_up_when_its_lease_ends(app, smtp):
    expired, held = queue(app, 2)
    with app.app_context():
        for mid, lease in ((expired, -1), (held, 60)):
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mid)
                .values(
                    status=MessageStatus.SENDING,
                    attempts=1,
                    lease_until=utcnow() + timedelta(seconds=lease),
                )
            )
        db.session.commit()
    assert deliver(app).sent == [expired]
    [received] = smtp.wait_for(1)
    assert received["Message-ID"] == state(app, expired).message_id_header
    assert state(app, expired).attempts == 2
    assert state(app, held).status == MessageStatus.SENDING  # still its worker's


def test_a_worker_that_lost_its_lease_sends_nothing(app, smtp):
    [mid] = queue(app)
    with app.app_context():
        [claim] = delivery.claim_due_messages(10)
        # Another worker took it over after the lease ran out.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == mid)
            .values(lease_until=utcnow() + timedelta(minutes=5))
        )
        db.session.commit()
        report = delivery.DeliveryReport()
        delivery.deliver_claimed([claim], report)
    assert report.total == 0
    assert smtp.messages == []
    assert state(app, mid).status == MessageStatus.SENDING


def test_stopping_puts_untried_messages_back_at_once(app, smtp):
    ids = queue(app, 3)
    calls = []

    def stop_after_one():
        calls.append(1)
        return len(calls) > 1

    with app.app_context():
        report = delivery.deliver_due(should_stop=stop_after_one)
    assert report.sent == ids[:1] and report.released == ids[1:]
    assert [state(app, m).status for m in ids[1:]] == [MessageStatus.QUEUED] * 2


# -- claiming ----------------------------------------------------------------------------


def test_claims_take_a_dead_workers_messages_first_then_the_oldest_due(app):
    ids = queue(app, 5)
    now = utcnow()
    with app.app_context():
        for minutes, mid in zip([3, 1, 2, -5], ids[:4], strict=True):  # ids[3]: not yet due
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mid)
                .values(send_after=now - timedelta(minutes=minutes))
            )
        db.session.execute(  # ids[4]: its worker's lease ran out
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[4])
            .values(status=MessageStatus.SENDING, lease_until=now - timedelta(seconds=1))
        )
        db.session.commit()
        claimed = [claim.id for claim in delivery.claim_due_messages(3)]
        assert claimed == [ids[4], ids[0], ids[2]]
        assert [claim.id for claim in delivery.claim_due_messages(3)] == [ids[1]]


def test_a_claim_walks_the_index_instead_of_sorting_the_backlog(app):
    """EXPLAIN QUERY PLAN of each claim query: the (status, send_after) index, no sort."""
    from factories import statements_run

    queue(app, 3)
    with app.app_context():
        with statements_run(db.engine) as statements:
            delivery.claim_due_messages(2)
        selects = [
            (text, p) for text, p in statements if text.lstrip().upper().startswith("SELECT")
        ]
        assert len(selects) == 2
        for statement, parameters in selects:
            plan = " ".join(
                row[3]
                for row in db.session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                )
            )
            assert "USING INDEX ix_outbox_message_status_send_after" in plan, plan
            assert "TEMP B-TREE" not in plan and "MULTI-INDEX" not in plan, plan
        db.session.rollback()


# -- recording in groups ----------------------------------------------------------------


def sent_in_database(app) -> int:
    """Read with a connection of its own, as another process would, mid-pass."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT count(*) FROM outbox_message WHERE status = 'sent'"
        ).fetchone()[0]


@pytest.mark.parametrize(("record_seconds", "most_unrecorded"), [(0.5, 32), (0, 1)])
def test_sent_mail_is_recorded_at_least_once_a_group(
    app, smtp, monkeypatch, record_seconds, most_unrecorded
):
    """What a crash would send twice: never more than one group, or half a second's mail.

    Before each message, count what the server has received and what the database says
    was sent. With RECORD_SECONDS at 0 every message is recorded before the next goes.
    """
    monkeypatch.setattr(delivery, "RECORD_SECONDS", record_seconds)
    ids = queue(app, 60)
    unrecorded = []

    def observe() -> bool:
        unrecorded.append(len(smtp.messages) - sent_in_database(app))
        return False

    with app.app_context():
        report = delivery.deliver_due(60, should_stop=observe)
    assert report.sent == ids
    assert unrecorded[0] == 0 and max(unrecorded) <= most_unrecorded
    assert sent_in_database(app) == 60 == len(smtp.messages)
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.attempts))) == {1}
        assert None not in set(db.session.scalars(select(OutboxMessage.sent_at)))


def test_stopping_mid_group_gives_back_the_counted_tries(app, smtp):
    """Tries are counted for a group ahead of sending; the untried get theirs back."""
    ids = queue(app, 10)
    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    with app.app_context():
        report = delivery.deliver_due(should_stop=stop_after_three)
    assert report.sent == ids[:3] and report.released == ids[3:]
    assert [state(app, m).attempts for m in ids] == [1, 1, 1] + [0] * 7
    assert {state(app, m).status for m in ids[3:]} == {MessageStatus.QUEUED}
    assert {state(app, m).lease_until for m in ids} == {None}


def test_an_error_mid_pass_still_records_what_went_out(app, smtp):
    """The rest stay claimed (another worker takes them when the lease ends); none is lost."""
    ids = queue(app, 8)
    calls = []

    def fail_on_the_sixth() -> bool:
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("the worker broke")
        return False

    with app.app_context(), pytest.raises(RuntimeError):
        delivery.deliver_due(should_stop=fail_on_the_sixth)
    assert len(smtp.messages) == 5
    assert [state(app, m).status for m in ids] == [MessageStatus.SENT] * 5 + [
        MessageStatus.SENDING
    ] * 3


def test_a_bounce_stops_mail_to_that_address_already_in_the_group(app, smtp):
    """The second and third notes to Bo were counted in with the bounced one: not sent."""
    smtp.mode = "refuse_some"
    smtp.refused.add("bo@example.com")
    with app.app_context():
        bo = Candidate(name="Bo Bounce", email="bo@example.com")
        ada = Candidate(name="Ada", email="ada@example.com")
        db.session.add_all([bo, ada])
        ids = [
            queue_message(who.email, f"Note {i}", "x", candidate=who).id
            for i, who in enumerate([ada, bo, bo, ada, bo])
        ]
        db.session.commit()
    report = deliver(app)
    assert report.sent == [ids[0], ids[3]] and report.failed == [ids[1], ids[2], ids[4]]
    assert [rcpts for _, rcpts in smtp.envelopes] == [["ada@example.com"]] * 2
    for mid in ids[2], ids[4]:
        message = state(app, mid)
        assert message.last_error == "Not sent: the address is bouncing."
        assert message.attempts == 0  # never tried


# -- header injection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipient", "subject"),
    [
        ("ada@example.com\r\nBcc: victim@example.com", "Hello"),
        ("ada@example.com", "Hello\nBcc: victim@example.com"),
        ("ada@example.com", "Hello\rBcc: victim@example.com"),
    ],
)
def test_queue_refuses_line_breaks_in_headers(app, recipient, subject):
    with app.app_context(), pytest.raises(HeaderInjection):
        queue_message(recipient, subject, "body")


@pytest.mark.parametrize(
    "changes",
    [
        {"extra_headers": {"X-Ref": "1\r\nBcc: victim@example.com"}},
        {"extra_headers": {"X-Ref\r\nBcc": "1"}},
        {"cc": ["a@example.com\nBcc: victim@example.com"]},
        {"bcc": ["a@example.com\nX: y"]},
        {"reply_to": ("Maria\r\nBcc: victim@example.com", "maria@acme.example")},
        {"sender": ("Hiring\nBcc: victim@example.com", "hiring@acme.example")},
    ],
)
def test_transport_refuses_line_breaks_flask_mail_lets_through(app, smtp, changes):
    with app.app_context():
        message = Message("Hello", recipients=["ada@example.com"], body="x")
        for name, value in changes.items():
            setattr(message, name, value)
        with pytest.raises(HeaderInjection):
            check_message_headers(message)
        connection = SMTPConnection()
        with pytest.raises(HeaderInjection):
            connection.deliver(message)
        connection.close()
    assert smtp.messages == []
    assert smtp.connections == 0  # refused before anything was sent


def test_worker_refuses_a_row_with_a_line_break(app, smtp):
    """A row written around queue_message (an old row, a bug) still cannot inject."""
    first, second = queue(app, 2)
    with app.app_context():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == first)
            .values(subject="Hi\r\nBcc: victim@example.com")
        )
        db.session.commit()
    report = deliver(app)
    assert report.failed == [first] and report.sent == [second]
    assert "HeaderInjection" in state(app, first).last_error
    assert not bouncing(app, first)
    [received] = smtp.wait_for(1)
    assert "victim" not in received.as_string()


def test_worker_refuses_a_sender_name_with_a_line_break(app, smtp):
    app.extensions["mail"].default_sender = "Hiring\r\nBcc: victim@example.com <h@acme.example>"
    [mid] = queue(app)
    assert deliver(app).failed == [mid]
    assert smtp.messages == []


# -- candidates who may no longer be contacted ------------------------------------------


def test_a_bounce_stops_the_candidates_other_queued_mail(app, smtp):
    with app.app_context():
        candidate = Candidate(name="Bo Bounce", email="bo@example.com")
        db.session.add(candidate)
        ids = [
            queue_message(candidate.email, f"Note {i}", "x", candidate=candidate).id
            for i in range(2)
        ]
        db.session.commit()
    smtp.mode = "rcpt_550"
    report = deliver(app)
    assert report.failed == ids
    assert state(app, ids[1]).last_error == "Not sent: the address is bouncing."
    assert smtp.envelopes == []


def test_do_not_contact_after_queueing_cancels(app, smtp):
    [mid] = queue(app)
    with app.app_context():
        db.session.get(OutboxMessage, mid).candidate.do_not_contact_at = utcnow()
        db.session.commit()
    deliver(app)
    assert state(app, mid).status == MessageStatus.CANCELLED
    assert smtp.messages == []


# -- retrying by hand -------------------------------------------------------------------


def test_retry_after_correcting_the_address(app, smtp, runner):
    [mid] = queue(app)
    smtp.mode = "rcpt_550"
    deliver(app)
    result = runner.invoke(args=["outbox", "retry", str(mid)])
    assert result.exit_code == 1 and "bouncing" in result.output
    assert state(app, mid).status == MessageStatus.FAILED

    with app.app_context():
        candidate = db.session.get(OutboxMessage, mid).candidate
        candidate.email = "cand0.new@example.com"
        candidate.email_bouncing_at = None
        db.session.commit()
    result = runner.invoke(args=["outbox", "retry", str(mid)])
    assert result.exit_code == 0, result.output
    message = state(app, mid)
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    assert message.recipient == "cand0.new@example.com"

    smtp.mode = "normal"
    result = runner.invoke(args=["outbox", "deliver"])
    assert f"message {mid}: sent" in result.output
    [received] = smtp.wait_for(1)
    assert received["To"] == "cand0.new@example.com"
    assert received["Message-ID"] == message.message_id_header


def test_retry_refuses_sent_untried_and_unknown_messages(app, smtp, runner):
    [mid] = queue(app)
    later = queue(app, prefix="later")[0]
    with app.app_context():  # e.g. a note held back for its undo window
        db.session.get(OutboxMessage, later).send_after = utcnow() + timedelta(hours=1)
        db.session.commit()
    deliver(app)
    assert "nothing to retry" in runner.invoke(args=["outbox", "retry", str(mid)]).output
    assert "nothing to retry" in runner.invoke(args=["outbox", "retry", str(later)]).output
    assert state(app, later).send_after > utcnow()
    assert "No message" in runner.invoke(args=["outbox", "retry", "99999"]).output


def test_retry_refuses_do_not_contact(app, smtp):
    [mid] = queue(app)
    with app.app_context():
        message = db.session.get(OutboxMessage, mid)
        message.status = MessageStatus.FAILED
        message.candidate.do_not_contact_at = utcnow()
        db.session.commit()
        with pytest.raises(ContactRefused, match="may not be contacted"):
            retry_message(message)


# -- commands ---------------------------------------------------------------------------


def test_deliver_prints_what_it_did(app, smtp, runner):
    first, second = queue(app, 2)
    smtp.mode = "refuse_some"
    smtp.refused.add("cand0@example.com")
    output = runner.invoke(args=["outbox", "deliver"]).output
    assert f"message {first}: failed after 1 tries: Recipient refused: 550" in output
    assert f"message {second}: sent (smtp)" in output
    assert "sent 1, retrying 0, failed 1" in output
    assert runner.invoke(args=["outbox", "deliver"]).output.strip() == "Nothing due."


def test_deliver_does_not_retry_in_the_same_run(app, smtp, runner):
    app.config.update(OUTBOX_RETRY_BASE_SECONDS=0, OUTBOX_BATCH_SIZE=1)
    queue(app, 2)
    smtp.mode = "data_451"
    result = runner.invoke(args=["outbox", "deliver"])
    assert "sent 0, retrying 2, failed 0" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.max(OutboxMessage.attempts))) == 1


def test_status_json_counts_by_state(app, smtp, runner):
    queue(app, 3)
    smtp.mode = "refuse_some"
    smtp.refused.add("cand0@example.com")
    runner.invoke(args=["outbox", "deliver"])
    queue(app, 1, prefix="later")
    counts = json.loads(runner.invoke(args=["outbox", "status", "--json"]).output)
    assert counts == {"queued": 1, "sending": 0, "sent": 2, "failed": 1, "cancelled": 0}


def bouncing(app, message_id: int) -> bool:
    with app.app_context():
        candidate = db.session.get(OutboxMessage, message_id).candidate
        return candidate.email_bouncing_at is not None


# -- real worker processes --------------------------------------------------------------

FLASK = str(Path(sys.executable).parent / "flask")


def worker_env(database_uri: str, smtp, **settings) -> dict:
    """The environment of a worker process: the same database and SMTP server as the test."""
    env = dict(os.environ)
    env.update(
        RECRUITER_SQLALCHEMY_DATABASE_URI=database_uri,
        RECRUITER_SECRET_KEY="test-secret-key-not-for-production",
        RECRUITER_MAIL_SERVER=smtp.host,
        RECRUITER_MAIL_PORT=str(smtp.port),
        RECRUITER_MAIL_TIMEOUT_SECONDS="5",
    )
    env.update({f"RECRUITER_{name}": str(value) for name, value in settings.items()})
    return env


def start_worker(env: dict, *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        [FLASK, "--app", "recruiter", "outbox", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def queue_plain(app, n: int) -> None:
    with app.app_context():
        for i in range(n):
            queue_message(f"person{i}@example.com", f"Note {i}", "Thank you.")
        db.session.commit()


def sent_by(outputs: list[str]) -> list[int]:
    """How many messages each worker said it sent (its last line: "sent N, ..." or
    "Nothing due." when the others were quicker)."""
    counts = []
    for output in outputs:
        last = output.strip().splitlines()[-1]
        counts.append(0 if last == "Nothing due." else int(re.match(r"sent (\d+)", last)[1]))
    return counts


def assert_each_sent_exactly_once(app, smtp, n: int) -> None:
    received = smtp.wait_for(n, timeout=30)
    ids = [m["Message-ID"] for m in received]
    assert len(ids) == n and len(set(ids)) == n, "a message was sent twice"
    with app.app_context():
        stored = dict(
            db.session.execute(select(OutboxMessage.message_id_header, OutboxMessage.status)).all()
        )
        assert set(stored) == set(ids)
        assert set(stored.values()) == {MessageStatus.SENT}


@pytest.mark.slow
def test_outbox_run_stops_cleanly_on_sigterm(app, smtp):
    queue_plain(app, 200)
    worker = start_worker(
        worker_env(app.config["SQLALCHEMY_DATABASE_URI"], smtp, OUTBOX_BATCH_SIZE=20),
        "run",
        "--poll",
        "0.2",
    )
    try:
        smtp.wait_for(1, timeout=20)
        signalled = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert time.monotonic() - signalled < 5
    assert "Outbox worker stopped." in output
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    assert MessageStatus.SENDING not in counts  # nothing left waiting for a lease to end
    assert counts[MessageStatus.SENT] == len(smtp.messages)
    assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages)


@pytest.mark.slow
def test_two_workers_on_sqlite_never_send_a_message_twice(app, smtp):
    queue_plain(app, 60)
    env = worker_env(app.config["SQLALCHEMY_DATABASE_URI"], smtp, OUTBOX_BATCH_SIZE=5)
    workers = [start_worker(env, "deliver") for _ in range(2)]
    outputs = [w.communicate(timeout=60)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert_each_sent_exactly_once(app, smtp, 60)
    assert sum(sent_by(outputs)) == 60


@pytest.mark.postgres
@pytest.mark.slow
def test_three_workers_on_postgres_deliver_each_message_exactly_once(postgres_url, smtp):
    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
    queue_plain(app, 300)
    env = worker_env(postgres_url, smtp, OUTBOX_BATCH_SIZE=10)
    workers = [start_worker(env, "deliver") for _ in range(3)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    assert_each_sent_exactly_once(app, smtp, 300)
    print("messages sent by each worker:", sent_by(outputs))
    assert sum(sent_by(outputs)) == 300
    assert smtp.connections >= 300 // 50  # MAIL_MAX_EMAILS (50) per connection at most
    with app.app_context():
        db.engine.dispose()


# -- what users see ---------------------------------------------------------------------


def reject(client, application_id: int):
    return client.post(
        f"/applications/{application_id}/reject",
        data={
            "subject": "Your application for Backend Engineer",
            "body": "Dear Casey,\n\nThank you for your time.",
            "internal_reason": "weaker on design",
            "reason_code_id": "1",
            "send": "Send",
        },
    )


@pytest.fixture
def bounced(app, client, auth, pipeline, smtp) -> dict:
    """Maria rejected her first candidate; the server refused the address."""
    auth.login()
    application_id = pipeline["mine"]["applications"][0]
    assert reject(client, application_id).status_code == 302
    smtp.mode = "rcpt_550"
    deliver(app)
    smtp.mode = "normal"
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        return {
            "message": message.id,
            "candidate": message.candidate_id,
            "opening": pipeline["mine"]["opening"],
        }


def test_a_bounce_shows_on_the_candidate_and_opening_pages(client, bounced):
    page = client.get(f"/candidates/{bounced['candidate']}").get_data(as_text=True)
    assert "bounced on" in page and "Correct the address" in page
    assert "Note failed" in page and "Not delivered" in page and "550" in page
    page = client.get(f"/openings/{bounced['opening']}").get_data(as_text=True)
    assert "Not delivered" in page and "550" in page


def test_delivery_problems_page_shows_each_user_what_they_may_see(
    app, client, auth, bounced, pipeline
):
    page = client.get("/delivery/").get_data(as_text=True)
    assert "Your application for Backend Engineer" in page and "550" in page
    assert "Correct Casey Candidate0's address" in page
    auth.logout()
    auth.login("other_manager")
    page = client.get("/delivery/").get_data(as_text=True)
    assert "Backend Engineer" not in page and "No delivery problems" in page
    assert client.post(f"/delivery/{bounced['message']}/retry").status_code == 404
    auth.logout()
    auth.login("recruiter")
    assert "Backend Engineer" in client.get("/delivery/").get_data(as_text=True)


def test_delivery_problems_are_paginated_newest_first(app, client, auth, smtp):
    app.config.update(PAGE_SIZE=2, OUTBOX_RETRY_BASE_SECONDS=60)
    ids = queue(app, 3)
    smtp.mode = "data_451"
    deliver(app)
    with app.app_context():
        for minutes, mid in enumerate(ids):
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mid)
                .values(last_attempt_at=utcnow() + timedelta(minutes=minutes))
            )
        db.session.commit()
    auth.login("recruiter")
    first = client.get("/delivery/").get_data(as_text=True)
    assert first.index("Note 2") < first.index("Note 1") and "Note 0" not in first
    assert "Page 1 of 2" in first
    second = client.get("/delivery/?page=2").get_data(as_text=True)
    assert "Note 0" in second and "Note 2" not in second


def test_retry_button_after_correcting_the_address(app, client, bounced, smtp):
    response = client.post(f"/delivery/{bounced['message']}/retry", follow_redirects=True)
    assert "address is bouncing" in response.get_data(as_text=True)
    assert state(app, bounced["message"]).status == MessageStatus.FAILED

    url = f"/candidates/{bounced['candidate']}/email"
    assert "bounced on" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"email": "Casey.Fixed@Example.com"})
    assert response.status_code == 302
    with app.app_context():
        candidate = db.session.get(Candidate, bounced["candidate"])
        assert candidate.email == "casey.fixed@example.com"
        assert candidate.email_bouncing_at is None and candidate.email_bouncing_reason == ""
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "candidate.email_corrected")
        )
        assert event.target_id == candidate.id
        assert json.loads(event.details) == {"changed": True, "was_bouncing": True}
        assert "example.com" not in event.details  # no addresses in the audit log

    response = client.post(f"/delivery/{bounced['message']}/retry", follow_redirects=True)
    assert "will be sent again" in response.get_data(as_text=True)
    deliver(app)
    [received] = smtp.wait_for(1)
    assert received["To"] == "casey.fixed@example.com"
    assert "No delivery problems" in client.get("/delivery/").get_data(as_text=True)


def test_a_corrected_address_applies_to_notes_still_waiting(app, client, auth, smtp):
    [mid] = queue(app)
    auth.login("recruiter")
    candidate_id = state(app, mid).candidate_id
    client.post(f"/candidates/{candidate_id}/email", data={"email": "fixed@example.com"})
    assert state(app, mid).recipient == "fixed@example.com"
    deliver(app)
    assert smtp.wait_for(1)[0]["To"] == "fixed@example.com"


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("casey1.bac@example.com", "Another candidate already has this address"),
        ("casey@example.com\r\nBcc: victim@example.com", "single line"),
        ("not an address", "Invalid email address"),
        ("", "This field is required"),
    ],
)
def test_email_form_explains_what_is_wrong(app, client, bounced, email, error):
    url = f"/candidates/{bounced['candidate']}/email"
    response = client.post(url, data={"email": email})
    assert response.status_code == 200
    assert error in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Candidate, bounced["candidate"]).email_bouncing_at is not None


def test_forms_that_feed_headers_refuse_line_breaks(app, client, auth, pipeline):
    auth.login()
    response = client.post(
        "/openings/new", data={"title": "Engineer\r\nBcc: victim@example.com", "owner_id": 1}
    )
    assert "single line" in response.get_data(as_text=True)
    response = client.post(
        f"/openings/{pipeline['mine']['opening']}/candidates/new",
        data={"email": "x@example.com\nBcc: victim@example.com", "name": "X", "timezone": "UTC"},
    )
    assert "single line" in response.get_data(as_text=True)


# -- SMTP login ---------------------------------------------------------------------------


class RecordingHandler:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((session.authenticated, session.auth_data, envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def auth_smtp():
    """An aiosmtpd server that offers AUTH (without TLS: loopback, tests only)."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"hiring",
            b"s3cret-pass",
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = RecordingHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="smtp-auth.localhost",
        authenticator=authenticator,
        auth_require_tls=False,
        # smtplib falls back to LOGIN after a failed PLAIN, which aiosmtpd 1.4 never answers.
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    yield controller, handler
    controller.stop()


def test_the_worker_logs_in_with_username_and_password(app, auth_smtp):
    controller, handler = auth_smtp
    app.config.update(
        MAIL_SERVER=controller.hostname,
        MAIL_PORT=controller.port,
        MAIL_USERNAME="hiring",
        MAIL_PASSWORD="s3cret-pass",
    )
    [mid] = queue(app)
    assert deliver(app).sent == [mid]
    [(authenticated, login, rcpts)] = handler.received
    assert authenticated and login == b"hiring" and rcpts == ["cand0@example.com"]


def test_a_wrong_password_is_retried_and_marks_nothing(app, auth_smtp):
    controller, handler = auth_smtp
    app.config.update(
        MAIL_SERVER=controller.hostname,
        MAIL_PORT=controller.port,
        MAIL_USERNAME="hiring",
        MAIL_PASSWORD="wrong",
    )
    [mid] = queue(app)
    assert deliver(app).retrying == [mid]
    assert_retrying(app, mid, "535")
    assert not bouncing(app, mid)
    assert handler.received == []


def test_rejecting_a_bouncing_candidate_says_why_nothing_was_sent(app, client, bounced, pipeline):
    second = pipeline["mine"]["applications"][1]
    with app.app_context():
        db.session.get(Application, second).candidate.email_bouncing_at = utcnow()
        db.session.commit()
    response = reject(client, second)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "address is bouncing: correct it on their page first" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.slow
def test_a_killed_worker_leaves_its_messages_to_the_next_one(app, smtp):
    """SIGKILL while the server keeps it waiting: its claim runs out and nothing is lost."""
    queue_plain(app, 3)
    smtp.mode = "silent"
    env = worker_env(
        app.config["SQLALCHEMY_DATABASE_URI"],
        smtp,
        OUTBOX_LEASE_SECONDS=2,
        MAIL_TIMEOUT_SECONDS=30,
    )
    worker = start_worker(env, "run")
    try:
        # Generous for a loaded CI machine; the loop ends as soon as sending starts.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            with app.app_context():
                trying = db.session.scalar(select(func.count()).where(OutboxMessage.attempts == 1))
            if trying:
                break
            time.sleep(0.1)
    finally:
        worker.kill()
        output, _ = worker.communicate(timeout=10)
    assert trying == 1, f"the worker never started sending; it said:\n{output}"
    with app.app_context():
        statuses = set(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {MessageStatus.SENDING}  # claimed by a worker that is gone

    smtp.mode = "normal"
    sent, deadline = [], time.monotonic() + 10
    while len(sent) < 3 and time.monotonic() < deadline:  # once the 2 s lease has run out
        sent += deliver(app).sent
        time.sleep(0.2)
    assert len(sent) == 3
    assert_each_sent_exactly_once(app, smtp, 3)
    with app.app_context():
        attempts = sorted(db.session.scalars(select(OutboxMessage.attempts)))
    assert attempts == [1, 1, 2]  # the one the dead worker was trying counts its attempt
