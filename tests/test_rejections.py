"""Rejections done right: templates, reasons, the wording check, timing, undo, bulk, no ghosting."""

from datetime import UTC, datetime, timedelta

import pytest
from factories import USERS, make_opening
from sqlalchemy import func, select

from recruiter.extensions import db
from recruiter.models import (
    Application,
    AuditEvent,
    CachedFigure,
    Candidate,
    MessageStatus,
    OutboxMessage,
    ReasonCode,
    Rejection,
    RejectionTemplate,
    Stage,
    StageChange,
    User,
    utcnow,
)
from recruiter.openings.services import WAITING_STAGES, move_application, waiting_query
from recruiter.rejections.placeholders import (
    PlaceholderError,
    check_placeholders,
    fill_placeholders,
)
from recruiter.rejections.services import (
    TooLateToUndo,
    cancel_rejection,
    leave_door_open,
    median_days_to_decision,
    reject_application,
)
from recruiter.rejections.timing import Rules, as_bool, parse_days, schedule

GOOD_NOTE = "Dear Casey,\n\nThank you for your time.\n\nKind regards,\nMaria"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def reject(client, application_id, **overrides):
    data = {
        "template_id": "2",
        "reason_code_id": "1",
        "subject": "Your application for Backend Engineer",
        "body": GOOD_NOTE,
        "internal_reason": "SECRET-REASON: weaker on system design",
        "send": "Send",
    }
    data.update(overrides)
    return client.post(f"/applications/{application_id}/reject", data=data)


# --- Placeholders ------------------------------------------------------------------------


VALUES = {
    "candidate_first_name": "Ana",
    "candidate_name": "Ana {company} Ruiz",
    "opening_title": "Backend Engineer",
    "manager_name": "Maria",
    "company": "Acme",
    "closing": "Good luck.",
}


def test_placeholders_are_filled_in_one_plain_pass():
    text = "Dear {candidate_first_name} ({candidate_name}), {opening_title} at {company}."
    filled = fill_placeholders(text, VALUES)
    # A value holding braces is never expanded again.
    assert filled == "Dear Ana (Ana {company} Ruiz), Backend Engineer at Acme."


@pytest.mark.parametrize(
    "text",
    [
        "Hello {candidate_surname}",
        "{{ config }}",
        "{{config.SECRET_KEY}}",
        "{% for x in y %}{% endfor %}",
        "{candidate.__class__}",
        "{0}",
        "a stray { brace",
        "a stray } brace",
    ],
)
def test_unknown_placeholders_and_jinja_are_refused(text):
    assert check_placeholders(text)
    with pytest.raises(PlaceholderError):
        fill_placeholders(text, VALUES)


def test_an_unfilled_placeholder_is_refused_not_left_blank():
    with pytest.raises(PlaceholderError, match="manager_name"):
        fill_placeholders("Regards, {manager_name}", {**VALUES, "manager_name": " "})


def test_door_opens_only_with_pool_consent(app, pipeline):
    from recruiter.pool.services import give_consent, tag_silver_medalist

    with app.test_request_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        candidate, maria = application.candidate, db.session.get(User, application.opening.owner_id)
        assert leave_door_open(candidate) is False  # not in the pool
        entry = tag_silver_medalist(application, maria, strengths="Clear thinker")
        assert leave_door_open(candidate) is False  # asked, not yet agreed
        give_consent(entry)
        assert leave_door_open(candidate) is True
        candidate.do_not_contact_at = datetime.now(UTC)
        assert leave_door_open(candidate) is False


def test_keep_in_pool_from_the_reject_form(app, client, auth, pipeline):
    from recruiter.models import ConsentState, OutboxMessage, SilverMedalist

    auth.login()
    application_id = pipeline["mine"]["applications"][0]
    page = client.get(f"/applications/{application_id}/reject").get_data(as_text=True)
    assert "Keep in the silver-medalist pool" in page
    response = reject(
        client,
        application_id,
        keep_in_pool="y",
        pool_strengths="Calm, clear writer",
        pool_skills="Python, PostgreSQL",
    )
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(SilverMedalist))
        assert entry.consent_state == ConsentState.PENDING
        assert [s.name for s in entry.skills] == ["postgresql", "python"]
        note, consent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        assert consent.send_after >= note.send_after  # never asked before being told
    again = client.get(f"/applications/{application_id}/reject")
    assert again.status_code == 302  # rejected now: nothing more to send


def test_undo_takes_back_a_pool_tag_made_with_the_note(app, client, auth, pipeline):
    from recruiter.models import MessageStatus, OutboxMessage, SilverMedalist

    auth.login()
    application_id = pipeline["mine"]["applications"][0]
    reject(client, application_id, keep_in_pool="y", pool_strengths="Calm")
    with app.app_context():
        rid = db.session.scalar(select(Rejection.id))
    client.post(f"/rejections/{rid}/undo")
    with app.app_context():
        assert db.session.scalar(select(SilverMedalist)) is None
        states = set(db.session.scalars(select(OutboxMessage.status)))
        assert states == {MessageStatus.CANCELLED}
    # Rejected again later, they can be tagged again.
    assert reject(client, application_id, keep_in_pool="y").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SilverMedalist)) is not None


# --- Settings ----------------------------------------------------------------------------


