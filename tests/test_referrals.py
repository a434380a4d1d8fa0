"""Referrals between hiring managers: consent and do-not-contact rules, once per opening, the
candidate asked first through a signed link, accept and decline, the referrer told by email,
private data kept from the receiver, history and counts."""

from __future__ import annotations

import json
import re

import pytest
from factories import USERS
from sqlalchemy import select

from recruiter.extensions import db
from recruiter.models import (
    Application,
    AuditEvent,
    OutboxMessage,
    ReasonCode,
    Referral,
    ReferralStatus,
    SilverMedalist,
    Stage,
    User,
    utcnow,
)
from recruiter.openings.services import add_application, move_application
from recruiter.outbox.delivery import deliver_due
from recruiter.pool.services import (
    give_consent,
    tag_silver_medalist,
    withdraw_consent,
    withdraw_url,
)
from recruiter.referrals.services import CLOSE_REASONS, NotReferable, refer
from recruiter.rejections.services import reject_application

ANSWER_LINK = re.compile(r"http://localhost/p/referral/\S+")
NOTE = "Superb at API design; would shine on your team."


def user(who: str) -> User:
    return db.session.scalar(select(User).where(User.email == USERS[who][0]))


def pooled(app, application_id: int, consent: bool = True, reject: bool = False) -> int:
    """Maria tags her candidate (rejecting them first if asked); returns the pool entry id."""
    with app.test_request_context():
        application = db.session.get(Application, application_id)
        if reject:
            reject_application(
                application,
                user("manager"),
                "Your application",
                "Thank you for your time.",
                "PRIVATE-REASON weaker on databases",
                reason=db.session.get(ReasonCode, 1),
            )
        entry = tag_silver_medalist(
            application,
            user("manager"),
            strengths="Calm under pressure, clear writer",
            skills=["python", "api design"],
        )
        if consent:
            give_consent(entry)
        db.session.commit()
        return entry.id


def make_referral(client, entry_id: int, opening_id: int, note: str = NOTE):
    return client.post(
        f"/referrals/new/{entry_id}",
        data={"opening_id": str(opening_id), "note": note},
        follow_redirects=True,
    )


def only_referral() -> Referral:
    return db.session.scalar(select(Referral))


def messages_to(address: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.recipient == address)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def audit_actions() -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.action.like("referral.%"))
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


@pytest.fixture
def no_asking():
    return {"REFERRALS_ASK_CANDIDATE": False}


# --- Who may be referred -------------------------------------------------------------------


def test_referral_needs_pool_consent(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0], consent=False)
    auth.login()
    page = client.get(f"/referrals/new/{entry_id}").get_data(as_text=True)
    assert "has not yet agreed to be kept in the pool" in page
    response = make_referral(client, entry_id, pipeline["theirs"]["opening"])
    assert "has not yet agreed" in response.get_data(as_text=True)
    with app.app_context():
        assert only_referral() is None


def test_rejected_candidate_not_pooled_is_told_to_tag_first(app, client, auth, pipeline):
    application_id = pipeline["mine"]["applications"][0]
    with app.test_request_context():
        reject_application(
            db.session.get(Application, application_id),
            user("manager"),
            "Your application",
            "Thank you for your time.",
            "r",
            reason=db.session.get(ReasonCode, 1),
        )
        db.session.commit()
    auth.login()
    opening_page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert f"/referrals/applications/{application_id}" in opening_page
    page = client.get(f"/referrals/applications/{application_id}").get_data(as_text=True)
    assert "is not in the silver-medalist pool" in page
    assert f"/pool/tag/{application_id}" in page


def test_rejected_and_pooled_candidate_is_referred_from_the_application(
    app, client, auth, pipeline
):
    application_id = pipeline["mine"]["applications"][0]
    pooled(app, application_id, reject=True)
    auth.login()
    response = client.post(
        f"/referrals/applications/{application_id}",
        data={"opening_id": str(pipeline["theirs"]["opening"]), "note": NOTE},
        follow_redirects=True,
    )
    assert "We asked Casey Candidate0 first" in response.get_data(as_text=True)
    with app.app_context():
        referral = only_referral()
        assert referral.source_application_id == application_id
        assert referral.status == ReferralStatus.PENDING_CANDIDATE


