"""An SMTP connection that Flask-Mail does not give us: with a timeout and honest results."""

from __future__ import annotations

import functools
import smtplib
import socket

from flask import current_app
from flask_mail import Connection, Message

from .mime import OutgoingMail
from .services import check_header_value


class SMTPUnavailable(Exception):
    """The server could not be reached or would not let us in: nothing was sent.

    Raised for anything that fails while connecting (refused or silent connection, a 4xx or
    5xx greeting, STARTTLS, login) or when the server refuses our sender. None of these
    says anything about the recipient, so they never mark an address as bouncing.
    """

    def __init__(self, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


def check_message_headers(message: Message | OutgoingMail) -> None:
    """Refuse CR, LF and control characters in every value that becomes a header.

    Flask-Mail checks sender, recipients, reply-to and subject, but not cc, bcc or
    ``extra_headers``; this checks them all, names included, and the Message-ID.
    """
    addresses = [message.sender, *message.recipients, *message.cc, *message.bcc]
    if message.reply_to:
        addresses.append(message.reply_to)
    for address in addresses:
        for part in address if isinstance(address, tuple) else (address,):
            check_header_value("address", part)
    check_header_value("subject", message.subject or "")
    check_header_value("Message-ID", message.msgId)
    for name, value in (message.extra_headers or {}).items():
        check_header_value("header name", name)
        check_header_value(f"{name} header", value)


@functools.cache
def default_local_hostname() -> str:
    """What smtplib says in EHLO by default, worked out once per process.

    smtplib does this for every new connection, with a resolver lookup (``getfqdn``).
    """
    fqdn = socket.getfqdn()
    if "." in fqdn:
        return fqdn
    try:
        return f"[{socket.gethostbyname(socket.gethostname())}]"
    except socket.gaierror:
        return "[127.0.0.1]"


class SMTPConnection(Connection):
    """Flask-Mail's connection with a socket timeout, and refusals reported, not dropped.

    Flask-Mail 0.10 opens ``smtplib.SMTP(host, port)`` with no timeout (a silent server
    blocks forever) and ignores what ``sendmail`` returns (a refused recipient counts as
    sent). Both are mended here. Settings are read from the app's config on every
    connection, so MAIL_USE_TLS, MAIL_USE_SSL, MAIL_USERNAME and MAIL_PASSWORD all apply.
    """

    def __init__(self) -> None:
        super().__init__(current_app.extensions["mail"])
        config = current_app.config
        self.server = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config["MAIL_USE_TLS"])
        self.use_ssl = bool(config["MAIL_USE_SSL"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.local_hostname = config.get("MAIL_LOCAL_HOSTNAME") or default_local_hostname()
        self.timeout = float(config["MAIL_TIMEOUT_SECONDS"])
        self.max_emails = int(config.get("MAIL_MAX_EMAILS") or 0)

    def configure_host(self) -> smtplib.SMTP:
        """Connect, say EHLO, STARTTLS and log in; raise SMTPUnavailable if any of it fails."""
        cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        try:
            host = cls(
                self.server, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        except (smtplib.SMTPException, OSError) as error:
            raise SMTPUnavailable(error) from error
        try:
            if self.use_tls:
                host.starttls()
            if self.username and self.password:
                host.login(self.username, self.password)
        except (smtplib.SMTPException, OSError) as error:
            host.close()
            raise SMTPUnavailable(error) from error
        return host

    def __exit__(self, exc_type=None, exc_value=None, tb=None) -> None:
        """Say QUIT when the line is still up; close the socket in any case."""
        self.close()

    def close(self) -> None:
        """End the connection politely if possible; never raise."""
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None
        self.num_emails = 0

    def deliver(self, message: Message | OutgoingMail) -> None:
        """Send one message; return only if every recipient was accepted.

        A refusal of some recipients raises SMTPRecipientsRefused with just those (the
        others did receive it). After MAIL_MAX_EMAILS messages the connection is closed,
        and the next message opens a new one: a failure to reconnect can then never be
        mistaken for a failure of the message that was just accepted.
        """
        check_message_headers(message)
        if self.host is None:
            self.host = self.configure_host()
        try:
            sender = getattr(message, "envelope_sender", message.sender)
            refused = self.host.sendmail(sender, list(message.send_to), message.as_bytes())
        except smtplib.SMTPSenderRefused as error:
            raise SMTPUnavailable(error) from error
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        self.num_emails += 1
        if self.max_emails and self.num_emails >= self.max_emails:
            self.close()
