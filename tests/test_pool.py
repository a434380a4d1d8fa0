"""The silver-medalist pool: tagging, consent pages, withdrawal, retention, keep-in-touch,
search, matches, the backfill call and do-not-contact on every path."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from factories import USERS
from sqlalchemy import select, text

from recruiter.extensions import db
from recruiter.models import (
    Application,
    AuditEvent,
    Candidate,
    ConsentState,
    MessageStatus,
    Opening,
    OpeningStatus,
    OutboxMessage,
    SilverMedalist,
    Stage,
    User,
    utcnow,
)
from recruiter.pool import services as pool_services
from recruiter.pool.services import (
    AlreadyPooled,
    NotTaggable,
    PoolFilters,
    give_consent,
    is_referable,
    matches_for_opening,
    search_pool,
    tag_silver_medalist,
    why_matched,
)

CONSENT_LINK = re.compile(r"http://localhost/p/pool/(?!withdraw)\S+")
WITHDRAW_LINK = re.compile(r"http://localhost/p/pool/withdraw/\S+")


def user(who: str) -> User:
    return db.session.scalar(select(User).where(User.email == USERS[who][0]))


def pool(app, application_id: int, consent: bool = True, **tags) -> int:
    """Tag an application (and give consent); returns the entry id."""
    with app.test_request_context():
        application = db.session.get(Application, application_id)
        tags.setdefault("strengths", "Calm under pressure, clear writer")
        entry = tag_silver_medalist(application, user("manager"), **tags)
        if consent:
            give_consent(entry, "backend roles")
        db.session.commit()
        return entry.id


def messages_to(candidate_id: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.candidate_id == candidate_id)
            .order_by(OutboxMessage.id)
        )
    )


def link_in(message: OutboxMessage, pattern: re.Pattern) -> str:
    return pattern.search(message.text_body).group(0).replace("http://localhost", "")


# --- Tagging -------------------------------------------------------------------------------


def test_tagging_from_the_form_asks_for_consent(app, client, auth, pipeline):
    application_id = pipeline["mine"]["applications"][0]
    auth.login()
    page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert "Tag as silver medalist" in page
    form = client.get(f"/pool/tag/{application_id}").get_data(as_text=True)
    assert 'list="skill-options"' in form
    response = client.post(
        f"/pool/tag/{application_id}",
        data={
            "strengths": "Excellent system design",
            "skills": "Python, postgres , python",
            "role_family": "Engineering",
            "seniority": "senior",
            "locations": "Berlin, remote",
            "rating": "5",
            "cadence_months": "3",
        },
        follow_redirects=True,
    )
    assert "consent pending" in response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(select(SilverMedalist))
        assert entry.consent_state == ConsentState.PENDING
        assert [s.name for s in entry.skills] == ["postgres", "python"]
        assert entry.vouched_by.email == USERS["manager"][0]
        assert entry.stage_reached == Stage.INTERVIEW
        assert not is_referable(entry)
        [message] = messages_to(entry.candidate_id)
        assert message.subject == "May Acme Robotics keep in touch?"
        assert CONSENT_LINK.search(message.text_body)
        assert WITHDRAW_LINK.search(message.text_body)
        assert "withdraw" in message.html_body


def test_failed_tag_form_keeps_what_was_typed(client, auth, pipeline):
    auth.login()
    response = client.post(
        f"/pool/tag/{pipeline['mine']['applications'][0]}",
        data={"strengths": "", "skills": "rust", "rating": "4", "cadence_months": "3"},
    )
    page = response.get_data(as_text=True)
    assert "This field is required" in page and 'value="rust"' in page


def test_tagging_rules(app, pipeline):
    first, second, third = pipeline["mine"]["applications"]
    with app.test_request_context():
        early = db.session.get(Application, first)
        early.stage = Stage.SCREEN
        with pytest.raises(NotTaggable):
            tag_silver_medalist(early, user("manager"))
        blocked = db.session.get(Application, second)
        blocked.candidate.do_not_contact_at = utcnow()
        with pytest.raises(NotTaggable):
            tag_silver_medalist(blocked, user("manager"))
        # A rejected finalist can be tagged: the history says how far they got.
        finalist = db.session.get(Application, third)
        finalist.stage = Stage.FINAL
        db.session.flush()
        from recruiter.openings.services import move_application

        move_application(finalist, Stage.WITHDRAWN, user("manager"))
        entry = tag_silver_medalist(finalist, user("manager"), strengths="Sharp")
        assert entry.stage_reached == Stage.FINAL
        with pytest.raises(AlreadyPooled):
            tag_silver_medalist(finalist, user("manager"))


@pytest.mark.parametrize(
    "moves",
    [
        [Stage.SCREEN],  # never interviewed
        [Stage.INTERVIEW],  # at interview now
        [Stage.INTERVIEW, Stage.FINAL, Stage.WITHDRAWN],  # a finalist who withdrew
        [Stage.SCREEN, Stage.WITHDRAWN],  # withdrew early
        [Stage.INTERVIEW, Stage.OFFER, Stage.HIRED],  # the hire
        [Stage.INTERVIEW, Stage.OFFER, Stage.HIRED, Stage.WITHDRAWN],  # hired, then left
        [Stage.INTERVIEW, Stage.SCREEN],  # moved back after an interview
    ],
)
def test_the_pipeline_offers_tagging_as_the_rules_say(app, pipeline, moves):
    """The opening page asks the history of its whole page at once; it must agree with
    the rule applied to one application at a time."""
    from recruiter.openings.services import move_application

    with app.test_request_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        application.stage = Stage.APPLIED
        for stage in moves:
            move_application(application, stage, user("manager"))
        db.session.flush()
        page = [db.session.get(Application, aid) for aid in pipeline["mine"]["applications"]]
        expected = {a.id for a in page if pool_services.may_be_tagged(a)}
        assert pool_services.taggable_ids(page) == expected
        assert (application.id in expected) == (
            Stage.HIRED not in moves
            and any(s in (Stage.INTERVIEW, Stage.FINAL, Stage.OFFER) for s in moves)
        )


def test_filled_opening_suggests_its_finalists(app, client, auth, pipeline):
    first, second, _ = pipeline["mine"]["applications"]
    with app.app_context():
        db.session.get(Application, first).stage = Stage.HIRED
        db.session.get(Application, second).stage = Stage.FINAL
        db.session.get(Opening, pipeline["mine"]["opening"]).status = OpeningStatus.FILLED
        db.session.commit()
    auth.login()
    page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert "Keep the runners-up?" in page
    assert "Casey Candidate1 (Final)" in page and "Casey Candidate0 (" not in page


# --- Consent pages -------------------------------------------------------------------------


def test_candidate_agrees_on_the_public_page(app, client, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], consent=False)
    with app.app_context():
        link = link_in(
            messages_to(db.session.get(SilverMedalist, entry_id).candidate_id)[0], CONSENT_LINK
        )
    page = client.get(link)
    assert page.status_code == 200
    assert "Acme Robotics" in page.get_data(as_text=True)
    assert "Yes, keep in touch" in page.get_data(as_text=True)
    response = client.post(
        link, data={"roles_of_interest": "Platform, SRE", "agree": "y"}, follow_redirects=True
    )
    assert "we will keep in touch" in response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert entry.consent_state == ConsentState.GIVEN
        assert entry.roles_of_interest == "Platform, SRE"
        days = (entry.consent_expires_at - entry.consent_given_at).days
        assert 725 <= days <= 733
        assert entry.next_touch_due > utcnow() + timedelta(days=85)
        assert is_referable(entry)


def test_candidate_declines_and_details_go(app, client, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], consent=False)
    with app.app_context():
        link = link_in(
            messages_to(db.session.get(SilverMedalist, entry_id).candidate_id)[0], CONSENT_LINK
        )
    response = client.post(link, data={"decline": "y"}, follow_redirects=True)
    assert "Thank you for letting us know" in response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert entry.consent_state == ConsentState.DECLINED
        assert entry.strengths == "" and entry.skills == []
    # The link now says there is nothing to do, kindly.
    assert "Nothing more to do" in client.get(link).get_data(as_text=True)


def test_expired_link_gets_a_kind_page(app, client, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], consent=False)
    with app.app_context():
        link = link_in(
            messages_to(db.session.get(SilverMedalist, entry_id).candidate_id)[0], CONSENT_LINK
        )
    app.config["POOL_CONSENT_REQUEST_DAYS"] = -1  # any link is now too old
    response = client.get(link)
    assert response.status_code == 200
    assert "This link has expired" in response.get_data(as_text=True)
    assert client.post(link, data={"agree": "y"}).status_code == 200
    with app.app_context():
        assert db.session.get(SilverMedalist, entry_id).consent_state == ConsentState.PENDING


def test_tampered_link_gets_a_kind_page(app, client, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], consent=False)
    with app.app_context():
        link = link_in(
            messages_to(db.session.get(SilverMedalist, entry_id).candidate_id)[0], CONSENT_LINK
        )
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "We could not read this link" in page and "Traceback" not in page
    # A consent token does not work as a withdraw link either.
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/p/pool/withdraw/{token}").status_code == 400


def test_withdrawal_cancels_everything_pending(app, client, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0])
    auth_client = app.test_client()
    auth_client.post(
        "/login", data={"email": USERS["manager"][0], "password": "correct horse battery staple"}
    )
    auth_client.post(
        f"/pool/{entry_id}/check-in", data={"subject": "Hello", "body": "How are you?"}
    )
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        messages = messages_to(entry.candidate_id)
        assert [m.status for m in messages] == [MessageStatus.QUEUED] * 2
        link = link_in(messages[-1], WITHDRAW_LINK)
    assert "Remove my details" in client.get(link).get_data(as_text=True)
    response = client.post(link, follow_redirects=True)
    assert "you will not hear from us again" in response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert entry.consent_state == ConsentState.WITHDRAWN
        assert entry.strengths == "" and entry.touches == []
        assert {m.status for m in messages_to(entry.candidate_id)} == {MessageStatus.CANCELLED}
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.withdrawn"))


# --- Retention -------------------------------------------------------------------------------


def test_expire_job_asks_once_then_removes_details(app, runner, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], skills=["python"])
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        entry.consent_expires_at = utcnow() + timedelta(days=10)
        db.session.commit()
    result = runner.invoke(args=["pool", "expire"])
    assert result.exit_code == 0, result.output
    assert f"asked to extend: entry {entry_id}" in result.output
    again = runner.invoke(args=["pool", "expire"])
    assert "Nothing to do." in again.output
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        requests = [m for m in messages_to(entry.candidate_id) if "Shall" in m.subject]
        assert len(requests) == 1
        assert "http://localhost:5000/p/pool/" in requests[0].text_body
        entry.consent_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    result = runner.invoke(args=["pool", "expire"])
    assert f"expired, details removed: entry {entry_id}" in result.output
    assert "Nothing to do." in runner.invoke(args=["pool", "expire"]).output
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert entry.consent_state == ConsentState.EXPIRED
        assert (entry.strengths, entry.locations, entry.roles_of_interest) == ("", "", "")
        assert entry.skills == [] and entry.search_document == ""
        assert not is_referable(entry)


def test_unanswered_consent_requests_are_closed(app, runner, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], consent=False)
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        entry.consent_requested_at = utcnow() - timedelta(days=61)
        db.session.commit()
    result = runner.invoke(args=["pool", "expire"])
    assert f"consent never given, details removed: entry {entry_id}" in result.output
    with app.app_context():
        assert db.session.get(SilverMedalist, entry_id).strengths == ""


# --- Keep-in-touch ---------------------------------------------------------------------------


def make_due(app, entry_id: int) -> None:
    with app.app_context():
        db.session.get(SilverMedalist, entry_id).next_touch_due = utcnow() - timedelta(days=1)
        db.session.commit()


def test_due_list_touch_resets_and_reply_pauses(app, client, auth, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0])
    pending_id = pool(app, pipeline["mine"]["applications"][1], consent=False)
    make_due(app, entry_id)
    make_due(app, pending_id)
    auth.login()
    desk = client.get("/desk").get_data(as_text=True)
    assert "Follow-ups due" in desk and "Casey Candidate0" in desk
    assert "Casey Candidate1" not in desk  # consent pending: no keep-in-touch
    client.post(f"/pool/{entry_id}/touches", data={"channel": "phone", "note": "Good chat"})
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert entry.next_touch_due > utcnow() + timedelta(days=85)
        assert entry.touches[0].note == "Good chat"
    assert "Casey Candidate0" not in client.get("/pool/due").get_data(as_text=True)
    client.post(f"/pool/{entry_id}/replied")
    due = client.get("/pool/due").get_data(as_text=True)
    assert "replied" in due and "Casey Candidate0" in due
    client.post(f"/pool/{entry_id}/touches", data={"channel": "email", "note": "Answered"})
    with app.app_context():
        assert db.session.get(SilverMedalist, entry_id).paused is False
    # The team view shows everyone's; Oscar's own list is empty.
    auth.logout()
    auth.login("other_manager")
    assert "No follow-ups due" in client.get("/pool/due").get_data(as_text=True)


def test_check_in_resets_the_clock_and_needs_consent(app, client, auth, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0])
    pending_id = pool(app, pipeline["mine"]["applications"][1], consent=False)
    make_due(app, entry_id)
    auth.login()
    draft = client.get(f"/pool/{entry_id}/check-in").get_data(as_text=True)
    assert "Checking in from Acme Robotics" in draft
    client.post(f"/pool/{entry_id}/check-in", data={"subject": "Hi", "body": "Hello again"})
    refused = client.post(
        f"/pool/{pending_id}/check-in",
        data={"subject": "Hi", "body": "Hello"},
        follow_redirects=True,
    )
    assert "has not agreed to be contacted" in refused.get_data(as_text=True)
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert entry.next_touch_due > utcnow() + timedelta(days=85)
        sent = messages_to(entry.candidate_id)[-1]
        assert sent.subject == "Hi" and "Hello again" in sent.text_body
        assert WITHDRAW_LINK.search(sent.text_body)
        pending = db.session.get(SilverMedalist, pending_id)
        assert len(messages_to(pending.candidate_id)) == 1  # only the consent request


# --- Rediscovery -----------------------------------------------------------------------------


@pytest.fixture
def searchable(app, pipeline) -> dict:
    first, second, third = pipeline["mine"]["applications"]
    return {
        "garcia": pool(
            app,
            first,
            strengths="Paired with José García on Kubernetes migrations",
            skills=["kubernetes", "go"],
            role_family="engineering",
            seniority="senior",
            locations="Berlin",
            rating=5,
        ),
        "designer": pool(
            app,
            second,
            strengths="Lovely typography and research",
            skills=["figma"],
            role_family="design",
            seniority="mid",
            locations="Lisbon",
            rating=3,
        ),
        "pending": pool(
            app,
            third,
            consent=False,
            strengths="Kubernetes operator author",
            skills=["kubernetes"],
            role_family="engineering",
            rating=4,
        ),
    }


def search(filters: PoolFilters) -> list[int]:
    return [e.id for e in db.session.scalars(search_pool(filters))]


def test_search_with_diacritics_stemming_and_filters(app, searchable):
    with app.test_request_context():
        assert search(PoolFilters(text="garcia")) == [searchable["garcia"]]
        assert search(PoolFilters(text="García migration")) == [searchable["garcia"]]
        assert set(search(PoolFilters(text="kubernetes"))) == {
            searchable["garcia"],
            searchable["pending"],
        }
        assert search(PoolFilters(text="kubernetes", consent="given")) == [searchable["garcia"]]
        assert search(PoolFilters(skills=["Figma"])) == [searchable["designer"]]
        assert search(PoolFilters(location="berlin")) == [searchable["garcia"]]
        assert search(PoolFilters(min_rating=4, sort="rating")) == [
            searchable["garcia"],
            searchable["pending"],
        ]
        assert search(PoolFilters(role_family="Design", seniority="mid")) == [
            searchable["designer"]
        ]
        assert search(PoolFilters(text='" OR AND NEAR(')) == []  # no syntax errors
        entries = list(db.session.scalars(search_pool(PoolFilters(text="garcia", skills=["go"]))))
        [reasons] = why_matched(entries, PoolFilters(text="garcia", skills=["go"])).values()
        assert "skills: go" in reasons
        assert "<mark>García</mark>" in str(reasons[-1])


def test_pool_page_filters_counts_and_reasons(client, auth, searchable):
    auth.login()
    page = client.get("/pool/?q=garcia&sort=relevance").get_data(as_text=True)
    assert "1 candidate" in page and "<mark>García</mark>" in page
    assert "Not a valid choice" not in page
    odd = client.get("/pool/?seniority=wizard&consent=maybe&min_rating=x&sort=chaos")
    assert odd.status_code == 200 and "3 candidates" in odd.get_data(as_text=True)
    assert "Why it matched" in page
    everyone = client.get("/pool/").get_data(as_text=True)
    assert "3 candidates" in everyone and "Consent pending: 1" not in everyone
    assert re.search(r"Given</a>: 2", everyone)
    assert "Engineering: 2" in everyone and "Design: 1" in everyone  # facets of the results


def test_pool_page_searches_of_one_shape_take_their_own_values(client, auth, searchable):
    """The page's statement is built once per shape of the filters; each search still gets
    its own words and values (none left over from the search that built it)."""
    auth.login()
    for skill, words, expected in (
        ("figma", "", "designer"),
        ("kubernetes", "", "garcia"),
        ("kubernetes", "garcia", "garcia"),
        ("figma", "garcia", None),
    ):
        page = client.get(f"/pool/?skills={skill}&q={words}&consent=given").get_data(as_text=True)
        shown = [int(i) for i in re.findall(r'id="entry-(\d+)"', page)]
        assert shown == ([searchable[expected]] if expected else []), (skill, words)


def test_pool_page_looks_at_the_newest_window_only(client, auth, searchable, monkeypatch):
    """A big pool's search is cut at SEARCH_WINDOW matches, newest first, and says so."""
    auth.login()
    monkeypatch.setattr(pool_services, "SEARCH_WINDOW", 2)
    page = client.get("/pool/?sort=rating").get_data(as_text=True)
    assert "More than 2 candidates" in page and "Add words or a filter" in page
    shown = [int(i) for i in re.findall(r'id="entry-(\d+)"', page)]
    assert shown == [searchable["pending"], searchable["designer"]]  # the two newest, by rating
    assert "Role family in the newest 2 results" in page
    narrow = client.get("/pool/?q=kubernetes&consent=given").get_data(as_text=True)
    assert "1 candidate" in narrow and f'id="entry-{searchable["garcia"]}"' in narrow