def template_data(**overrides):
    data = {
        "name": "Short and kind",
        "subject": "About {opening_title}",
        "body": "Dear {candidate_first_name},\n\nThank you.\n\n{closing}\n\n{manager_name}",
        "stages": ["screen"],
        "language": "en",
        "active": "y",
    }
    data.update(overrides)
    return data


def test_recruiter_saves_a_template(app, client, auth):
    auth.login("recruiter")
    assert client.get("/settings/rejections/").status_code == 200
    response = client.post("/settings/rejections/templates/new", data=template_data())
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.scalar(
            select(RejectionTemplate).where(RejectionTemplate.name == "Short and kind")
        )
        assert saved.stage_list == [Stage.SCREEN]
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "rejection_template.saved")
        )


@pytest.mark.parametrize("body", ["Hi {candidate_surname}", "Hi {{ config }}", "{% if 1 %}x"])
def test_template_with_unknown_placeholder_is_refused_on_save(app, client, auth, body):
    auth.login("admin")
    response = client.post("/settings/rejections/templates/new", data=template_data(body=body))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Unknown placeholder" in page or "Braces are only for placeholders" in page
    with app.app_context():
        assert count(RejectionTemplate) == 3  # the seeded ones only


def test_recruiter_adds_a_reason_and_sets_a_stage_default(app, client, auth):
    auth.login("recruiter")
    data = {"label": "Salary expectations differ", "group": "other", "active": "y"}
    assert client.post("/settings/rejections/reasons/new", data=data).status_code == 302
    with app.app_context():
        reason = db.session.scalar(select(ReasonCode).where(ReasonCode.label == data["label"]))
    default = {
        "screen-stage": "screen",
        "screen-template_id": "3",
        "screen-reason_code_id": reason.id,
    }
    client.post("/settings/rejections/defaults/screen", data=default)
    with app.app_context():
        from recruiter.models import StageDefault

        row = db.session.get(StageDefault, Stage.SCREEN)
        assert (row.template_id, row.reason_code_id) == (3, reason.id)


def test_managers_cannot_reach_settings(client, auth):
    auth.login("manager")
    assert client.get("/settings/rejections/").status_code == 404
    assert client.post("/settings/rejections/reasons/new", data={"label": "x"}).status_code == 404


def test_fresh_install_has_templates_reasons_and_defaults(app):
    with app.app_context():
        assert count(RejectionTemplate) >= 1 and count(ReasonCode) >= 1


# --- The reject form ----------------------------------------------------------------------


def test_form_starts_from_the_stage_default(client, auth, pipeline):
    auth.login()
    page = client.get(f"/applications/{pipeline['mine']['applications'][0]}/reject")
    text = page.get_data(as_text=True)
    assert "conversations with our team about the Backend Engineer role" in text  # interview
    assert '<option selected value="2">After interviews</option>' in text
    assert '<option selected value="1">Another candidate was a closer match</option>' in text
    assert "{candidate_first_name}" not in text.split("Placeholders you can use")[0]
    assert "Sends " in text and "undo until then" in text


def test_choosing_another_template_refills_the_note(client, auth, pipeline):
    auth.login()
    response = reject(
        client, pipeline["mine"]["applications"][0], send="", use_template="y", template_id="3"
    )
    assert "The role has now been filled" in response.get_data(as_text=True)


