"""``flask demo load``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from .services import DEMO_PASSWORD, PEOPLE, DatabaseNotEmpty, load_demo

demo_cli = AppGroup("demo", help="Demo data for trying the app out.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
def load_command(if_empty: bool) -> None:
    """Fill an empty database with a believable team."""
    # Consent requests carry absolute links: build them against the public address.
    base_url = current_app.config["PUBLIC_BASE_URL"]
    try:
        with current_app.test_request_context("/", base_url=base_url, method="POST"):
            counts = load_demo()
    except DatabaseNotEmpty as error:
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(
        f"Loaded {counts['users']} users, {counts['openings']} openings, "
        f"{counts['candidates']} candidates and {counts['pooled']} silver medalists."
    )
    click.echo("Sign in with any of these, password " + repr(DEMO_PASSWORD) + ":")
    for email, name, role in PEOPLE:
        click.echo(f"  {email:<28} {role.value:<10} {name}")


@demo_cli.command("generate")
@click.option(
    "--applications",
    "-n",
    type=click.IntRange(min=1),
    required=True,
    help="How many applications; candidates, openings and notes follow in proportion.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
def generate_command(applications: int, seed: int) -> None:
    """Fill an EMPTY database fast with a big, believable history (for benchmarks)."""
    from .generate import generate

    try:
        counts = generate(applications, seed)
    except DatabaseNotEmpty as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Generated {counts.applications:,} applications, {counts.candidates:,} candidates, "
        f"{counts.openings:,} openings, {counts.users} users, {counts.stage_changes:,} stage "
        f"changes, {counts.rejections:,} rejections and {counts.messages:,} sent notes "
        f"in {counts.seconds:.1f} s."
    )
    for note in counts.notes:
        click.echo(note)
    click.echo(f"Sign in as maria.lopez@acme.example, password {DEMO_PASSWORD!r}.")