def test_pool_page_pages_and_queries(app, client, auth, searchable, monkeypatch):
    """A fixed number of statements (no query per result), and the pages of the window."""
    from factories import statements_run

    auth.login("recruiter")
    monkeypatch.setattr(pool_services, "PER_PAGE", 2)
    with app.app_context():
        engine = db.engine
    with statements_run(engine) as statements:
        first = client.get("/pool/?q=kubernetes+OR+figma&skills=&sort=newest")
        page = client.get("/pool/?sort=newest&page=2").get_data(as_text=True)
    assert first.status_code == 200
    # user, window, page rows, snippets, skills and families for the suggestions
    assert len(statements) <= 2 * 7
    assert "Page 2 of 2" in page
    assert re.findall(r'id="entry-(\d+)"', page) == [str(searchable["garcia"])]


def test_managers_see_consented_entries_and_their_own(client, auth, searchable):
    auth.login("other_manager")
    page = client.get("/pool/").get_data(as_text=True)
    assert "2 candidates" in page  # the pending one is Maria's alone
    assert client.get(f"/pool/{searchable['pending']}").status_code == 404
    assert client.get(f"/pool/{searchable['garcia']}").status_code == 200


# --- Matches and the backfill call -----------------------------------------------------------


def test_matches_rank_with_reasons(app, client, auth, searchable):
    with app.test_request_context():
        maria = user("manager")
        opening = Opening(
            title="Senior Kubernetes Engineer", team="Platform", location="Berlin", owner=maria
        )
        db.session.add(opening)
        db.session.commit()
        matches = matches_for_opening(opening)
        assert [m.entry.id for m in matches] == [searchable["garcia"]]  # pending never offered
        reasons = matches[0].reasons
        assert "skills in the title: kubernetes" in reasons
        assert "role family: engineering" in reasons
        assert "seniority: Senior" in reasons
        assert "would work in: Berlin" in reasons
        assert "strengths or notes mention the role" in reasons
        opening_id = opening.id
        db.session.get(SilverMedalist, searchable["garcia"]).candidate.do_not_contact_at = utcnow()
        db.session.commit()
        assert matches_for_opening(opening) == []
        db.session.get(SilverMedalist, searchable["garcia"]).candidate.do_not_contact_at = None
        db.session.commit()
    auth.login()
    page = client.get(f"/openings/{opening_id}").get_data(as_text=True)
    assert "best matches" in page and "skills in the title: kubernetes" in page


