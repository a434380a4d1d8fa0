"""Openings, adding candidates and moving applications between stages."""

import pytest
from factories import USERS
from sqlalchemy import func, select

from recruiter.extensions import db
from recruiter.models import Application, Candidate, Opening, OpeningStatus, Stage, User


def user_id(who: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == USERS[who][0]))


def test_manager_opens_a_job_for_themself(app, client, auth):
    auth.login()
    page = client.get("/openings/new").get_data(as_text=True)
    assert "Oscar Other" not in page  # a manager cannot hand a job to someone else
    with app.app_context():
        me = user_id("manager")
    response = client.post(
        "/openings/new",
        data={"title": "Data Engineer", "team": "Data", "location": "Oslo", "owner_id": me},
    )
    assert response.status_code == 302
    with app.app_context():
        opening = db.session.scalar(select(Opening).where(Opening.title == "Data Engineer"))
        assert opening.owner_id == me and opening.status == OpeningStatus.OPEN


def test_manager_cannot_create_for_another_manager(app, client, auth):
    auth.login()
    with app.app_context():
        other = user_id("other_manager")
    response = client.post("/openings/new", data={"title": "Sneaky", "owner_id": other})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_recruiter_opens_a_job_for_a_manager(app, client, auth):
    auth.login("recruiter")
    with app.app_context():
        other = user_id("other_manager")
    client.post("/openings/new", data={"title": "SRE", "owner_id": other})
    with app.app_context():
        assert db.session.scalar(select(Opening.owner_id).where(Opening.title == "SRE")) == other


def test_empty_title_keeps_what_was_typed(client, auth, app):
    auth.login()
    with app.app_context():
        me = user_id("manager")
    response = client.post("/openings/new", data={"title": "", "team": "Kept team", "owner_id": me})
    page = response.get_data(as_text=True)
    assert "This field is required" in page
    assert 'value="Kept team"' in page


def test_edit_and_mark_filled(app, client, auth, pipeline):
    auth.login()
    oid = pipeline["mine"]["opening"]
    with app.app_context():
        me = user_id("manager")
    client.post(f"/openings/{oid}/edit", data={"title": "Senior Backend Engineer", "owner_id": me})
    client.post(f"/openings/{oid}/status", data={"status": "filled"})
    page = client.get(f"/openings/{oid}").get_data(as_text=True)
    assert "Senior Backend Engineer" in page
    assert "This opening is <strong>filled</strong>" in page


def test_opening_page_groups_by_stage(client, auth, pipeline):
    auth.login()
    page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert 'id="stage-interview"' in page
    assert page.count('id="application-') == 3


def test_add_new_and_existing_candidate(app, client, auth, pipeline):
    auth.login()
    oid = pipeline["mine"]["opening"]
    data = {"email": "New.Person@Example.com", "name": "New Person", "timezone": "Europe/Oslo"}
    assert client.post(f"/openings/{oid}/candidates/new", data=data).status_code == 302
    # Same person, other case, same opening: refused, nothing duplicated.
    again = client.post(
        f"/openings/{oid}/candidates/new",
        data={"email": "new.person@example.COM", "timezone": "UTC"},
    )
    assert "already in Backend Engineer" in again.get_data(as_text=True)
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(Candidate)
            .where(Candidate.email == "new.person@example.com")
        )
        assert count == 1


def test_new_candidate_needs_a_name(client, auth, pipeline):
    auth.login()
    response = client.post(
        f"/openings/{pipeline['mine']['opening']}/candidates/new",
        data={"email": "anon@example.com", "timezone": "UTC"},
    )
    assert "please give their full name" in response.get_data(as_text=True)


