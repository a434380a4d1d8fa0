"""The rejection workflow in a browser: compose, get flagged, fix, preview, send, undo; bulk."""

import os
import re
from pathlib import Path

from factories import PASSWORD, USERS
from playwright.sync_api import Page, expect
from sqlalchemy import select

from recruiter.extensions import db
from recruiter.models import Application, MessageStatus, Rejection, Stage

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "reject.png"


def sign_in(page: Page, live_server, who: str = "manager") -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(USERS[who][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My desk")).to_be_visible()


def test_compose_flag_fix_preview_send_undo(app, pipeline, live_server, page: Page):
    aid = pipeline["mine"]["applications"][0]
    sign_in(page, live_server)
    page.get_by_role("link", name="Backend Engineer").first.click()
    page.locator(f"#application-{aid}").get_by_role("link", name="Reject").click()

    note = page.get_by_label("Note to the candidate")
    expect(note).to_have_value(re.compile("Dear Casey,"))
    expect(page.get_by_label("Reason", exact=True)).to_have_value("1")  # the stage default
    expect(page.locator("#timing")).to_contain_text("undo until then")

    # Typing a risky sentence is flagged live (the script) ...
    risky = note.input_value().replace(
        "We enjoyed learning about your experience.",
        "Frankly, we went with a younger candidate.",
    )
    note.fill(risky)
    live = page.locator("#findings-live")
    expect(live).to_contain_text("must fix")
    expect(page.locator("#preview-highlighted mark.must-fix")).to_contain_text("younger candidate")
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.set_viewport_size({"width": 1280, "height": 1100})
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    # ... and sending is refused on the server.
    page.get_by_role("button", name="Send rejection").click()
    expect(page.get_by_role("alert")).to_contain_text("Fix the flagged phrases")

    # Fix the legal finding; the tone finding needs the confirmation box.
    page.get_by_label("Note to the candidate").fill(
        risky.replace("Frankly, we went with a younger candidate.", "Frankly, thank you.")
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#findings-live")).to_contain_text("confirm to send")
    page.get_by_role("button", name="Send rejection").click()
    expect(page.get_by_role("alert")).to_contain_text("Confirm that you want to send")
    page.get_by_label("Note to the candidate").fill(
        risky.replace("Frankly, we went with a younger candidate.", "Thank you.")
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#findings-box")).to_contain_text("No risky wording found.")
    expect(page.locator("#preview-subject")).to_have_text("Your application for Backend Engineer")

    page.get_by_role("button", name="Send rejection").click()
    expect(page.get_by_text("The note to Casey Candidate0 is scheduled. Sends")).to_be_visible()
    with app.app_context():
        rejection = db.session.scalar(select(Rejection))
        assert rejection.message.status == MessageStatus.QUEUED
        assert "younger" not in rejection.body

    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Undone: no note goes to Casey Candidate0")).to_be_visible()
    with app.app_context():
        rejection = db.session.scalar(select(Rejection))
        assert rejection.message.status == MessageStatus.CANCELLED
        assert db.session.get(Application, aid).stage == Stage.INTERVIEW


def test_bulk_rejection(app, pipeline, live_server, page: Page):
    ids = pipeline["mine"]["applications"]
    sign_in(page, live_server)
    page.get_by_role("link", name="Backend Engineer").first.click()
    for aid in ids:
        page.locator(f"#select-{aid}").check()
    page.get_by_role("button", name="Reject selected").click()
    expect(page.get_by_role("heading", name="Reject 3 candidates")).to_be_visible()

    page.get_by_label("Personal line for Casey Candidate1").fill("It was a pleasure to meet you.")
    page.get_by_label("Preview the note to").select_option(label="Casey Candidate1")
    page.get_by_role("button", name="Check and preview").click()
    expect(page.locator("#preview-highlighted")).to_contain_text("It was a pleasure to meet you.")
    expect(page.locator("#preview-highlighted")).to_contain_text("Dear Casey,")
    expect(page.get_by_text("Clean", exact=True)).to_have_count(3)

    page.get_by_role("button", name="Send rejections").click()
    expect(page.get_by_role("heading", name="Bulk rejection: 3 of 3 scheduled")).to_be_visible()
    for aid in ids:
        expect(page.locator(f"#result-{aid}")).to_contain_text("scheduled")
    with app.app_context():
        stages = db.session.scalars(select(Application.stage).where(Application.id.in_(ids)))
        assert set(stages) == {Stage.REJECTED}