def test_a_big_pool_is_matched_from_a_short_list(app, searchable, monkeypatch):
    """Above MATCH_FULL_SCAN_UP_TO entries only a short list is scored: same ranking."""
    with app.test_request_context():
        opening = Opening(
            title="Senior Kubernetes Engineer",
            team="Platform",
            location="Berlin",
            owner=user("manager"),
        )
        db.session.add(opening)
        db.session.commit()
        everyone = matches_for_opening(opening)
        monkeypatch.setattr(pool_services, "MATCH_FULL_SCAN_UP_TO", 0)
        short = matches_for_opening(opening)
        assert [(m.entry.id, m.reasons) for m in short] == [
            (m.entry.id, m.reasons) for m in everyone
        ]
        assert short and "skills in the title: kubernetes" in short[0].reasons


def test_hire_fell_through_calls_the_runners_up(app, client, auth, pipeline):
    hired, runner_up, blocked = pipeline["mine"]["applications"]
    runner_entry = pool(app, runner_up, rating=5)
    blocked_entry = pool(app, blocked)
    with app.app_context():
        db.session.get(Application, hired).stage = Stage.HIRED
        db.session.get(Opening, pipeline["mine"]["opening"]).status = OpeningStatus.FILLED
        db.session.get(SilverMedalist, blocked_entry).candidate.do_not_contact_at = utcnow()
        db.session.commit()
    auth.login()
    opening_page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert "Hire fell through" in opening_page
    response = client.post(
        f"/pool/applications/{hired}/fell-through",
        data={"reason": "declined_offer"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "is open again" in page
    assert "The role has opened again, and you were the first person" in page  # the draft
    assert "may not be contacted" in page
    with app.app_context():
        assert db.session.get(Opening, pipeline["mine"]["opening"]).status == OpeningStatus.OPEN
        assert db.session.get(Application, hired).stage == Stage.WITHDRAWN
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "opening.hire_fell_through")
        )
        assert "declined_offer" in event.details
    opening_id = pipeline["mine"]["opening"]
    client.post(
        f"/pool/openings/{opening_id}/backfill/{runner_entry}",
        data={f"e{runner_entry}-subject": "Come back?", f"e{runner_entry}-body": "Edited words"},
    )
    refused = client.post(
        f"/pool/openings/{opening_id}/backfill/{blocked_entry}",
        data={f"e{blocked_entry}-subject": "Hi", f"e{blocked_entry}-body": "Hi"},
        follow_redirects=True,
    )
    assert "may not be contacted" in refused.get_data(as_text=True)
    with app.app_context():
        runner = db.session.get(SilverMedalist, runner_entry)
        sent = messages_to(runner.candidate_id)[-1]
        assert sent.subject == "Come back?" and "Edited words" in sent.text_body
        blocked_candidate = db.session.get(SilverMedalist, blocked_entry).candidate
        assert all(m.subject != "Hi" for m in messages_to(blocked_candidate.id))


