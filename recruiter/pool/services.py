"""Rules of the silver-medalist pool. Flush, never commit; raise small domain exceptions.

Public API for other features (referrals, the rejection form):
``tag_silver_medalist``, ``is_referable``, ``referable_entries``, ``entry_for_candidate``.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from operator import itemgetter

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Float,
    Row,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    not_,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased, contains_eager, selectinload

from ..audit.services import record_event
from ..candidates.links import external_link
from ..extensions import db
from ..models import (
    Application,
    Candidate,
    ConsentState,
    Opening,
    OpeningStatus,
    OutboxMessage,
    Referral,
    Seniority,
    SilverMedalist,
    Skill,
    Stage,
    StageChange,
    Touch,
    User,
    UTCDateTime,
    silver_medalist_skill,
    utcnow,
)
from ..outbox.services import cancel_queued_for, queue_email
from ..paging import CountedPages
from ..privacy.registry import register_privacy_hook
from .search import (
    forget_erased_text,
    is_postgres,
    snippets,
    text_matches,
    text_query,
    text_subquery,
)
from .search import words as search_words

# Stages in the order a candidate reaches them; interview or later may be pooled.
STAGE_ORDER = [Stage.APPLIED, Stage.SCREEN, Stage.INTERVIEW, Stage.FINAL, Stage.OFFER, Stage.HIRED]
POOLABLE_STAGES = (Stage.INTERVIEW, Stage.FINAL, Stage.OFFER)
FINALIST_STAGES = (Stage.FINAL, Stage.OFFER)
CONSENT_PURPOSE = "pool-consent"
WITHDRAW_PURPOSE = "pool-withdraw"
CHANNELS = ("email", "phone", "video call", "coffee", "linkedin", "other")


class PoolError(Exception):
    """Base for the pool's domain errors; the message is fit to show a user."""


class NotTaggable(PoolError):
    """The application never reached interview, or the candidate may not be kept."""


class AlreadyPooled(PoolError):
    """The candidate already has a pool entry."""


class ConsentNeeded(PoolError):
    """The candidate has not agreed to be contacted, so no pool message may go out."""


# --- Small helpers -------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (or the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def normalise_skill(name: str) -> str:
    """Lower case, single spaces: "  Python " and "python" are one skill."""
    return " ".join(name.lower().split())[:60]


