"""``flask users create|list``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Role, User
from .services import UserError, create_user

users_cli = AppGroup("users", help="Manage who can sign in.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.MANAGER.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password as one line of stdin.")
def create_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a user; asks for the password twice unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, name, Role(role), password)
    except UserError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.name} <{user.email}>.")


@users_cli.command("list")
def list_command() -> None:
    """Show every user with role and state."""
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    if not users:
        click.echo("No users yet. Create one with: flask --app recruiter users create EMAIL ...")
    for user in users:
        state = "active" if user.active else "inactive"
        click.echo(f"{user.email:<32} {user.role.value:<10} {state:<8} {user.name}")
