"""Rules of referrals between hiring managers. Flush, never commit; raise small domain errors.

A referral always rests on a pool entry whose candidate agreed to be kept in the pool
(``pool.services.is_referable``). With ``REFERRALS_ASK_CANDIDATE`` the candidate is also asked,
for this one opening, before the receiving manager sees anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import Row, Select, bindparam, case, exists, func, select

from ..audit.services import record_event
from ..auth.access import owner_in_view
from ..extensions import db
from ..models import (
    Application,
    Candidate,
    ConsentState,
    MessageStatus,
    Opening,
    OpeningStatus,
    OutboxMessage,
    Referral,
    ReferralEvent,
    ReferralStatus,
    SilverMedalist,
    Stage,
    StageChange,
    User,
    utcnow,
)
from ..openings.services import add_application, move_application
from ..pool.services import Match, is_referable, opening_words, score_entry, text_relevance
from ..privacy.registry import register_privacy_hook
from .email import ask_candidate, notify_receiver, notify_referrer

ACCEPT_STAGES = (Stage.APPLIED, Stage.SCREEN, Stage.INTERVIEW, Stage.FINAL)
EVENT_LABELS = {
    "made": "Referred",
    "candidate_asked": "Candidate asked to agree to the introduction",
    "candidate_agreed": "Candidate agreed to be introduced",
    "candidate_declined": "Candidate chose not to be introduced",
    "accepted": "Accepted",
    "declined": "Declined",
    "withdrawn": "Withdrawn by the referrer",
    "closed": "Closed: the candidate can no longer be referred",
    "hired": "Hired",
}


class ReferralError(Exception):
    """Base for the referral rules; the message is fit to show a user."""


class NotReferable(ReferralError):
    """The candidate may not be referred (no consent, do-not-contact, left the pool)."""


class TargetNotAllowed(ReferralError):
    """The opening cannot receive this referral (closed, own, applied, referred before)."""


class NotYourDecision(ReferralError):
    """Only the receiving manager (or a recruiter or admin) accepts or declines."""


class NotPending(ReferralError):
    """The referral was decided already."""


class ReasonNeeded(ReferralError):
    """A decline needs a reason: the referrer reads it."""


# --- Who may be referred, and where --------------------------------------------------------


def why_not_referable(entry: SilverMedalist | None, candidate: Candidate) -> str | None:
    """None when the candidate may be referred; otherwise why not, in plain words."""
    name = candidate.name
    if candidate.do_not_contact:
        return f"{name} is marked do-not-contact, so no referral can reach them."
    if candidate.erased_at:
        return f"{name}'s details were erased on request."
    if candidate.email_bouncing_at:
        return f"{name}'s email address bounces; correct it before referring them."
    if entry is None:
        return (
            f"{name} is not in the silver-medalist pool. A referral needs their agreement to be "
            "kept in the pool first: tag them as a silver medalist; once they agree, refer them."
        )
    if entry.consent_state == ConsentState.PENDING:
        return (
            f"{name} has not yet agreed to be kept in the pool. Once they agree, you can refer "
            "them."
        )
    if entry.consent_state in (ConsentState.DECLINED, ConsentState.WITHDRAWN):
        return f"{name} asked not to be kept in the pool; we respect that."
    if not is_referable(entry):
        return f"{name}'s consent to be kept in the pool has expired."
    return None


@dataclass
class Target:
    """An opening a candidate could be referred to, how well they match, and any obstacle."""

    opening: Opening
    match: Match
    blocked: str = ""

    @property
    def quality(self) -> str:
        score = self.match.score
        if score >= 5:
            return "Strong match"
        if score >= 2:
            return "Good match"
        return "Some match" if score > 0 else "No clear match"


def target_openings(entry: SilverMedalist, referrer: User) -> list[Target]:
    """Other managers' open openings, best match first; those the candidate is already in or
    was referred to are listed last, with why they cannot be chosen."""
    query = (
        select(Opening)
        .join(Opening.owner)
        .where(
            Opening.status == OpeningStatus.OPEN,
            Opening.owner_id != referrer.id,
            User.active.is_(True),
        )
        .order_by(Opening.created_at.desc())
    )
    candidate_id = entry.candidate_id
    applied = set(
        db.session.scalars(
            select(Application.opening_id).where(Application.candidate_id == candidate_id)
        )
    )
    referred = set(
        db.session.scalars(select(Referral.opening_id).where(Referral.candidate_id == candidate_id))
    )
    targets = []
    for opening in db.session.scalars(query):
        match = score_entry(entry, opening, opening_words(opening), text_relevance(opening))
        target = Target(opening=opening, match=match)
        if opening.id in applied:
            target.blocked = "already a candidate here"
        elif opening.id in referred:
            target.blocked = "already referred here"
        targets.append(target)
    targets.sort(key=lambda t: (not t.blocked, t.match.score), reverse=True)
    return targets


def check_target(entry: SilverMedalist, opening: Opening, referrer: User) -> None:
    """Raise TargetNotAllowed unless the candidate may be referred to this opening."""
    name = entry.candidate.name
    if opening.status != OpeningStatus.OPEN:
        raise TargetNotAllowed(f"{opening.title} is {opening.status.value}, not open.")
    if opening.owner_id == referrer.id:
        raise TargetNotAllowed("Refer to a colleague's opening; add candidates to yours directly.")
    referred = db.session.scalar(
        select(Referral.id).where(
            Referral.candidate_id == entry.candidate_id, Referral.opening_id == opening.id
        )
    )
    if referred:
        raise TargetNotAllowed(f"{name} was already referred to {opening.title}.")
    applied = db.session.scalar(
        select(Application.id).where(
            Application.candidate_id == entry.candidate_id, Application.opening_id == opening.id
        )
    )
    if applied:
        raise TargetNotAllowed(f"{name} is already a candidate in {opening.title}.")


# --- The life of a referral ----------------------------------------------------------------


def add_event(referral: Referral, kind: str, actor: User | None) -> ReferralEvent:
    event = ReferralEvent(referral=referral, kind=kind, actor=actor, at=utcnow())
    db.session.add(event)
    return event


def refer(
    entry: SilverMedalist,
    opening: Opening,
    referrer: User,
    note: str,
    source_application: Application | None = None,
) -> Referral:
    """Refer the pooled candidate to another manager's open opening, with a note on why.

    With REFERRALS_ASK_CANDIDATE the candidate is asked first and the referral waits;
    otherwise the receiving manager is told at once.
    """
    problem = why_not_referable(entry, entry.candidate)
    if problem:
        raise NotReferable(problem)
    check_target(entry, opening, referrer)
    referral = Referral(
        entry=entry,
        candidate=entry.candidate,
        opening=opening,
        from_manager=referrer,
        note=note.strip(),
        source_application=source_application,
        created_at=utcnow(),
    )
    db.session.add(referral)
    add_event(referral, "made", referrer)
    db.session.flush()
    ask = current_app.config["REFERRALS_ASK_CANDIDATE"]
    if ask:
        referral.status = ReferralStatus.PENDING_CANDIDATE
        ask_candidate(referral)
        add_event(referral, "candidate_asked", None)
    else:
        introduce(referral)
    db.session.flush()
    record_event(
        referrer,
        "referral.made",
        referral,
        opening=opening.id,
        candidate=entry.candidate_id,
        asked_candidate=ask,
    )
    return referral


def introduce(referral: Referral) -> None:
    """The receiving manager may now see the referral: it waits in their inbox."""
    referral.status = ReferralStatus.PENDING
    referral.introduced_at = utcnow()
    db.session.flush()
    notify_receiver(referral)


def answer_for_candidate(referral: Referral, agree: bool) -> bool:
    """The candidate's answer from the signed link; False when it was answered before."""
    if referral.status != ReferralStatus.PENDING_CANDIDATE:
        return False
    if agree:
        add_event(referral, "candidate_agreed", None)
        introduce(referral)
    else:
        referral.status = ReferralStatus.WITHDRAWN
        referral.decided_at = utcnow()
        referral.decline_reason = "The candidate chose not to be introduced."
        add_event(referral, "candidate_declined", None)
        db.session.flush()
        notify_referrer(referral)
    action = "candidate_agreed" if agree else "candidate_declined"
    record_event(None, f"referral.{action}", referral)
    return True


