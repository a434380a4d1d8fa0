"""The rejection note as an email."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template

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
