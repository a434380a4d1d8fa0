"""Rejecting an application: the rejection, the stage change and the note, in one go."""

from __future__ import annotations

from flask import current_app, render_template
from sqlalchemy import select

from ..audit.services import record_event
from ..extensions import db
from ..models import Application, Rejection, Stage, StageChange, User, utcnow
from .email import queue_rejection_note


class AlreadyRejected(Exception):
    """The application was rejected already; no second note goes out."""


class NotRejectable(Exception):
    """The application is closed (hired or withdrawn)."""


def default_note(application: Application, manager: User) -> tuple[str, str]:
    """The respectful default subject and note for this application."""
    context = {
        "candidate": application.candidate,
        "opening": application.opening,
        "manager": manager,
        "company": current_app.config["COMPANY_NAME"],
    }
    subject = f"Your application for {application.opening.title}"
    return subject, render_template("rejections/default_note.txt", **context).strip()


def lock_application(application: Application) -> Application:
    """Re-read the application under a row lock (PostgreSQL) or the write lock (SQLite)."""
    db.session.refresh(application, with_for_update=True)
    return application


def reject_application(
    application: Application, author: User, subject: str, body: str, internal_reason: str
) -> Rejection:
    """Reject once: record the reason, move the stage, queue the note. Flush, never commit."""
    lock_application(application)
    if application.stage == Stage.REJECTED:
        raise AlreadyRejected(f"{application.candidate.name} was already rejected.")
    if not application.stage.is_active:
        raise NotRejectable(f"{application.candidate.name} is {application.stage.value}.")
    now = utcnow()
    db.session.add(
        StageChange(
            application=application,
            from_stage=application.stage,
            to_stage=Stage.REJECTED,
            changed_by=author,
            changed_at=now,
        )
    )
    application.stage = Stage.REJECTED
    application.stage_changed_at = now
    rejection = Rejection(
        application=application,
        author=author,
        subject=subject.strip(),
        body=body.strip(),
        internal_reason=internal_reason.strip(),
        created_at=now,
    )
    db.session.add(rejection)
    rejection.message = queue_rejection_note(rejection)
    db.session.flush()
    record_event(author, "rejection.created", rejection, application_id=application.id)
    return rejection


def latest_rejections(application_ids: list[int]) -> dict[int, Rejection]:
    """The latest rejection of each application, for showing note states in lists."""
    if not application_ids:
        return {}
    rows = db.session.scalars(
        select(Rejection)
        .where(Rejection.application_id.in_(application_ids))
        .order_by(Rejection.created_at)
    )
    return {r.application_id: r for r in rows}
