"""Maria refers a pooled candidate to Oscar's opening; the candidate agrees; Oscar accepts;
Maria sees the outcome."""

import re

from factories import PASSWORD, USERS
from playwright.sync_api import Page, expect
from sqlalchemy import select

from recruiter.extensions import db
from recruiter.models import Application, OutboxMessage, Referral, ReferralStatus, Stage, User
from recruiter.pool.services import give_consent, tag_silver_medalist


def sign_in(page: Page, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(USERS[who][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My desk")).to_be_visible()


def test_referral_from_one_manager_accepted_by_another(app, pipeline, live_server, page: Page):
    with app.test_request_context():
        maria = db.session.scalar(select(User).where(User.email == USERS["manager"][0]))
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        entry = tag_silver_medalist(application, maria, strengths="Calm, clear API designer")
        give_consent(entry)
        db.session.commit()
        entry_id = entry.id

    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/pool/{entry_id}")
    page.get_by_role("link", name="Refer to a colleague").click()
    page.get_by_label(re.compile("Designer")).check()
    page.get_by_label("Why they fit").fill("Great with users; ideal for your team.")
    page.get_by_role("button", name="Refer Casey").click()
    expect(page.get_by_text("We asked Casey Candidate0 first")).to_be_visible()

    # The candidate follows the link in the message and agrees to the introduction.
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id.desc())
        ).first()
        link = re.search(r"https?://[^/]+(/p/referral/\S+)", message.text_body).group(1)
    page.goto(f"{live_server.url}{link}")
    page.get_by_role("button", name="Yes, please introduce me").click()
    expect(page.get_by_text("we will make the introduction")).to_be_visible()

    page.goto(f"{live_server.url}/desk")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "other_manager")
    referrals = page.get_by_role("region", name="Referrals for you")
    referrals.get_by_role("link", name="Decide").click()
    expect(page.get_by_text("Great with users; ideal for your team.")).to_be_visible()
    expect(page.get_by_text("Calm, clear API designer")).to_be_visible()
    page.get_by_label("Start at stage").select_option("screen")
    page.get_by_role("button", name="Accept into Designer").click()
    expect(page.get_by_text("Casey Candidate0 joined Designer at Screen.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "manager")
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name="Referrals I made").click()
    row = page.get_by_role("row", name=re.compile("Casey Candidate0"))
    expect(row.get_by_text("Accepted")).to_be_visible()
    expect(row.get_by_text("In the opening at Screen")).to_be_visible()

    with app.app_context():
        referral = db.session.scalar(select(Referral))
        assert referral.status == ReferralStatus.ACCEPTED
        assert referral.application.stage == Stage.SCREEN