def test_reason_is_required_and_never_sent(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    response = reject(client, aid, reason_code_id="")
    assert "Choose a reason" in response.get_data(as_text=True)
    assert reject(client, aid).status_code == 302
    with app.app_context():
        rejection = db.session.scalar(select(Rejection))
        assert rejection.reason_code.label == "Another candidate was a closer match"
        assert rejection.template_id == 2
        message = rejection.message
        for secret in ("SECRET-REASON", rejection.reason_code.label):
            assert secret not in message.text_body + message.html_body + message.subject


def test_placeholders_typed_in_the_note_are_filled_before_sending(app, client, auth, pipeline):
    auth.login()
    reject(client, pipeline["mine"]["applications"][0], body="Dear {candidate_first_name}, thanks.")
    with app.app_context():
        assert db.session.scalar(select(Rejection.body)) == "Dear Casey, thanks."


def test_unknown_placeholder_in_the_note_is_refused_before_sending(app, client, auth, pipeline):
    auth.login()
    response = reject(client, pipeline["mine"]["applications"][0], body="Hi {{ config }}")
    assert "Braces are only for placeholders" in response.get_data(as_text=True)
    with app.app_context():
        assert count(OutboxMessage) == 0


def test_preview_shows_each_finding_highlighted(app, client, auth, pipeline):
    auth.login()
    body = "Dear Casey,\n\nThank you. We feel you are too old for this team.\n\nMaria"
    response = reject(client, pipeline["mine"]["applications"][0], send="", preview="y", body=body)
    page = response.get_data(as_text=True)
    assert '<mark class="finding must-fix" title="Age">too old<sup>1</sup></mark>' in page
    assert "must fix" in page and "Try:" in page
    with app.app_context():
        assert count(OutboxMessage) == 0


def test_legal_findings_block_sending(app, client, auth, pipeline):
    auth.login()
    body = "Dear Casey,\n\nWe went with a younger candidate.\n\nMaria"
    response = reject(client, pipeline["mine"]["applications"][0], body=body, confirm_tone="y")
    assert "Fix the flagged phrases before sending." in response.get_data(as_text=True)
    with app.app_context():
        assert count(OutboxMessage) == 0 and count(Rejection) == 0


def test_tone_findings_need_confirmation(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    body = "Dear Casey,\n\nFrankly, thank you for your time.\n\nMaria"
    response = reject(client, aid, body=body)
    assert "Confirm that you want to send" in response.get_data(as_text=True)
    with app.app_context():
        assert count(OutboxMessage) == 0
    assert reject(client, aid, body=body, confirm_tone="y").status_code == 302
    with app.app_context():
        assert count(OutboxMessage) == 1


def test_live_check_endpoint_returns_findings_and_changes_nothing(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    body = "Dear {candidate_first_name}, frankly we went with a younger candidate."
    data = client.post(
        f"/applications/{aid}/reject/check", json={"subject": "Hi", "body": body}
    ).get_json()
    assert [f["category"] for f in data["findings"]] == ["tone", "age"]
    assert data["findings"][1]["blocking"] is True
    assert "Dear Casey," in data["preview_text"]
    assert "<mark" in data["highlighted"]
    bad = client.post(f"/applications/{aid}/reject/check", json={"body": "{{ config }}"})
    assert "Braces" in bad.get_json()["error"]
    with app.app_context():
        assert count(OutboxMessage) == 0


def test_double_submit_makes_one_note(app, client, auth, pipeline):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    assert reject(client, aid).status_code == 302
    assert reject(client, aid).status_code == 302
    with app.app_context():
        assert count(Rejection) == 1 and count(OutboxMessage) == 1


# --- Timing ------------------------------------------------------------------------------


RULES = Rules.from_config(
    {
        "REJECTION_UNDO_MINUTES": 10,
        "REJECTION_MIN_HOURS_AFTER_APPLYING": 24,
        "BUSINESS_HOURS_ENABLED": True,
        "BUSINESS_HOURS": "09:00-17:00",
        "BUSINESS_DAYS": "Mon-Fri",
    }
)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "tz", "expected", "why"),
    [
        # Tuesday 10:00 in Berlin: just the undo window.
        (
            "2026-11-24T10:00+01:00",
            "Europe/Berlin",
            "2026-11-24T10:10+01:00",
            "10-minute undo window",
        ),
        # Friday 16:55 Berlin: the window runs past closing, so Monday 09:00.
        ("2026-11-27T16:55+01:00", "Europe/Berlin", "2026-11-30T09:00+01:00", "business"),
        # Saturday: Monday morning.
        ("2026-11-28T11:00+01:00", "Europe/Berlin", "2026-11-30T09:00+01:00", "business"),
        # Early Tuesday: 09:00 the same day.
        ("2026-11-24T06:00+01:00", "Europe/Berlin", "2026-11-24T09:00+01:00", "business"),
        # Same instant, New York: Friday 10:55 there is within hours.
        ("2026-11-27T16:55+01:00", "America/New_York", "2026-11-27T17:05+01:00", "undo"),
        # Friday evening before the spring change (29 March 2026): Monday 09:00 CEST.
        ("2026-03-27T18:00+01:00", "Europe/Berlin", "2026-03-30T09:00+02:00", "business"),
        # Friday after the autumn change in Sydney... Sunday in Tokyo: Monday 09:00 JST.
        ("2026-11-29T10:00+09:00", "Asia/Tokyo", "2026-11-30T09:00+09:00", "business"),
        # An unknown zone counts as UTC.
        ("2026-11-28T12:00+00:00", "Mars/Olympus", "2026-11-30T09:00+00:00", "business"),
    ],
)
def test_send_time_respects_undo_window_weekends_and_time_zones(now, tz, expected, why):
    result = schedule(at(now), LONG_AGO, tz, RULES)
    assert result.send_at == at(expected)
    assert any(why in reason for reason in result.reasons)


def test_never_sooner_than_a_day_after_applying():
    applied = at("2026-11-24T08:00+01:00")
    result = schedule(at("2026-11-24T09:00+01:00"), applied, "Europe/Berlin", RULES)
    assert result.send_at == at("2026-11-25T09:00+01:00")
    assert result.reasons[0] == "not sooner than 24 hours after applying"


def test_business_hours_can_be_turned_off():
    rules = Rules.from_config(
        {
            "REJECTION_UNDO_MINUTES": 0.5,
            "REJECTION_MIN_HOURS_AFTER_APPLYING": 0,
            "BUSINESS_HOURS_ENABLED": "false",
            "BUSINESS_HOURS": "09:00-17:00",
            "BUSINESS_DAYS": "Mon-Fri",
        }
    )
    now = at("2026-11-28T23:00+01:00")
    assert schedule(now, now, "Europe/Berlin", rules).send_at == now + timedelta(seconds=30)


def test_settings_parse():
    assert parse_days("Mon-Fri") == {0, 1, 2, 3, 4}
    assert parse_days("Sun, Tue-Wed") == {6, 1, 2}
    assert as_bool("false") is False and as_bool("true") is True and as_bool(False) is False


def test_scheduled_note_waits_for_its_time(app, client, auth, pipeline, runner):
    auth.login()
    aid = pipeline["mine"]["applications"][0]
    response = reject(client, aid)
    page = client.get(response.location).get_data(as_text=True)
    assert "is scheduled. Sends" in page and "candidate&#39;s time (UTC)" in page
    assert "Undo" in page
    assert "Nothing due" in runner.invoke(args=["outbox", "deliver"]).output
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.send_after >= utcnow() + timedelta(minutes=9)


# --- Undo --------------------------------------------------------------------------------


def rejected(app, pipeline, index=0) -> int:
    """Reject one of Maria's applications through the service; the rejection's id."""
    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][index])
        author = db.session.get(User, application.opening.owner_id)
        rejection = reject_application(
            application, author, "Subject", GOOD_NOTE, reason=db.session.get(ReasonCode, 1)
        )
        db.session.commit()
        return rejection.id