def test_do_not_contact_cannot_be_referred(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    with app.app_context():
        entry = db.session.get(SilverMedalist, entry_id)
        entry.candidate.do_not_contact_at = utcnow()
        db.session.commit()
    auth.login()
    page = client.get(f"/referrals/new/{entry_id}").get_data(as_text=True)
    assert "is marked do-not-contact, so no referral can reach them" in page
    assert 'name="opening_id"' not in page
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.test_request_context():
        assert only_referral() is None
        entry = db.session.get(SilverMedalist, entry_id)
        opening = db.session.get(Application, pipeline["theirs"]["applications"][0]).opening
        with pytest.raises(NotReferable):
            refer(entry, opening, user("manager"), NOTE)


def test_targets_show_owner_and_match_and_exclude_my_own(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    page = client.get(f"/referrals/new/{entry_id}").get_data(as_text=True)
    assert "Designer" in page and "Owner: Oscar Other" in page
    assert "match" in page
    assert f'value="{pipeline["mine"]["opening"]}"' not in page  # Maria's own opening


def test_once_per_opening(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    response = make_referral(client, entry_id, pipeline["theirs"]["opening"], "Again")
    assert response.status_code == 400
    assert "already referred here" in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(Referral)).all()) == 1


# --- The candidate is asked first ----------------------------------------------------------


def answer_link(app, candidate_id: int) -> str:
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.candidate_id == candidate_id)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert "Would you like us to introduce you" in message.text_body
        assert NOTE not in message.text_body  # the note is for the colleague only
        return ANSWER_LINK.search(message.text_body).group(0).replace("http://localhost", "")


