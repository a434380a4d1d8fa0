"""Typed SQLAlchemy 2.0 models: users, openings, candidates, applications, rejections, outbox."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always read back timezone-aware.

    SQLite keeps no zone, PostgreSQL's ``timestamp`` neither; normalising here means
    comparisons and arithmetic behave the same on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A portable VARCHAR enum column storing the members' values."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    MANAGER = "manager"
    RECRUITER = "recruiter"
    ADMIN = "admin"


class OpeningStatus(enum.StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"


class Stage(enum.StrEnum):
    APPLIED = "applied"
    SCREEN = "screen"
    INTERVIEW = "interview"
    FINAL = "final"
    OFFER = "offer"
    HIRED = "hired"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_active(self) -> bool:
        """True while a decision is still to be made."""
        return self not in (Stage.HIRED, Stage.REJECTED, Stage.WITHDRAWN)

    @property
    def label(self) -> str:
        return self.value.capitalize()


ACTIVE_STAGES = [s for s in Stage if s.is_active]


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.MANAGER)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    # Bumped on sign-out and password change: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    openings: Mapped[list[Opening]] = relationship(back_populates="owner")

    def set_password(self, password: str) -> None:
        """Hash with PASSWORD_HASH_METHOD (PBKDF2-SHA256 at 600,000 rounds: OWASP ASVS 5.0)."""
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Flask-Login's session id: the user and the session generation."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def sees_everything(self) -> bool:
        """Recruiters and admins see every opening; managers only their own."""
        return self.role in (Role.RECRUITER, Role.ADMIN)


class Opening(db.Model):
    __tablename__ = "opening"
    __table_args__ = (
        # The desk's newest open openings, for a manager and for the whole team (issue 8).
        Index("ix_opening_owner_status_created", "owner_id", "status", "created_at"),
        Index("ix_opening_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(120), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[OpeningStatus] = mapped_column(
        str_enum(OpeningStatus), default=OpeningStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship(back_populates="openings")
    applications: Mapped[list[Application]] = relationship(back_populates="opening")


class Candidate(db.Model):
    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Do-not-contact: asked not to be contacted, or abusive. Nothing may reach them.
    do_not_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    do_not_contact_reason: Mapped[str] = mapped_column(Text, default="")
    do_not_contact_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # A permanent delivery failure: no further mail until the address is corrected.
    email_bouncing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the receiving server said (issue 4), shown until the address is corrected.
    email_bouncing_reason: Mapped[str] = mapped_column(Text, default="")
    # Personal data removed on request or by retention; the row stays for anonymous counts.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    applications: Mapped[list[Application]] = relationship(back_populates="candidate")
    # Read-only: the pool owns its entries. Lets lists load entries with their candidates.
    pool_entry: Mapped[SilverMedalist | None] = relationship(viewonly=True, uselist=False)

    @property
    def do_not_contact(self) -> bool:
        return self.do_not_contact_at is not None

    @property
    def contactable(self) -> bool:
        """Whether any message may be sent to this candidate at all."""
        return not (self.do_not_contact or self.email_bouncing_at or self.erased_at)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class Application(db.Model):
    __tablename__ = "application"
    __table_args__ = (
        UniqueConstraint("candidate_id", "opening_id"),
        Index("ix_application_opening_stage", "opening_id", "stage"),
        # Decisions waiting, oldest first, one stage at a time; holds the opening so rows of
        # other managers' openings are skipped without reading them (issue 8).
        Index("ix_application_stage_changed", "stage", "stage_changed_at", "opening_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage), default=Stage.APPLIED)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    candidate: Mapped[Candidate] = relationship(back_populates="applications")
    opening: Mapped[Opening] = relationship(back_populates="applications")
    stage_changes: Mapped[list[StageChange]] = relationship(
        back_populates="application", order_by="StageChange.changed_at"
    )
    rejections: Mapped[list[Rejection]] = relationship(
        back_populates="application", order_by="Rejection.created_at"
    )

    @property
    def rejection(self) -> Rejection | None:
        """The latest rejection of this application, if any."""
        return self.rejections[-1] if self.rejections else None


class StageChange(db.Model):
    """One move of an application from one stage to another: the pipeline's history."""

    __tablename__ = "stage_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(str_enum(Stage))
    to_stage: Mapped[Stage] = mapped_column(str_enum(Stage))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="stage_changes")
    changed_by: Mapped[User | None] = relationship()


class Rejection(db.Model):
    """The note sent to a candidate for one application, and the reason kept inside."""

    __tablename__ = "rejection"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Never sent, never rendered into anything the candidate sees.
    internal_reason: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Issue 3: the template it started from, the reason code (required for new ones), and undo.
    template_id: Mapped[int | None] = mapped_column(ForeignKey("rejection_template.id"))
    reason_code_id: Mapped[int | None] = mapped_column(ForeignKey("reason_code.id"))
    previous_stage: Mapped[Stage | None] = mapped_column(str_enum(Stage))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="rejections")
    author: Mapped[User] = relationship()
    message: Mapped[OutboxMessage | None] = relationship()
    template: Mapped[RejectionTemplate | None] = relationship()
    reason_code: Mapped[ReasonCode | None] = relationship()

    @property
    def pending(self) -> bool:
        """Scheduled and not yet handed to the mail worker: it can still be undone."""
        return (
            self.cancelled_at is None
            and self.message is not None
            and self.message.status == MessageStatus.QUEUED
        )


