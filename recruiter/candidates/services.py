"""A candidate's history, loaded in a fixed number of queries however long it is."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..auth.access import visible_openings
from ..extensions import db
from ..models import Application, Candidate, OutboxMessage, Rejection, StageChange, User


def candidate_history(candidate: Candidate, user: User) -> list[Application]:
    """The candidate's applications that ``user`` may see, newest first, with their stage
    changes, rejections and note states loaded up front (no lazy load per row)."""
    query = visible_openings(
        select(Application)
        .join(Application.opening)
        .options(
            contains_eager(Application.opening),
            selectinload(Application.stage_changes).joinedload(StageChange.changed_by),
            selectinload(Application.rejections).options(
                joinedload(Rejection.author),
                # The message's state only: its bodies can be long.
                joinedload(Rejection.message).load_only(OutboxMessage.status),
            ),
        ),
        user,
    )
    query = query.where(Application.candidate_id == candidate.id)
    return list(db.session.scalars(query.order_by(Application.applied_at.desc())))