def test_the_pipeline_row_shows_the_latest_rejection(app, client, auth, pipeline):
    """Rejected, undone, rejected again: the row offers to undo the second note, not the
    cancelled first one."""
    first = rejected(app, pipeline)
    auth.login()
    client.post(f"/rejections/{first}/undo")
    second = rejected(app, pipeline)
    assert second != first
    page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert f"/rejections/{second}/undo" in page and f"/rejections/{first}/undo" not in page
    assert "Note queued" in page


def test_undo_puts_the_application_back_and_cancels_the_note(app, client, auth, pipeline):
    rid = rejected(app, pipeline)
    auth.login()
    page = client.get(f"/openings/{pipeline['mine']['opening']}").get_data(as_text=True)
    assert "Undo rejection" in page
    assert "Casey Candidate0" in client.get("/rejections/pending").get_data(as_text=True)
    response = client.post(f"/rejections/{rid}/undo", follow_redirects=True)
    assert "Undone: no note goes to Casey Candidate0; back at Interview." in response.get_data(
        as_text=True
    )
    with app.app_context():
        rejection = db.session.get(Rejection, rid)
        assert rejection.application.stage == Stage.INTERVIEW
        assert rejection.message.status == MessageStatus.CANCELLED
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"rejection.scheduled", "rejection.undone", "message.cancelled"} <= actions
    assert "Casey Candidate0" not in client.get("/rejections/pending").get_data(as_text=True)
    # Undone, the candidate can be rejected again, with a new note.
    assert reject(client, pipeline["mine"]["applications"][0]).status_code == 302


def test_undo_loses_cleanly_to_the_worker(app, pipeline):
    rid = rejected(app, pipeline)
    with app.app_context():
        rejection = db.session.get(Rejection, rid)
        rejection.message.status = MessageStatus.SENDING  # the worker claimed it
        db.session.commit()
        user = db.session.get(User, rejection.author_id)
        with pytest.raises(TooLateToUndo):
            cancel_rejection(rejection, user)
        assert rejection.application.stage == Stage.REJECTED


def test_undo_twice_is_refused(app, pipeline):
    rid = rejected(app, pipeline)
    with app.app_context():
        rejection = db.session.get(Rejection, rid)
        cancel_rejection(rejection, rejection.author)
        db.session.commit()
        with pytest.raises(TooLateToUndo):
            cancel_rejection(rejection, rejection.author)


@pytest.mark.parametrize("stage", [Stage.INTERVIEW, Stage.HIRED])
def test_moving_back_or_hiring_cancels_the_pending_note(app, pipeline, stage):
    rid = rejected(app, pipeline)
    with app.app_context():
        rejection = db.session.get(Rejection, rid)
        move_application(rejection.application, stage, rejection.author)
        db.session.commit()
        assert rejection.message.status == MessageStatus.CANCELLED
        assert rejection.cancelled_at is not None
        assert rejection.application.stage == stage


# --- Bulk --------------------------------------------------------------------------------


@pytest.fixture
def crowd(app) -> dict:
    with app.app_context():
        return make_opening(USERS["manager"][0], "Support Engineer", 50)


def bulk_data(ids, **overrides):
    data = {
        "template_id": "2",
        "reason_code_id": "4",
        "subject": "Your application for {opening_title}",
        "body": "Dear {candidate_first_name},\n\nThank you for your time.\n\n{closing}",
        "internal_reason": "SECRET",
        "send": "y",
    }
    for i, aid in enumerate(ids):
        data[f"rows-{i}-application_id"] = str(aid)
        data[f"rows-{i}-personal"] = ""
    data.update(overrides)
    return data


def test_selecting_on_the_opening_page_opens_the_bulk_page(client, auth, crowd):
    auth.login()
    ids = crowd["applications"][:3]
    response = client.post(
        f"/openings/{crowd['opening']}/bulk-reject", data={"application_id": ids}
    )
    page = response.get_data(as_text=True)
    assert "Reject 3 candidates" in page
    assert "{candidate_first_name}" in page  # the shared text, filled per candidate later


