"""The SMTP test server (tests/smtp_server.py) behaves as each mode promises, seen by smtplib."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from smtp_server import SMTPTestServer


@pytest.fixture
def smtp() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


def make_message(subject: str = "Your application", to: str = "ada@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Hiring <hiring@example.org>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Thank you for applying.\nWe chose another candidate.\n")
    return msg


def client(server: SMTPTestServer, timeout: float = 2.0) -> smtplib.SMTP:
    return smtplib.SMTP(server.host, server.port, timeout=timeout)


def test_starts_on_a_free_local_port_and_stops() -> None:
    server = SMTPTestServer().start()
    try:
        assert server.host == "127.0.0.1"
        assert server.port > 0
        assert server.mode == "normal"
        assert server.connections == 0  # the controller's start-up probe is not counted
    finally:
        server.stop()
    with pytest.raises(OSError):
        smtplib.SMTP(server.host, server.port, timeout=0.5)
    server.stop()  # a second stop is harmless


def test_two_servers_get_different_ports() -> None:
    with SMTPTestServer() as first, SMTPTestServer() as second:
        assert first.port != second.port


def test_normal_delivery_records_message_and_envelope(smtp: SMTPTestServer) -> None:
    with client(smtp) as conn:
        refused = conn.send_message(
            make_message("Ünïcode subject"), "bounce@example.org", ["Ada@Example.com"]
        )
    assert refused == {}
    [msg] = smtp.wait_for(1)
    assert isinstance(msg, EmailMessage)
    assert msg["Subject"] == "Ünïcode subject"
    assert msg["To"] == "ada@example.com"
    assert msg.get_content() == "Thank you for applying.\nWe chose another candidate.\n"
    assert smtp.envelopes == [("bounce@example.org", ["Ada@Example.com"])]
    assert smtp.connections == 1


def test_one_connection_carries_several_messages(smtp: SMTPTestServer) -> None:
    with client(smtp) as conn:
        for i in range(3):
            conn.send_message(make_message(f"Message {i}"), "hr@example.org", [f"c{i}@example.com"])
    messages = smtp.wait_for(3)
    assert [m["Subject"] for m in messages] == ["Message 0", "Message 1", "Message 2"]
    assert [rcpts for _, rcpts in smtp.envelopes] == [[f"c{i}@example.com"] for i in range(3)]
    assert smtp.connections == 1


def test_separate_connections_are_counted(smtp: SMTPTestServer) -> None:
    for i in range(2):
        with client(smtp) as conn:
            conn.send_message(make_message(f"M{i}"), "hr@example.org", ["a@example.com"])
    smtp.wait_for(2)
    assert smtp.connections == 2


def test_greeting_421(smtp: SMTPTestServer) -> None:
    smtp.mode = "greeting_421"
    with pytest.raises(smtplib.SMTPConnectError) as excinfo:
        client(smtp)
    assert excinfo.value.smtp_code == 421
    assert smtp.messages == []
    assert smtp.connections == 1


def test_data_451(smtp: SMTPTestServer) -> None:
    smtp.mode = "data_451"
    with client(smtp) as conn, pytest.raises(smtplib.SMTPDataError) as excinfo:
        conn.send_message(make_message(), "hr@example.org", ["ada@example.com"])
    assert excinfo.value.smtp_code == 451
    assert smtp.messages == []
    assert smtp.envelopes == []


def test_rcpt_550(smtp: SMTPTestServer) -> None:
    smtp.mode = "rcpt_550"
    with client(smtp) as conn, pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
        conn.send_message(make_message(), "hr@example.org", ["ada@example.com", "bo@example.com"])
    assert {addr: code for addr, (code, _) in excinfo.value.recipients.items()} == {
        "ada@example.com": 550,
        "bo@example.com": 550,
    }
    assert smtp.messages == []


def test_refuse_some_returns_the_refused_dict(smtp: SMTPTestServer) -> None:
    smtp.mode = "refuse_some"
    smtp.refused.add("Bo@Example.com")
    with client(smtp) as conn:
        refused = conn.send_message(
            make_message(), "hr@example.org", ["ada@example.com", "BO@example.COM"]
        )
    assert list(refused) == ["BO@example.COM"]
    assert refused["BO@example.COM"][0] == 550
    smtp.wait_for(1)
    assert smtp.envelopes == [("hr@example.org", ["ada@example.com"])]


def test_refuse_some_with_every_recipient_refused_raises(smtp: SMTPTestServer) -> None:
    smtp.mode = "refuse_some"
    smtp.refused.add("ada@example.com")
    with client(smtp) as conn, pytest.raises(smtplib.SMTPRecipientsRefused):
        conn.send_message(make_message(), "hr@example.org", ["ada@example.com"])
    assert smtp.messages == []


def test_drop_after_data(smtp: SMTPTestServer) -> None:
    smtp.mode = "drop_after_data"
    with client(smtp) as conn, pytest.raises(smtplib.SMTPServerDisconnected):
        conn.send_message(make_message(), "hr@example.org", ["ada@example.com"])
    assert smtp.messages == []


def test_silent_makes_the_client_time_out(smtp: SMTPTestServer) -> None:
    smtp.mode = "silent"
    started = time.monotonic()
    # smtplib turns the socket timeout (TimeoutError) into SMTPServerDisconnected.
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out") as excinfo:
        client(smtp, timeout=0.5)
    elapsed = time.monotonic() - started
    assert isinstance(excinfo.value.__context__, TimeoutError)
    assert 0.4 < elapsed < 2.0
    assert smtp.connections == 1


def test_stop_is_prompt_with_a_silent_connection_open() -> None:
    server = SMTPTestServer().start()
    server.mode = "silent"
    with socket.create_connection((server.host, server.port), timeout=1) as sock:
        deadline = time.monotonic() + 1.0
        while server.connections < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.connections == 1
        threads_before = threading.active_count()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
        assert threading.active_count() == threads_before - 1
        assert sock.recv(1) == b""  # the server closed the connection without a word


def test_mode_change_applies_to_the_open_connection(smtp: SMTPTestServer) -> None:
    with client(smtp) as conn:
        conn.send_message(make_message("first"), "hr@example.org", ["a@example.com"])
        smtp.mode = "rcpt_550"
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            conn.send_message(make_message("second"), "hr@example.org", ["a@example.com"])
        smtp.mode = "normal"
        conn.send_message(make_message("third"), "hr@example.org", ["a@example.com"])
    assert [m["Subject"] for m in smtp.wait_for(2)] == ["first", "third"]
    assert smtp.connections == 1


def test_unknown_mode_is_rejected(smtp: SMTPTestServer) -> None:
    with pytest.raises(ValueError, match="unknown"):
        smtp.mode = "nonsense"
    assert smtp.mode == "normal"


def test_reset(smtp: SMTPTestServer) -> None:
    with client(smtp) as conn:
        conn.send_message(make_message(), "hr@example.org", ["a@example.com"])
    smtp.wait_for(1)
    smtp.mode = "refuse_some"
    smtp.refused.add("a@example.com")
    smtp.reset()
    assert smtp.messages == []
    assert smtp.envelopes == []
    assert smtp.refused == set()
    assert smtp.connections == 0
    assert smtp.mode == "normal"


def test_wait_for_waits_for_a_message_sent_later(smtp: SMTPTestServer) -> None:
    def send_later() -> None:
        time.sleep(0.2)
        with client(smtp) as conn:
            conn.send_message(make_message("late"), "hr@example.org", ["a@example.com"])

    sender = threading.Thread(target=send_later)
    sender.start()
    try:
        started = time.monotonic()
        [msg] = smtp.wait_for(1, timeout=3.0)
        assert msg["Subject"] == "late"
        assert time.monotonic() - started >= 0.15
    finally:
        sender.join()


def test_wait_for_times_out_with_what_arrived(smtp: SMTPTestServer) -> None:
    with client(smtp) as conn:
        conn.send_message(make_message("only one"), "hr@example.org", ["a@example.com"])
    with pytest.raises(AssertionError, match=r"at least 2 message.*got 1.*only one"):
        smtp.wait_for(2, timeout=0.2)
