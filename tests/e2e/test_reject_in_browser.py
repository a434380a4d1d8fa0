"""A hiring manager signs in, rejects one application and the note reaches the SMTP server."""

import pytest
from factories import PASSWORD, USERS
from playwright.sync_api import Page, expect

from recruiter.outbox.delivery import deliver_due


@pytest.fixture
def config_overrides(smtp):
    return {
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT_SECONDS": 2,
        # No waiting: the undo path has its own browser test.
        "REJECTION_UNDO_MINUTES": 0,
        "REJECTION_MIN_HOURS_AFTER_APPLYING": 0,
        "BUSINESS_HOURS_ENABLED": False,
    }


def test_manager_rejects_and_candidate_receives_the_note(
    app, pipeline, live_server, smtp, page: Page
):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(USERS["manager"][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My desk")).to_be_visible()

    page.get_by_role("link", name="Backend Engineer").first.click()
    page.locator(f"#application-{pipeline['mine']['applications'][0]}").get_by_role(
        "link", name="Reject"
    ).click()
    expect(page.get_by_label("Note to the candidate")).to_have_value(
        __import__("re").compile("Thank you for your time")
    )
    page.get_by_label("Internal reason").fill("PRIVATE: weaker system design")
    page.get_by_role("button", name="Send rejection").click()
    expect(page.get_by_text("The note to Casey Candidate0 is scheduled.")).to_be_visible()

    with app.app_context():
        report = deliver_due()
    assert len(report.sent) == 1
    [message] = smtp.wait_for(1)
    assert message["To"] == "casey0.bac@example.com"
    assert "Thank you for your time" in message.get_body(("plain",)).get_content()
    assert "PRIVATE" not in message.as_string()

    page.reload()
    expect(page.get_by_text("Note sent")).to_be_visible()