def may_decide(referral: Referral, user: User) -> bool:
    """The receiving manager decides; recruiters and admins may on their behalf."""
    return user.sees_everything or referral.opening.owner_id == user.id


def check_decidable(referral: Referral, user: User) -> None:
    if not may_decide(referral, user):
        raise NotYourDecision(f"Only {referral.opening.owner.name} can accept or decline this.")
    if referral.status != ReferralStatus.PENDING:
        raise NotPending(f"This referral is already {referral.status.label.lower()}.")


def accept(referral: Referral, user: User, stage: Stage) -> tuple[Application, bool]:
    """Put the candidate into the opening at ``stage``; no second application if one exists.

    Returns the application and whether it existed already.
    """
    check_decidable(referral, user)
    opening, candidate = referral.opening, referral.candidate
    if opening.status != OpeningStatus.OPEN:
        raise TargetNotAllowed(f"{opening.title} is {opening.status.value}: decline instead.")
    problem = why_not_referable(referral.entry, candidate)
    if problem:
        raise NotReferable(problem)
    if stage not in ACCEPT_STAGES:
        raise ReferralError("Choose applied, screen, interview or final.")
    application = db.session.scalar(
        select(Application).where(
            Application.candidate_id == candidate.id, Application.opening_id == opening.id
        )
    )
    existed = application is not None
    if application is None:
        application = add_application(opening, candidate, user)
        move_application(application, stage, user)
    decide(referral, user, ReferralStatus.ACCEPTED)
    referral.application = application
    db.session.flush()
    notify_referrer(referral)
    record_event(
        user,
        "referral.accepted",
        referral,
        application=application.id,
        stage=application.stage.value,
        existed=existed,
    )
    return application, existed


