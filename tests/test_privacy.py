"""Export, erasure, legal holds and retention of candidates' personal data (issue 7)."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from factories import USERS
from sqlalchemy import String, Text, func, select, text

from recruiter.audit.services import record_event
from recruiter.extensions import db
from recruiter.models import (
    Application,
    AuditEvent,
    Candidate,
    LegalHold,
    MessageStatus,
    Opening,
    OutboxMessage,
    Referral,
    ReferralStatus,
    Rejection,
    SilverMedalist,
    Stage,
    StageChange,
    User,
    utcnow,
)
from recruiter.outbox.services import queue_message
from recruiter.pool.services import give_consent, log_touch, tag_silver_medalist
from recruiter.privacy import registry
from recruiter.referrals.services import CLOSE_REASONS, refer

NAME, EMAIL, PHONE = "Zebulon Quartermaine", "zeb.quartermaine@example.org", "+49 30 5550199"
# The full-text index stores words stemmed and lower-cased: "quartermaine" as "quartermain".
SECRETS = ["Zebulon", "Quartermain", "zeb.quartermaine", "5550199", "Lisbon"]
STRENGTHS = f"{NAME} explains trade-offs in Rust better than anyone"
TOUCH_NOTE = "Coffee with Zebulon in Lisbon; call him on 5550199 in spring"
REFERRAL_NOTE = f"{NAME} would be a superb fit for your design systems work"


@pytest.fixture
def zeb(app, client, auth, pipeline):
    """A candidate with a rejection sent, a message pending and an audit event naming them."""
    with app.app_context():
        opening = db.session.get(Opening, pipeline["mine"]["opening"])
        candidate = Candidate(name=NAME, email=EMAIL, phone=PHONE, location="Lisbon")
        application = Application(candidate=candidate, opening=opening, stage=Stage.FINAL)
        db.session.add_all(
            [candidate, application, StageChange(application=application, to_stage=Stage.APPLIED)]
        )
        db.session.commit()
        ids = {"candidate": candidate.id, "application": application.id}
    auth.login()
    response = client.post(
        f"/applications/{ids['application']}/reject",
        data={
            "subject": "Your application",
            "body": f"Dear Zebulon,\n\nThank you for your time, {NAME}.\n\nMaria",
            "internal_reason": "Zebulon lacked depth in Rust",
            "reason_code_id": "1",
            "send": "Send",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        candidate = db.session.get(Candidate, ids["candidate"])
        maria = db.session.scalar(select(User).where(User.email == USERS["manager"][0]))
        queue_message(
            EMAIL,
            "Keeping in touch",
            "Hi Zebulon, how are you?",
            "<p>Hi Zebulon</p>",
            candidate=candidate,
            send_after=utcnow() + timedelta(days=3),
        )
        record_event(maria, "test.mentions", candidate, note=f"called {NAME} at {PHONE}")
        db.session.commit()
    auth.logout()
    ids.update(pool_and_refer(app, ids["application"]))
    return ids


def pool_and_refer(app, application_id: int) -> dict:
    """Maria pools the candidate (who agrees), logs a touch and refers them to Oscar."""
    app.config["REFERRALS_ASK_CANDIDATE"] = False  # Oscar is told at once: a notice names them
    with app.test_request_context():
        application = db.session.get(Application, application_id)
        maria = application.opening.owner
        entry = tag_silver_medalist(
            application,
            maria,
            strengths=STRENGTHS,
            skills=["rust", "api design"],
            locations="Lisbon or remote",
            ask_consent=False,
        )
        give_consent(entry, roles_of_interest="Staff engineer near Lisbon")
        log_touch(entry, maria, "coffee", TOUCH_NOTE)
        designer = db.session.scalar(select(Opening).where(Opening.title == "Designer"))
        referral = refer(entry, designer, maria, REFERRAL_NOTE)
        db.session.commit()
        return {"entry": entry.id, "referral": referral.id}


def every_table_text(app) -> dict[str, list[str]]:
    """Every text and blob value of every table in the SQLite file, by table: the models'
    tables and the rest (the full-text index and its shadow tables, whose blobs hold the
    indexed words)."""
    values: dict[str, list[str]] = {}
    with app.app_context():
        tables = db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        for table in list(tables):
            rows = db.session.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
            cells = [cell for row in rows for cell in row]
            values[table] = [
                cell.decode("latin-1") if isinstance(cell, bytes) else cell
                for cell in cells
                if isinstance(cell, str | bytes) and cell
            ]
    return values


def every_text_value(app) -> list[str]:
    return [value for values in every_table_text(app).values() for value in values]


def tables_mentioning(app, secrets: list[str]) -> set[str]:
    return {
        table
        for table, values in every_table_text(app).items()
        if any(s.lower() in v.lower() for v in values for s in secrets)
    }


def test_export_is_one_json_download_without_the_internal_reason(app, client, auth, zeb):
    auth.login("recruiter")
    response = client.post(f"/privacy/candidates/{zeb['candidate']}/export")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["candidate"]["name"] == NAME and data["candidate"]["phone"] == PHONE
    (application,) = data["applications"]
    assert [c["to"] for c in application["stage_changes"]] == ["applied", "rejected"]
    assert "Thank you for your time" in application["rejections_sent"][0]["note"]
    assert {m["subject"] for m in data["messages"]} == {"Your application", "Keeping in touch"}
    assert "lacked depth" not in response.get_data(as_text=True)
    pool = data["pool"]
    assert pool["consent_state"] == "given" and pool["consent_given_at"]
    assert pool["consent_expires_at"] and pool["strengths"] == STRENGTHS
    assert pool["skills"] == ["api design", "rust"] and pool["locations"] == "Lisbon or remote"
    assert pool["roles_of_interest"] == "Staff engineer near Lisbon" and pool["cadence_months"]
    assert [(t["channel"], t["note"]) for t in pool["touches"]] == [("coffee", TOUCH_NOTE)]
    (referral,) = data["referrals"]
    assert referral["opening"] == "Designer" and referral["status"] == "pending"
    assert referral["note"] == REFERRAL_NOTE and referral["created_at"]
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "candidate.exported")
        )


def test_managers_cannot_export_or_erase(client, auth, zeb):
    auth.login()
    assert client.get(f"/privacy/candidates/{zeb['candidate']}").status_code == 404
    assert client.post(f"/privacy/candidates/{zeb['candidate']}/export").status_code == 404


def test_erase_leaves_nothing_of_them_anywhere(app, client, auth, zeb):
    assert any(NAME in v for v in every_text_value(app))
    mentioning = tables_mentioning(app, SECRETS)
    assert {"silver_medalist", "touch", "referral", "outbox_message"} <= mentioning
    assert "silver_medalist_fts_data" in mentioning  # the index's words are searched too
    with app.app_context():
        counts = {
            m: db.session.scalar(select(func.count()).select_from(m))
            for m in (Application, Rejection, OutboxMessage)
        }
    auth.login("admin")
    refused = client.post(f"/privacy/candidates/{zeb['candidate']}/erase", data={"confirm": "yes"})
    assert refused.status_code == 400 and "Type ERASE" in refused.get_data(as_text=True)
    response = client.post(
        f"/privacy/candidates/{zeb['candidate']}/erase", data={"confirm": "ERASE"}
    )
    assert response.status_code == 302
    found = [v for v in every_text_value(app) for s in SECRETS if s.lower() in v.lower()]
    assert found == []
    with app.app_context():  # and full-text search no longer finds them
        for word in ("Zebulon", "Lisbon", "trade-offs"):
            hits = db.session.execute(
                text("SELECT rowid FROM silver_medalist_fts WHERE silver_medalist_fts MATCH :q"),
                {"q": f'"{word}"'},
            )
            assert hits.all() == []
        entry = db.session.get(SilverMedalist, zeb["entry"])
        assert entry.consent_state.value == "withdrawn" and not entry.skills
        assert [t.note for t in entry.touches] == [""]  # the touch still counts
        referral = db.session.get(Referral, zeb["referral"])  # closed, so Oscar no longer waits
        assert referral.note == "" and referral.status == ReferralStatus.WITHDRAWN
        assert referral.decline_reason == CLOSE_REASONS["erased"]
    with app.app_context():
        candidate = db.session.get(Candidate, zeb["candidate"])
        assert candidate.erased_at and not candidate.contactable
        assert [a.stage for a in candidate.applications] == [Stage.REJECTED]
        assert {m: db.session.scalar(select(func.count()).select_from(m)) for m in counts} == counts
        statuses = {
            m.status
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.candidate_id == candidate.id)
            )
        }
        assert MessageStatus.QUEUED not in statuses and MessageStatus.CANCELLED in statuses
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "candidate.erased"))
        assert json.loads(event.details) == {"cause": "request"}
    page = client.get(f"/privacy/candidates/{zeb['candidate']}").get_data(as_text=True)
    assert "Personal data erased" in page


def test_a_legal_hold_blocks_erasure_and_is_audited(app, client, auth, zeb):
    auth.login("recruiter")
    url = f"/privacy/candidates/{zeb['candidate']}"
    assert client.post(f"{url}/hold", data={"reason": ""}).status_code == 400
    client.post(f"{url}/hold", data={"reason": "Employment tribunal claim 2026-17"})
    assert "Employment tribunal claim" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/erase", data={"confirm": "ERASE"})
    with app.app_context():
        assert db.session.get(Candidate, zeb["candidate"]).erased_at is None
    client.post(f"{url}/release")
    client.post(f"{url}/erase", data={"confirm": "ERASE"})
    with app.app_context():
        assert db.session.get(Candidate, zeb["candidate"]).erased_at is not None
        actions = list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("candidate.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "candidate.legal_hold_set",
        "candidate.legal_hold_released",
        "candidate.erased",
    ]


def age(app, candidate_id: int, months: int, stage: Stage = Stage.REJECTED) -> None:
    """Make a candidate's data look ``months`` old, their last decision then too."""
    with app.app_context():
        candidate = db.session.get(Candidate, candidate_id)
        then = utcnow() - timedelta(days=31 * months)
        candidate.created_at = then
        for application in candidate.applications:
            application.stage, application.stage_changed_at, application.applied_at = (
                stage,
                then,
                then,
            )
        db.session.commit()


