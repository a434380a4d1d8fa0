"""Recording audit events. Flush, never commit: the event lands with the change it reports."""

from __future__ import annotations

import json

from sqlalchemy import Select, select

from ..extensions import db
from ..models import AuditEvent, User

MAX_DETAIL_LENGTH = 200


def clean_detail(value: object) -> object:
    """Numbers and booleans as they are; text on one line and short."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = " ".join(str(value).split())
    return text[:MAX_DETAIL_LENGTH]


def record_event(
    actor: User | None, action: str, target: object | None = None, **details: object
) -> AuditEvent:
    """Add one audit event for ``action`` on ``target`` (a model instance) by ``actor``.

    Pass only short facts as details (ids, states, reason codes), never a note's body or a
    password: the log is read by admins and kept longer than personal data.
    """
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=type(target).__tablename__ if target is not None else "",
        target_id=getattr(target, "id", None),
        details=json.dumps({k: clean_detail(v) for k, v in details.items()}, sort_keys=True),
    )
    db.session.add(event)
    db.session.flush()
    return event


def audit_query(action: str | None = None, actor_id: int | None = None) -> Select:
    """Audit events, newest first, optionally of one action or by one actor."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    return query


def known_actions() -> list[str]:
    """Every action recorded so far, for the filter."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by("action")))


def one_line(details: str) -> str:
    """The details as one line of ``key=value`` text, whatever a value contained."""
    try:
        facts = json.loads(details)
    except ValueError:
        return " ".join(details.split())
    if not isinstance(facts, dict):
        return " ".join(str(facts).split())
    return " ".join(f"{k}={' '.join(str(v).split())}" for k, v in facts.items())