class OutboxMessage(db.Model):
    """One email to one recipient, written with the change it reports, sent by the worker."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_send_after", "status", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus), default=MessageStatus.QUEUED
    )
    # Set once, at creation: a retry carries the same Message-ID.
    message_id_header: Mapped[str] = mapped_column(String(255), unique=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # "smtp" or "mailbox" (the development mailbox), recorded when sent.
    transport: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the worker last tried (issue 4): the delivery-problems page sorts by it.
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidate: Mapped[Candidate | None] = relationship()


class AuditEvent(db.Model):
    """Who did what to which record, and when. Never note bodies or passwords."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # e.g. "rejection.sent", "user.signed_in", "candidate.erased"
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    # Short, single-line facts as JSON text (no note bodies, no passwords).
    details: Mapped[str] = mapped_column(Text, default="{}")

    actor: Mapped[User | None] = relationship()


# --- Pool (issue 5) ---


class ConsentState(enum.StrEnum):
    PENDING = "pending"
    GIVEN = "given"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return "consent pending" if self is ConsentState.PENDING else self.value.capitalize()


class Seniority(enum.StrEnum):
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"
    LEAD = "lead"
    PRINCIPAL = "principal"

    @property
    def label(self) -> str:
        return "Mid-level" if self is Seniority.MID else self.value.capitalize()