def test_purge_erases_only_those_past_retention(app, runner, pipeline):
    with app.app_context():
        ids = [
            db.session.get(Application, a).candidate_id for a in pipeline["mine"]["applications"]
        ]
        ids.append(db.session.get(Application, pipeline["theirs"]["applications"][0]).candidate_id)
    old, held, recent, still_open = ids
    age(app, old, 13)
    age(app, held, 13)
    age(app, recent, 11)
    age(app, still_open, 13, stage=Stage.FINAL)
    with app.app_context():
        db.session.add(LegalHold(candidate_id=held, reason="dispute"))
        db.session.commit()
    dry = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert f"Would erase 1 candidates past 12 months: [{old}]" in dry.output
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "Erased 1 candidates" in result.output
    assert "Erased 0 candidates" in runner.invoke(args=["privacy", "purge"]).output
    with app.app_context():
        erased = {
            c.id
            for c in db.session.scalars(select(Candidate).where(Candidate.erased_at.is_not(None)))
        }
        assert erased == {old}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "candidate.erased"))
        assert event.actor_id is None and json.loads(event.details) == {"cause": "retention"}


@pytest.mark.parametrize("config_overrides", [{"RETENTION_MONTHS": 24}])
def test_retention_period_is_configurable(app, runner, pipeline):
    with app.app_context():
        candidate_id = db.session.get(Application, pipeline["mine"]["applications"][0]).candidate_id
    age(app, candidate_id, 13)
    assert "Would erase 0" in runner.invoke(args=["privacy", "purge", "--dry-run"]).output


