"""``flask check-note``: run the wording check on a file or stdin, no app context needed."""

from __future__ import annotations

import json
from typing import TextIO

import click

from .wording import Finding, check_note, summary


def line_col(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def describe(text: str, finding: Finding) -> str:
    """One finding as a line for people."""
    line, col = line_col(text, finding.start)
    return (
        f'{line}:{col}  {finding.category}  "{finding.phrase}" — {finding.why}'
        f"  Try: {finding.suggestion}"
    )


@click.command("check-note")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.argument("file", type=click.File("r"))
@click.pass_context
def check_note_command(ctx: click.Context, as_json: bool, file: TextIO) -> None:
    """Check a rejection note in FILE (or - for stdin) for risky wording; exit 1 if any."""
    text = file.read()
    findings = check_note(text)
    if as_json:
        click.echo(json.dumps([finding.to_dict() for finding in findings], ensure_ascii=False))
    else:
        for finding in findings:
            click.echo(describe(text, finding))
        click.echo(summary(findings))
    ctx.exit(1 if findings else 0)
