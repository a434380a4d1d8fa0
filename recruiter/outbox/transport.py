"""An SMTP connection that Flask-Mail does not give us: with a timeout and honest results."""

from __future__ import annotations

import smtplib

from flask import current_app
from flask_mail import Connection, Message


class SMTPConnection(Connection):
    """Flask-Mail's connection with a socket timeout, and refusals reported, not dropped.

    Flask-Mail 0.10 opens ``smtplib.SMTP(host, port)`` with no timeout (a silent server
    blocks forever) and ignores what ``sendmail`` returns (a refused recipient counts as
    sent). Both are mended here.
    """

    def __init__(self) -> None:
        # The app's mail state (server, port, TLS ...), not the unbound extension object.
        super().__init__(current_app.extensions["mail"])
        self.timeout = float(current_app.config["MAIL_TIMEOUT_SECONDS"])

    def configure_host(self) -> smtplib.SMTP:
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=self.timeout)
        try:
            if self.mail.use_tls:
                host.starttls()
            if self.mail.username and self.mail.password:
                host.login(self.mail.username, self.mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(self, exc_type, exc_value, tb) -> None:
        """Say QUIT when the line is still up; close the socket in any case."""
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None

    def deliver(self, message: Message) -> None:
        """Send one message to its one recipient; raise if the server did not take it."""
        if self.host is None:
            self.host = self.configure_host()
        refused = self.host.sendmail(message.sender, list(message.send_to), message.as_bytes())
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        self.num_emails += 1
        if self.mail.max_emails and self.num_emails >= self.mail.max_emails:
            self.reconnect()

    def reconnect(self) -> None:
        """Start a fresh connection (after MAIL_MAX_EMAILS, or after a failure)."""
        self.__exit__(None, None, None)
        self.num_emails = 0
        self.host = self.configure_host()