# --- Do-not-contact --------------------------------------------------------------------------


def test_do_not_contact_from_the_candidate_page(app, client, auth, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0])
    with app.app_context():
        candidate_id = db.session.get(SilverMedalist, entry_id).candidate_id
    auth.login()
    response = client.post(
        f"/candidates/{candidate_id}/do-not-contact",
        data={"reason": "asked", "detail": "phoned to ask"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Do not contact" in page and "Asked not to be contacted: phoned to ask" in page
    assert "decided by Maria Manager" in page
    with app.app_context():
        assert db.session.get(Candidate, candidate_id).do_not_contact
        entry = db.session.get(SilverMedalist, entry_id)
        assert not is_referable(entry)
        assert {m.status for m in messages_to(candidate_id)} == {MessageStatus.CANCELLED}
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "candidate.do_not_contact")
        )
    # Not in the due list, no check-in, and a manager cannot lift it.
    make_due(app, entry_id)
    assert "Casey Candidate0" not in client.get("/pool/due").get_data(as_text=True)
    client.post(f"/pool/{entry_id}/check-in", data={"subject": "Hi", "body": "Hi"})
    client.post(f"/candidates/{candidate_id}/do-not-contact/lift")
    with app.app_context():
        assert db.session.get(Candidate, candidate_id).do_not_contact
        assert all(m.subject != "Hi" for m in messages_to(candidate_id))
    auth.logout()
    auth.login("recruiter")
    client.post(f"/candidates/{candidate_id}/do-not-contact/lift")
    with app.app_context():
        assert not db.session.get(Candidate, candidate_id).do_not_contact