@pytest.fixture
def pool_hook():
    """A made-up feature plugged into the registry beside the real ones, then unplugged."""
    seen = {"erased": []}
    registry.register_privacy_hook(
        "example",
        exporter=lambda c: {"consented": c.id == seen.get("consented")},
        eraser=lambda c: seen["erased"].append(c.name),
        retains=lambda c: c.id == seen.get("consented"),
    )
    yield seen
    registry.HOOKS.pop("example")


def test_features_plug_into_export_erase_and_retention(
    app, client, auth, runner, pipeline, pool_hook
):
    with app.app_context():
        first, second, third = (
            db.session.get(Application, a).candidate_id for a in pipeline["mine"]["applications"]
        )
    for candidate_id in (first, second):
        age(app, candidate_id, 13)
    pool_hook["consented"] = first
    auth.login("admin")
    data = json.loads(client.post(f"/privacy/candidates/{first}/export").get_data(as_text=True))
    assert data["example"] == {"consented": True}
    assert f"[{second}]" in runner.invoke(args=["privacy", "purge", "--dry-run"]).output
    runner.invoke(args=["privacy", "purge"])
    assert pool_hook["erased"] == ["Casey Candidate1"]


def test_creating_the_app_registers_the_pool_and_referrals():
    """A fresh process that only creates the app has both features in the registry."""
    script = (
        "from recruiter import create_app\n"
        "from recruiter.privacy.registry import HOOKS\n"
        "create_app({'TESTING': True, 'SECRET_KEY': 'k' * 40,"
        " 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
        "print(sorted(HOOKS))\n"
    )
    env = {**os.environ, "RECRUITER_ENV": "development"}
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "['pool', 'referrals']"