def decline(referral: Referral, user: User, reason: str) -> None:
    """Decline with a reason; the referrer is told."""
    check_decidable(referral, user)
    if not reason.strip():
        raise ReasonNeeded("Please give a reason: the referrer reads it.")
    decide(referral, user, ReferralStatus.DECLINED)
    referral.decline_reason = reason.strip()
    db.session.flush()
    notify_referrer(referral)
    # The reason is free text: it stays on the referral, not in the audit log.
    record_event(user, "referral.declined", referral)


def decide(referral: Referral, user: User, status: ReferralStatus) -> None:
    referral.status = status
    referral.decided_by = user
    referral.decided_at = utcnow()
    add_event(referral, status.value, user)


def withdraw(referral: Referral, user: User) -> None:
    """The referrer takes back a referral nobody has decided on yet."""
    if not (user.sees_everything or referral.from_manager_id == user.id):
        raise NotYourDecision("Only the referrer can withdraw a referral.")
    if not referral.status.is_open:
        raise NotPending(f"This referral is already {referral.status.label.lower()}.")
    referral.status = ReferralStatus.WITHDRAWN
    referral.decided_at = utcnow()
    add_event(referral, "withdrawn", user)
    db.session.flush()
    record_event(user, "referral.withdrawn", referral)


CLOSE_REASONS = {
    "withdrawn": "The candidate withdrew their consent to be kept in the pool.",
    "declined": "The candidate asked not to be kept in the pool.",
    "expired": "The candidate's consent to be kept in the pool ended.",
    "do_not_contact": "The candidate is marked do-not-contact.",
    "erased": "The candidate's personal data was erased.",
}


def close_open_referrals(candidate: Candidate, cause: str, actor: User | None = None) -> int:
    """Close the candidate's undecided referrals, so no manager waits on one that cannot go
    ahead; ``cause`` is a key of CLOSE_REASONS. The referrer is told, except on erasure
    (the notice would name the person). Returns how many were closed."""
    query = select(Referral).where(
        Referral.candidate_id == candidate.id,
        Referral.status.in_([ReferralStatus.PENDING_CANDIDATE, ReferralStatus.PENDING]),
    )
    referrals = list(db.session.scalars(query.order_by(Referral.id)))
    for referral in referrals:
        referral.status = ReferralStatus.WITHDRAWN
        referral.decided_at = utcnow()
        referral.decline_reason = CLOSE_REASONS[cause]
        add_event(referral, "closed", actor)
        db.session.flush()
        if cause != "erased":
            notify_referrer(referral)
        record_event(actor, "referral.closed", referral, cause=cause)
    return len(referrals)