def test_candidate_agrees_then_the_receiver_sees_it(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.app_context():
        referral = only_referral()
        referral_id, candidate_id = referral.id, referral.candidate_id
        assert referral.status == ReferralStatus.PENDING_CANDIDATE
        assert messages_to(USERS["other_manager"][0]) == []
    link = answer_link(app, candidate_id)
    auth.logout()
    auth.login("other_manager")
    assert client.get(f"/referrals/{referral_id}").status_code == 404
    assert "Casey Candidate0" not in client.get("/referrals/").get_data(as_text=True)

    page = client.get(link).get_data(as_text=True)
    assert "Designer" in page and "Yes, please introduce me" in page
    response = client.post(link, data={"agree": "y"}, follow_redirects=True)
    assert "we will make the introduction" in response.get_data(as_text=True)
    assert "already answered" in client.get(link).get_data(as_text=True)

    with app.app_context():
        referral = only_referral()
        assert referral.status == ReferralStatus.PENDING
        [notice] = messages_to(USERS["other_manager"][0])
        assert notice.candidate_id is None
        assert f"/referrals/{referral_id}" in notice.text_body
    assert "Casey Candidate0" in client.get("/referrals/").get_data(as_text=True)
    desk = client.get("/desk").get_data(as_text=True)
    assert "Referrals for you" in desk and f"/referrals/{referral_id}" in desk
    show = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert "Candidate agreed to be introduced" in show


def test_candidate_says_no_and_the_referral_closes(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.app_context():
        candidate_id = only_referral().candidate_id
    response = client.post(answer_link(app, candidate_id), data={"decline": "y"})
    assert response.status_code == 302
    with app.app_context():
        referral = only_referral()
        assert referral.status == ReferralStatus.WITHDRAWN
        assert referral.introduced_at is None
        [notice] = messages_to(USERS["manager"][0])
        assert "not taken up" in notice.subject
    made = client.get("/referrals/made").get_data(as_text=True)
    assert "The candidate chose not to be introduced." in made


def test_expired_and_tampered_links_get_kind_pages(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.app_context():
        candidate_id = only_referral().candidate_id
    link = answer_link(app, candidate_id)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = client.post(tampered, data={"agree": "y"})
    assert response.status_code == 400
    assert "We could not read this link" in response.get_data(as_text=True)
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/p/pool/{token}").status_code == 400  # not a pool consent link
    app.config["REFERRALS_LINK_DAYS"] = -1
    response = client.post(link, data={"agree": "y"})
    assert response.status_code == 200
    assert "This link has expired" in response.get_data(as_text=True)
    with app.app_context():
        assert only_referral().status == ReferralStatus.PENDING_CANDIDATE


# --- Accept and decline --------------------------------------------------------------------


@pytest.mark.parametrize("config_overrides", [{"REFERRALS_ASK_CANDIDATE": False}])
def test_accept_creates_the_application_once(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    response = make_referral(client, entry_id, pipeline["theirs"]["opening"])
    assert "Oscar Other has it in their inbox" in response.get_data(as_text=True)
    auth.logout()
    auth.login("other_manager")
    with app.app_context():
        referral_id = only_referral().id
    # Maria, the referrer, cannot decide; Oscar can.
    response = client.post(f"/referrals/{referral_id}/accept", data={"stage": "screen"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "joined Designer at Screen" in page
    with app.app_context():
        referral = only_referral()
        assert referral.status == ReferralStatus.ACCEPTED
        application = referral.application
        assert application.opening_id == pipeline["theirs"]["opening"]
        assert application.stage == Stage.SCREEN
        assert [c.to_stage for c in application.stage_changes] == [Stage.APPLIED, Stage.SCREEN]
    response = client.post(
        f"/referrals/{referral_id}/accept", data={"stage": "screen"}, follow_redirects=True
    )
    assert "already accepted" in response.get_data(as_text=True)
    with app.app_context():
        count = db.session.scalars(
            select(Application).where(Application.opening_id == pipeline["theirs"]["opening"])
        ).all()
        assert len(count) == 2  # the original applicant and the referred candidate
        assert audit_actions() == ["referral.made", "referral.accepted"]


@pytest.mark.parametrize("config_overrides", [{"REFERRALS_ASK_CANDIDATE": False}])
def test_accept_when_already_in_the_opening_makes_no_duplicate(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.test_request_context():
        referral = only_referral()
        add_application(referral.opening, referral.candidate, user("other_manager"))
        db.session.commit()
        referral_id = referral.id
    auth.logout()
    auth.login("other_manager")
    response = client.post(
        f"/referrals/{referral_id}/accept", data={"stage": "final"}, follow_redirects=True
    )
    assert "no second application was made" in response.get_data(as_text=True)
    with app.app_context():
        referral = only_referral()
        assert referral.status == ReferralStatus.ACCEPTED
        assert referral.application.stage == Stage.APPLIED


@pytest.mark.parametrize("config_overrides", [{"REFERRALS_ASK_CANDIDATE": False}])
def test_referrer_cannot_decide_and_decline_needs_a_reason(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.app_context():
        referral_id = only_referral().id
    response = client.post(
        f"/referrals/{referral_id}/accept", data={"stage": "screen"}, follow_redirects=True
    )
    assert "Only Oscar Other can accept or decline this" in response.get_data(as_text=True)
    auth.logout()
    auth.login("other_manager")
    response = client.post(f"/referrals/{referral_id}/decline", data={"reason": "  "})
    assert response.status_code == 400
    assert "Please give a reason" in response.get_data(as_text=True)
    with app.app_context():
        assert only_referral().status == ReferralStatus.PENDING
    client.post(f"/referrals/{referral_id}/decline", data={"reason": "The role needs Go."})
    with app.app_context():
        referral = only_referral()
        assert referral.status == ReferralStatus.DECLINED
        assert referral.decline_reason == "The role needs Go."
        assert referral.application_id is None
        actions = audit_actions()
        assert actions == ["referral.made", "referral.declined"]
        details = db.session.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "referral.declined")
        )
        assert "Go" not in json.loads(details).values()
    auth.logout()
    auth.login()
    made = client.get("/referrals/made").get_data(as_text=True)
    assert "Declined" in made and "The role needs Go." in made


@pytest.fixture
def smtp_config(smtp):
    return {
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT_SECONDS": 2,
        "REFERRALS_ASK_CANDIDATE": False,
    }


@pytest.fixture
def config_overrides(request):
    """SMTP for the test that asks for it by name; nothing otherwise."""
    if "smtp" in request.fixturenames:
        return request.getfixturevalue("smtp_config")
    return {}


def test_referrer_is_told_by_email(app, client, auth, pipeline, smtp):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    auth.logout()
    auth.login("other_manager")
    with app.app_context():
        referral_id = only_referral().id
    client.post(f"/referrals/{referral_id}/accept", data={"stage": "interview"})
    with app.app_context():
        report = deliver_due()
    assert len(report.sent) == 3  # consent request, Oscar's notice, Maria's outcome
    received = {m["To"]: m for m in smtp.wait_for(3)}
    outcome = received[USERS["manager"][0]]
    assert outcome["Subject"] == "Your referral of Casey Candidate0 to Designer: accepted"
    text = outcome.get_body(("plain",)).get_content()
    assert "at the Interview stage" in text and "/referrals/made" in text
    assert "/p/" not in text  # a user, not a candidate: no candidate link
    notice = received[USERS["other_manager"][0]]
    assert NOTE in notice.get_body(("plain",)).get_content()


# --- What the receiver sees, history and counts --------------------------------------------


@pytest.mark.parametrize("config_overrides", [{"REFERRALS_ASK_CANDIDATE": False}])
def test_receiver_sees_the_pool_profile_not_private_data(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0], reject=True)
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    auth.logout()
    auth.login("other_manager")
    with app.app_context():
        referral = only_referral()
        referral_id, candidate_id = referral.id, referral.candidate_id
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert NOTE in page
    assert "Calm under pressure, clear writer" in page
    assert "api design" in page and "Reached:</strong> Interview" in page
    assert "Maria Manager vouches for them" in page
    assert "PRIVATE-REASON" not in page and "Thank you for your time" not in page
    client.post(f"/referrals/{referral_id}/accept", data={"stage": "screen"})
    candidate_page = client.get(f"/candidates/{candidate_id}").get_data(as_text=True)
    assert "Designer" in candidate_page
    assert "PRIVATE-REASON" not in candidate_page


@pytest.mark.parametrize("config_overrides", [{"REFERRALS_ASK_CANDIDATE": False}])
def test_history_counts_hires_and_stats(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    auth.logout()
    auth.login("other_manager")
    with app.app_context():
        referral_id = only_referral().id
    client.post(f"/referrals/{referral_id}/accept", data={"stage": "final"})
    with app.test_request_context():
        move_application(only_referral().application, Stage.HIRED, user("other_manager"))
        db.session.commit()
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    steps = re.findall(r'<li class="list-group-item">(\w[\w ]*?) <span', page)
    assert steps == ["Referred", "Accepted", "Hired"]
    stats = client.get("/referrals/stats").get_data(as_text=True)
    row = re.search(r"Maria Manager</th>(.*?)</tr>", stats, re.S).group(1)
    assert re.findall(r">(\d+)<", row) == ["1", "1", "0", "0", "1", "0", "0"]
    row = re.search(r"Oscar Other</th>(.*?)</tr>", stats, re.S).group(1)
    assert re.findall(r">(\d+)<", row) == ["0", "0", "0", "0", "0", "1", "1"]
    auth.logout()
    auth.login()
    assert "Hired" in client.get("/referrals/made").get_data(as_text=True)


def test_recruiter_sees_all_and_manager_only_theirs(app, client, auth, pipeline):
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.app_context():
        referral_id = only_referral().id
    assert client.get(f"/referrals/{referral_id}").status_code == 200
    for who in ("recruiter", "admin"):
        auth.logout()
        auth.login(who)
        assert client.get(f"/referrals/{referral_id}").status_code == 200
    auth.logout()
    auth.login("other_manager")  # not introduced yet: the candidate has not agreed
    assert client.get(f"/referrals/{referral_id}").status_code == 404
    assert client.post(f"/referrals/{referral_id}/withdraw").status_code == 404
    auth.logout()
    auth.login()
    client.post(f"/referrals/{referral_id}/withdraw")
    with app.app_context():
        assert only_referral().status == ReferralStatus.WITHDRAWN


def test_withdrawn_consent_stops_a_waiting_referral(app, client, auth, pipeline):
    app.config["REFERRALS_ASK_CANDIDATE"] = False
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    with app.app_context():
        referral = only_referral()
        referral_id, candidate_id = referral.id, referral.candidate_id
        referral.candidate.do_not_contact_at = utcnow()
        db.session.commit()
    candidate_page = client.get(f"/candidates/{candidate_id}").get_data(as_text=True)
    assert f"/referrals/{referral_id}" in candidate_page and "Designer" in candidate_page
    auth.logout()
    auth.login("other_manager")
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert "This referral cannot go ahead" in page and "Accept into" not in page
    response = client.post(
        f"/referrals/{referral_id}/accept", data={"stage": "screen"}, follow_redirects=True
    )
    assert "do-not-contact" in response.get_data(as_text=True)
    with app.app_context():
        assert only_referral().status == ReferralStatus.PENDING


# --- Closed when the candidate can no longer be referred ------------------------------------


def waiting_referral(app, client, auth, pipeline) -> int:
    """Maria refers her pooled candidate to Oscar, who has it in his inbox; the entry id."""
    app.config["REFERRALS_ASK_CANDIDATE"] = False
    entry_id = pooled(app, pipeline["mine"]["applications"][0])
    auth.login()
    make_referral(client, entry_id, pipeline["theirs"]["opening"])
    auth.logout()
    auth.login("other_manager")
    assert "Casey Candidate0" in client.get("/referrals/").get_data(as_text=True)
    auth.logout()
    return entry_id


def assert_closed(app, client, auth, reason: str) -> None:
    """The referral is closed with ``reason``, gone from Oscar's inbox; Maria is told why."""
    with app.app_context():
        referral = only_referral()
        assert referral.status == ReferralStatus.WITHDRAWN and referral.decline_reason == reason
        assert referral.events[-1].kind == "closed"
        (notice,) = [m for m in messages_to(USERS["manager"][0]) if "not taken up" in m.subject]
        assert reason in notice.text_body
        assert audit_actions()[-1] == "referral.closed"
    referral_url = f"/referrals/{only_referral_id(app)}"
    auth.login("other_manager")
    assert referral_url not in client.get("/referrals/").get_data(as_text=True)
    auth.logout()
    auth.login()
    page = client.get(referral_url).get_data(as_text=True)
    assert "Closed: the candidate can no longer be referred" in page and reason in page
    auth.logout()


def only_referral_id(app) -> int:
    with app.app_context():
        return only_referral().id


def test_withdrawn_consent_closes_open_referrals(app, client, auth, pipeline):
    entry_id = waiting_referral(app, client, auth, pipeline)
    with app.test_request_context():
        link = withdraw_url(db.session.get(SilverMedalist, entry_id))
    client.post(link.replace("http://localhost", ""))
    assert_closed(app, client, auth, CLOSE_REASONS["withdrawn"])


def test_do_not_contact_closes_open_referrals(app, client, auth, pipeline):
    entry_id = waiting_referral(app, client, auth, pipeline)
    with app.app_context():
        candidate_id = db.session.get(SilverMedalist, entry_id).candidate_id
    auth.login()
    client.post(f"/candidates/{candidate_id}/do-not-contact", data={"reason": "abusive"})
    auth.logout()
    assert_closed(app, client, auth, CLOSE_REASONS["do_not_contact"])


def test_only_undecided_referrals_are_closed(app, client, auth, pipeline):
    entry_id = waiting_referral(app, client, auth, pipeline)
    auth.login("other_manager")
    client.post(f"/referrals/{only_referral_id(app)}/accept", data={"stage": "screen"})
    auth.logout()
    with app.test_request_context():
        withdraw_consent(db.session.get(SilverMedalist, entry_id))
        db.session.commit()
        assert only_referral().status == ReferralStatus.ACCEPTED
