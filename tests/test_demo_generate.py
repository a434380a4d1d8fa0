"""``flask demo generate``: a big, believable history in proportion, into an empty database."""

from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from recruiter import create_app
from recruiter.extensions import db
from recruiter.models import (
    Application,
    Candidate,
    ConsentState,
    MessageStatus,
    Opening,
    OutboxMessage,
    Rejection,
    SilverMedalist,
    Stage,
    StageChange,
    User,
)

N = 2000


def migrated_app(database_uri: str):
    """An app on a migrated database with no users at all."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
        db.engine.dispose()
    return app


@pytest.fixture
def empty_app(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_generate_fills_an_empty_database_in_proportion(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["demo", "generate", "--applications", str(N)])
    assert result.exit_code == 0, result.output
    assert f"Generated {N:,} applications" in result.output
    with empty_app.app_context():
        assert count(Application) == N
        assert count(Opening) == N // 100
        assert abs(count(Candidate) - N / 2) <= N * 0.05
        assert 3 <= count(User) <= 20
        # The pipeline benchmark's opening.
        big = db.session.get(Opening, 1)
        assert big.status.value == "open"
        assert count(Application, Application.opening_id == big.id) == 500
        # Every application has a history that starts at "applied" and ends at its stage.
        assert count(Application, ~Application.stage_changes.any()) == 0
        assert count(StageChange, StageChange.from_stage.is_(None)) == N
        latest = db.session.scalars(select(Application).limit(50))
        for application in latest:
            assert application.stage_changes[0].to_stage == Stage.APPLIED
            assert application.stage_changes[-1].to_stage == application.stage
        # Every rejected application has its rejection, and each its sent note.
        rejected = count(Application, Application.stage == Stage.REJECTED)
        assert rejected > N / 2
        assert count(Rejection) == rejected
        assert count(Rejection, Rejection.message_id.is_(None)) == 0
        assert count(OutboxMessage, OutboxMessage.status == MessageStatus.SENT) == rejected
        rejection = db.session.scalar(select(Rejection).limit(1))
        candidate = rejection.application.candidate
        assert rejection.message.recipient == candidate.email
        assert rejection.body.startswith(f"Dear {candidate.first_name},")
        assert rejection.application.opening.title in rejection.message.subject
        assert "Thank you" in rejection.message.html_body
        # Someone to sign in as, with the demo password.
        maria = db.session.scalar(select(User).where(User.email == "maria.lopez@acme.example"))
        assert maria.check_password("recruiter-demo-password")
        assert big.owner_id == maria.id


def test_generated_data_is_browsable(empty_app):
    empty_app.test_cli_runner().invoke(args=["demo", "generate", "--applications", str(N)])
    client = empty_app.test_client()
    client.post(
        "/login",
        data={"email": "maria.lopez@acme.example", "password": "recruiter-demo-password"},
    )
    assert "Decisions waiting" in client.get("/desk").text
    page = client.get("/openings/1")
    assert page.status_code == 200
    # 500 applications, shown 50 to a page with the totals per stage.
    assert page.text.count('class="list-group-item"') == 50
    assert "Page 1 of 10" in page.text
    with empty_app.app_context():
        candidate_id = db.session.scalar(
            select(Application.candidate_id).where(Application.opening_id == 1).limit(1)
        )
    assert client.get(f"/candidates/{candidate_id}").status_code == 200


def test_generate_fills_the_pool(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["demo", "generate", "--applications", str(N)])
    assert "Pool: 100 silver medalists" in result.output
    with empty_app.app_context():
        # 5% of applications, one entry per candidate, each rejected after an interview.
        assert count(SilverMedalist) == N * 5 // 100
        given = count(SilverMedalist, SilverMedalist.consent_state == ConsentState.GIVEN)
        assert 0.7 * N * 5 // 100 <= given < N * 5 // 100
        entry = db.session.scalar(select(SilverMedalist).limit(1))
        assert entry.application.stage == Stage.REJECTED
        assert entry.application.candidate_id == entry.candidate_id
        assert entry.stage_reached in (Stage.INTERVIEW, Stage.FINAL, Stage.OFFER)
        assert entry.skills and entry.strengths and entry.role_family
        assert entry.vouched_by_id == entry.opening.owner_id
    client = empty_app.test_client()
    client.post(
        "/login", data={"email": "riya.shah@acme.example", "password": "recruiter-demo-password"}
    )
    # The full-text index holds the generated entries: the pool search finds them.
    page = client.get("/pool/?skills=python&q=backend")
    assert page.status_code == 200
    assert "<mark>" in page.text


def test_generate_refuses_a_database_with_data(runner, app):
    result = runner.invoke(args=["demo", "generate", "--applications", "100"])
    assert result.exit_code != 0
    assert "not empty" in result.output
    with app.app_context():
        assert count(Application) == 0


@pytest.mark.postgres
def test_generate_on_postgresql(postgres_url):
    app = migrated_app(postgres_url)
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--applications", "300"])
    assert result.exit_code == 0, repr(result.exception)
    with app.app_context():
        assert count(Application) == 300
        assert count(Rejection) == count(Application, Application.stage == Stage.REJECTED)
        assert count(Application, ~Application.stage_changes.any()) == 0
        assert count(SilverMedalist) == 15
        db.session.remove()
        db.engine.dispose()