# --- History, lists and counts -------------------------------------------------------------


@dataclass
class Step:
    at: datetime
    label: str
    actor: User | None = None


def history(referral: Referral) -> list[Step]:
    """Every step of the referral; "hired" is read from the resulting application's stages."""
    steps = [Step(e.at, EVENT_LABELS.get(e.kind, e.kind), e.actor) for e in referral.events]
    if referral.application is not None:
        for change in referral.application.stage_changes:
            if change.to_stage == Stage.HIRED:
                steps.append(Step(change.changed_at, EVENT_LABELS["hired"], change.changed_by))
    return sorted(steps, key=lambda s: s.at)


def for_user(user: User) -> Select:
    """Referrals waiting for ``user``'s decision (every waiting one for recruiters), oldest
    first."""
    query = select(Referral).where(Referral.status == ReferralStatus.PENDING)
    if not user.sees_everything:
        query = query.join(Referral.opening).where(Opening.owner_id == user.id)
    return query.order_by(Referral.introduced_at, Referral.id)


def waiting_rows(user: User, limit: int) -> list[Row]:
    """The first ``limit`` of for_user(user) as plain rows, with the candidate's name, the
    opening's title and the referrer's name (for the desk): one statement, built once."""
    owner = owner_in_view(user)
    params = {"limit": limit} if owner is None else {"limit": limit, "owner": owner}
    return db.session.execute(waiting_rows_query(owner is not None), params).all()


@cache
def waiting_rows_query(of_owner: bool) -> Select:
    """waiting_rows' statement; every value is a parameter."""
    query = (
        select(
            Referral.id,
            Referral.introduced_at,
            Candidate.name.label("candidate_name"),
            Opening.title.label("opening_title"),
            User.name.label("from_name"),
        )
        .join(Referral.candidate)
        .join(Referral.opening)
        .join(User, User.id == Referral.from_manager_id)
        .where(Referral.status == ReferralStatus.PENDING)
    )
    if of_owner:
        query = query.where(Opening.owner_id == bindparam("owner"))
    return query.order_by(Referral.introduced_at, Referral.id).limit(bindparam("limit"))


def made_by(user: User) -> Select:
    """Referrals ``user`` made, open ones first, newest first."""
    query = select(Referral).where(Referral.from_manager_id == user.id)
    is_open = case((Referral.status.in_(["pending_candidate", "pending"]), 0), else_=1)
    return query.order_by(is_open, Referral.created_at.desc(), Referral.id.desc())


def referrals_of(candidate: Candidate, user: User) -> list:
    """The candidate's referrals that ``user`` may see, newest first (for their page): rows
    of plain values (id, opening_title, owner, from_manager, created_at, status, hired_at),
    one statement."""
    params = {"candidate_id": candidate.id, "user_id": user.id}
    return db.session.execute(referrals_of_query(user.sees_everything), params).all()


@cache
def referrals_of_query(sees_everything: bool) -> Select:
    """Built once; Core columns (read-only display). ``hired_at`` as Referral.hired_at reads
    it: the first move to hired of the application the referral created."""
    referral, opening, change = Referral.__table__.c, Opening.__table__.c, StageChange.__table__.c
    owners, referrers = User.__table__.alias("owner"), User.__table__.alias("referrer")
    owner, referrer = owners.c, referrers.c
    hired_at = (
        select(func.min(change.changed_at))
        .where(change.application_id == referral.application_id, change.to_stage == Stage.HIRED)
        .scalar_subquery()
    )
    query = (
        select(
            referral.id,
            opening.title.label("opening_title"),
            owner.name.label("owner"),
            referrer.name.label("from_manager"),
            referral.created_at,
            referral.status,
            hired_at.label("hired_at"),
        )
        .join_from(Referral.__table__, Opening.__table__, opening.id == referral.opening_id)
        .join(owners, owner.id == opening.owner_id)
        .join(referrers, referrer.id == referral.from_manager_id)
        .where(referral.candidate_id == bindparam("candidate_id"))
        .order_by(referral.created_at.desc())
    )
    if sees_everything:
        return query
    # may_see_referral's rule for a manager, in SQL.
    user = bindparam("user_id")
    return query.where(
        (referral.from_manager_id == user)
        | ((opening.owner_id == user) & referral.introduced_at.is_not(None))
    )


