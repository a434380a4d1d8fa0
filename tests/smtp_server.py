"""A real SMTP server for tests, on 127.0.0.1 at a free port, that can be told to misbehave.

Built on aiosmtpd: its ``Controller`` runs an asyncio loop in a thread, and a small subclass
of ``aiosmtpd.smtp.SMTP`` takes control before the greeting (for ``greeting_421`` and
``silent``); the other modes are handler hooks.

    with SMTPTestServer() as smtp:
        app.config.update(MAIL_SERVER=smtp.host, MAIL_PORT=smtp.port)
        ...
        smtp.mode = "data_451"
        ...
        [msg] = smtp.wait_for(1)

``mode`` can be changed at any time. ``greeting_421`` and ``silent`` are read when a
connection is accepted; the others when the command they affect arrives, so they also apply
to a connection that is already open.

Modes:

- ``normal``: accept everything.
- ``greeting_421``: answer ``421`` at greeting and close.
- ``data_451``: ``451`` after DATA (temporary failure); nothing is recorded.
- ``rcpt_550``: ``550`` for every RCPT.
- ``refuse_some``: ``550`` for RCPT addresses in ``refused`` (case-insensitive), 250 for others.
- ``drop_after_data``: read the whole DATA, then close the connection without replying;
  nothing is recorded.
- ``silent``: accept the TCP connection and never say anything (the client must time out).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

MODES = frozenset(
    {
        "normal",
        "greeting_421",
        "data_451",
        "rcpt_550",
        "refuse_some",
        "drop_after_data",
        "silent",
    }
)

_SERVER_NAME = "smtp-test.localhost"


class _Handler:
    """aiosmtpd handler hooks: RCPT and DATA behave according to the owner's mode."""

    def __init__(self, owner: SMTPTestServer) -> None:
        self.owner = owner

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        mode = self.owner.mode
        if mode == "rcpt_550":
            return "550 5.1.1 Recipient refused (test server mode rcpt_550)"
        if mode == "refuse_some" and address.lower() in self.owner._refused_lower():
            return "550 5.1.1 Recipient refused (test server mode refuse_some)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mode = self.owner.mode
        if mode == "data_451":
            return "451 4.3.0 Temporary failure (test server mode data_451)"
        if mode == "drop_after_data":
            assert server.transport is not None
            server.transport.close()
            # Never reply: connection_lost() cancels this coroutine.
            await server.loop.create_future()
        self.owner._record(envelope)
        return "250 OK"


class _SMTP(SMTP):
    """aiosmtpd's SMTP protocol, with control before the greeting and connection tracking."""

    def __init__(self, owner: SMTPTestServer, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None  # STARTTLS calls this again; we never offer it anyway
        super().connection_made(transport)
        if first:
            self._owner._connection_opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            self._owner._connection_closed(self)

    async def _handle_client(self) -> None:
        mode = self._owner._mode_for_new_connection()
        try:
            if mode == "greeting_421":
                await self.push(f"421 4.3.2 {self.hostname} Service not available (test mode)")
            elif mode == "silent":
                # Say nothing; ends when the client goes away or the server stops.
                await self.loop.create_future()
            else:
                await super()._handle_client()
        finally:
            if self.transport is not None:
                self.transport.close()


class _Controller(Controller):
    """aiosmtpd Controller that binds port 0 and learns the port the OS chose."""

    def __init__(self, owner: SMTPTestServer, handler: _Handler, host: str) -> None:
        super().__init__(
            handler,
            hostname=host,
            port=0,
            server_hostname=_SERVER_NAME,  # avoids socket.getfqdn() per connection
            ready_timeout=5.0,
        )
        self._owner = owner

    def factory(self) -> SMTP:
        return _SMTP(self._owner, self.handler, loop=self.loop, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPTestServer:
    """A real SMTP server on ``host``:``port`` that records what it receives."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host: str = host
        self.port: int = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused: set[str] = set()
        self._mode = "normal"
        self._connections = 0
        self._cond = threading.Condition()
        self._controller: _Controller | None = None
        self._live = False  # False while Controller.start() makes its probe connection
        self._protocols: set[_SMTP] = set()  # touched only in the loop thread

    # -- mode and counters --------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown SMTP test server mode {value!r}; one of {sorted(MODES)}")
        self._mode = value

    @property
    def connections(self) -> int:
        """TCP connections accepted since start() (or the last reset())."""
        with self._cond:
            return self._connections

    def reset(self) -> None:
        """Forget messages, envelopes, refused addresses and the connection count; mode normal."""
        with self._cond:
            self.messages.clear()
            self.envelopes.clear()
            self._connections = 0
        self.refused.clear()
        self._mode = "normal"

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> SMTPTestServer:
        if self._controller is not None:
            raise RuntimeError("SMTPTestServer already started")
        controller = _Controller(self, _Handler(self), self.host)
        self._live = False
        try:
            controller.start()
        except BaseException:
            if controller._thread is not None:
                controller.stop()
            elif not controller.loop.is_closed():
                controller.loop.close()
            raise
        self._controller = controller
        self.port = controller.port
        self._live = True
        return self

    def stop(self) -> None:
        controller = self._controller
        if controller is None:
            return
        self._controller = None
        self._live = False
        try:
            # Close every open connection (a "silent" one would otherwise stay open) and
            # let their tasks finish, so nothing is left pending when the loop stops.
            future = asyncio.run_coroutine_threadsafe(self._close_connections(), controller.loop)
            try:
                future.result(timeout=5.0)
            except TimeoutError:
                future.cancel()
        finally:
            controller.stop()

    async def _close_connections(self) -> None:
        protocols = list(self._protocols)
        for protocol in protocols:
            if protocol.transport is not None:
                protocol.transport.close()
        tasks = [p._handler_coroutine for p in protocols if p._handler_coroutine is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        # Let connection_lost() callbacks run.
        for _ in range(3):
            await asyncio.sleep(0)

    def __enter__(self) -> SMTPTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- reading what arrived -----------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages arrived; return all of them (a copy)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    arrived = [
                        f"{envelope[0]} -> {envelope[1]}: {msg['Subject']!r}"
                        for msg, envelope in zip(self.messages, self.envelopes, strict=True)
                    ]
                    raise AssertionError(
                        f"expected at least {count} message(s) within {timeout}s, "
                        f"got {len(self.messages)}: {arrived}"
                    )
                self._cond.wait(remaining)
            return list(self.messages)

    # -- called from the server thread --------------------------------------------------

    def _refused_lower(self) -> set[str]:
        return {address.lower() for address in list(self.refused)}

    def _mode_for_new_connection(self) -> str:
        return self._mode if self._live else "normal"

    def _connection_opened(self, protocol: _SMTP) -> None:
        self._protocols.add(protocol)
        if self._live:
            with self._cond:
                self._connections += 1

    def _connection_closed(self, protocol: _SMTP) -> None:
        self._protocols.discard(protocol)

    def _record(self, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        raw = raw.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail_from = envelope.mail_from or ""
        with self._cond:
            self.messages.append(message)
            self.envelopes.append((mail_from, list(envelope.rcpt_tos)))
            self._cond.notify_all()
