"""A manager tags a runner-up; the candidate follows the consent link from the real email;
the manager then finds them in the pool with consent given."""

import re

import pytest
from factories import PASSWORD, USERS
from playwright.sync_api import Page, expect

from recruiter.outbox.delivery import deliver_due


@pytest.fixture
def config_overrides(smtp):
    return {"MAIL_SERVER": smtp.host, "MAIL_PORT": smtp.port, "MAIL_TIMEOUT_SECONDS": 2}


def test_tag_consent_and_find_in_pool(app, pipeline, live_server, smtp, page: Page, browser):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(USERS["manager"][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Backend Engineer").first.click()
    row = page.locator(f"#application-{pipeline['mine']['applications'][0]}")
    row.get_by_role("link", name="Tag as silver medalist").click()
    page.get_by_label("Strengths").fill("Calm, thorough, great at explaining trade-offs")
    page.get_by_label("Skills").fill("python, kubernetes")
    page.get_by_label("Role family").fill("engineering")
    page.get_by_label("Locations they would work in").fill("Berlin")
    page.get_by_role("button", name="Tag and ask for consent").click()
    expect(page.get_by_text("consent pending: we asked them by email")).to_be_visible()

    with app.app_context():
        assert len(deliver_due().sent) == 1
    [message] = smtp.wait_for(1)
    assert message["To"] == "casey0.bac@example.com"
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/p/pool/(?!withdraw)\S+", text).group(0)

    # The candidate, on their phone, signed in to nothing.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    candidate = phone.new_page()
    candidate.goto(link)
    expect(candidate.get_by_text("Acme Robotics").first).to_be_visible()
    candidate.get_by_label("Roles that interest you (optional)").fill("Platform engineering")
    candidate.get_by_role("button", name="Yes, keep in touch").click()
    expect(
        candidate.get_by_role("heading", name="Thank you, we will keep in touch")
    ).to_be_visible()
    phone.close()

    page.get_by_role("link", name="Pool", exact=True).click()
    page.get_by_label("Words in strengths or notes").fill("trade-offs")
    page.get_by_role("button", name="Search").click()
    result = page.locator("article").filter(has_text="Casey Candidate0")
    expect(result).to_be_visible()
    expect(result.get_by_text("Given")).to_be_visible()
    expect(result.locator("mark").first).to_have_text(re.compile("trade", re.I))
