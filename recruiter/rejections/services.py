"""Rejecting applications: templates, the wording check, scheduling, undo, bulk, no ghosting.

Every function here flushes and never commits; the view commits once.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, insert, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.services import record_event
from ..auth.access import owner_in_view
from ..extensions import db
from ..figures import cached_figure
from ..models import (
    Application,
    Candidate,
    MessageStatus,
    Opening,
    OutboxMessage,
    ReasonCode,
    Rejection,
    RejectionTemplate,
    Stage,
    StageChange,
    StageDefault,
    User,
    utcnow,
)
from ..outbox.services import (
    ContactRefused,
    HeaderInjection,
    cancel_message,
    message_row,
    queue_rows,
    sender_domain,
)
from ..pool.services import discard_unanswered_tag, is_referable
from .email import note_reads, queue_rejection_note, render_note
from .placeholders import PlaceholderError, check_placeholders, fill_placeholders
from .timing import Rules, Schedule, schedule
from .wording import Finding, blocking, check_note

OPEN_DOOR_CLOSING = (
    "We would be glad to stay in touch, and we would welcome an application from you for "
    "future openings."
)
NEUTRAL_CLOSING = "Thank you again for your interest, and we wish you every success."


class AlreadyRejected(Exception):
    """The application was rejected already; no second note goes out."""


class NotRejectable(Exception):
    """The application is closed (hired or withdrawn)."""


class WordingBlocked(Exception):
    """The note has phrasing that must be fixed (legal), or tone not yet confirmed."""

    def __init__(self, findings: list[Finding], must_fix: bool):
        self.findings, self.must_fix = findings, must_fix
        super().__init__(
            "Fix the flagged phrases before sending."
            if must_fix
            else "Confirm that you want to send the note despite the tone findings."
        )


class TooLateToUndo(Exception):
    """The note has been handed to the mail worker (or was already cancelled)."""


# --- "Leave the door open" -------------------------------------------------------------------


def leave_door_open(candidate: Candidate) -> bool:
    """Whether the note may say the door stays open: only when it is true.

    True when the candidate is in the silver-medalist pool with consent given and current;
    a pending consent request is not yet an open door.
    """
    entry = candidate.pool_entry
    return entry is not None and is_referable(entry)


def closing_sentence(candidate: Candidate) -> str:
    """The note's last sentence: an open door only when it is true, else a neutral close."""
    return OPEN_DOOR_CLOSING if leave_door_open(candidate) else NEUTRAL_CLOSING


# --- Templates, reasons, stage defaults --------------------------------------------------------


def placeholder_values(application: Application, manager: User) -> dict[str, str]:
    """The values of the fixed placeholders for one application: plain strings only."""
    candidate = application.candidate
    return {
        "candidate_first_name": candidate.first_name,
        "candidate_name": candidate.name,
        "opening_title": application.opening.title,
        "manager_name": manager.name,
        "company": current_app.config["COMPANY_NAME"],
        "closing": closing_sentence(candidate),
    }


def fill_template(
    template: RejectionTemplate, application: Application, manager: User
) -> tuple[str, str]:
    """The template's subject and body filled in for this application."""
    values = placeholder_values(application, manager)
    return fill_placeholders(template.subject, values), fill_placeholders(template.body, values)


def active_templates() -> list[RejectionTemplate]:
    return list(
        db.session.scalars(
            select(RejectionTemplate)
            .where(RejectionTemplate.active)
            .order_by(RejectionTemplate.name)
        )
    )


def active_reasons() -> list[ReasonCode]:
    return list(
        db.session.scalars(
            select(ReasonCode).where(ReasonCode.active).order_by(ReasonCode.group, ReasonCode.label)
        )
    )


def stage_default(stage: Stage) -> tuple[RejectionTemplate | None, ReasonCode | None]:
    """The default template and reason for a rejection at ``stage`` (active ones only)."""
    default = db.session.get(StageDefault, stage)
    template = default.template if default else None
    reason = default.reason_code if default else None
    if template is None or not template.active:
        suiting = [t for t in active_templates() if stage in t.stage_list]
        template = suiting[0] if suiting else next(iter(active_templates()), None)
    if reason is not None and not reason.active:
        reason = None
    return template, reason


