"""The audit log keeps one short line of facts per event."""

import json

from sqlalchemy import select

from recruiter.audit.services import record_event
from recruiter.extensions import db
from recruiter.models import AuditEvent, Candidate, User


def test_event_names_actor_action_and_target(app):
    with app.app_context():
        actor = db.session.scalar(select(User).limit(1))
        candidate = Candidate(name="Ada Lovelace", email="ada@example.com")
        db.session.add(candidate)
        db.session.flush()
        record_event(
            actor,
            "candidate.marked_do_not_contact",
            candidate,
            reason="asked\nnot to be contacted\r\nBcc: x",
            count=2,
        )
        db.session.commit()
        event = db.session.scalar(select(AuditEvent))
        assert (event.actor_id, event.action) == (actor.id, "candidate.marked_do_not_contact")
        assert (event.target_type, event.target_id) == ("candidate", candidate.id)
        details = json.loads(event.details)
        assert details == {"count": 2, "reason": "asked not to be contacted Bcc: x"}
        assert "\n" not in event.details
