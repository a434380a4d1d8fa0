"""The bytes of one outbox email, built directly instead of through ``email``'s generator.

Flask-Mail's ``Message.as_bytes()`` builds a tree of ``email.mime`` objects and flattens it
with the ``SMTP`` policy, which parses every header it writes again (about 5 ms a message
here, more than the SMTP exchange itself). Every outbox email has the same shape, so
``OutgoingMail.as_bytes()`` writes that shape directly and produces what Flask-Mail 0.10
produces for the same message: the same headers in the same order with the same values
(Subject, From and To encoded by Flask-Mail's own ``sanitize_*`` functions and folded by
the same ``policy.SMTP``), the same MIME structure (``multipart/mixed`` holding a
``multipart/alternative`` of ``text/plain`` and ``text/html``, or a single ``text/plain``
when there is no HTML part), UTF-8 with ``8bit`` transfer encoding (``7bit`` for ASCII),
and CRLF line ends. Only the random MIME boundaries differ, as they do between any two
calls. tests/test_outbox.py parses both and compares them.
"""

from __future__ import annotations

import random
import re
import sys
import time
from dataclasses import dataclass, field
from email import policy
from email.utils import formatdate, parseaddr
from functools import lru_cache

from flask_mail import force_text, sanitize_address, sanitize_subject

# The same boundary form as email.generator.
BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
# An address Flask-Mail's sanitize_address returns unchanged: ASCII, no display name,
# nothing parseaddr or formataddr would quote or rewrite.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def fold(name: str, value: str) -> bytes:
    """One header line as the SMTP policy writes it (long values folded, CRLF)."""
    if len(name) + len(value) <= 76 and value.isascii() and value.isprintable():
        return b"%s: %s\r\n" % (name.encode(), value.encode())  # what the policy writes
    return policy.SMTP.fold_binary(name, value)


_date_cache: tuple[int, bytes] = (-1, b"")


def date_header(date: float | None) -> bytes:
    """Flask-Mail's Date (local time, to the second); the current one is made once a second."""
    global _date_cache
    if date is not None:
        return fold("Date", formatdate(date, localtime=True))
    second, line = _date_cache
    if second != int(time.time()):
        second = int(time.time())
        line = fold("Date", formatdate(second, localtime=True))
        _date_cache = (second, line)
    return line


@lru_cache(maxsize=512)
def subject_header(subject: str) -> bytes:
    """Subjects repeat (one template, many candidates), and encoding one costs 70 us."""
    return fold("Subject", sanitize_subject(force_text(subject), "utf-8"))


@lru_cache(maxsize=64)
def from_header(sender: str) -> bytes:
    return fold("From", sanitize_address(sender, "utf-8"))


def to_header(recipient: str) -> bytes:
    if PLAIN_ADDRESS.fullmatch(recipient):  # what sanitize_address would return
        return fold("To", recipient)
    return fold("To", sanitize_address(recipient, "utf-8"))


@lru_cache(maxsize=64)
def envelope_address(sender: str) -> str:
    """The bare address for MAIL FROM; smtplib would parse the sender for every message."""
    return parseaddr(sender)[1] or sender


def make_boundary(*texts: str) -> str:
    """A boundary like email.generator's, never found in the parts it separates."""
    while True:
        # As email.generator does: a boundary is not a secret.
        token = random.randrange(sys.maxsize)  # noqa: S311  # nosec B311
        boundary = "=" * 15 + f"{token:0{BOUNDARY_DIGITS}d}" + "=="
        if not any(boundary in text for text in texts):
            return boundary


def text_part(text: str, subtype: str, headers: bytes = b"") -> bytes:
    """A text part in UTF-8, 8bit (7bit when ASCII); ``headers`` go after its own."""
    # Every line end (CRLF, CR or LF) becomes CRLF, as email.generator's NLCRE does.
    body = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode()
    encoding = b"7bit" if body.isascii() else b"8bit"
    return (
        b'Content-Type: text/%s; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        b"Content-Transfer-Encoding: %s\r\n%s\r\n%s" % (subtype.encode(), encoding, headers, body)
    )


@dataclass
class OutgoingMail:
    """One email to one recipient, with what the transport and the header check read.

    The attributes mirror Flask-Mail's ``Message`` (sender, recipients, subject, msgId, cc,
    bcc, reply_to, extra_headers, send_to), so ``check_message_headers`` and the SMTP
    connection treat both alike.
    """

    sender: str
    recipient: str
    subject: str
    body: str
    html: str | None
    msgId: str  # noqa: N815 (Flask-Mail's name)
    date: float | None = None
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: str | None = None
    extra_headers: dict[str, str] | None = None

    @property
    def recipients(self) -> list[str]:
        return [self.recipient]

    @property
    def send_to(self) -> set[str]:
        return {self.recipient}

    @property
    def envelope_sender(self) -> str:
        return envelope_address(self.sender)

    def headers(self) -> bytes:
        return b"".join(
            (
                subject_header(self.subject) if self.subject else b"",
                from_header(self.sender),
                to_header(self.recipient),
                date_header(self.date),
                fold("Message-ID", self.msgId),
            )
        )

    def as_bytes(self) -> bytes:
        """The message as Flask-Mail 0.10 would write it, ready for ``sendmail``."""
        if not self.html:  # a single text/plain part is the whole message
            return text_part(self.body, "plain", self.headers())
        plain = text_part(self.body, "plain")
        html = text_part(self.html, "html")
        inner = make_boundary(self.body, self.html).encode()
        outer = make_boundary(self.body, self.html, inner.decode()).encode()
        return b"".join(
            (
                b'Content-Type: multipart/mixed; boundary="%s"\r\nMIME-Version: 1.0\r\n' % outer,
                self.headers(),
                b"\r\n--%s\r\n" % outer,
                b'Content-Type: multipart/alternative;\r\n boundary="%s"\r\n' % inner,
                b"MIME-Version: 1.0\r\n\r\n--%s\r\n" % inner,
                plain,
                b"\r\n--%s\r\n" % inner,
                html,
                b"\r\n--%s--\r\n\r\n--%s--\r\n" % (inner, outer),
            )
        )
