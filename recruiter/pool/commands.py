"""`flask pool ...`: the daily retention job."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from .services import expire_pool

pool_cli = AppGroup("pool", help="The silver-medalist pool.")


@pool_cli.command("expire")
def expire_command() -> None:
    """Ask for extensions 30 days ahead; remove entries whose consent ended (safe daily)."""
    # Links in the extension requests are absolute: build them against the public address.
    base_url = current_app.config["PUBLIC_BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url, method="POST"):
        report = expire_pool()
        db.session.commit()
    for entry in report.extension_requests:
        click.echo(f"asked to extend: entry {entry.id} (ends {entry.consent_expires_at:%Y-%m-%d})")
    for entry in report.expired:
        click.echo(f"expired, details removed: entry {entry.id}")
    for entry in report.unanswered:
        click.echo(f"consent never given, details removed: entry {entry.id}")
    total = len(report.extension_requests) + len(report.expired) + len(report.unanswered)
    click.echo(
        f"{len(report.extension_requests)} extension requests, {len(report.expired)} expired, "
        f"{len(report.unanswered)} unanswered requests closed."
        if total
        else "Nothing to do."
    )