@dataclass
class ManagerCounts:
    user: User
    made: int = 0
    accepted: int = 0
    declined: int = 0
    waiting: int = 0
    hires: int = 0
    received: int = 0
    received_accepted: int = 0


def counts_by_manager() -> list[ManagerCounts]:
    """Per manager: referrals made and their outcomes (hires included), and received."""
    hired = exists().where(
        StageChange.application_id == Referral.application_id,
        StageChange.to_stage == Stage.HIRED,
    )
    status = Referral.status
    made = db.session.execute(
        select(
            Referral.from_manager_id,
            func.count(),
            func.count(case((status == ReferralStatus.ACCEPTED, 1))),
            func.count(case((status.in_(["declined", "withdrawn"]), 1))),
            func.count(case((status.in_(["pending_candidate", "pending"]), 1))),
            func.count(case((hired, 1))),
        ).group_by(Referral.from_manager_id)
    )
    received = db.session.execute(
        select(
            Opening.owner_id,
            func.count(),
            func.count(case((status == ReferralStatus.ACCEPTED, 1))),
        )
        .join(Referral.opening)
        .where(Referral.introduced_at.is_not(None))
        .group_by(Opening.owner_id)
    )
    rows: dict[int, ManagerCounts] = {}

    def row(user_id: int) -> ManagerCounts:
        if user_id not in rows:
            rows[user_id] = ManagerCounts(user=db.session.get(User, user_id))
        return rows[user_id]

    for user_id, total, accepted, declined, waiting, hires in made:
        r = row(user_id)
        r.made, r.accepted, r.declined, r.waiting, r.hires = (
            total,
            accepted,
            declined,
            waiting,
            hires,
        )
    for user_id, total, accepted in received:
        row(user_id).received, row(user_id).received_accepted = total, accepted
    return sorted(rows.values(), key=lambda r: (-r.made, -r.received, r.user.name))


# --- Privacy: export, erasure and retention (registered with the privacy registry) ---------


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def referrals_about(candidate: Candidate) -> list[Referral]:
    query = select(Referral).where(Referral.candidate_id == candidate.id)
    return list(db.session.scalars(query.order_by(Referral.id)))


def export_referrals(candidate: Candidate) -> list[dict]:
    """Referrals of the candidate, with the referrer's note: it is about them, so theirs."""
    return [
        {
            "opening": r.opening.title,
            "status": r.status.value,
            "note": r.note,
            "decline_reason": r.decline_reason,
            "created_at": when(r.created_at),
            "introduced_at": when(r.introduced_at),
            "decided_at": when(r.decided_at),
            "events": [{"kind": e.kind, "at": when(e.at)} for e in r.events],
        }
        for r in referrals_about(candidate)
    ]


def erase_referrals(candidate: Candidate) -> None:
    """Close the candidate's open referrals; blank their notes and reasons, and the managers'
    notices about them (their subjects name the candidate and their bodies quote the note)."""
    close_open_referrals(candidate, "erased")
    referrals = referrals_about(candidate)
    managers = {r.from_manager.email for r in referrals} | {
        r.opening.owner.email for r in referrals
    }
    for referral in referrals:
        referral.note = ""
        if referral.decline_reason != CLOSE_REASONS["erased"]:
            referral.decline_reason = ""
    if managers and candidate.name.strip():
        notices = select(OutboxMessage).where(
            OutboxMessage.recipient.in_(managers),
            OutboxMessage.subject.contains(candidate.name, autoescape=True),
        )
        for message in db.session.scalars(notices):
            if message.status == MessageStatus.QUEUED:
                message.status = MessageStatus.CANCELLED
            message.subject = message.text_body = message.html_body = ""
    db.session.flush()


def last_referral_activity(candidate: Candidate) -> datetime | None:
    """The latest step of any of the candidate's referrals."""
    return db.session.scalar(
        select(func.max(ReferralEvent.at))
        .join(ReferralEvent.referral)
        .where(Referral.candidate_id == candidate.id)
    )


register_privacy_hook(
    "referrals",
    exporter=export_referrals,
    eraser=erase_referrals,
    last_activity=last_referral_activity,
)
