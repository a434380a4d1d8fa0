"""Rules for openings and applications. Flush, never commit."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    Opening,
    OpeningStatus,
    Stage,
    StageChange,
    User,
    utcnow,
)
from ..rejections.services import cancel_pending_rejection


class AlreadyApplied(Exception):
    """The candidate already has an application in this opening."""


class CandidateDetailsMissing(Exception):
    """A new candidate needs at least a name."""


class StageNotAllowed(Exception):
    """This move is not one the pipeline allows; the message says why."""


def save_opening(opening: Opening, **values) -> Opening:
    """Create or update an opening from plain values."""
    for name, value in values.items():
        setattr(opening, name, value)
    db.session.add(opening)
    db.session.flush()
    return opening


def set_opening_status(opening: Opening, status: OpeningStatus) -> None:
    """Mark an opening open, filled or closed."""
    if opening.status != status:
        opening.status = status
        opening.status_changed_at = utcnow()
        db.session.flush()


def find_or_create_candidate(email: str, **details) -> Candidate:
    """The candidate with this address (case-insensitive), created when new."""
    email = email.strip().lower()
    candidate = db.session.scalar(select(Candidate).where(Candidate.email == email))
    if candidate is None:
        if not details.get("name"):
            raise CandidateDetailsMissing("This is a new candidate: please give their full name.")
        candidate = Candidate(email=email, **details)
        db.session.add(candidate)
        db.session.flush()
    return candidate


def add_application(opening: Opening, candidate: Candidate, user: User | None) -> Application:
    """Put a candidate into an opening at the applied stage."""
    exists = db.session.scalar(
        select(Application.id).where(
            Application.opening_id == opening.id, Application.candidate_id == candidate.id
        )
    )
    if exists:
        raise AlreadyApplied(f"{candidate.name} is already in {opening.title}.")
    application = Application(opening=opening, candidate=candidate, stage=Stage.APPLIED)
    db.session.add(application)
    db.session.add(StageChange(application=application, to_stage=Stage.APPLIED, changed_by=user))
    db.session.flush()
    return application


def move_application(application: Application, stage: Stage, user: User) -> None:
    """Move to another stage and record it. Rejecting goes through the rejection form."""
    if stage == Stage.REJECTED:
        raise StageNotAllowed("Use the rejection form, so the candidate receives a note.")
    if stage == application.stage:
        return
    if application.stage == Stage.REJECTED:
        # Back to an active stage, or hired: the scheduled note must not go out.
        cancel_pending_rejection(application, user)
    change = StageChange(
        application=application, from_stage=application.stage, to_stage=stage, changed_by=user
    )
    application.stage = stage
    application.stage_changed_at = change.changed_at = utcnow()
    db.session.add(change)
    db.session.flush()


def stage_counts(opening_ids: list[int]) -> dict[int, dict[Stage, int]]:
    """For each opening, how many applications are at each stage."""
    counts: dict[int, dict[Stage, int]] = {oid: {} for oid in opening_ids}
    if not opening_ids:
        return counts
    rows = db.session.execute(
        select(Application.opening_id, Application.stage, func.count())
        .where(Application.opening_id.in_(opening_ids))
        .group_by(Application.opening_id, Application.stage)
    )
    for opening_id, stage, count in rows:
        counts[opening_id][stage] = count
    return counts


def applications_by_stage(opening: Opening) -> dict[Stage, list[Application]]:
    """The opening's applications grouped by stage, longest-waiting first in each."""
    groups: dict[Stage, list[Application]] = {stage: [] for stage in Stage}
    query = (
        select(Application)
        .where(Application.opening_id == opening.id)
        .join(Application.candidate)
        .order_by(Application.stage_changed_at, Candidate.name)
    )
    for application in db.session.scalars(query):
        groups[application.stage].append(application)
    return groups