# --- PostgreSQL full-text search -------------------------------------------------------------


@pytest.mark.postgres
def test_search_and_matches_on_postgres(postgres_url):
    from factories import make_opening, migrated_app_with_users

    app = migrated_app_with_users(postgres_url, "manager")
    with app.app_context():
        ids = make_opening(USERS["manager"][0], "Backend Engineer", 2)["applications"]
    garcia = pool(
        app,
        ids[0],
        strengths="Led the Kubernetes migrations with great care",
        skills=["kubernetes"],
        role_family="engineering",
        locations="Berlin",
    )
    pool(app, ids[1], strengths="Wonderful typography", role_family="design")
    with app.test_request_context():
        assert search(PoolFilters(text="migration kubernetes")) == [garcia]
        assert search(PoolFilters(text="typography", skills=["kubernetes"])) == []
        # The pool page's search (the newest window, plain rows) on PostgreSQL too.
        from recruiter.pool.services import find_in_pool

        found = find_in_pool(PoolFilters(text="migration", skills=["kubernetes"]), lambda q: q)
        assert [row.id for row in found.items] == [garcia] and found.items[0].skills
        for sort in ("relevance", "rating", "due", "newest"):
            found = find_in_pool(PoolFilters(sort=sort), lambda q: q)
            assert found.total == 2 and not found.more, sort
        entries = list(db.session.scalars(search_pool(PoolFilters(text="migrating"))))
        assert [e.id for e in entries] == [garcia]  # English stemming
        [reasons] = why_matched(entries, PoolFilters(text="migrating")).values()
        assert "<mark>migrations</mark>" in str(reasons[-1])
        opening = Opening(
            title="Kubernetes Engineer", team="", location="Berlin", owner=user("manager")
        )
        db.session.add(opening)
        db.session.flush()
        [match] = matches_for_opening(opening)
        assert match.entry.id == garcia
        assert "strengths or notes mention the role" in match.reasons
        # The query uses the GIN expression index made by the migration.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        from recruiter.pool.search import text_matches

        query = select(text_matches("kubernetes").c.id).compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
        plan = db.session.execute(text(f"EXPLAIN {query}")).scalars().all()
        assert any("ix_silver_medalist_search_document_fts" in line for line in plan), plan
        db.session.rollback()
    with app.app_context():
        db.engine.dispose()


