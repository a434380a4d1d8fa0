"""Rules for openings and applications. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Row, Select, bindparam, func, literal, select, union_all

from ..auth.access import owner_in_view
from ..extensions import db
from ..models import (
    Application,
    Candidate,
    MessageStatus,
    Opening,
    OpeningStatus,
    OutboxMessage,
    Rejection,
    Stage,
    StageChange,
    User,
    UTCDateTime,
    utcnow,
)
from ..paging import CountedPages, OpenEndedPage
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
    for opening_id, stage, count in db.session.execute(
        stage_counts_query(), {"ids": opening_ids}
    ).all():
        counts[opening_id][stage] = count
    return counts


@cache
def stage_counts_query() -> Select:
    """stage_counts' statement, built once (the ids are one expanding parameter), on the
    table (a Core statement: its rows skip the ORM's loading)."""
    a = Application.__table__.c
    return (
        select(a.opening_id, a.stage, func.count())
        .where(a.opening_id.in_(bindparam("ids", expanding=True)))
        .group_by(a.opening_id, a.stage)
    )


@dataclass
class PipelinePage(CountedPages):
    """One page of an opening's pipeline: rows grouped by stage, and the totals per stage."""

    groups: dict[Stage, list[Row]]
    counts: dict[Stage, int]
    page: int
    per_page: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def applications(self) -> list:
        """The rows on this page, in pipeline order."""
        return [row for rows in self.groups.values() for row in rows]


@dataclass(slots=True)
class RowNote:
    """The delivery state of a pipeline row's latest note."""

    status: MessageStatus
    send_after: datetime
    last_error: str | None


@dataclass(slots=True)
class RowRejection:
    id: int
    pending: bool
    message: RowNote | None


@dataclass(slots=True)
class RowCandidate:
    name: str
    email: str
    timezone: str


@dataclass(slots=True)
class PipelineRow:
    """One application on the pipeline page: what the row shows, as plain values (the same
    names as the models', so the template reads ``a.candidate.name`` either way)."""

    id: int
    candidate_id: int
    stage: Stage
    stage_changed_at: datetime
    candidate: RowCandidate
    rejection: RowRejection | None


def applications_by_stage(opening: Opening, page: int = 1, per_page: int = 50) -> PipelinePage:
    """A page of the opening's applications grouped by stage, longest-waiting first in each.

    The stage counts say which stages the page spans and where in each it starts, so the
    page is one query of plain columns reading those stages only (through the opening's
    (opening_id, stage) index), each row's candidate and latest rejection with its note's
    delivery state joined in. A pipeline of hundreds costs what a page of fifty does, and no
    ORM object is built for a row. The statements are built once per process.
    """
    counts = dict(db.session.execute(pipeline_counts_query(), {"opening_id": opening.id}).all())
    result = PipelinePage({}, counts, 1, per_page)
    result.page = min(max(page, 1), result.pages)
    spans = stage_spans(counts, (result.page - 1) * per_page, per_page)
    if not spans:
        return result
    params = {"opening_id": opening.id}
    for i, (stage, offset, limit) in enumerate(spans):
        params |= {f"stage_{i}": stage, f"offset_{i}": offset, f"limit_{i}": limit}
    groups = result.groups
    for (
        application_id,
        candidate_id,
        stage,
        since,
        name,
        email,
        timezone,
        _,
        rejection_id,
        cancelled_at,
        message_id,
        status,
        send_after,
        last_error,
    ) in db.session.execute(pipeline_page_query(len(spans)), params):
        rejection = None
        if rejection_id is not None:
            note = RowNote(status, send_after, last_error) if message_id else None
            pending = cancelled_at is None and status == MessageStatus.QUEUED
            rejection = RowRejection(rejection_id, pending, note)
        candidate = RowCandidate(name, email, timezone)
        row = PipelineRow(application_id, candidate_id, stage, since, candidate, rejection)
        if stage in groups:
            groups[stage].append(row)
        else:
            groups[stage] = [row]
    return result


def stage_spans(counts: dict[Stage, int], offset: int, limit: int) -> list[tuple[Stage, int, int]]:
    """The stages that rows ``offset`` to ``offset + limit`` of a pipeline (in stage order,
    ``counts`` in each) fall in: (stage, offset within the stage, how many)."""
    spans = []
    start = 0
    for stage in Stage:  # pipeline order: what needs a decision first, decided ones last
        end = start + counts.get(stage, 0)
        first, last = max(offset, start), min(offset + limit, end)
        if first < last:
            spans.append((stage, first - start, last - first))
        start = end
    return spans


@cache
def pipeline_counts_query() -> Select:
    """How many of the opening's applications are at each stage (from the index alone)."""
    application = Application.__table__.c
    return (
        select(application.stage, func.count())
        .where(application.opening_id == bindparam("opening_id"))
        .group_by(application.stage)
    )


@cache
def pipeline_page_query(stages: int) -> Select:
    """applications_by_stage's page spanning ``stages`` stages: from each stage its rows
    (by time in stage and name), then their latest rejection and its note, looked up for the
    page's rows only. Only the spanned stages' candidates are read (a whole pipeline's were,
    to sort by name: 2.4 ms instead of 0.5 for opening 1 of the bench data). Table columns,
    not the models' attributes: the rows are read as they come, without the ORM's loading."""
    application, candidate = Application.__table__.c, Candidate.__table__.c
    rejection, message = Rejection.__table__, OutboxMessage.__table__
    parts = []
    for i in range(stages):
        part = (
            select(
                application.id,
                application.candidate_id,
                application.stage,
                application.stage_changed_at,
                candidate.name,
                candidate.email,
                candidate.timezone,
                literal(i).label("part"),
            )
            .join_from(Application.__table__, Candidate.__table__)
            .where(
                application.opening_id == bindparam("opening_id"),
                application.stage == bindparam(f"stage_{i}"),
            )
            .order_by(application.stage_changed_at, candidate.name, application.id)
            .offset(bindparam(f"offset_{i}"))
            .limit(bindparam(f"limit_{i}"))
            .subquery()
        )
        # Each part as a subquery: SQLite allows no ORDER BY or LIMIT in a compound's parts.
        parts.append(select(*part.c))
    rows = (union_all(*parts) if stages > 1 else parts[0]).subquery()
    earlier = rejection.alias()
    latest = (
        select(earlier.c.id)
        .where(earlier.c.application_id == rows.c.id)
        .order_by(earlier.c.created_at.desc(), earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            rows,
            rejection.c.id.label("rejection_id"),
            rejection.c.cancelled_at,
            message.c.id.label("message_id"),
            message.c.status,
            message.c.send_after,
            message.c.last_error,
        )
        .select_from(rows)
        .outerjoin(rejection, rejection.c.id == latest)
        .outerjoin(message, message.c.id == rejection.c.message_id)
        .order_by(rows.c.part, rows.c.stage_changed_at, rows.c.name, rows.c.id)
    )


WAITING_STAGES = (Stage.INTERVIEW, Stage.FINAL, Stage.OFFER)


def decisions_waiting(
    user: User, days: int, limit: int = 20, offset: int = 0, owner_id: int | None = None
) -> list[Row]:
    """Applications past interview with no decision for over ``days`` days, oldest first:
    those ``user`` may see (of ``owner_id``'s openings only, when given), ``limit`` rows
    from ``offset``.

    One statement, built once (:func:`waiting_query`): per stage, a walk of the
    (stage, stage_changed_at) index from the oldest that stops after ``offset + limit``
    rows, so the cost does not grow with the size of the history, nor with how many are
    waiting. Plain rows (the candidate's name and the opening's title and owner joined in),
    no ORM objects.
    """
    owner = owner_in_view(user, owner_id)
    params = {
        "cutoff": utcnow() - timedelta(days=days),
        "walk": offset + limit,
        "limit": limit,
        "offset": offset,
    }
    if owner is not None:
        params["owner"] = owner
    return db.session.execute(waiting_query(owner is not None), params).all()


@cache
def waiting_query(of_owner: bool) -> Select:
    """decisions_waiting's statement: every value a parameter, built once per process.
    Written on the tables (a Core statement), so its rows skip the ORM's loading."""
    a, o, c = Application.__table__.c, Opening.__table__.c, Candidate.__table__.c
    walks = []
    for stage in WAITING_STAGES:
        walk = (
            select(
                a.id,
                a.stage,
                a.stage_changed_at,
                a.candidate_id,
                a.opening_id,
                c.name.label("candidate_name"),
                o.title.label("opening_title"),
                o.owner_id,
            )
            .join_from(Application.__table__, Opening.__table__, o.id == a.opening_id)
            .join(Candidate.__table__, c.id == a.candidate_id)
            .where(
                a.stage == stage,
                a.stage_changed_at < bindparam("cutoff", type_=UTCDateTime),
            )
        )
        if of_owner:
            # "+ 0" keeps the planner from starting at the owner's openings (all of them, and
            # every waiting row of each, then a sort) instead of walking the stage's index from
            # the oldest and stopping at the page's end: SQLite's documented way to rule an
            # index out for one term.
            walk = walk.where(o.owner_id + 0 == bindparam("owner"))
        walk = walk.order_by(a.stage_changed_at, a.id)
        walks.append(select(*walk.limit(bindparam("walk")).subquery().c))
    merged = union_all(*walks).subquery()
    return (
        select(*merged.c)
        .order_by(merged.c.stage_changed_at, merged.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def waiting_page(
    user: User, days: int, page: int, per_page: int, owner_id: int | None = None
) -> OpenEndedPage:
    """Page ``page`` of :func:`decisions_waiting`, and whether another follows. There is no
    total: counting everyone waiting would cost as much as there are waiting."""
    page = max(page, 1)
    rows = decisions_waiting(user, days, per_page + 1, (page - 1) * per_page, owner_id)
    return OpenEndedPage.of(rows, page, per_page)
