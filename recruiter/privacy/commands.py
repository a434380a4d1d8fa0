"""``flask privacy purge``: retention, safe to run daily."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from .services import purge

privacy_cli = AppGroup("privacy", help="Retention of candidates' personal data.")


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List who would be erased; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Erase candidates with no consent and no activity for RETENTION_MONTHS."""
    ids = purge(dry_run=dry_run)
    months = current_app.config["RETENTION_MONTHS"]
    if dry_run:
        click.echo(f"Would erase {len(ids)} candidates past {months} months: {ids}")
        return
    db.session.commit()
    click.echo(f"Erased {len(ids)} candidates past {months} months of retention.")
