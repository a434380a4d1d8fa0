"""The rejection note as an email."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from jinja2 import meta

from ..models import Candidate, OutboxMessage, Rejection
from ..outbox.services import queue_email


def note_context(body: str, candidate: Candidate) -> dict:
    """What the note templates see: the words, never the internal reason or reason code."""
    return {
        "body": body,
        "company": current_app.config["COMPANY_NAME"],
        "candidate_name": candidate.name,
    }


def render_note(body: str, candidate: Candidate) -> tuple[str, str]:
    """The plain-text and HTML parts exactly as the candidate will receive them."""
    context = note_context(body, candidate)
    return (
        render_template("email/rejection.txt", **context),
        render_template("email/rejection.html", **context),
    )


def note_reads(variable: str) -> bool:
    """Whether the note's templates, or any they extend, include or import, read ``variable``.

    Bulk rejection renders each distinct note once; when the templates never read the
    candidate's name, notes with the same words render the same for every candidate.
    """
    env = current_app.jinja_env
    todo, seen = ["email/rejection.txt", "email/rejection.html"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = env.parse(env.loader.get_source(env, name)[0])
        if variable in meta.find_undeclared_variables(tree):
            return True
        for reference in meta.find_referenced_templates(tree):
            if reference is None:  # a template chosen at render time: assume it does
                return True
            todo.append(reference)
    return False


def queue_rejection_note(
    rejection: Rejection, send_after: datetime | None = None, flush: bool = True
) -> OutboxMessage:
    """Queue the note for the candidate, to go out at ``send_after``."""
    candidate = rejection.application.candidate
    return queue_email(
        candidate.email,
        rejection.subject,
        "rejection",
        candidate=candidate,
        send_after=send_after,
        flush=flush,
        **note_context(rejection.body, candidate),
    )
