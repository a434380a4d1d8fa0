"""``flask outbox deliver|run|status``."""

from __future__ import annotations

import json
import signal
import time

import click
from flask import current_app
from flask.cli import AppGroup

from .delivery import deliver_due
from .services import status_counts

outbox_cli = AppGroup("outbox", help="Deliver queued mail and inspect the outbox.")


@outbox_cli.command("deliver")
def deliver_command() -> None:
    """Deliver everything that is due, once, and say what happened.

    Passes continue while a pass took a full batch; a message put back for a retry is
    not tried again in the same run.
    """
    batch = current_app.config["OUTBOX_BATCH_SIZE"]
    total = 0
    while True:
        report = deliver_due(batch)
        total += report.total
        if report.total:
            click.echo(describe(report))
        if report.total < batch:
            break
    if not total:
        click.echo("Nothing due.")


def describe(report) -> str:
    return f"sent {len(report.sent)}, retrying {len(report.retrying)}, failed {len(report.failed)}"


@outbox_cli.command("run")
@click.option("--poll", type=float, default=None, help="Seconds between passes when idle.")
def run_command(poll: float | None) -> None:
    """Keep delivering until stopped (Ctrl-C or SIGTERM finish the current message first)."""
    poll = poll or current_app.config["OUTBOX_POLL_SECONDS"]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"Outbox worker running (polling every {poll:g} s). Ctrl-C stops it.")
    try:
        while not stopping:
            report = deliver_due()
            if report.total:
                click.echo(describe(report))
            else:
                time.sleep(poll)
    except KeyboardInterrupt:
        pass
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