def save_template(template: RejectionTemplate, **values) -> RejectionTemplate:
    """Create or update a template; unknown placeholders or stray braces are refused."""
    problems = check_placeholders(values["subject"]) + check_placeholders(values["body"])
    if problems:
        raise PlaceholderError(" ".join(dict.fromkeys(problems)))
    for name, value in values.items():
        setattr(template, name, value)
    db.session.add(template)
    db.session.flush()
    return template


def save_reason(reason: ReasonCode, **values) -> ReasonCode:
    for name, value in values.items():
        setattr(reason, name, value)
    db.session.add(reason)
    db.session.flush()
    return reason


def set_stage_default(stage: Stage, template_id: int | None, reason_code_id: int | None) -> None:
    """Set the stage's default; an id of no template or reason (a forged form) sets none."""
    default = db.session.get(StageDefault, stage) or StageDefault(stage=stage)
    default.template = db.session.get(RejectionTemplate, template_id) if template_id else None
    default.reason_code = db.session.get(ReasonCode, reason_code_id) if reason_code_id else None
    db.session.add(default)
    db.session.flush()


# --- Composing and checking ---------------------------------------------------------------


@dataclass
class Draft:
    """A note ready to be checked and sent: placeholders filled, findings known."""

    subject: str
    body: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def must_fix(self) -> list[Finding]:
        return blocking(self.findings)

    @property
    def to_confirm(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocking]


def prepare_note(
    application: Application,
    manager: User,
    subject: str,
    body: str,
    checked: dict[str, list[Finding]] | None = None,
) -> Draft:
    """Fill any placeholders left in the note (refusing unknown ones) and check its words.

    ``checked``: findings of texts checked before in the same batch, by text. The check is a
    function of the filled text alone, so a note identical to an earlier one (same template,
    same first name) has the same findings without searching it again.
    """
    values = placeholder_values(application, manager)
    subject = fill_placeholders(subject.strip(), values)
    body = fill_placeholders(body.strip(), values)
    if checked is None:
        return Draft(subject=subject, body=body, findings=check_note(body))
    if body not in checked:
        checked[body] = check_note(body)
    return Draft(subject=subject, body=body, findings=list(checked[body]))


def rules() -> Rules:
    return Rules.from_config(current_app.config)


def schedule_for(
    application: Application, now: datetime | None = None, timing: Rules | None = None
) -> Schedule:
    """When a rejection of this application made now would go out (``timing``: ``rules()``)."""
    return schedule(
        now or utcnow(), application.applied_at, application.candidate.timezone, timing or rules()
    )


# --- Rejecting, one and many ------------------------------------------------------------------


def lock_application(application: Application) -> Application:
    """Re-read the application under a row lock (PostgreSQL) or the write lock (SQLite)."""
    db.session.refresh(application, with_for_update=True)
    return application


def check_rejectable(application: Application) -> None:
    if application.stage == Stage.REJECTED:
        raise AlreadyRejected(f"{application.candidate.name} was already rejected.")
    if not application.stage.is_active:
        raise NotRejectable(f"{application.candidate.name} is {application.stage.value}.")


def check_wording(draft: Draft, confirm_tone: bool) -> None:
    if draft.must_fix:
        raise WordingBlocked(draft.findings, must_fix=True)
    if draft.to_confirm and not confirm_tone:
        raise WordingBlocked(draft.findings, must_fix=False)


