"""``flask outbox deliver|run|status|retry``."""

from __future__ import annotations

import json
import signal
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import OutboxMessage, utcnow
from .delivery import DeliveryReport, deliver_due
from .services import ContactRefused, NotRetryable, retry_message, status_counts

outbox_cli = AppGroup("outbox", help="Deliver queued mail and inspect the outbox.")


def echo_report(report: DeliveryReport) -> None:
    for line in report.lines:
        click.echo(line)


@outbox_cli.command("deliver")
def deliver_command() -> None:
    """Deliver everything that is due, once, and say what happened.

    Passes continue while a pass took a full batch; a message put back for a retry during
    this run is not tried again in it.
    """
    batch = current_app.config["OUTBOX_BATCH_SIZE"]
    started = utcnow()
    total = DeliveryReport()
    while True:
        report = deliver_due(batch, due_before=started)
        echo_report(report)
        for name in ("sent", "retrying", "failed", "cancelled", "released"):
            getattr(total, name).extend(getattr(report, name))
        total.claimed += report.claimed
        if report.claimed < batch or report.released:
            break
    click.echo(total.summary() if total.claimed else "Nothing due.")


class StopFlag:
    """Set by SIGTERM or SIGINT: the worker finishes the message in hand, then stops."""

    def __init__(self) -> None:
        self.stopping = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)

    def stop(self, *_args) -> None:
        self.stopping = True

    def __call__(self) -> bool:
        return self.stopping

    def sleep(self, seconds: float) -> None:
        """Sleep, waking early when asked to stop."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))


@outbox_cli.command("run")
@click.option("--poll", type=float, default=None, help="Seconds between passes when idle.")
def run_command(poll: float | None) -> None:
    """Keep delivering until stopped (SIGTERM or Ctrl-C finish the current message first)."""
    poll = poll or current_app.config["OUTBOX_POLL_SECONDS"]
    stop = StopFlag()
    click.echo(f"Outbox worker running (polling every {poll:g} s). Ctrl-C stops it.")
    while not stop():
        try:
            report = deliver_due(should_stop=stop)
        except OperationalError as error:  # the database went away: wait, then go on
            db.session.rollback()
            click.echo(f"Database unavailable, retrying in {poll:g} s: {error.orig}", err=True)
            stop.sleep(poll)
            continue
        echo_report(report)
        if report.claimed < current_app.config["OUTBOX_BATCH_SIZE"] or report.released:
            stop.sleep(poll)
    click.echo("Outbox worker stopped.")


@outbox_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print counts as one JSON object.")
def status_command(as_json: bool) -> None:
    """Count messages by state."""
    counts = status_counts()
    if as_json:
        click.echo(json.dumps(counts))
        return
    for state, count in counts.items():
        click.echo(f"{state:<10} {count}")


@outbox_cli.command("retry")
@click.argument("message_id", type=int)
def retry_command(message_id: int) -> None:
    """Queue a failed message to be sent again now (to the candidate's current address)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise click.ClickException(f"No message {message_id}.")
    try:
        retry_message(message)
    except (ContactRefused, NotRetryable) as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Message {message_id} is queued to be sent now.")