def split_skills(text: str) -> list[str]:
    """Comma-separated skills from a form field, normalised, without repeats."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        if name := normalise_skill(part):
            seen[name] = None
    return list(seen)


def skill_vocabulary() -> list[str]:
    """Every skill name used so far, for suggestions."""
    return list(db.session.scalars(skill_names_query()))


@cache
def skill_names_query() -> Select:
    # Table columns: a Core statement, cheaper to run than an ORM one.
    name = Skill.__table__.c.name
    return select(name).order_by(name)


def role_families() -> list[str]:
    """Role families used so far, for suggestions, in order."""
    return list(db.session.scalars(role_families_query()))


@cache
def role_families_query() -> Select:
    """One index seek per family (``ix_silver_medalist_family_consent_rating``): the next
    family after the last one found, so the cost is the number of families, not of entries.
    (DISTINCT reads every entry on PostgreSQL, and on SQLite without statistics.)"""
    family = SilverMedalist.__table__.c.role_family  # A Core statement, cheaper to run.
    found = select(func.min(family)).where(family > "").cte("family", recursive=True)
    following = select(func.min(family)).where(family > found.c[0]).scalar_subquery()
    found = found.union_all(select(following).where(found.c[0].is_not(None)))
    return select(found.c[0]).where(found.c[0].is_not(None))


def skills_named(names: list[str]) -> list[Skill]:
    """The Skill rows for these names, created when new."""
    names = [n for n in (normalise_skill(n) for n in names) if n]
    existing = {s.name: s for s in db.session.scalars(select(Skill).where(Skill.name.in_(names)))}
    for name in names:
        if name not in existing:
            existing[name] = Skill(name=name)
            db.session.add(existing[name])
    return [existing[n] for n in dict.fromkeys(names)]


def refresh_search_document(entry: SilverMedalist) -> None:
    """Rewrite the text the full-text index reads: strengths, skills, interests and notes."""
    parts = [
        entry.strengths,
        " ".join(s.name for s in entry.skills),
        entry.role_family,
        entry.roles_of_interest,
        *(t.note for t in entry.touches),
    ]
    entry.search_document = "\n".join(p for p in parts if p)


def stage_reached(application: Application) -> Stage:
    """The furthest stage the application got to, from its current stage and its history."""
    history = [s for c in application.stage_changes for s in (c.from_stage, c.to_stage)]
    return furthest(application.stage, history)


def furthest(current: Stage, history: list[Stage | None]) -> Stage:
    """The furthest of the current stage and the stages the history went through."""
    ranked = [s for s in [current, *history] if s in STAGE_ORDER]
    return max(ranked, key=STAGE_ORDER.index) if ranked else current


def may_be_tagged(application: Application) -> bool:
    """Interview or later, and not the hire."""
    return stage_reached(application) in POOLABLE_STAGES and application.stage != Stage.HIRED


def taggable_ids(applications: list[Application]) -> set[int]:
    """Which of a page of applications :func:`may_be_tagged`, from one query."""
    return page_pool_state(applications)[1]


def page_pool_state(applications) -> tuple[dict[int, Row], set[int]]:
    """For a page of applications (anything with ``id``, ``candidate_id`` and ``stage``),
    in one statement: their candidates' pool entries as plain rows (candidate_id, id,
    consent_state) by candidate, and which applications :func:`may_be_tagged` (the
    furthest stage each one's history went through is worked out in SQL)."""
    if not applications:
        return {}, set()
    rows = db.session.execute(page_pool_query(), {"ids": [a.id for a in applications]}).all()
    entries = {row.candidate_id: row for row in rows if row.id is not None}
    reached = {row.application_id: (row.reached_from, row.reached_to) for row in rows}
    taggable = set()
    for a in applications:
        ranks = [r for r in (*reached.get(a.id, ()), STAGE_RANKS.get(a.stage)) if r is not None]
        best = STAGE_ORDER[max(ranks)] if ranks else a.stage
        if a.stage != Stage.HIRED and best in POOLABLE_STAGES:
            taggable.add(a.id)
    return entries, taggable


STAGE_RANKS = {stage: rank for rank, stage in enumerate(STAGE_ORDER)}


@cache
def page_pool_query() -> Select:
    """page_pool_state's statement: per application its candidate's entry, and the highest
    rank in STAGE_ORDER of the stages its changes came from and went to (two index walks)."""
    application, change = Application.__table__.c, StageChange.__table__.c
    entry = SilverMedalist.__table__

    def highest_rank(stage_column):
        rank = case(STAGE_RANKS, value=stage_column)
        return (
            select(func.max(rank)).where(change.application_id == application.id).scalar_subquery()
        )

    return (
        select(
            application.id.label("application_id"),
            entry.c.candidate_id,
            entry.c.id,
            entry.c.consent_state,
            highest_rank(change.from_stage).label("reached_from"),
            highest_rank(change.to_stage).label("reached_to"),
        )
        .select_from(Application.__table__)
        .outerjoin(entry, entry.c.candidate_id == application.candidate_id)
        .where(application.id.in_(bindparam("ids", expanding=True)))
    )


def entry_for_candidate(candidate: Candidate) -> SilverMedalist | None:
    """The candidate's pool entry, if they ever had one."""
    return db.session.scalar(entry_for_candidate_query(), {"candidate_id": candidate.id})


@cache
def entry_for_candidate_query() -> Select:
    return select(SilverMedalist).where(SilverMedalist.candidate_id == bindparam("candidate_id"))


def entry_panel(candidate: Candidate):
    """What the candidate's page shows of their pool entry, if they ever had one: a row of
    plain values (consent_state, who vouched, from which opening, the last touch and how
    many), in one statement."""
    return db.session.execute(entry_panel_query(), {"candidate_id": candidate.id}).first()


@cache
def entry_panel_query() -> Select:
    """Built once; Core columns (read-only display)."""
    entry, touch = SilverMedalist.__table__.c, Touch.__table__.c
    vouched_by, opening = User.__table__.c, Opening.__table__.c
    # The entry's touches newest first, as SilverMedalist.touches orders them.
    touches = select(touch.at, touch.channel).where(touch.entry_id == entry.id)
    last = touches.order_by(touch.at.desc(), touch.id).limit(1)
    return (
        select(
            entry.id,
            entry.consent_state,
            entry.created_at,
            entry.consent_given_at,
            vouched_by.name.label("vouched_by"),
            opening.title.label("opening_title"),
            last.with_only_columns(touch.at).scalar_subquery().label("last_touch_at"),
            last.with_only_columns(touch.channel).scalar_subquery().label("last_touch_channel"),
            touches.with_only_columns(func.count()).scalar_subquery().label("touch_count"),
        )
        .select_from(SilverMedalist.__table__)
        .outerjoin(User.__table__, vouched_by.id == entry.vouched_by_id)
        .outerjoin(Opening.__table__, opening.id == entry.opening_id)
        .where(entry.candidate_id == bindparam("candidate_id"))
    )


def is_referable(entry: SilverMedalist, now: datetime | None = None) -> bool:
    """Whether the entry may be offered to another opening: consent given and current,
    and the candidate may be contacted (not do-not-contact, bouncing or erased)."""
    return is_consented(entry, now) and entry.candidate.contactable


def contactable_pool(query: Select) -> Select:
    """Narrow a query over SilverMedalist to consent given, current and contactable."""
    return query.join(SilverMedalist.candidate).where(*contactable_clauses())


def contactable_clauses(now=None, consent=None) -> tuple:
    """contactable_pool's conditions, for a query that joins the candidate itself (``now``:
    a bind parameter, for a statement built once; ``consent``: the consent state as an
    expression, e.g. one that hides its index from the planner)."""
    return (
        (SilverMedalist.consent_state if consent is None else consent) == ConsentState.GIVEN,
        SilverMedalist.consent_expires_at > (utcnow() if now is None else now),
        Candidate.do_not_contact_at.is_(None),
        Candidate.email_bouncing_at.is_(None),
        Candidate.erased_at.is_(None),
    )


def referable_entries() -> Select:
    """A query over every referable entry (for the referrals feature)."""
    return contactable_pool(select(SilverMedalist))


# --- Tagging and consent -------------------------------------------------------------------


def tag_silver_medalist(
    application: Application,
    manager: User,
    *,
    strengths: str = "",
    skills: list[str] | tuple[str, ...] = (),
    role_family: str = "",
    seniority: Seniority | str | None = None,
    locations: str = "",
    rating: int = 3,
    cadence_months: int | None = None,
    ask_consent: bool = True,
    send_after: datetime | None = None,
) -> SilverMedalist:
    """Keep the application's candidate in the pool and ask for their consent.

    Called by the tag form and by the rejection form. The consent request is queued at
    ``send_after`` (pass the rejection note's send time so it never arrives first), or not at
    all with ``ask_consent=False`` when the caller puts ``consent_url(entry)`` in its own
    message. Raises NotTaggable or AlreadyPooled.
    """
    candidate = application.candidate
    if not may_be_tagged(application):
        raise NotTaggable(f"{candidate.name} did not reach interview, so cannot be pooled.")
    if not candidate.contactable:
        raise NotTaggable(f"{candidate.name} may not be contacted, so cannot be pooled.")
    entry = entry_for_candidate(candidate)
    if entry is not None and entry.consent_state != ConsentState.EXPIRED:
        raise AlreadyPooled(already_pooled_message(entry))
    if entry is None:
        entry = SilverMedalist(candidate=candidate)
        db.session.add(entry)
    entry.application = application
    entry.opening = application.opening
    entry.stage_reached = stage_reached(application)
    entry.vouched_by = manager
    entry.strengths = strengths.strip()
    entry.skills = skills_named(list(skills))
    entry.role_family = " ".join(role_family.split()).lower()
    entry.seniority = Seniority(seniority) if seniority else None
    entry.locations = locations.strip()
    entry.rating = max(1, min(5, int(rating)))
    entry.cadence_months = cadence_months or current_app.config["POOL_CADENCE_MONTHS"]
    entry.consent_state = ConsentState.PENDING
    entry.consent_given_at = entry.consent_expires_at = entry.extension_requested_at = None
    entry.next_touch_due = None
    entry.paused = False
    entry.consent_requested_at = utcnow()
    refresh_search_document(entry)
    db.session.flush()
    db.session.expire(candidate, ["pool_entry"])
    if ask_consent:
        send_consent_request(entry, send_after=send_after)
    record_event(manager, "pool.tagged", entry, application=application.id)
    return entry


def already_pooled_message(entry: SilverMedalist) -> str:
    name = entry.candidate.name
    if entry.consent_state in (ConsentState.DECLINED, ConsentState.WITHDRAWN):
        return f"{name} asked not to be kept in the pool; we respect that."
    return f"{name} is already in the pool."


def consent_url(entry: SilverMedalist) -> str:
    return external_link("public.pool_consent", CONSENT_PURPOSE, entry.candidate_id, e=entry.id)


def withdraw_url(entry: SilverMedalist) -> str:
    return external_link("public.pool_withdraw", WITHDRAW_PURPOSE, entry.candidate_id, e=entry.id)


def pool_email(
    entry: SilverMedalist,
    subject: str,
    template: str,
    send_after: datetime | None = None,
    **context,
) -> OutboxMessage:
    """Queue a pool message; every one carries the withdraw link."""
    candidate = entry.candidate
    return queue_email(
        candidate.email,
        subject,
        template,
        candidate=candidate,
        send_after=send_after,
        candidate_name=candidate.name,
        first_name=candidate.first_name,
        withdraw_url=withdraw_url(entry),
        months=current_app.config["POOL_CONSENT_MONTHS"],
        **context,
    )


def send_consent_request(
    entry: SilverMedalist, send_after: datetime | None = None
) -> OutboxMessage:
    """Ask the candidate whether we may keep their details and contact them."""
    company = current_app.config["COMPANY_NAME"]
    message = pool_email(
        entry,
        f"May {company} keep in touch?",
        "pool_consent_request",
        consent_url=consent_url(entry),
        opening_title=entry.opening.title if entry.opening else "",
        send_after=send_after,
    )
    entry.consent_requested_at = utcnow()
    return message


def give_consent(entry: SilverMedalist, roles_of_interest: str = "") -> None:
    """The candidate agreed (or agreed again): consent runs POOL_CONSENT_MONTHS from now."""
    now = utcnow()
    first_time = entry.consent_state != ConsentState.GIVEN
    entry.consent_state = ConsentState.GIVEN
    entry.consent_given_at = now
    entry.consent_expires_at = add_months(now, current_app.config["POOL_CONSENT_MONTHS"])
    entry.extension_requested_at = None
    if roles_of_interest.strip():
        entry.roles_of_interest = roles_of_interest.strip()
    if first_time or entry.next_touch_due is None:
        entry.next_touch_due = add_months(now, entry.cadence_months)
    refresh_search_document(entry)
    db.session.flush()
    record_event(None, "pool.consent_given", entry, renewed=not first_time)


def leave_pool(entry: SilverMedalist, state: ConsentState, actor: User | None = None) -> int:
    """Take the entry out of the pool: remove personal details, cancel pending mail, close
    open referrals (they rest on the consent)."""
    # Imported here: referrals build on the pool, so the pool cannot import them at the top.
    from ..referrals.services import close_open_referrals

    entry.consent_state = state
    scrub_entry(entry)
    cancelled = cancel_queued_for(entry.candidate)
    close_open_referrals(entry.candidate, state.value, actor)
    db.session.flush()
    record_event(actor, f"pool.{state.value}", entry, cancelled_messages=cancelled)
    return cancelled


def discard_unanswered_tag(application: Application, since: datetime, actor: User | None) -> bool:
    """Remove a pool entry tagged from this application at or after ``since``, unanswered.

    Used when the rejection it was made with is undone: the candidate heard of neither,
    so the entry and its queued consent request go, and the candidate can be tagged again.
    An entry that was already referred, or that the candidate answered, stays.
    """
    entry = entry_for_candidate(application.candidate)
    if entry is None or entry.application_id != application.id or entry.created_at < since:
        return False
    referred = select(Referral.id).where(Referral.entry_id == entry.id).limit(1)
    if entry.consent_state != ConsentState.PENDING or db.session.scalar(referred):
        return False
    cancel_queued_for(entry.candidate)
    record_event(actor, "pool.tag_discarded", entry, application_id=application.id)
    db.session.delete(entry)
    db.session.flush()
    db.session.expire(application.candidate, ["pool_entry"])
    return True


def decline_consent(entry: SilverMedalist) -> int:
    return leave_pool(entry, ConsentState.DECLINED)


def withdraw_consent(entry: SilverMedalist) -> int:
    """The candidate withdrew: nothing more reaches them from the pool."""
    if entry.consent_state in (ConsentState.WITHDRAWN, ConsentState.DECLINED):
        return 0
    return leave_pool(entry, ConsentState.WITHDRAWN)


def scrub_entry(entry: SilverMedalist, keep_touches: bool = False) -> None:
    """Remove what the pool holds about the person; the row stays for anonymous counts.

    With ``keep_touches`` the touches stay (for counts) with their notes blanked.
    """
    entry.strengths = ""
    entry.locations = ""
    entry.roles_of_interest = ""
    entry.skills = []
    if keep_touches:
        for touch in entry.touches:
            touch.note = ""
    else:
        entry.touches.clear()
    entry.next_touch_due = None
    entry.paused = False
    entry.replied_at = None
    entry.consent_expires_at = None
    refresh_search_document(entry)


@dataclass
class ExpiryReport:
    extension_requests: list[SilverMedalist] = field(default_factory=list)
    expired: list[SilverMedalist] = field(default_factory=list)
    unanswered: list[SilverMedalist] = field(default_factory=list)


def expire_pool(now: datetime | None = None) -> ExpiryReport:
    """The daily retention job: ask once for an extension, then let expired consent go."""
    now = now or utcnow()
    config = current_app.config
    report = ExpiryReport()
    notice = now + timedelta(days=config["POOL_EXTENSION_NOTICE_DAYS"])
    given = select(SilverMedalist).where(SilverMedalist.consent_state == ConsentState.GIVEN)
    for entry in db.session.scalars(given.where(SilverMedalist.consent_expires_at <= now)):
        leave_pool(entry, ConsentState.EXPIRED)
        report.expired.append(entry)
    ask = given.where(
        SilverMedalist.consent_expires_at > now,
        SilverMedalist.consent_expires_at <= notice,
        SilverMedalist.extension_requested_at.is_(None),
    )
    for entry in db.session.scalars(ask):
        entry.extension_requested_at = now
        if entry.candidate.contactable:
            send_extension_request(entry)
        report.extension_requests.append(entry)
    stale = now - timedelta(days=config["POOL_CONSENT_REQUEST_DAYS"])
    pending = select(SilverMedalist).where(
        SilverMedalist.consent_state == ConsentState.PENDING,
        SilverMedalist.consent_requested_at <= stale,
    )
    for entry in db.session.scalars(pending):
        leave_pool(entry, ConsentState.EXPIRED)
        report.unanswered.append(entry)
    db.session.flush()
    return report


def send_extension_request(entry: SilverMedalist) -> OutboxMessage:
    """The one request to extend consent, thirty days before it ends."""
    company = current_app.config["COMPANY_NAME"]
    return pool_email(
        entry,
        f"Shall {company} keep in touch?",
        "pool_extension_request",
        consent_url=consent_url(entry),
        expires_at=entry.consent_expires_at,
    )


# --- Keep-in-touch -------------------------------------------------------------------------


def due_follow_ups(user: User | None = None, now: datetime | None = None) -> Select:
    """Entries whose touch is due, or who replied and wait for an answer; ``user``'s only
    when given. Replies first, then the longest overdue."""
    # The candidate is joined already (contactable): load it from the same row.
    query = (
        select(SilverMedalist)
        .join(SilverMedalist.candidate)
        .options(contains_eager(SilverMedalist.candidate))
        .where(*due_clauses(now or utcnow()))
    )
    if user is not None:
        query = query.where(SilverMedalist.vouched_by_id == user.id)
    # The due list also shows each entry's vouching manager: load them in one query.
    query = query.options(selectinload(SilverMedalist.vouched_by))
    return query.order_by(*DUE_ORDER)


def due_clauses(now) -> tuple:
    """What makes an entry due (see due_follow_ups), for a query that joins the candidate.

    The list is read in the follow-up index's order (replies first, then the longest
    overdue) and stopped at the page's end. Two shapes keep the planner from reading every
    due entry and sorting them: "replied, or due and not replied" is written as "not
    (waiting and not yet due)", which it cannot split into one index search per side, and
    the consent state's index is hidden (coalesce), which sampled statistics make look
    selective.
    """
    return (
        *contactable_clauses(now, consent=func.coalesce(SilverMedalist.consent_state, "")),
        not_(and_(SilverMedalist.paused.is_(False), SilverMedalist.next_touch_due > now)),
    )


DUE_ORDER = (SilverMedalist.paused.desc(), SilverMedalist.next_touch_due)


def due_follow_up_rows(user: User | None, limit: int) -> list[Row]:
    """The first ``limit`` of due_follow_ups(user) as plain rows, with the candidate's and
    the vouching manager's names (for the desk): one statement, built once."""
    params = {"now": utcnow(), "limit": limit}
    if user is not None:
        params["user_id"] = user.id
    return db.session.execute(due_rows_query(user is not None), params).all()


@cache
def due_rows_query(of_user: bool) -> Select:
    """due_follow_up_rows' statement; every value is a parameter."""
    voucher = aliased(User)
    query = (
        select(
            SilverMedalist.id,
            Candidate.name.label("candidate_name"),
            SilverMedalist.paused,
            SilverMedalist.role_family,
            SilverMedalist.next_touch_due,
            voucher.name.label("vouched_by_name"),
        )
        .join(SilverMedalist.candidate)
        .outerjoin(voucher, voucher.id == SilverMedalist.vouched_by_id)
        .where(*due_clauses(bindparam("now", type_=UTCDateTime)))
    )
    if of_user:
        query = query.where(SilverMedalist.vouched_by_id == bindparam("user_id"))
    return query.order_by(*DUE_ORDER).limit(bindparam("limit"))


def log_touch(
    entry: SilverMedalist,
    user: User,
    channel: str,
    note: str,
    message: OutboxMessage | None = None,
) -> Touch:
    """Record a touch; the clock restarts and a reply's pause ends."""
    now = utcnow()
    touch = Touch(entry=entry, user=user, channel=channel, note=note.strip(), message=message)
    touch.at = now
    db.session.add(touch)
    entry.next_touch_due = add_months(now, entry.cadence_months)
    entry.paused = False
    refresh_search_document(entry)
    db.session.flush()
    record_event(user, "pool.touched", entry, channel=channel)
    return touch


def check_may_message(entry: SilverMedalist) -> None:
    """Raise ConsentNeeded unless a pool message may go to this candidate now."""
    if not is_referable(entry):
        if not entry.candidate.contactable:
            raise ConsentNeeded(f"{entry.candidate.name} may not be contacted.")
        raise ConsentNeeded(
            f"{entry.candidate.name} has not agreed to be contacted "
            f"({entry.consent_state.label}), so no message can go out."
        )


def check_in_draft(entry: SilverMedalist, user: User) -> tuple[str, str]:
    """A short, warm check-in to start from."""
    company = current_app.config["COMPANY_NAME"]
    subject = f"Checking in from {company}"
    body = (
        f"Hello {entry.candidate.first_name},\n\n"
        f"It has been a while since we last spoke, and I wanted to check in. "
        f"How are things going for you? If anything has changed in what you are looking for, "
        f"I would love to hear about it.\n\n"
        f"Best wishes,\n{user.name}\n{company}"
    )
    return subject, body


def send_check_in(entry: SilverMedalist, user: User, subject: str, body: str) -> Touch:
    """Queue a check-in message and log it as a touch (which resets the clock)."""
    check_may_message(entry)
    message = pool_email(entry, subject, "pool_message", body=body.strip())
    return log_touch(entry, user, "email", f"Check-in sent: {subject}", message=message)


def mark_replied(entry: SilverMedalist, user: User) -> None:
    """The candidate replied: pause the cadence until someone logs a touch."""
    entry.paused = True
    entry.replied_at = utcnow()
    db.session.flush()
    record_event(user, "pool.replied", entry)


def update_entry(entry: SilverMedalist, user: User, **tags) -> None:
    """Change an entry's tags, rating or cadence (not its consent)."""
    if "skills" in tags:
        entry.skills = skills_named(list(tags.pop("skills")))
    if "role_family" in tags:
        tags["role_family"] = " ".join(tags["role_family"].split()).lower()
    if "seniority" in tags:
        tags["seniority"] = Seniority(tags["seniority"]) if tags["seniority"] else None
    for name, value in tags.items():
        setattr(entry, name, value)
    refresh_search_document(entry)
    db.session.flush()
    record_event(user, "pool.updated", entry)


# --- Rediscovery ---------------------------------------------------------------------------


@dataclass
class PoolFilters:
    text: str = ""
    skills: list[str] = field(default_factory=list)
    role_family: str = ""
    seniority: str = ""
    location: str = ""
    min_rating: int = 0
    consent: str = ""
    due: bool = False
    sort: str = "relevance"


SORTS = {
    "relevance": "Best match",
    "rating": "Rating",
    "due": "Follow-up due",
    "newest": "Newest",
}


def known(enum_class, value: str):
    """The member for ``value``, or None for an empty or unknown value (a hand-edited URL)."""
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


def filter_values(filters: PoolFilters) -> dict:
    """The values of the filters other than the words, by the name of their bound parameter
    in filter_clauses (a statement built once for the filters' shape takes them when run)."""
    values: dict = {"consent": known(ConsentState, filters.consent)}
    for number, name in enumerate(filters.skills):
        values[f"skill_{number}"] = normalise_skill(name)
    values["role_family"] = filters.role_family.lower().strip()
    values["seniority"] = known(Seniority, filters.seniority)
    values["location"] = f"%{filters.location.strip()}%"
    values["min_rating"] = filters.min_rating
    values["now"] = utcnow()
    return values


def filter_shape(filters: PoolFilters) -> tuple:
    """Which clauses filter_clauses makes for ``filters`` (not their values)."""
    return (
        known(ConsentState, filters.consent) is not None,
        len(filters.skills),
        bool(filters.role_family),
        known(Seniority, filters.seniority) is not None,
        bool(filters.location),
        bool(filters.min_rating),
        filters.due,
    )


def filter_clauses(filters: PoolFilters, consent_state=None) -> list:
    """The WHERE clauses of the filters other than the words (which need the text index).
    Each value is a bound parameter named as in filter_values. Table columns, not the
    model's attributes: a statement of plain columns then stays a Core statement (cheaper to
    run than an ORM one)."""
    entry, link = SilverMedalist.__table__.c, silver_medalist_skill.c
    consent_state = entry.consent_state if consent_state is None else consent_state
    values = filter_values(filters)
    consent = values["consent"]
    if consent:
        clauses = [consent_state == bindparam("consent", consent)]
    else:
        clauses = [consent_state.in_([ConsentState.PENDING, ConsentState.GIVEN])]
    skill = Skill.__table__.c
    for number in range(len(filters.skills)):
        name = bindparam(f"skill_{number}", values[f"skill_{number}"])
        skill_id = select(skill.id).where(skill.name == name).scalar_subquery()
        clauses.append(
            exists().where(link.silver_medalist_id == entry.id, link.skill_id == skill_id)
        )
    if filters.role_family:
        clauses.append(entry.role_family == bindparam("role_family", values["role_family"]))
    if values["seniority"]:
        clauses.append(entry.seniority == bindparam("seniority", values["seniority"]))
    if filters.location:
        pattern = bindparam("location", values["location"])
        clauses.append(or_(entry.locations.ilike(pattern), entry.locations.ilike("%remote%")))
    if filters.min_rating:
        clauses.append(entry.rating >= bindparam("min_rating", values["min_rating"]))
    if filters.due:
        clauses.append(entry.next_touch_due <= bindparam("now", values["now"]))
    return clauses


def search_pool(filters: PoolFilters) -> Select:
    """A query over SilverMedalist for the filters, sorted, over the whole pool; entries that
    left the pool are shown only when their consent state is asked for. (The pool page uses
    ``find_in_pool``, which looks at the newest SEARCH_WINDOW matches only.)"""
    query = (
        select(SilverMedalist)
        .join(SilverMedalist.candidate)
        .options(selectinload(SilverMedalist.skills))
        .where(*filter_clauses(filters))
    )
    matches = text_matches(filters.text)
    if matches is not None:
        query = query.join(matches, matches.c.id == SilverMedalist.id)
    order = {
        "rating": [SilverMedalist.rating.desc()],
        "due": [SilverMedalist.next_touch_due.asc().nulls_last()],
        "newest": [SilverMedalist.created_at.desc()],
    }.get(filters.sort, [])
    if filters.sort == "relevance" and matches is not None:
        order = [matches.c.score.desc()]
    return query.order_by(*order, SilverMedalist.rating.desc(), SilverMedalist.id.desc())


#: The pool page looks at this many matching entries at most, the most recently pooled
#: first, and sorts and counts those: ten pages of results, and a cost per search that does
#: not grow with the pool (a big company's holds tens of thousands). When more match, the
#: page says so and asks for narrower words or filters.
SEARCH_WINDOW = 200
PER_PAGE = 20
SKILL_SEPARATOR = "\x1f"


@dataclass(slots=True, frozen=True)
class PoolRow:
    """One search result as the page shows it: plain values, no ORM object (hashable: the
    page's markup for it is a function of these values, see templates/pool/_result_card.html)."""

    id: int
    name: str
    consent_state: ConsentState
    rating: int
    role_family: str
    seniority: Seniority | None
    locations: str
    next_touch_due: datetime | None
    opening_title: str | None
    skills: tuple[str, ...]


@dataclass
class PoolPage(CountedPages):
    """A page of pool results, with what the pager and the side panel need."""

    items: list[PoolRow]
    total: int
    more: bool
    page: int
    facets: dict[str, list[tuple[str, int]]]
    consent_facet: list[tuple[ConsentState, int]]
    window: int
    per_page: int


def find_in_pool(
    filters: PoolFilters, narrow: Callable[[Select], Select], page: int = 1
) -> PoolPage:
    """The pool page's results: the newest SEARCH_WINDOW entries that pass the filters (and
    ``narrow``: who may see whom), sorted as asked and counted, and one page of them loaded.

    One index walk, newest first, that stops after SEARCH_WINDOW + 1 entries (through the
    text index when there are words: its ids are the entries' ids), then one query for the
    page's rows. Text relevance is only computed for the entries in the window.
    """
    has_words = bool(search_words(filters.text))
    by_text = filters.sort == "relevance" and has_words
    params = filter_values(filters)
    if has_words:
        params["text_query"] = text_query(filters.text)
    postgres = is_postgres()
    # The sort decides one column (score, due date, creation date or none), not the shape.
    sort_column = "relevance" if by_text else filters.sort if filters.sort in SORTS else ""
    shape = (filter_shape(filters), has_words, sort_column, SEARCH_WINDOW, postgres)
    query = WINDOW_QUERIES.get(shape)
    if query is None:
        if len(WINDOW_QUERIES) >= 64:  # Bounded: a few shapes are common, many are possible.
            WINDOW_QUERIES.clear()
        query = WINDOW_QUERIES[shape] = window_query(filters, postgres)
    rows = db.session.execute(narrow(query), params).all()
    more = len(rows) > SEARCH_WINDOW
    del rows[SEARCH_WINDOW:]

    # Python's sort is stable: the tie-breakers first (best rated, then newest).
    rows.sort(key=itemgetter(1, 0), reverse=True)
    if by_text or filters.sort == "newest":
        rows.sort(key=itemgetter(5), reverse=True)
    elif filters.sort == "due":
        rows.sort(key=lambda r: (r[5] is None, r[5] or ""))

    total = len(rows)
    page = min(max(1, page), max(1, -(-total // PER_PAGE)))
    ids = [r[0] for r in rows[(page - 1) * PER_PAGE : page * PER_PAGE]]
    seniority = tally(r[3] for r in rows)
    return PoolPage(
        items=pool_rows(ids),
        total=total,
        more=more,
        page=page,
        facets={
            "Role family": [(family or "not set", n) for family, n in tally(r[2] for r in rows)],
            "Seniority": [(Seniority(v).label if v else "not set", n) for v, n in seniority],
        },
        consent_facet=[(ConsentState(v), n) for v, n in tally(r[4] for r in rows)],
        window=SEARCH_WINDOW,
        per_page=PER_PAGE,
    )


#: find_in_pool's statements, built once per shape of the filters (which clauses, which
#: sort, words or not): building one cost more than running it. Values are parameters.
WINDOW_QUERIES: dict[tuple, Select] = {}


def window_query(filters: PoolFilters, postgres: bool) -> Select:
    """The newest SEARCH_WINDOW + 1 entries that pass ``filters``, as plain values: id,
    rating, role family, seniority, consent state, and the sort's value. Parameters: the
    filter_values, and ``text_query`` when there are words."""
    entry = SilverMedalist.__table__.c
    matches = text_subquery(postgres) if search_words(filters.text) else None
    by_text = filters.sort == "relevance" and matches is not None
    # Plain values: 200 rows through the enum and date types cost more than the query.
    columns = [
        entry.id,
        entry.rating,
        entry.role_family,
        type_coerce(entry.seniority, String),
        type_coerce(entry.consent_state, String),
    ]
    if by_text:
        columns.append(matches.c.score)
    elif filters.sort == "due":
        columns.append(type_coerce(entry.next_touch_due, String))
    elif filters.sort == "newest":
        columns.append(type_coerce(entry.created_at, String))
    if matches is not None:
        query = select(*columns).select_from(matches)
        query = query.join(SilverMedalist.__table__, entry.id == matches.c.id)
        newest = matches.c.id.desc()
    else:
        query = select(*columns)
        newest = entry.id.desc()
    # Newest first from the table itself: without statistics SQLite would rather read the
    # consent state's index and sort every entry in the pool (coalesce hides the index).
    query = query.where(*filter_clauses(filters, func.coalesce(entry.consent_state, "")))
    return query.order_by(newest).limit(SEARCH_WINDOW + 1)


def tally(values) -> list[tuple]:
    """(value, how many), most first."""
    return Counter(values).most_common()


def pool_rows(ids: list[int]) -> list[PoolRow]:
    """The rows for these entry ids, in that order: one query, the skills aggregated."""
    if not ids:
        return []
    found = {
        row[0]: PoolRow(*row[:9], tuple(sorted(row[9].split(SKILL_SEPARATOR))) if row[9] else ())
        for row in db.session.execute(pool_rows_query(), {"ids": ids})
    }
    return [found[i] for i in ids if i in found]


def entry_skill_names():
    """The entry's skill names joined by SKILL_SEPARATOR, for the entry in the outer query
    (table columns: it keeps a Core statement Core)."""
    link, skill = silver_medalist_skill.c, Skill.__table__.c
    return (
        select(func.aggregate_strings(skill.name, SKILL_SEPARATOR))
        .select_from(silver_medalist_skill)
        .join(Skill.__table__, skill.id == link.skill_id)
        .where(link.silver_medalist_id == SilverMedalist.__table__.c.id)
        .scalar_subquery()
    )


@cache
def pool_rows_query() -> Select:
    """Built once (a statement, not data): building it cost more than running it. Table
    columns: a Core statement, cheaper to run than an ORM one."""
    entry, candidate, opening = (
        SilverMedalist.__table__.c,
        Candidate.__table__.c,
        Opening.__table__.c,
    )
    return (
        select(
            entry.id,
            candidate.name,
            entry.consent_state,
            entry.rating,
            entry.role_family,
            entry.seniority,
            entry.locations,
            entry.next_touch_due,
            opening.title,
            entry_skill_names(),
        )
        .join_from(
            SilverMedalist.__table__, Candidate.__table__, candidate.id == entry.candidate_id
        )
        .outerjoin(Opening.__table__, opening.id == entry.opening_id)
        .where(entry.id.in_(bindparam("ids", expanding=True)))
    )


def why_matched(entries: list[SilverMedalist | PoolRow], filters: PoolFilters) -> dict[int, list]:
    """For each entry, the reasons it is in the results, in plain words (and a text snippet)."""
    found = snippets(filters.text, [e.id for e in entries])
    reasons: dict[int, list] = {}
    wanted = {normalise_skill(s) for s in filters.skills}
    for entry in entries:
        why: list = []
        if wanted:
            why.append("skills: " + ", ".join(sorted(wanted)))
        if filters.role_family:
            why.append(f"role family: {entry.role_family}")
        if filters.seniority and entry.seniority:
            why.append(f"seniority: {entry.seniority.label}")
        if filters.location:
            why.append(f"would work in: {entry.locations}")
        if filters.min_rating:
            why.append(f"rated {entry.rating} of 5")
        if filters.due and entry.next_touch_due:
            why.append("follow-up due")
        if entry.id in found:
            why.append(found[entry.id])
        reasons[entry.id] = why
    return reasons


# --- Matching the pool to an opening ------------------------------------------------------


@dataclass
class Match:
    # The entry (score_entry), or its plain row with the candidate's name (the matches).
    entry: SilverMedalist | MatchRow
    score: float
    reasons: list = field(default_factory=list)


SENIORITY_WORDS = {
    Seniority.JUNIOR: ("junior", "graduate", "entry"),
    Seniority.MID: ("mid", "intermediate"),
    Seniority.SENIOR: ("senior", "sr"),
    Seniority.LEAD: ("lead", "staff", "head"),
    Seniority.PRINCIPAL: ("principal", "architect"),
}


def opening_words(opening: Opening) -> set[str]:
    return {w.lower() for w in (opening.title + " " + opening.team).replace("/", " ").split()}


#: Up to this many consented entries the matches score every referable entry; above it, a
#: short list (see below).
MATCH_FULL_SCAN_UP_TO = 200
#: How many entries each source of the short list may give: each skill named in the title,
#: each matching role family, and the text of the title.
MATCH_SHORT_LIST = 30


def matches_for_opening(opening: Opening, limit: int = 5) -> list[Match]:
    """The pooled candidates who fit the opening best, with why. Points: 3 per skill named in
    the title or team, 2 for the role family, 1 for seniority, 1 for location, up to 2 for
    text relevance of the title, and the rating as a tie-breaker.

    The pool (a large company's holds tens of thousands) is first narrowed in SQL to a short
    list, each source an index walk that stops after MATCH_SHORT_LIST referable entries, so
    the cost does not grow with the pool: per skill named in the title the most recently
    pooled with it; per fitting role family its best rated; the most recent entries whose
    text mentions the title with a title skill or fitting family, and as many who would also
    earn the seniority and location points (with no skill or family to go by, those whose
    text mentions the title). Text relevance is scored among those. Left out are older
    entries like the ones found, so the top five may be more recent than a full scan's, with
    the same scores. Only the short list's plain columns are scored, and the top five loaded.
    When fewer than five score and the pool is small (MATCH_FULL_SCAN_UP_TO consented
    entries at most), every referable entry is scored instead.
    """
    words = opening_words(opening)
    skill_ids = title_skills(words)
    families = [family for family in role_families() if fits_family(family, words)]
    rows, text_scores = short_list(opening, words, skill_ids, families)
    found = score_rows(rows, opening, words, text_scores)
    if len(found) < limit:
        # Perhaps a small pool: then everyone is scored (seniority or location alone may be
        # a match). One more than MATCH_FULL_SCAN_UP_TO rows tells a big pool.
        everyone = match_rows(opening, MATCH_FULL_SCAN_UP_TO + 1)
        if len(everyone) <= MATCH_FULL_SCAN_UP_TO:
            found = score_rows(everyone, opening, words, text_scores)
    found.sort(key=lambda m: (m.score, m.entry.rating), reverse=True)
    return found[:limit]


def score_rows(
    rows: list[MatchRow], opening: Opening, words: set[str], text_scores: dict[int, float]
) -> list[Match]:
    """The rows that score at all, scored."""
    title, place = title_and_place(opening, words)
    scored = (score_row(row, opening, words, text_scores, title, place) for row in rows)
    return [match for match in scored if match.reasons]


def title_and_place(opening: Opening, words: set[str]) -> tuple[str, str]:
    """What score_row compares every row with: the title's words in order, the location."""
    return " ".join(sorted(words)), opening.location.strip().lower()


@dataclass(slots=True)
class MatchRow:
    """What scoring needs of an entry, without loading the entry."""

    id: int
    rating: int
    role_family: str
    seniority: Seniority | None
    locations: str
    skills: list[str]
    name: str = ""


def match_rows(opening: Opening, limit: int) -> list[MatchRow]:
    """Up to ``limit`` referable entries, minus the opening's own applicants, as plain rows
    with their skills and the candidate's name."""
    params = {"now": utcnow(), "opening_id": opening.id, "limit": limit}
    return [match_row(row) for row in db.session.execute(match_rows_query(), params)]


def match_row(row) -> MatchRow:
    """A MatchRow from a row of (id, rating, role_family, seniority, locations, skills, name)."""
    skills = row[5].split(SKILL_SEPARATOR) if row[5] else []
    return MatchRow(row[0], row[1], row[2], row[3], row[4], skills, row[6])


def match_columns() -> tuple:
    """What scoring needs of an entry, in match_row's order."""
    entry = SilverMedalist
    skills = entry_skill_names()
    return (entry.id, entry.rating, entry.role_family, entry.seniority, entry.locations, skills)


def not_applied(opening_id) -> ColumnElement:
    """The entry's candidate has no application to the opening."""
    applicants = select(Application.candidate_id).where(Application.opening_id == opening_id)
    return ~SilverMedalist.candidate_id.in_(applicants)


@cache
def match_rows_query() -> Select:
    """match_rows' statement, built once; every value is a parameter."""
    return (
        select(*match_columns(), Candidate.name)
        .join(Candidate, Candidate.id == SilverMedalist.candidate_id)
        .where(
            *contactable_clauses(bindparam("now", type_=UTCDateTime)),
            not_applied(bindparam("opening_id")),
        )
        .limit(bindparam("limit"))
    )


def title_skills(words: set[str]) -> list[int]:
    """Ids of the skills that score_entry counts as named in the title: a word, or words
    that follow each other in the sorted title (looked up by name, whatever the vocabulary)."""
    ordered = sorted(words)
    names = [
        " ".join(ordered[start:end])
        for start in range(len(ordered))
        for end in range(start + 1, len(ordered) + 1)
    ]
    if not names:
        return []
    return list(db.session.scalars(skills_named_query(), {"names": names}))


@cache
def skills_named_query() -> Select:
    return select(Skill.id).where(Skill.name.in_(bindparam("names", expanding=True)))


def fits_family(family: str, words: set[str]) -> bool:
    """score_entry's role-family rule: a word starts with the family's first five letters,
    or the family starts with the word's."""
    return bool(family) and any(w.startswith(family[:5]) or family.startswith(w[:5]) for w in words)


def short_list(
    opening: Opening, words: set[str], skill_ids: list[int], families: list[str]
) -> tuple[list[MatchRow], dict[int, float]]:
    """The referable entries worth scoring for an opening (minus its own applicants), as
    plain rows, and the text relevance (0..2) of the short list's entries whose text
    mentions the title or team, scaled to the best of them; one statement.

    Each source is an index walk stopped at MATCH_SHORT_LIST referable entries: per skill
    named in the title the most recently pooled with it; per fitting role family the best
    rated; the most recent whose text mentions the title with a title skill or fitting
    family, and as many who would also earn the seniority and location points (with no
    skill or family to go by: the most recent whose text mentions the title). Each text
    walk is one pass of the text index.
    """
    title = f"{opening.title} {opening.team}"
    levels = [level for level, said in SENIORITY_WORDS.items() if words & set(said)]
    place = opening.location.strip().lower()
    has_text = bool(search_words(title))
    if not (has_text or skill_ids or families):
        return [], {}
    statement = short_list_rows_query(
        is_postgres(), len(skill_ids), len(families), has_text, bool(levels), bool(place)
    )
    params = {
        "now": utcnow(),
        "opening_id": opening.id,
        "limit": MATCH_SHORT_LIST,
        "skill_ids": skill_ids,
        "families": families,
        "levels": levels,
        "place": "%" + place.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%",
        **{f"skill_{i}": skill_id for i, skill_id in enumerate(skill_ids)},
        **{f"family_{i}": family for i, family in enumerate(families)},
    }
    if has_text:
        params["text_query"] = text_query(title, any_word=True)
    listed = db.session.execute(statement, params).all()
    best = max((row.score for row in listed if row.score is not None), default=0) or 1
    scores = {row.id: 2 * row.score / best for row in listed if row.score is not None}
    return [match_row(row) for row in listed if row.eligible], scores


@cache
def short_list_rows_query(
    postgres: bool, skills: int, families: int, has_text: bool, levels: bool, place: bool
) -> Select:
    """short_list's statement for this shape, built once: each listed entry once, with its
    best text score, whether it may be offered (referable, not an applicant: the text scores
    are scaled over every listed entry, so the others come too), and what scoring needs."""
    listed = short_list_query(postgres, skills, families, has_text, levels, place).subquery()
    best = (
        select(listed.c.id, func.max(listed.c.score).label("score"))
        .group_by(listed.c.id)
        .subquery()
    )
    eligible = and_(
        *contactable_clauses(bindparam("now", type_=UTCDateTime)),
        not_applied(bindparam("opening_id")),
    )
    return (
        select(
            best.c.id,
            *match_columns()[1:],
            Candidate.name,
            best.c.score,
            case((eligible, 1), else_=0).label("eligible"),
        )
        .select_from(best)
        .outerjoin(SilverMedalist, SilverMedalist.id == best.c.id)
        .outerjoin(Candidate, Candidate.id == SilverMedalist.candidate_id)
        .order_by(best.c.id)
    )


@cache
def short_list_query(
    postgres: bool, skills: int, families: int, has_text: bool, levels: bool, place: bool
) -> Select:
    """The short list's walks for this shape (ids and text scores, an entry possibly more
    than once), built once; every value is a parameter."""
    walks = []
    link = silver_medalist_skill.c
    no_score = cast(null(), Float)
    now = bindparam("now", type_=UTCDateTime)
    if has_text:
        walks += text_walks(text_subquery(postgres), now, skills, families, levels, place)
    for i in range(skills):
        walks.append(
            select(SilverMedalist.id, no_score)
            .join(silver_medalist_skill, link.silver_medalist_id == SilverMedalist.id)
            .join(Candidate, Candidate.id == SilverMedalist.candidate_id)
            .where(*contactable_clauses(now), link.skill_id == bindparam(f"skill_{i}"))
            .order_by(link.silver_medalist_id.desc())
        )
    for i in range(families):
        walks.append(
            select(SilverMedalist.id, no_score)
            .join(Candidate, Candidate.id == SilverMedalist.candidate_id)
            .where(
                *contactable_clauses(now), SilverMedalist.role_family == bindparam(f"family_{i}")
            )
            .order_by(SilverMedalist.rating.desc())
        )
    return union_of([walk.limit(bindparam("limit")) for walk in walks])


def union_of(walks: list[Select]) -> Select:
    """The rows of each (ordered, limited) walk, one after the other, in one statement."""
    parts = [select(*walk.subquery().c) for walk in walks]
    return union_all(*parts) if len(parts) > 1 else parts[0]


def text_walks(matches, now, skills: int, families: int, levels: bool, place: bool) -> list[Select]:
    """The text sources of the short list (see short_list), newest first."""
    fits = []
    if families:
        fits.append(SilverMedalist.role_family.in_(bindparam("families", expanding=True)))
    if skills:
        link = silver_medalist_skill.c
        fits.append(
            exists().where(
                link.silver_medalist_id == SilverMedalist.id,
                link.skill_id.in_(bindparam("skill_ids", expanding=True)),
            )
        )
    if not fits:
        return [select(matches.c.id, matches.c.score).order_by(matches.c.id.desc())]
    fitting = (
        select(matches.c.id, matches.c.score)
        .select_from(matches)
        .join(SilverMedalist, SilverMedalist.id == matches.c.id)
        .join(Candidate, Candidate.id == SilverMedalist.candidate_id)
        .where(*contactable_clauses(now), or_(*fits))
        .order_by(matches.c.id.desc())
    )
    also = []
    if levels:
        also.append(SilverMedalist.seniority.in_(bindparam("levels", expanding=True)))
    if place:
        where = func.lower(SilverMedalist.locations)
        also.append(or_(where.like(bindparam("place"), escape="/"), where.contains("remote")))
    return [fitting, fitting.where(*also)] if also else [fitting]


def text_relevance(opening: Opening) -> dict[int, float]:
    """Full-text relevance of each entry to the opening's title and team, scaled to 0..2
    (every entry that matches: for scoring one entry against a few openings)."""
    matches = text_matches(f"{opening.title} {opening.team}", any_word=True)
    if matches is None:
        return {}
    rows = db.session.execute(select(matches.c.id, matches.c.score)).all()
    best = max((score for _, score in rows), default=0) or 1
    return {entry_id: 2 * score / best for entry_id, score in rows}


def score_entry(
    entry: SilverMedalist, opening: Opening, words: set[str], text_scores: dict[int, float]
) -> Match:
    """Score one entry against the opening, keeping a reason for every point."""
    row = MatchRow(
        entry.id,
        entry.rating,
        entry.role_family,
        entry.seniority,
        entry.locations,
        [s.name for s in entry.skills],
    )
    match = score_row(row, opening, words, text_scores)
    match.entry = entry
    return match


def score_row(
    row: MatchRow,
    opening: Opening,
    words: set[str],
    text_scores: dict[int, float],
    title: str | None = None,
    place: str | None = None,
) -> Match:
    """score_entry on a plain row (the match's entry is the row); ``title`` and ``place``
    are title_and_place's, worked out once for many rows."""
    if title is None or place is None:
        title, place = title_and_place(opening, words)
    match = Match(entry=row, score=0.0)
    skills = sorted(s for s in row.skills if s in words or f" {s} " in f" {title} ")
    if skills:
        match.score += 3 * len(skills)
        match.reasons.append("skills in the title: " + ", ".join(skills))
    family = row.role_family
    if fits_family(family, words):
        match.score += 2
        match.reasons.append(f"role family: {family}")
    if row.seniority and words & set(SENIORITY_WORDS[row.seniority]):
        match.score += 1
        match.reasons.append(f"seniority: {row.seniority.label}")
    if place and (place in row.locations.lower() or "remote" in row.locations.lower()):
        match.score += 1
        match.reasons.append(f"would work in: {row.locations}")
    if row.id in text_scores:
        match.score += text_scores[row.id]
        match.reasons.append("strengths or notes mention the role")
    return match


# --- The opening page: suggestions, tags, backfill ----------------------------------------


@dataclass
class OpeningPool:
    """What the opening page shows from the pool (plain rows: the page only reads them)."""

    entries_by_candidate: dict[int, Row]
    suggestions: list[Application]
    matches: list[Match]
    own_silver_medalists: list[Row]
    taggable: set[int]


def finalists_to_suggest(opening: Opening, pooled: set[int]) -> list[Application]:
    """When the opening is filled: its finalists who were not hired and are not pooled."""
    if opening.status != OpeningStatus.FILLED:
        return []
    # Anyone who reached final had a stage change into final or offer: ask each application's
    # history (its index), not every stage change ever made (seconds at a million).
    reached = exists().where(
        StageChange.application_id == Application.id,
        StageChange.to_stage.in_(FINALIST_STAGES),
    )
    finalists = db.session.scalars(
        select(Application)
        .where(
            Application.opening_id == opening.id,
            Application.stage != Stage.HIRED,
            or_(Application.stage.in_(FINALIST_STAGES), reached),
        )
        .options(selectinload(Application.candidate), selectinload(Application.stage_changes))
    )
    return [
        a
        for a in finalists
        if stage_reached(a) in FINALIST_STAGES
        and a.candidate_id not in pooled
        and a.candidate.contactable
    ]


def opening_pool(opening: Opening, applications: list[Application]) -> OpeningPool:
    """Pool entries and tag actions for the ``applications`` shown, finalists, and matches.

    Only the rows on the page are looked at (their entries and stage history in one query),
    so a pipeline of hundreds costs no more than one page. Entries come as plain rows (id
    and consent state), from statements built once.
    """
    by_candidate, taggable = page_pool_state(applications)
    is_open = opening.status == OpeningStatus.OPEN
    suggestions = []
    if opening.status == OpeningStatus.FILLED:
        pooled = set(
            db.session.scalars(
                select(SilverMedalist.candidate_id)
                .join(Application, Application.candidate_id == SilverMedalist.candidate_id)
                .where(Application.opening_id == opening.id)
            )
        )
        suggestions = finalists_to_suggest(opening, pooled)
    # The panel shows matches and the opening's own silver medalists while it is open only.
    return OpeningPool(
        entries_by_candidate=by_candidate,
        suggestions=suggestions,
        matches=matches_for_opening(opening) if is_open else [],
        own_silver_medalists=own_silver_medalist_rows(opening) if is_open else [],
        taggable=taggable,
    )


def own_silver_medalists(opening: Opening) -> list[SilverMedalist]:
    """Entries tagged from this opening and still in the pool, best rated first."""
    return list(
        db.session.scalars(
            select(SilverMedalist)
            .join(SilverMedalist.candidate)
            .options(contains_eager(SilverMedalist.candidate))
            .where(*own_silver_medalist_clauses(opening.id))
            .order_by(SilverMedalist.rating.desc(), SilverMedalist.created_at)
        )
    )


def own_silver_medalist_rows(opening: Opening) -> list[Row]:
    """own_silver_medalists as plain rows (id, name, consent_state), for the opening page."""
    return list(db.session.execute(own_rows_query(), {"opening_id": opening.id}))


@cache
def own_rows_query() -> Select:
    return (
        select(SilverMedalist.id, Candidate.name, SilverMedalist.consent_state)
        .join(Candidate, Candidate.id == SilverMedalist.candidate_id)
        .where(*own_silver_medalist_clauses(bindparam("opening_id")))
        .order_by(SilverMedalist.rating.desc(), SilverMedalist.created_at)
    )


def own_silver_medalist_clauses(opening_id) -> tuple:
    """Tagged from this opening and still in the pool (pending or given)."""
    return (
        SilverMedalist.opening_id == opening_id,
        SilverMedalist.consent_state.in_([ConsentState.PENDING, ConsentState.GIVEN]),
    )


FELL_THROUGH_REASONS = {
    "declined_offer": "Declined the offer",
    "left_early": "Left in the first months",
    "other": "Another reason",
}


class CannotFallThrough(PoolError):
    """Only an offer or a hire can fall through."""


def hire_fell_through(application: Application, user: User, reason: str) -> Opening:
    """The hire fell through: the application is withdrawn and the opening reopens."""
    if application.stage not in (Stage.OFFER, Stage.HIRED):
        raise CannotFallThrough("Only an offer or a hire can fall through.")
    now = utcnow()
    db.session.add(
        StageChange(
            application=application,
            from_stage=application.stage,
            to_stage=Stage.WITHDRAWN,
            changed_by=user,
            changed_at=now,
        )
    )
    application.stage = Stage.WITHDRAWN
    application.stage_changed_at = now
    opening = application.opening
    opening.status = OpeningStatus.OPEN
    opening.status_changed_at = now
    db.session.flush()
    record_event(
        user, "opening.hire_fell_through", opening, application=application.id, reason=reason
    )
    return opening


def reengagement_draft(entry: SilverMedalist, opening: Opening, user: User) -> tuple[str, str]:
    """A draft message to a runner-up when the role opens again."""
    company = current_app.config["COMPANY_NAME"]
    subject = f"The {opening.title} role at {company} is open again"
    body = (
        f"Hello {entry.candidate.first_name},\n\n"
        f"When we met for the {opening.title} role, you impressed us, and the decision was "
        f"a close one. The role has opened again, and you were the first person we thought of.\n\n"
        f"Would you be open to a short conversation about it? There is no pressure at all; "
        f"if the timing is not right, just let me know.\n\n"
        f"Best wishes,\n{user.name}\n{company}"
    )
    return subject, body


def send_reengagement(entry: SilverMedalist, user: User, subject: str, body: str) -> OutboxMessage:
    """Send the (edited) re-engagement message, respecting consent and do-not-contact."""
    check_may_message(entry)
    message = pool_email(entry, subject, "pool_message", body=body.strip())
    log_touch(entry, user, "email", f"Re-engagement sent: {subject}", message=message)
    record_event(user, "pool.reengaged", entry)
    return message


# --- Privacy: export, erasure and retention (registered with the privacy registry) ---------


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_entry(candidate: Candidate) -> dict | None:
    """What the pool holds about the candidate: the entry and its touches."""
    entry = entry_for_candidate(candidate)
    if entry is None:
        return None
    return {
        "consent_state": entry.consent_state.value,
        "consent_requested_at": when(entry.consent_requested_at),
        "consent_given_at": when(entry.consent_given_at),
        "consent_expires_at": when(entry.consent_expires_at),
        "opening": entry.opening.title if entry.opening else None,
        "stage_reached": entry.stage_reached.value,
        "strengths": entry.strengths,
        "skills": [s.name for s in entry.skills],
        "role_family": entry.role_family,
        "seniority": entry.seniority.value if entry.seniority else None,
        "locations": entry.locations,
        "rating": entry.rating,
        "roles_of_interest": entry.roles_of_interest,
        "cadence_months": entry.cadence_months,
        "next_touch_due": when(entry.next_touch_due),
        "created_at": when(entry.created_at),
        "touches": [
            {"channel": t.channel, "note": t.note, "at": when(t.at)} for t in entry.touches
        ],
    }


def erase_entry(candidate: Candidate) -> None:
    """Blank the entry's personal details and touch notes; an entry still in the pool is
    marked withdrawn. The full-text index forgets the erased words too."""
    entry = entry_for_candidate(candidate)
    if entry is None:
        return
    if entry.in_pool:
        entry.consent_state = ConsentState.WITHDRAWN
    scrub_entry(entry, keep_touches=True)
    db.session.flush()
    forget_erased_text()


def retains_entry(candidate: Candidate) -> bool:
    """Consent given and not yet expired is a lawful basis to keep the candidate's data."""
    entry = entry_for_candidate(candidate)
    return entry is not None and is_consented(entry)


def is_consented(entry: SilverMedalist, now: datetime | None = None) -> bool:
    return (
        entry.consent_state == ConsentState.GIVEN
        and entry.consent_expires_at is not None
        and entry.consent_expires_at > (now or utcnow())
    )


def last_pool_activity(candidate: Candidate) -> datetime | None:
    """The latest touch, or when consent was given, whichever is later."""
    entry = entry_for_candidate(candidate)
    if entry is None:
        return None
    moments = [t.at for t in entry.touches] + [entry.consent_given_at]
    return max((m for m in moments if m is not None), default=None)


register_privacy_hook(
    "pool",
    exporter=export_entry,
    eraser=erase_entry,
    retains=retains_entry,
    last_activity=last_pool_activity,
)
