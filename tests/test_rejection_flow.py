"""One rejection end to end: form, preview, one transaction, the worker, a real SMTP server."""

import pytest
from sqlalchemy import func, select

from recruiter.extensions import db
from recruiter.models import Application, MessageStatus, OutboxMessage, Rejection, Stage


@pytest.fixture
def config_overrides(smtp):
    return {
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT_SECONDS": 2,
        # Send at once: timing and undo have their own tests in test_rejections.py.
        "REJECTION_UNDO_MINUTES": 0,
        "REJECTION_MIN_HOURS_AFTER_APPLYING": 0,
        "BUSINESS_HOURS_ENABLED": False,
    }


def reject(client, application_id, **overrides):
    data = {
        "subject": "Your application for Backend Engineer",
        "body": "Dear Casey,\n\nThank you for your time.\n\nKind regards,\nMaria",
        "internal_reason": "SECRET-REASON: weaker on system design",
        "reason_code_id": "1",
        "send": "Send",
    }
    data.update(overrides)
    return client.post(f"/applications/{application_id}/reject", data=data)


def test_form_starts_from_a_respectful_note(client, auth, pipeline):
    auth.login()
    page = client.get(f"/applications/{pipeline['mine']['applications'][0]}/reject")
    text = page.get_data(as_text=True)
    assert "Dear Casey," in text
    assert "Thank you for your time" in text
    assert "Never sent to the candidate" in text
    assert 'title="HTML email preview"' in text


def test_preview_shows_the_typed_note_and_sends_nothing(app, client, auth, pipeline):
    auth.login()
    response = reject(
        client,
        pipeline["mine"]["applications"][0],
        send="",
        preview="Preview",
        body="Dear Casey,\n\n<b>Thanks</b> a lot.",
    )
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;Thanks&lt;/b&gt; a lot." in page  # escaped in the preview
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_sent_note_arrives_without_the_internal_reason(app, client, auth, pipeline, smtp, runner):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    assert reject(client, aid).status_code == 302
    with app.app_context():
        application = db.session.get(Application, aid)
        assert application.stage == Stage.REJECTED
        rejection = application.rejection
        assert rejection.internal_reason.startswith("SECRET-REASON")
        assert rejection.message.status == MessageStatus.QUEUED
    assert "Note queued" in client.get(f"/openings/{pipeline['mine']['opening']}").get_data(
        as_text=True
    )

    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    [message] = smtp.wait_for(1)
    assert message["To"] == "casey0.bac@example.com"
    assert message["Subject"] == "Your application for Backend Engineer"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Thank you for your time." in text and "Thank you for your time." in html
    assert "SECRET-REASON" not in message.as_string()
    with app.app_context():
        stored = db.session.scalar(select(OutboxMessage))
        assert stored.status == MessageStatus.SENT and stored.transport == "smtp"
        assert message["Message-ID"] == stored.message_id_header
    assert "Note sent" in client.get(f"/openings/{pipeline['mine']['opening']}").get_data(
        as_text=True
    )


def test_html_part_escapes_what_the_manager_typed(app, client, auth, pipeline, smtp, runner):
    auth.login()
    reject(
        client,
        pipeline["mine"]["applications"][0],
        body="Dear Casey,\n\n<script>alert(1)</script> thanks",
    )
    runner.invoke(args=["outbox", "deliver"])
    [message] = smtp.wait_for(1)
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_second_submit_sends_no_second_note(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    reject(client, aid)
    reject(client, aid)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Rejection)) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_service_refuses_a_second_rejection(app, pipeline):
    from recruiter.models import ReasonCode, User
    from recruiter.rejections.services import AlreadyRejected, reject_application

    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        author = db.session.get(User, application.opening.owner_id)
        reason = db.session.get(ReasonCode, 1)
        reject_application(application, author, "Subject", "Body", "reason", reason=reason)
        db.session.commit()
        with pytest.raises(AlreadyRejected):
            reject_application(application, author, "Subject", "Body", "reason", reason=reason)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("subject", "Hello\r\nBcc: victim@example.com", "single line"),
        ("reason_code_id", "", "Choose a reason"),
        ("body", "", "This field is required"),
        ("subject", "x" * 201, "longer than 200 characters"),
    ],
)
def test_bad_input_is_explained_and_kept(app, client, auth, pipeline, field, value, error):
    auth.login()
    response = reject(client, pipeline["mine"]["applications"][0], **{field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert error in page
    typed = {"body": "Thank you for your time.", "internal_reason": "SECRET-REASON"}
    for other, words in typed.items():
        if other != field:
            assert words in page  # what was typed is still there
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_without_smtp_mail_goes_to_the_dev_mailbox(app, client, auth, pipeline, runner):
    app.config["MAIL_SERVER"] = None
    auth.login()
    reject(client, pipeline["mine"]["applications"][0])
    assert "sent 1" in runner.invoke(args=["outbox", "deliver"]).output
    page = client.get("/mailbox/").get_data(as_text=True)
    assert "Your application for Backend Engineer" in page
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
    shown = client.get(f"/mailbox/{message_id}").get_data(as_text=True)
    assert "Thank you for your time." in shown and "SECRET-REASON" not in shown
    part = client.get(f"/mailbox/{message_id}/html")
    assert "sandbox" in part.headers["Content-Security-Policy"]


def test_outbox_status_counts(app, client, auth, pipeline, runner):
    import json

    auth.login()
    reject(client, pipeline["mine"]["applications"][0])
    counts = json.loads(runner.invoke(args=["outbox", "status", "--json"]).output)
    assert counts["queued"] == 1 and counts["sent"] == 0


def test_nothing_is_queued_for_a_do_not_contact_candidate(app, pipeline):
    from recruiter.models import utcnow
    from recruiter.outbox.services import ContactRefused, queue_message

    with app.app_context():
        candidate = db.session.get(Application, pipeline["mine"]["applications"][0]).candidate
        candidate.do_not_contact_at = utcnow()
        with pytest.raises(ContactRefused):
            queue_message(candidate.email, "Hello", "text", candidate=candidate)
