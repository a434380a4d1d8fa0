"""The pages do a fixed number of queries, however big the opening or the history (issue 8).

Timing targets live in ``make bench``; this guards the shape that makes them reachable.
"""

import pytest
from factories import statements_run
from sqlalchemy import func, select
from test_demo_generate import migrated_app

from recruiter.extensions import db
from recruiter.models import Application, Stage

MARIA = {"email": "maria.lopez@acme.example", "password": "recruiter-demo-password"}
RIYA = {"email": "riya.shah@acme.example", "password": "recruiter-demo-password"}


@pytest.fixture(scope="module")
def big_app(tmp_path_factory):
    """2,000 generated applications; opening 1 is María's with 500."""
    path = tmp_path_factory.mktemp("generated") / "generated.sqlite3"
    app = migrated_app(f"sqlite:///{path}")
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--applications", "2000"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def queries_for(app, user: dict, path: str) -> tuple[int, str]:
    """How many SQL statements one GET of ``path`` runs, and the page."""
    client = app.test_client()
    client.post("/login", data=user)
    with app.app_context():
        engine = db.engine
    with statements_run(engine) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements), response.text


def test_pipeline_of_500_is_a_handful_of_queries_and_paginated(big_app):
    # The user, the opening, its stage counts, the page's rows with their notes, their pool
    # entries and stage history (one query), the matches (title skills, role families, the
    # short list with its entries' rows), own silver medalists: a fixed number, whether the
    # opening has 5 applications or 500. (14 before the statements were merged.)
    count, page = queries_for(big_app, MARIA, "/openings/1")
    assert count <= 10
    assert page.count('class="list-group-item"') == 50
    assert "Page 1 of 10" in page
    count, last = queries_for(big_app, MARIA, "/openings/1?page=10")
    assert count <= 10
    assert 'class="list-group-item"' in last


def test_pipeline_headings_count_the_whole_stage(big_app):
    with big_app.app_context():
        applied = db.session.scalar(
            select(func.count()).where(
                Application.opening_id == 1, Application.stage == Stage.APPLIED
            )
        )
    _, page = queries_for(big_app, MARIA, "/openings/1")
    assert f'Applied <span class="badge text-bg-light border">{applied}</span>' in page


@pytest.mark.parametrize("user", [MARIA, RIYA], ids=["manager", "recruiter"])
def test_desk_is_a_fixed_number_of_queries(big_app, user):
    count, page = queries_for(big_app, user, "/desk")
    # The signed-in user, then one statement each: openings, their counts per stage,
    # decisions waiting, follow-ups due, referrals (12 when each stage of the decisions
    # waiting and the follow-ups' managers were statements of their own).
    assert count <= 7
    assert "Decisions waiting" in page


@pytest.mark.parametrize("user", [MARIA, RIYA], ids=["manager", "recruiter"])
def test_decisions_waiting_is_a_fixed_number_of_queries(big_app, user):
    queries_for(big_app, user, "/decisions-waiting")  # works out the medians once
    count, page = queries_for(big_app, user, "/decisions-waiting")
    # The signed-in user, the waiting list (one statement for the three stages), the stored
    # medians, and for a recruiter the managers to choose from.
    assert count <= (5 if user is RIYA else 4)
    assert "Median days from final interview to decision" in page


def test_candidate_history_does_not_load_per_row(big_app):
    with big_app.app_context():
        candidate_id = db.session.scalar(
            select(Application.candidate_id)
            .where(Application.opening_id == 1)
            .group_by(Application.candidate_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    count, _ = queries_for(big_app, RIYA, f"/candidates/{candidate_id}")
    assert count <= 11  # the history, plus the pool entry, referrals and do-not-contact panels


@pytest.mark.postgres
def test_desk_and_decisions_waiting_on_postgresql(postgres_url):
    """The lists' statements built once (a union of limited walks, bound limits and an
    expanding list of ids) run on PostgreSQL as well."""
    app = migrated_app(postgres_url)
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--applications", "300"])
    assert result.exit_code == 0, repr(result.exception)
    try:
        for user in (MARIA, RIYA):
            _, desk = queries_for(app, user, "/desk")
            assert "Decisions waiting" in desk and "Follow-ups due" in desk
            _, waiting = queries_for(app, user, "/decisions-waiting")
            assert "Median days from final interview to decision" in waiting
        assert 'class="list-group-item d-flex flex-wrap' in waiting  # Riya sees everyone's
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