def test_bulk_of_fifty_with_one_blocked_note(app, client, auth, crowd):
    auth.login()
    ids = crowd["applications"]
    data = bulk_data(ids, **{"rows-7-personal": "We went with a younger candidate."})
    # Above 20 the count must be typed.
    response = client.post(f"/openings/{crowd['opening']}/bulk-reject", data=data)
    assert "Type 50 to confirm" in response.get_data(as_text=True)
    with app.app_context():
        assert count(OutboxMessage) == 0
    # Checking shows the blocked note among the others.
    check = client.post(
        f"/openings/{crowd['opening']}/bulk-reject",
        data={**data, "send": "", "preview": "y", "preview_id": str(ids[7])},
    ).get_data(as_text=True)
    row = check.split(f'id="bulk-row-{ids[7]}"')[1].split("</tr>")[0]
    assert "Must fix: " in row and "younger candidate" in row
    assert "Note to Casey Candidate7" in check and '<mark class="finding must-fix"' in check
    assert check.count('text-bg-success">Clean') == 49
    response = client.post(
        f"/openings/{crowd['opening']}/bulk-reject", data={**data, "confirm_count": "50"}
    )
    page = response.get_data(as_text=True)
    assert "49 of 50 scheduled" in page
    assert page.count('id="result-') == 50
    with app.app_context():
        assert count(OutboxMessage) == 49
        blocked = db.session.get(Application, ids[7])
        assert blocked.stage == Stage.INTERVIEW
        bodies = db.session.scalars(select(OutboxMessage.text_body)).all()
        assert "Dear Casey," in bodies[0] and "SECRET" not in "".join(bodies)
        assert "{" not in "".join(bodies)


def test_bulk_skips_the_already_rejected(app, client, auth, pipeline):
    rejected(app, pipeline, 0)
    auth.login()
    ids = pipeline["mine"]["applications"]
    page = client.post(
        f"/openings/{pipeline['mine']['opening']}/bulk-reject", data=bulk_data(ids)
    ).get_data(as_text=True)
    assert "2 of 3 scheduled" in page and "already rejected" in page
    with app.app_context():
        assert count(Rejection) == 3


def test_bulk_cannot_reach_another_managers_applications(app, client, auth, pipeline):
    auth.login()
    theirs = pipeline["theirs"]["applications"]
    response = client.post(
        f"/openings/{pipeline['mine']['opening']}/bulk-reject", data=bulk_data(theirs)
    )
    assert response.status_code == 302
    with app.app_context():
        assert count(Rejection) == 0


BULK_SUBJECT = "Your application for {opening_title}"
BULK_BODY = "Dear {candidate_first_name},\n\nThank you for your time.\n\n{closing}"


def bulk_by_service(opening_id: int, ids: list[int], **options):
    """The bulk page's "send", through the services: Maria rejects ``ids`` of her opening."""
    from recruiter.models import Opening
    from recruiter.rejections.services import bulk_reject, load_for_bulk

    opening = db.session.get(Opening, opening_id)
    applications = load_for_bulk(opening, ids, lock=True)
    reason = db.session.get(ReasonCode, 1)
    return bulk_reject(
        applications, opening.owner, BULK_SUBJECT, BULK_BODY, reason=reason, **options
    )


def name_candidates(ids: list[int], names: list[str]) -> None:
    for aid, name in zip(ids, names, strict=True):
        db.session.get(Application, aid).candidate.name = name
    db.session.commit()


def test_bulk_findings_are_each_filled_notes_own(app, crowd):
    """Identical notes are checked once, yet a flagged word in a name is still caught."""
    from recruiter.rejections.services import bulk_draft
    from recruiter.rejections.wording import check_note

    ids = crowd["applications"][:7]
    names = [
        "Ana Ruiz",
        "Overqualified Smith",
        "Ana Lopez",
        "Frankly Jones",
        "Bo Li",
        "Bo Li",
        "Cy",
    ]
    personal = {ids[4]: "We went with a younger candidate."}
    with app.app_context():
        name_candidates(ids, names)
        author = db.session.get(Application, ids[0]).opening.owner
        expected = {}
        for aid in ids:
            draft = bulk_draft(
                db.session.get(Application, aid),
                author,
                BULK_SUBJECT,
                BULK_BODY,
                personal.get(aid, ""),
            )
            expected[aid] = check_note(draft.body)
        results = bulk_by_service(crowd["opening"], ids, personal=personal)
        outcomes = [r.outcome for r in results]
        assert (
            outcomes
            == ["scheduled", "blocked", "scheduled", "to_confirm", "blocked"] + ["scheduled"] * 2
        )
        for result in results:
            if not result.ok:
                assert result.findings == expected[result.application.id] != []
            else:
                assert expected[result.application.id] == []
        assert results[1].findings[0].phrase == "Overqualified"
        assert results[3].findings[0].phrase == "Frankly"
        db.session.rollback()


def test_bulk_leaves_those_who_may_not_be_contacted_untouched(app, crowd):
    """Do-not-contact, bouncing and erased: refused, still at interview, nothing recorded."""
    ids = crowd["applications"][:4]
    with app.app_context():
        now = utcnow()
        columns = ("do_not_contact_at", "email_bouncing_at", "erased_at")
        for aid, column in zip(ids[1:], columns, strict=True):
            setattr(db.session.get(Application, aid).candidate, column, now)
        db.session.commit()
        results = bulk_by_service(crowd["opening"], ids)
        assert [r.outcome for r in results] == ["scheduled", "refused", "refused", "refused"]
        assert "may not be contacted" in results[1].message
        assert "bouncing" in results[2].message
        db.session.commit()
        for aid in ids[1:]:
            application = db.session.get(Application, aid)
            assert application.stage == Stage.INTERVIEW
            assert application.rejections == []
            assert [c.to_stage for c in application.stage_changes] == [Stage.APPLIED]
        assert count(Rejection) == count(OutboxMessage) == 1
        assert count(StageChange) == 50 + 1