def test_edit_an_entry(app, client, auth, pipeline):
    entry_id = pool(app, pipeline["mine"]["applications"][0], skills=["python"], rating=3)
    auth.login()
    form = client.get(f"/pool/{entry_id}/edit").get_data(as_text=True)
    assert 'value="python"' in form
    client.post(
        f"/pool/{entry_id}/edit",
        data={
            "strengths": "Great mentor",
            "skills": "python, rust",
            "role_family": "Engineering",
            "seniority": "lead",
            "locations": "Remote",
            "rating": "5",
            "cadence_months": "6",
        },
    )
    with app.test_request_context():
        entry = db.session.get(SilverMedalist, entry_id)
        assert [s.name for s in entry.skills] == ["python", "rust"]
        assert (entry.rating, entry.cadence_months, entry.role_family) == (5, 6, "engineering")
        assert search(PoolFilters(text="mentor")) == [entry_id]


@pytest.mark.parametrize("rows", [False, True], ids=["entries", "desk rows"])
@pytest.mark.parametrize("who", ["team", "manager"])
def test_the_due_list_walks_its_index_instead_of_sorting_every_due_entry(app, who, rows):
    """EXPLAIN QUERY PLAN of the follow-ups due, as the due page (entries) and the desk
    (plain rows, first ten) read them: the follow-up index in the list's order, stopped at
    the tenth, not every due entry sorted (the team desk took 80 to 290 ms so at 1,000,000
    applications)."""
    with app.test_request_context():
        manager = user("manager") if who == "manager" else None
        if rows:
            statement = pool_services.due_rows_query(manager is not None)
            values = {"now": utcnow(), "limit": 10, "user_id": manager and manager.id}
        else:
            statement, values = pool_services.due_follow_ups(manager).limit(10), None
        compiled = statement.compile(db.engine)
        bound = compiled.construct_params(values)
        plan = " ".join(
            row[3]
            for row in db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled), tuple(bound[k] for k in compiled.positiontup)
            )
        )
        index = (
            "ix_silver_medalist_vouched_follow_up" if manager else "ix_silver_medalist_follow_up"
        )
        assert f"USING INDEX {index}" in plan, plan
        assert "TEMP B-TREE" not in plan and "MULTI-INDEX" not in plan, plan