silver_medalist_skill = db.Table(
    "silver_medalist_skill",
    db.Column(
        "silver_medalist_id",
        ForeignKey("silver_medalist.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    db.Column("skill_id", ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True),
    # Entries with a skill, newest first, from the index alone (the pool's matches, issue 8).
    Index("ix_silver_medalist_skill_skill", "skill_id", "silver_medalist_id"),
)


class Skill(db.Model):
    """One word of the shared skills vocabulary, stored normalised (lower case, single spaces)."""

    __tablename__ = "skill"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class SilverMedalist(db.Model):
    """A strong runner-up kept in the pool, with consent, a vouching manager and a cadence."""

    __tablename__ = "silver_medalist"
    __table_args__ = (
        # The role families in use (an index skip per family) and the best rated consented
        # entries of a family, for the matches (issue 8).
        Index("ix_silver_medalist_family_consent_rating", "role_family", "consent_state", "rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), unique=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    opening_id: Mapped[int | None] = mapped_column(ForeignKey("opening.id"), index=True)
    stage_reached: Mapped[Stage] = mapped_column(str_enum(Stage), default=Stage.INTERVIEW)
    vouched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    strengths: Mapped[str] = mapped_column(Text, default="")
    role_family: Mapped[str] = mapped_column(String(80), default="")
    seniority: Mapped[Seniority | None] = mapped_column(str_enum(Seniority))
    locations: Mapped[str] = mapped_column(String(200), default="")
    rating: Mapped[int] = mapped_column(Integer, default=3)
    consent_state: Mapped[ConsentState] = mapped_column(
        str_enum(ConsentState), default=ConsentState.PENDING, index=True
    )
    consent_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    roles_of_interest: Mapped[str] = mapped_column(Text, default="")
    cadence_months: Mapped[int] = mapped_column(Integer, default=3)
    next_touch_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A reply from the candidate pauses the cadence until someone logs a touch.
    paused: Mapped[bool] = mapped_column(default=False)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Strengths, skills, roles of interest and touch notes in one text, for the full-text index.
    search_document: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    candidate: Mapped[Candidate] = relationship()
    application: Mapped[Application | None] = relationship()
    opening: Mapped[Opening | None] = relationship()
    vouched_by: Mapped[User | None] = relationship()
    skills: Mapped[list[Skill]] = relationship(
        secondary=silver_medalist_skill, order_by="Skill.name"
    )
    touches: Mapped[list[Touch]] = relationship(
        back_populates="entry", order_by="Touch.at.desc()", cascade="all, delete-orphan"
    )

    @property
    def in_pool(self) -> bool:
        """Pending or given: still part of the pool (declined, withdrawn, expired are not)."""
        return self.consent_state in (ConsentState.PENDING, ConsentState.GIVEN)


# The follow-ups due, replies first then the longest overdue (pool.services.due_follow_ups),
# walked in that order and stopped at the page's end: the team's and each manager's (issue 8).
Index("ix_silver_medalist_follow_up", SilverMedalist.paused.desc(), SilverMedalist.next_touch_due)
Index(
    "ix_silver_medalist_vouched_follow_up",
    SilverMedalist.vouched_by_id,
    SilverMedalist.paused.desc(),
    SilverMedalist.next_touch_due,
)


class Touch(db.Model):
    """One keep-in-touch contact with a pooled candidate: a call, a message, a coffee."""

    __tablename__ = "touch"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("silver_medalist.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    note: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[SilverMedalist] = relationship(back_populates="touches")
    user: Mapped[User | None] = relationship()
    message: Mapped[OutboxMessage | None] = relationship()


# --- Referrals (issue 6) ---


class ReferralStatus(enum.StrEnum):
    PENDING_CANDIDATE = "pending_candidate"
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            ReferralStatus.PENDING_CANDIDATE: "Waiting for the candidate",
            ReferralStatus.PENDING: "Waiting for the hiring manager",
        }.get(self, self.value.capitalize())

    @property
    def is_open(self) -> bool:
        return self in (ReferralStatus.PENDING_CANDIDATE, ReferralStatus.PENDING)


class Referral(db.Model):
    """One manager handing a pooled candidate to another manager's opening, with a note."""

    __tablename__ = "referral"
    # A candidate is referred to one opening at most once.
    __table_args__ = (UniqueConstraint("candidate_id", "opening_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("silver_medalist.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), index=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("opening.id"), index=True)
    from_manager_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The rejected application the referral was made from, when it was.
    source_application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    # Why the referrer thinks they fit; read by the receiving manager, never by the candidate.
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[ReferralStatus] = mapped_column(
        str_enum(ReferralStatus), default=ReferralStatus.PENDING, index=True
    )
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # The application created (or found) in the opening when the referral was accepted.
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the receiving manager first sees it: at once, or once the candidate agreed.
    introduced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[SilverMedalist] = relationship()
    candidate: Mapped[Candidate] = relationship()
    opening: Mapped[Opening] = relationship()
    from_manager: Mapped[User] = relationship(foreign_keys=[from_manager_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    source_application: Mapped[Application | None] = relationship(
        foreign_keys=[source_application_id]
    )
    application: Mapped[Application | None] = relationship(foreign_keys=[application_id])
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )

    @property
    def hired_at(self) -> datetime | None:
        """When the application the referral created reached hired, read from its history."""
        if self.application is None:
            return None
        hires = [c.changed_at for c in self.application.stage_changes if c.to_stage == Stage.HIRED]
        return hires[0] if hires else None


class ReferralEvent(db.Model):
    """One step in a referral's history: made, asked, candidate agreed, accepted, declined."""

    __tablename__ = "referral_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


# --- Rejection templates, reason codes and stage defaults (issue 3) ---


class ReasonGroup(enum.StrEnum):
    WE_DECIDED = "we_decided"
    CANDIDATE_WITHDREW = "candidate_withdrew"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "we_decided": "We decided",
            "candidate_withdrew": "The candidate withdrew",
            "other": "Other",
        }[self.value]


class RejectionTemplate(db.Model):
    """A reviewed note a rejection starts from; placeholders are a small fixed set."""

    __tablename__ = "rejection_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Comma-separated stage values this template suits, e.g. "applied,screen".
    stages: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def stage_list(self) -> list[Stage]:
        return [Stage(s) for s in self.stages.split(",") if s]


class ReasonCode(db.Model):
    """Why an application was closed, for the company's own counts; never sent."""

    __tablename__ = "reason_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(120), unique=True)
    group: Mapped[ReasonGroup] = mapped_column(str_enum(ReasonGroup), default=ReasonGroup.OTHER)
    active: Mapped[bool] = mapped_column(default=True)


class StageDefault(db.Model):
    """The template and reason a rejection at this stage starts with."""

    __tablename__ = "rejection_stage_default"

    stage: Mapped[Stage] = mapped_column(str_enum(Stage), primary_key=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("rejection_template.id"))
    reason_code_id: Mapped[int | None] = mapped_column(ForeignKey("reason_code.id"))

    template: Mapped[RejectionTemplate | None] = relationship()
    reason_code: Mapped[ReasonCode | None] = relationship()


# --- Security and privacy (issue 7) ---


class SignInFailure(db.Model):
    """One failed sign-in, counted per account and per client address to throttle guessing.

    Kept in the database, so every app process counts the same attempts. The account is
    stored as a keyed hash of the address typed, so unknown accounts are counted alike and
    the table does not collect what strangers typed.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_account_at", "account_key", "at"),
        Index("ix_sign_in_failure_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalHold(db.Model):
    """A candidate whose data must be kept (a dispute, a claim): retention skips them."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    candidate: Mapped[Candidate] = relationship()
    set_by: Mapped[User | None] = relationship()


# --- Speed at scale (issue 8) ---


class CachedFigure(db.Model):
    """A figure that is costly to compute and may be a few minutes old: a median over a
    year of history, say. Kept in the database so every app process shares one copy."""

    __tablename__ = "cached_figure"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