def test_bulk_writes_what_one_rejection_writes(app, crowd):
    """Rows, session state, timing, the rendered note and undo: as for a single rejection."""
    from recruiter.rejections.email import render_note
    from recruiter.rejections.services import rules
    from recruiter.rejections.timing import schedule as schedule_at

    ids = crowd["applications"][:3]
    with app.app_context():
        name_candidates(ids, ["Ana Ruiz", "Bo Li", "Ana Ruiz"])
        db.session.get(Application, ids[1]).candidate.timezone = "Asia/Tokyo"
        db.session.commit()
        results = bulk_by_service(crowd["opening"], ids, internal_reason=" SECRET ")
        for result in results:
            application, rejection = result.application, result.rejection
            candidate, message = application.candidate, rejection.message
            # The session already shows the change (no reload needed), and it is flushed.
            assert application.rejection is rejection and rejection.id and message.id
            assert application.stage == Stage.REJECTED and not db.session.dirty
            change = application.stage_changes[-1]
            assert (change.from_stage, change.to_stage) == (Stage.INTERVIEW, Stage.REJECTED)
            assert change.changed_at == rejection.created_at == application.stage_changed_at
            assert rejection.previous_stage == Stage.INTERVIEW
            assert rejection.internal_reason == "SECRET" and rejection.reason_code_id == 1
            assert rejection.subject == "Your application for Support Engineer"
            assert message.status == MessageStatus.QUEUED and message.candidate is candidate
            assert (message.recipient, message.subject) == (candidate.email, rejection.subject)
            assert (message.text_body, message.html_body) == render_note(rejection.body, candidate)
            assert "SECRET" not in message.text_body + message.html_body
            when = schedule_at(
                rejection.created_at, application.applied_at, candidate.timezone, rules()
            )
            assert message.send_after == when.send_at
            assert result.message == f"Scheduled for {when.send_at:%a %H:%M} UTC."
        headers = {r.rejection.message.message_id_header for r in results}
        assert len(headers) == 3
        db.session.commit()
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rejection.bulk_scheduled")
        ).all()
        assert [e.target_id for e in events] == [crowd["opening"]]
        first = db.session.get(Application, ids[0])
        assert cancel_rejection(first.rejection, first.opening.owner) == Stage.INTERVIEW
        db.session.commit()
        assert first.rejection.message.status == MessageStatus.CANCELLED


def test_bulk_renders_each_name_when_the_email_template_reads_it(app, crowd):
    """Same words render once, unless the email templates use the candidate's name."""
    from jinja2 import ChoiceLoader, DictLoader

    from recruiter.rejections.email import note_reads

    ids = crowd["applications"][:2]
    with app.app_context():
        name_candidates(ids, ["Ana Ruiz", "Ana Lopez"])
        assert note_reads("body") and not note_reads("candidate_name")
        text = "To {{ candidate_name }}:\n{{ body }}"
        app.jinja_env.loader = ChoiceLoader(
            [DictLoader({"email/rejection.txt": text}), app.jinja_env.loader]
        )
        assert note_reads("candidate_name")
        results = bulk_by_service(crowd["opening"], ids)
        texts = [r.rejection.message.text_body for r in results]
        assert texts[0].startswith("To Ana Ruiz:\nDear Ana,")
        assert texts[1].startswith("To Ana Lopez:\nDear Ana,")
        db.session.rollback()


def test_wording_shortcut_finds_what_searching_every_rule_finds():
    """Rules skipped for want of their words could not have matched: same findings."""
    from test_wording import RISKY, SAFE

    from recruiter.rejections import wording

    def search_every_rule(text):
        found = [f for rule in wording.load_rules() for f in rule.find(text)]
        found.sort(key=lambda f: (f.start - f.end, not f.blocking, f.start))
        kept = []
        for finding in found:
            if not wording._overlaps(finding, kept):
                kept.append(finding)
        return sorted(kept, key=lambda f: f.start)

    note = "Dear Ana,\n\nThank you for your time.\n\n{}\n\nKind regards,\nMaria"
    phrases = [rule.example for rule in wording.load_rules()] + [n for n, _ in RISKY] + SAFE
    variants = [
        lambda phrase: note.format(phrase),
        lambda phrase: note.format(phrase.upper().replace(" ", " \n ")),
        lambda phrase: note.replace("Ana", phrase.split()[0]).format("We enjoyed it."),
    ]
    notes = [variants[i % 3](phrase) for i, phrase in enumerate(phrases)]
    expected = [search_every_rule(text) for text in notes]
    assert sum(map(bool, expected)) > len(phrases) / 2
    assert [wording.check_note(text) for text in notes] == expected


def test_a_stage_default_naming_no_template_or_reason_sets_none(app):
    from recruiter.rejections.services import set_stage_default, stage_default

    with app.app_context():
        set_stage_default(Stage.FINAL, 999, 0)
        template, reason = stage_default(Stage.FINAL)
        assert reason is None and template is not None  # the first suitable template


# --- No ghosting -------------------------------------------------------------------------


def decided_after_final(application_id: int, days: float, to_stage: Stage = Stage.OFFER) -> None:
    """History: the application reached final 40 days ago and was decided ``days`` later."""
    start = utcnow() - timedelta(days=40)
    db.session.add_all(
        [
            StageChange(application_id=application_id, to_stage=Stage.FINAL, changed_at=start),
            StageChange(
                application_id=application_id,
                from_stage=Stage.FINAL,
                to_stage=to_stage,
                changed_at=start + timedelta(days=days),
            ),
        ]
    )