def test_move_stage_records_history(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    client.post(f"/openings/applications/{aid}/stage", data={"stage": "final"})
    with app.app_context():
        application = db.session.get(Application, aid)
        assert application.stage == Stage.FINAL
        assert [c.to_stage for c in application.stage_changes][-1] == Stage.FINAL


def test_move_to_rejected_is_refused(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    client.post(f"/openings/applications/{aid}/stage", data={"stage": "rejected"})
    with app.app_context():
        assert db.session.get(Application, aid).stage == Stage.INTERVIEW


def test_candidate_page_lists_applications(client, auth, pipeline, app):
    auth.login()
    with app.app_context():
        cid = db.session.get(Application, pipeline["mine"]["applications"][0]).candidate_id
    page = client.get(f"/candidates/{cid}").get_data(as_text=True)
    assert "Backend Engineer" in page and "Interview" in page


def test_demo_load_fills_an_empty_database(tmp_path):
    from flask_migrate import upgrade

    from recruiter import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db",
            "TESTING": True,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(directory="migrations")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "recruiter-demo-password" in result.output
    with app.app_context():
        stages = set(db.session.scalars(select(Application.stage)))
        assert db.session.scalar(select(func.count()).select_from(Opening)) == 8
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 40
        assert {Stage.APPLIED, Stage.INTERVIEW, Stage.FINAL, Stage.OFFER} <= stages
        from recruiter.models import ConsentState, SilverMedalist

        states = list(db.session.scalars(select(SilverMedalist.consent_state)))
        assert len(states) >= 4
        assert ConsentState.GIVEN in states and ConsentState.PENDING in states
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0 and "already has users" in again.output
    assert runner.invoke(args=["demo", "load", "--if-empty"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def pipeline_in_order(app) -> None:
    """Every page of a pipeline holds the rows it should, in stage order, then by time in the
    stage, then by name: pages start and end inside stages, and names break ties."""
    from datetime import timedelta

    from recruiter.models import utcnow
    from recruiter.openings.services import applications_by_stage

    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == USERS["manager"][0]))
        opening = Opening(title="Order", team="", location="", owner=owner)
        same = utcnow() - timedelta(days=3)
        plan = [
            (Stage.REJECTED, "Ada", same),
            (Stage.APPLIED, "Zoe", same),
            (Stage.APPLIED, "Bea", same),
            (Stage.INTERVIEW, "Cy", same - timedelta(days=1)),
            (Stage.APPLIED, "Al", same - timedelta(days=2)),
            (Stage.OFFER, "Di", same),
            (Stage.REJECTED, "Ed", same - timedelta(days=1)),
        ]
        for i, (stage, name, since) in enumerate(plan):
            candidate = Candidate(name=name, email=f"order{i}@example.com")
            db.session.add(
                Application(
                    candidate=candidate, opening=opening, stage=stage, stage_changed_at=since
                )
            )
        db.session.commit()
        expected = ["Al", "Bea", "Zoe", "Cy", "Di", "Ed", "Ada"]
        for per_page in (1, 2, 3, 7, 50):
            names = []
            for page in range(1, -(-len(plan) // per_page) + 1):
                shown = applications_by_stage(opening, page, per_page)
                assert shown.page == page and shown.total == len(plan)
                rows = shown.applications
                assert list(shown.groups) == list(dict.fromkeys(r.stage for r in rows))
                names += [r.candidate.name for r in rows]
            assert names == expected, per_page
        past_the_end = applications_by_stage(opening, 99, 3)
        assert past_the_end.page == 3 and [r.candidate.name for r in past_the_end.applications] == [
            "Ada"
        ]


def test_pipeline_pages_split_stages_in_order(app):
    pipeline_in_order(app)


@pytest.mark.postgres
def test_pipeline_pages_in_order_on_postgres(postgres_url):
    from factories import migrated_app_with_users

    app = migrated_app_with_users(postgres_url, "manager")
    pipeline_in_order(app)
    with app.app_context():
        db.engine.dispose()


def signed_in_with_csrf(app, who: str):
    """A client signed in with the CSRF check on, and the token of its session."""
    import re

    from factories import PASSWORD

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"email": USERS[who][0], "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    return client


@pytest.mark.parametrize("config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_rows_carry_each_sessions_token_and_their_current_values(app, pipeline):
    """The rows' markup is memoized on what they show: each session still gets its own
    CSRF token in every row's forms, and a changed row shows its new values."""
    import re

    oid, (aid, *_) = pipeline["mine"]["opening"], pipeline["mine"]["applications"]
    maria, rita = signed_in_with_csrf(app, "manager"), signed_in_with_csrf(app, "recruiter")
    move = re.compile(
        rf'action="/openings/applications/{aid}/stage"[^>]*>\s*'
        r'<input type="hidden" name="csrf_token" value="([^"]+)"'
    )
    bulk = re.compile(
        r'id="bulk-form"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"'
    )
    tokens = []
    for client in (maria, rita):
        page = client.get(f"/openings/{oid}").get_data(as_text=True)
        tokens.append(move.search(page).group(1))
        assert tokens[-1] == bulk.search(page).group(1)
    assert tokens[0] != tokens[1]
    moved = rita.post(
        f"/openings/applications/{aid}/stage", data={"stage": "final", "csrf_token": tokens[1]}
    )
    assert moved.status_code == 302
    with app.app_context():
        application = db.session.get(Application, aid)
        assert application.stage == Stage.FINAL
        application.candidate.name = "Renamed Person"
        db.session.commit()
    page = maria.get(f"/openings/{oid}").get_data(as_text=True)
    row = page[page.index(f'id="application-{aid}"') :]
    row = row[: row.index("</li>")]
    assert "Renamed Person" in row and ">Final</span>" in row
    assert '<option value="final" selected>' in row