def pooled_long_ago(app, application_id: int) -> int:
    """Tag the application's candidate; they agreed 13 months ago (consent runs 24)."""
    with app.test_request_context():
        application = db.session.get(Application, application_id)
        entry = tag_silver_medalist(application, application.opening.owner, ask_consent=False)
        give_consent(entry)
        entry.consent_given_at = utcnow() - timedelta(days=31 * 13)
        entry.consent_expires_at = entry.consent_given_at + timedelta(days=730)
        db.session.commit()
        return entry.id


def test_pool_consent_keeps_a_candidate_until_it_expires(app, runner, pipeline):
    application_id = pipeline["mine"]["applications"][0]
    with app.app_context():
        candidate_id = db.session.get(Application, application_id).candidate_id
    entry_id = pooled_long_ago(app, application_id)
    age(app, candidate_id, 13)
    assert "Would erase 0" in runner.invoke(args=["privacy", "purge", "--dry-run"]).output
    runner.invoke(args=["privacy", "purge"])
    with app.app_context():
        assert db.session.get(Candidate, candidate_id).erased_at is None
        entry = db.session.get(SilverMedalist, entry_id)
        entry.consent_expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    assert "1 expired" in runner.invoke(args=["pool", "expire"]).output
    assert f"[{candidate_id}]" in runner.invoke(args=["privacy", "purge", "--dry-run"]).output
    assert "Erased 1 candidates" in runner.invoke(args=["privacy", "purge"]).output
    with app.app_context():
        assert db.session.get(Candidate, candidate_id).erased_at is not None


def test_a_recent_touch_or_referral_counts_as_activity(app, runner, pipeline):
    first, second = pipeline["mine"]["applications"][:2]
    with app.app_context():
        touched, referred = (db.session.get(Application, a).candidate_id for a in (first, second))
    for application_id in (first, second):
        pooled_long_ago(app, application_id)
    with app.test_request_context():
        for application_id in (first, second):
            entry = db.session.scalar(
                select(SilverMedalist).where(SilverMedalist.application_id == application_id)
            )
            entry.consent_expires_at = utcnow() - timedelta(days=1)  # retained by activity only
            if application_id == first:
                log_touch(entry, entry.vouched_by, "phone", "Caught up")
            else:
                entry.consent_expires_at = utcnow() + timedelta(days=1)
                designer = db.session.scalar(select(Opening).where(Opening.title == "Designer"))
                refer(entry, designer, entry.vouched_by, "Strong fit")
                entry.consent_expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    for candidate_id in (touched, referred):
        age(app, candidate_id, 13)
    assert "Would erase 0" in runner.invoke(args=["privacy", "purge", "--dry-run"]).output


@pytest.mark.postgres
def test_erase_on_postgres_leaves_nothing_to_find(postgres_url):
    from factories import make_opening, migrated_app_with_users

    from recruiter.pool.services import PoolFilters, search_pool
    from recruiter.privacy.services import erase_candidate

    app = migrated_app_with_users(postgres_url, "manager", "other_manager")
    with app.app_context():
        mine = make_opening(USERS["manager"][0], "Backend Engineer", 1)["applications"][0]
        make_opening(USERS["other_manager"][0], "Designer", 1)
        application = db.session.get(Application, mine)
        application.stage = Stage.FINAL
        application.candidate.name, application.candidate.email = NAME, EMAIL
        db.session.commit()
    ids = pool_and_refer(app, mine)
    with app.test_request_context():
        assert [e.id for e in db.session.scalars(search_pool(PoolFilters(text="Zebulon")))] == [
            ids["entry"]
        ]
        erase_candidate(db.session.get(Application, mine).candidate, None, "request")
        db.session.commit()
        gone = PoolFilters(text="Zebulon", consent="withdrawn")  # where the entry now is
        assert list(db.session.scalars(search_pool(gone))) == []
        values = [
            v
            for table in db.metadata.sorted_tables
            for column in table.columns
            if isinstance(column.type, String | Text)
            for v in db.session.scalars(select(column))
            if v
        ]
        assert [v for v in values for s in SECRETS if s.lower() in v.lower()] == []
        db.session.rollback()
    with app.app_context():
        db.engine.dispose()