def test_waiting_page_oldest_first_with_median(app, client, auth, pipeline):
    now = utcnow()
    ids = pipeline["mine"]["applications"]
    with app.app_context():
        for aid, days in zip(ids, (12, 30, 3), strict=True):
            application = db.session.get(Application, aid)
            application.stage_changed_at = now - timedelta(days=days)
        # Three finals decided after 4, 6 and 10 days: median 6.
        for aid, days in zip(ids, (4, 6, 10), strict=True):
            decided_after_final(aid, days, Stage.INTERVIEW)
        db.session.commit()
    auth.login()
    page = client.get("/decisions-waiting").get_data(as_text=True)
    assert page.index(f'id="waiting-{ids[1]}"') < page.index(f'id="waiting-{ids[0]}"')
    assert f'id="waiting-{ids[2]}"' not in page
    assert "Maria Manager: <strong>6.0 days</strong>" in page
    auth.logout()
    auth.login("recruiter")
    oscar = client.get("/decisions-waiting?manager=2").get_data(as_text=True)
    assert "waiting-" not in oscar.split("Median")[1]


def test_waiting_pages_through_everyone_oldest_first(app, client, auth, pipeline):
    """No total is counted (that would cost as much as there are waiting): the pager offers
    the next page while there is one, and every candidate appears exactly once."""
    now = utcnow()
    ids = pipeline["mine"]["applications"]
    with app.app_context():
        for aid, days, stage in zip(
            ids, (12, 30, 20), (Stage.INTERVIEW, Stage.OFFER, Stage.FINAL), strict=True
        ):
            application = db.session.get(Application, aid)
            application.stage, application.stage_changed_at = stage, now - timedelta(days=days)
        db.session.commit()
    app.config["PAGE_SIZE"] = 2
    auth.login()
    first = client.get("/decisions-waiting").get_data(as_text=True)
    second = client.get("/decisions-waiting?page=2").get_data(as_text=True)
    # Oldest first across the three stages: 30 days (offer), 20 (final), then 12 (interview).
    assert first.index(f'id="waiting-{ids[1]}"') < first.index(f'id="waiting-{ids[2]}"')
    assert f'id="waiting-{ids[0]}"' not in first
    assert "?page=2" in first and "Page 1<" in first
    assert f'id="waiting-{ids[0]}"' in second
    assert f'id="waiting-{ids[1]}"' not in second and f'id="waiting-{ids[2]}"' not in second
    assert "?page=1" in second and "?page=3" not in second
    assert "Casey Candidate0" in second and "Backend Engineer · Maria Manager" in second


@pytest.mark.parametrize("of_owner", [False, True], ids=["everyone", "one manager"])
def test_decisions_waiting_walk_each_stage_index_in_one_statement(app, of_owner):
    """EXPLAIN QUERY PLAN of the waiting list: one statement, in which each waiting stage's
    (stage, stage_changed_at) index is walked from the oldest and stopped at the page's end,
    never a manager's openings first (every waiting row of each, then a sort)."""
    with app.test_request_context():
        compiled = waiting_query(of_owner).compile(db.engine)
        values = {"cutoff": utcnow(), "walk": 51, "limit": 50, "offset": 0, "owner": 1}
        bound = compiled.construct_params(values)
        plan = [
            row[3]
            for row in db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled), tuple(bound[k] for k in compiled.positiontup)
            )
        ]
    walks = [step for step in plan if "USING INDEX ix_application_stage_changed" in step]
    assert len(walks) == len(WAITING_STAGES), plan
    assert not any("ix_opening_owner" in step for step in plan), plan


def test_median_is_a_shared_figure_refreshed_when_it_ages(app, client, auth, pipeline):
    """The median reads a year of history: it is stored in the database (so every app
    process shares it) and worked out again only once it is older than the set age."""
    now = utcnow()
    first, second = pipeline["mine"]["applications"][:2]
    with app.app_context():
        decided_after_final(first, 4)
        db.session.commit()
    auth.login()
    page = client.get("/decisions-waiting").get_data(as_text=True)
    assert "Maria Manager: <strong>4.0 days</strong>" in page
    assert "Worked out just now; these figures are refreshed every 10 minutes." in page
    with app.app_context():
        decided_after_final(second, 8)
        db.session.commit()
        stored = db.session.get(CachedFigure, "decision-medians")
        assert stored is not None
    # Still the stored figure: a second decision does not recompute a year of history.
    page = client.get("/decisions-waiting").get_data(as_text=True)
    assert "Maria Manager: <strong>4.0 days</strong>" in page
    with app.app_context():
        stored = db.session.get(CachedFigure, "decision-medians")
        stored.computed_at = now - timedelta(minutes=11)
        db.session.commit()
    page = client.get("/decisions-waiting").get_data(as_text=True)
    assert (
        'Maria Manager: <strong>6.0 days</strong> <span class="small text-muted">(2 decisions)'
        in page
    )


