"""One access rule for every route: another manager's objects are 404, and nothing changes."""

import re

import pytest
from sqlalchemy import select

from recruiter.extensions import db
from recruiter.models import (
    Application,
    Candidate,
    Opening,
    OutboxMessage,
    Referral,
    Rejection,
    SilverMedalist,
    Stage,
    User,
    utcnow,
)

# Settings kept by recruiters and admins: a manager gets 404 (checked in the first test).
RECRUITER_ONLY = ("rejection_settings.",)
PUBLIC_ENDPOINTS = {"static", "auth.login", "desk.home", "bootstrap.static"}
# Candidate-facing pages (signed links, no sign-in) live in the `public` blueprint.
PUBLIC_BLUEPRINTS = ("public.",)


def snapshot(app) -> list:
    """Everything a forbidden request could change."""
    with app.app_context():
        rows = []
        for model in (Application, Candidate, OutboxMessage, User):
            for obj in db.session.scalars(select(model).order_by(model.id)):
                rows.append(
                    {
                        c.name: getattr(obj, c.key, None)
                        for c in model.__table__.columns
                        if c.name not in ("session_version",)
                    }
                )
        return rows


@pytest.fixture
def ids_of_maria(app, pipeline) -> dict:
    """Ids of objects that belong to Maria, keyed by URL argument name."""
    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        message = OutboxMessage(
            recipient=application.candidate.email,
            subject="s",
            text_body="t",
            message_id_header="<x@y>",
            transport="mailbox",
            candidate_id=application.candidate_id,
            sent_at=utcnow(),
            status="sent",
        )
        entry = SilverMedalist(
            candidate_id=application.candidate_id,
            application_id=application.id,
            opening_id=application.opening_id,
            vouched_by_id=application.opening.owner_id,
            strengths="Clear thinker",
        )
        # A recruiter referred the pooled candidate to another of Maria's openings.
        second = Opening(title="Platform Lead", owner_id=application.opening.owner_id)
        referral = Referral(
            entry=entry,
            candidate_id=application.candidate_id,
            opening=second,
            from_manager=db.session.scalar(select(User).where(User.role == "recruiter")),
            note="Strong systems thinker",
            status="pending",
            introduced_at=utcnow(),
        )
        db.session.add_all([message, entry, second, referral])
        pending = OutboxMessage(
            recipient=application.candidate.email,
            subject="s",
            text_body="t",
            message_id_header="<pending@y>",
            candidate_id=application.candidate_id,
        )
        rejection = Rejection(
            application=application,
            author_id=application.opening.owner_id,
            internal_reason="",
            subject="s",
            body="b",
            message=pending,
            previous_stage=Stage.INTERVIEW,
        )
        db.session.add(rejection)
        db.session.commit()
        return {
            "rejection_id": rejection.id,
            "template_id": 1,
            "reason_id": 1,
            "stage": "interview",
            "opening_id": application.opening_id,
            "application_id": application.id,
            "candidate_id": application.candidate_id,
            "message_id": message.id,
            "entry_id": entry.id,
            "referral_id": referral.id,
        }


def is_public(rule) -> bool:
    return rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith(PUBLIC_BLUEPRINTS)


def routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        if is_public(rule) or not rule.arguments:
            continue
        yield rule


def fill(rule, ids) -> str:
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"{rule.rule}: add an id for {missing} to this test"
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def test_other_manager_gets_404_everywhere(app, client, auth, ids_of_maria):
    auth.login("other_manager")
    before = snapshot(app)
    checked = 0
    for rule in routes_with_ids(app):
        url = fill(rule, ids_of_maria)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, data={"stage": "final", "title": "x"})
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
            checked += 1
    assert checked >= 8
    assert snapshot(app) == before


@pytest.mark.parametrize("who", ["manager", "recruiter", "admin"])
def test_owner_recruiter_and_admin_may_see(app, client, auth, ids_of_maria, who):
    auth.login(who)
    for rule in routes_with_ids(app):
        if who == "manager" and rule.endpoint.startswith(RECRUITER_ONLY):
            continue
        if "GET" in rule.methods:
            url = fill(rule, ids_of_maria)
            assert client.get(url).status_code == 200, url


def test_signed_out_visitors_are_sent_to_sign_in(app, client, ids_of_maria):
    for rule in app.url_map.iter_rules():
        if is_public(rule):
            continue
        url = fill(rule, ids_of_maria)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code == 302, f"{method} {url}"
            assert response.location.startswith("/login")


def test_unknown_ids_are_404(client, auth):
    auth.login("admin")
    for url in [
        "/openings/999999",
        "/candidates/999999",
        "/applications/999999/reject",
        "/mailbox/999999",
    ]:
        assert client.get(url).status_code == 404


def test_lists_show_only_my_openings(client, auth, pipeline):
    auth.login("other_manager")
    page = client.get("/openings/").get_data(as_text=True)
    assert "Designer" in page and "Backend Engineer" not in page


def test_closed_application_cannot_be_rejected(app, client, auth, pipeline):
    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        application.stage = Stage.HIRED
        db.session.commit()
    auth.login()
    response = client.get(f"/applications/{pipeline['mine']['applications'][0]}/reject")
    assert response.status_code == 302
