"""``flask demo load``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from .services import DEMO_PASSWORD, PEOPLE, DatabaseNotEmpty, load_demo

demo_cli = AppGroup("demo", help="Demo data for trying the app out.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
def load_command(if_empty: bool) -> None:
    """Fill an empty database with a believable team."""
    try:
        counts = load_demo()
    except DatabaseNotEmpty as error:
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(
        f"Loaded {counts['users']} users, {counts['openings']} openings and "
        f"{counts['candidates']} candidates."
    )
    click.echo("Sign in with any of these, password " + repr(DEMO_PASSWORD) + ":")
    for email, name, role in PEOPLE:
        click.echo(f"  {email:<28} {role.value:<10} {name}")