def test_median_counts_each_manager_apart(app, pipeline):
    now = utcnow()
    with app.app_context():
        for aid, days in (
            (pipeline["mine"]["applications"][0], 2),
            (pipeline["theirs"]["applications"][0], 8),
        ):
            db.session.add_all(
                [
                    StageChange(application_id=aid, to_stage=Stage.FINAL, changed_at=now),
                    StageChange(
                        application_id=aid,
                        from_stage=Stage.FINAL,
                        to_stage=Stage.OFFER,
                        changed_at=now + timedelta(days=days),
                    ),
                ]
            )
        db.session.commit()
        from recruiter.models import Opening

        medians = median_days_to_decision(select(Opening), since=now - timedelta(days=1))
        by_name = {db.session.get(User, k).name: v for k, v in medians.items()}
        assert by_name == {"Maria Manager": (2.0, 1), "Oscar Other": (8.0, 1)}


def test_desk_links_to_the_waiting_page(client, auth):
    auth.login()
    assert "/decisions-waiting" in client.get("/desk").get_data(as_text=True)


def test_candidate_timezone_is_shown(app, client, auth, pipeline):
    with app.app_context():
        db.session.get(
            Application, pipeline["mine"]["applications"][0]
        ).candidate.timezone = "Europe/Berlin"
        db.session.commit()
    auth.login()
    page = client.get(f"/applications/{pipeline['mine']['applications'][0]}/reject")
    assert "candidate&#39;s time (Europe/Berlin)" in page.get_data(as_text=True)
    assert Candidate  # imported for readers: the candidate's zone is Candidate.timezone


def test_bulk_sends_in_a_fixed_number_of_queries(app, client, auth):
    """No N+1: rejecting 40 takes about as many reads as rejecting 5."""
    from factories import statements_run

    with app.app_context():
        small = make_opening(USERS["manager"][0], "Small", 5)
        large = make_opening(USERS["manager"][0], "Large", 40)
        engine = db.engine
    auth.login()

    def statements_for(opening) -> int:
        with statements_run(engine) as statements:
            data = bulk_data(opening["applications"], confirm_count="40")
            response = client.post(f"/openings/{opening['opening']}/bulk-reject", data=data)
            assert "scheduled" in response.get_data(as_text=True)
        return sum(text.lstrip().upper().startswith("SELECT") for text, _ in statements)

    # SQLite inserts row by row (its RETURNING order is not guaranteed); reads must not grow.
    assert statements_for(large) - statements_for(small) <= 3


def test_template_page_previews_a_sample_note(client, auth):
    auth.login("recruiter")
    page = client.get("/settings/rejections/templates/1").get_data(as_text=True)
    assert "Dear Ana," in page and "{candidate_first_name}" in page


def test_pending_list_shows_the_candidates_time(app, client, auth, pipeline):
    with app.app_context():
        db.session.get(
            Application, pipeline["mine"]["applications"][0]
        ).candidate.timezone = "Asia/Tokyo"
        db.session.commit()
    rejected(app, pipeline)
    auth.login()
    page = client.get("/rejections/pending").get_data(as_text=True)
    assert "candidate&#39;s time (Asia/Tokyo)" in page and "your time" in page


def test_erasing_or_do_not_contact_can_cancel_every_pending_note(app, pipeline):
    from recruiter.rejections.services import cancel_pending_for_candidate

    rid = rejected(app, pipeline)
    with app.app_context():
        rejection = db.session.get(Rejection, rid)
        assert cancel_pending_for_candidate(rejection.application.candidate, None) == 1
        db.session.commit()
        assert rejection.message.status == MessageStatus.CANCELLED
        assert rejection.application.stage == Stage.REJECTED


def test_live_check_needs_the_csrf_header(app, client, auth, pipeline):
    import re

    auth.login()
    app.config["WTF_CSRF_ENABLED"] = True
    aid = pipeline["mine"]["applications"][0]
    page = client.get(f"/applications/{aid}/reject").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    url = f"/applications/{aid}/reject/check"
    assert client.post(url, json={"body": "Thanks"}).status_code == 400
    response = client.post(url, json={"body": "Thanks"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["findings"] == []


@pytest.mark.postgres
def test_bulk_undo_and_auto_cancel_on_postgresql(postgres_url):
    from pathlib import Path

    from factories import PASSWORD
    from flask_migrate import upgrade

    from recruiter import create_app
    from recruiter.auth.services import create_user
    from recruiter.models import Opening
    from recruiter.rejections.services import bulk_reject, load_for_bulk

    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres_url, "SECRET_KEY": "test"}
    app = create_app({**config, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
        for email, name, role in USERS.values():
            create_user(email, name, role, PASSWORD)
        db.session.commit()
        ids = make_opening(USERS["manager"][0], "Backend Engineer", 30)
        opening = db.session.get(Opening, ids["opening"])
        author = opening.owner
        applications = load_for_bulk(opening, ids["applications"], lock=True)
        results = bulk_reject(
            applications,
            author,
            "About {opening_title}",
            "Dear {candidate_first_name},\n\nThank you.\n\n{closing}",
            reason=db.session.get(ReasonCode, 1),
            personal={ids["applications"][3]: "You are too old for this."},
        )
        db.session.commit()
        assert [r.outcome for r in results].count("scheduled") == 29
        assert results[3].outcome == "blocked"
        first, second = (db.session.get(Application, i) for i in ids["applications"][:2])
        assert cancel_rejection(first.rejection, author) == Stage.INTERVIEW
        move_application(second, Stage.HIRED, author)
        db.session.commit()
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        assert statuses.count(MessageStatus.CANCELLED) == 2
        assert statuses.count(MessageStatus.QUEUED) == 27
        db.session.remove()
        db.engine.dispose()