def _record_rejection(
    application: Application,
    author: User,
    draft: Draft,
    internal_reason: str,
    reason: ReasonCode,
    template: RejectionTemplate | None,
    now: datetime,
) -> Rejection:
    """The stage change, the rejection and its scheduled note (``_record_many`` for bulk)."""
    previous = application.stage
    db.session.add(
        StageChange(
            application=application,
            from_stage=previous,
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
        subject=draft.subject,
        body=draft.body,
        internal_reason=internal_reason.strip(),
        reason_code=reason,
        template=template,
        previous_stage=previous,
        created_at=now,
    )
    db.session.add(rejection)
    when = schedule_for(application, now)
    rejection.message = queue_rejection_note(rejection, send_after=when.send_at)
    return rejection


def reject_application(
    application: Application,
    author: User,
    subject: str,
    body: str,
    internal_reason: str = "",
    *,
    reason: ReasonCode,
    template: RejectionTemplate | None = None,
    confirm_tone: bool = False,
) -> Rejection:
    """Reject once: check the words, record the reason, move the stage, schedule the note."""
    lock_application(application)
    check_rejectable(application)
    draft = prepare_note(application, author, subject, body)
    check_wording(draft, confirm_tone)
    rejection = _record_rejection(
        application, author, draft, internal_reason, reason, template, utcnow()
    )
    db.session.flush()
    record_event(
        author,
        "rejection.scheduled",
        rejection,
        application_id=application.id,
        reason_code=reason.label,
        send_after=rejection.message.send_after.isoformat(),
    )
    return rejection


@dataclass
class BulkResult:
    """What happened to one application in a bulk rejection."""

    application: Application
    outcome: str  # "scheduled", "blocked", "to_confirm", "skipped", "refused"
    message: str
    findings: list[Finding] = field(default_factory=list)
    rejection: Rejection | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "scheduled"

    def as_row(self) -> dict:
        """Plain values for the result page, read before the commit expires the objects."""
        return {
            "application_id": self.application.id,
            "name": self.application.candidate.name,
            "outcome": self.outcome,
            "ok": self.ok,
            "message": self.message,
            "phrases": [f.phrase for f in self.findings],
            "rejection_id": self.rejection.id if self.rejection else None,
        }


def load_for_bulk(opening: Opening, application_ids: list[int], lock: bool = False):
    """The opening's applications among ``application_ids``, with candidates, in one query."""
    query = (
        select(Application)
        .where(Application.opening_id == opening.id, Application.id.in_(application_ids))
        .options(selectinload(Application.candidate).selectinload(Candidate.pool_entry))
        .order_by(Application.id)
    )
    if lock:
        # Re-read rows already in the session: another request may have rejected one since.
        query = query.with_for_update(of=Application).execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def bulk_draft(
    application: Application,
    author: User,
    subject: str,
    body: str,
    personal: str = "",
    checked: dict[str, list[Finding]] | None = None,
) -> Draft:
    """One candidate's note: the shared text with their values and an optional personal line."""
    if personal.strip():
        first, sep, rest = body.partition("\n\n")
        body = f"{first}\n\n{personal.strip()}{sep}{rest}" if sep else f"{body}\n\n{personal}"
    return prepare_note(application, author, subject, body, checked)


@dataclass
class _Planned:
    """A bulk rejection that passed every check, waiting to be written with the others."""

    result: BulkResult
    draft: Draft
    message: dict


def bulk_reject(
    applications: list[Application],
    author: User,
    subject: str,
    body: str,
    *,
    reason: ReasonCode,
    template: RejectionTemplate | None = None,
    internal_reason: str = "",
    personal: dict[int, str] | None = None,
    confirm_tone: bool = False,
) -> list[BulkResult]:
    """Reject many applications of one opening in one transaction; a result for each.

    A note with legal findings (or unconfirmed tone) is not sent and its application stays
    where it is, as does one whose candidate may not be contacted; the others are scheduled.
    Every check runs before anything is written, then the stage changes, rejections and
    messages are inserted a few statements per table (see ``_record_many``).
    """
    personal = personal or {}
    now, timing, domain = utcnow(), rules(), sender_domain()
    checked: dict[str, list[Finding]] = {}
    rendered: dict[tuple[str, str], tuple[str, str]] = {}
    by_name = note_reads("candidate_name")
    results, planned = [], []
    for application in applications:
        try:
            check_rejectable(application)
            draft = bulk_draft(
                application, author, subject, body, personal.get(application.id, ""), checked
            )
            check_wording(draft, confirm_tone)
            candidate = application.candidate
            key = (draft.body, candidate.name if by_name else "")
            if key not in rendered:  # the same words (to the same name) render the same
                rendered[key] = render_note(draft.body, candidate)
            send_at = schedule_for(application, now, timing).send_at
            message = message_row(
                candidate.email,
                draft.subject,
                *rendered[key],
                candidate=candidate,
                send_after=send_at,
                domain=domain,
            )
        except (AlreadyRejected, NotRejectable) as error:
            results.append(BulkResult(application, "skipped", str(error)))
        except WordingBlocked as error:
            outcome = "blocked" if error.must_fix else "to_confirm"
            results.append(BulkResult(application, outcome, str(error), error.findings))
        except (ContactRefused, PlaceholderError, HeaderInjection) as error:
            results.append(BulkResult(application, "refused", str(error)))
        else:
            result = BulkResult(application, "scheduled", f"Scheduled for {send_at:%a %H:%M} UTC.")
            results.append(result)
            planned.append(_Planned(result, draft, message))
    _record_many(planned, author, internal_reason.strip(), reason, template, now)
    db.session.flush()
    if planned:
        record_event(
            author,
            "rejection.bulk_scheduled",
            applications[0].opening,
            count=len(planned),
            reason_code=reason.label,
        )
    return results


def _record_many(
    planned: list[_Planned],
    author: User,
    internal_reason: str,
    reason: ReasonCode,
    template: RejectionTemplate | None,
    now: datetime,
) -> None:
    """What ``_record_rejection`` does for one, for many: batched inserts, no per-row flush.

    The messages first (a rejection points at its message), then the rejections, found again
    by application (one each), then the stage changes, then the applications' new stage (one
    UPDATE). The applications in the session are given the values written, and their
    rejections and stage history are read again when next used.
    """
    if not planned:
        return
    message_ids = queue_rows([p.message for p in planned])
    rows = []
    for p, message_id in zip(planned, message_ids, strict=True):
        application = p.result.application
        rows.append(
            {
                "application_id": application.id,
                "author_id": author.id,
                "subject": p.draft.subject,
                "body": p.draft.body,
                "internal_reason": internal_reason,
                "reason_code_id": reason.id,
                "template_id": template.id if template is not None else None,
                "previous_stage": application.stage,
                "created_at": now,
                "message_id": message_id,
            }
        )
    inserted = db.session.scalars(insert(Rejection).returning(Rejection), rows)
    by_application = {rejection.application_id: rejection for rejection in inserted}
    # Core statements on the tables: the ORM's bulk paths cost as much again in bookkeeping.
    db.session.execute(
        insert(StageChange.__table__),
        [
            {
                "application_id": row["application_id"],
                "from_stage": row["previous_stage"],
                "to_stage": Stage.REJECTED,
                "changed_by_id": author.id,
                "changed_at": now,
            }
            for row in rows
        ],
    )
    applications = Application.__table__
    db.session.execute(
        update(applications)
        .where(applications.c.id.in_([row["application_id"] for row in rows]))
        .values(stage=Stage.REJECTED, stage_changed_at=now)
    )
    for p in planned:
        application = p.result.application
        set_committed_value(application, "stage", Stage.REJECTED)
        set_committed_value(application, "stage_changed_at", now)
        db.session.expire(application, ["rejections", "stage_changes"])
        p.result.rejection = by_application[application.id]


# --- Undo ------------------------------------------------------------------------------------


def cancel_rejection(rejection: Rejection, user: User) -> Stage:
    """Undo: cancel the note and put the application back where it was; the stage returned.

    The message is cancelled with a conditional UPDATE, so a worker that claimed it a moment
    ago wins and the undo is refused.
    """
    if rejection.cancelled_at is not None or rejection.message is None:
        raise TooLateToUndo("This rejection was already undone.")
    if not cancel_message(rejection.message):
        raise TooLateToUndo(
            f"The note to {rejection.application.candidate.name} is already on its way."
        )
    return _undo(rejection, user, "rejection.undone")


def _undo(rejection: Rejection, user: User, action: str) -> Stage:
    application = rejection.application
    previous = rejection.previous_stage or Stage.APPLIED
    now = utcnow()
    rejection.cancelled_at = now
    if application.stage == Stage.REJECTED:
        db.session.add(
            StageChange(
                application=application,
                from_stage=Stage.REJECTED,
                to_stage=previous,
                changed_by=user,
                changed_at=now,
            )
        )
        application.stage = previous
        application.stage_changed_at = now
    db.session.flush()
    record_event(user, action, rejection, application_id=application.id, back_to=previous.value)
    record_event(user, "message.cancelled", rejection.message, rejection_id=rejection.id)
    # A pool tag made with the note never reached the candidate either: take it back too.
    discard_unanswered_tag(application, rejection.created_at, user)
    return previous


def cancel_pending_rejection(application: Application, user: User | None) -> bool:
    """Cancel the application's scheduled note, if any (the stage is moved by the caller)."""
    rejection = application.rejection
    if rejection is None or rejection.cancelled_at is not None or rejection.message is None:
        return False
    if not cancel_message(rejection.message):
        return False
    rejection.cancelled_at = utcnow()
    db.session.flush()
    record_event(user, "rejection.cancelled_by_move", rejection, application_id=application.id)
    record_event(user, "message.cancelled", rejection.message, rejection_id=rejection.id)
    return True


def cancel_pending_for_candidate(candidate: Candidate, user: User | None) -> int:
    """Cancel every scheduled note to a candidate (erased, or marked do-not-contact); how many.

    The erasure and do-not-contact features call this; the application stays rejected.
    """
    rejections = db.session.scalars(
        select(Rejection)
        .join(Rejection.application)
        .where(Application.candidate_id == candidate.id, Rejection.cancelled_at.is_(None))
    )
    return sum(cancel_pending_rejection(r.application, user) for r in rejections)


def pending_rejections_query(openings: Select) -> Select:
    """Rejections whose note is still waiting in the outbox, soonest first."""
    return (
        select(Rejection)
        .join(Rejection.message)
        .join(Rejection.application)
        .where(
            Rejection.cancelled_at.is_(None),
            OutboxMessage.status == MessageStatus.QUEUED,
            Application.opening_id.in_(openings.with_only_columns(Opening.id)),
        )
        .options(selectinload(Rejection.application).selectinload(Application.candidate))
        .order_by(OutboxMessage.send_after, Rejection.id)
    )


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


# --- No ghosting -----------------------------------------------------------------------------


def decision_medians(
    user: User, owner_id: int | None = None
) -> tuple[dict[int, tuple[float, int]], datetime]:
    """The median days to a decision (see below) of the managers whose openings ``user``
    sees (``owner_id``'s only, when given), and when it was computed.

    It reads a year of stage history, so it is a cached figure for every manager at once:
    computed at most every ``FIGURES_MAX_AGE_SECONDS`` and shared by every app process.
    """
    value, at = cached_figure(
        "decision-medians",
        lambda: {str(k): v for k, v in median_days_to_decision(select(Opening)).items()},
    )
    owner = owner_in_view(user, owner_id)
    medians = {int(k): (median, n) for k, (median, n) in value.items()}
    return {k: v for k, v in medians.items() if owner is None or k == owner}, at


def median_days_to_decision(
    openings: Select, since: datetime | None = None
) -> dict[int, tuple[float, int]]:
    """Per manager (owner id): the median days from reaching final to the next decision.

    A decision is the move out of final (offer, hired, rejected, withdrawn, or back). Reads the
    stage history of the last year, bounded, and computes the median in Python.
    """
    since = since or utcnow() - timedelta(days=365)
    rows = db.session.execute(
        select(
            Opening.owner_id,
            StageChange.application_id,
            StageChange.from_stage,
            StageChange.to_stage,
            StageChange.changed_at,
        )
        .join(Application, Application.id == StageChange.application_id)
        .join(Opening, Opening.id == Application.opening_id)
        .where(
            Opening.id.in_(openings.with_only_columns(Opening.id)),
            StageChange.changed_at >= since,
            (StageChange.to_stage == Stage.FINAL) | (StageChange.from_stage == Stage.FINAL),
        )
        .order_by(StageChange.application_id, StageChange.changed_at, StageChange.id)
        .limit(100_000)
    )
    reached: dict[int, datetime] = {}
    waits: dict[int, list[float]] = defaultdict(list)
    for owner_id, application_id, from_stage, to_stage, at in rows:
        if to_stage == Stage.FINAL:
            reached.setdefault(application_id, at)
        elif from_stage == Stage.FINAL and application_id in reached:
            start = reached.pop(application_id)
            waits[owner_id].append((at - start).total_seconds() / 86400)
    return {owner: (statistics.median(days), len(days)) for owner, days in waits.items()}
