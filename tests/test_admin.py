"""Admin pages: users and roles, and the audit log (issue 7)."""

import json
import re

from factories import PASSWORD, USERS
from sqlalchemy import select

from recruiter.audit.services import record_event
from recruiter.extensions import db
from recruiter.models import AuditEvent, Role, User


def user(app, who):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == USERS[who][0]))


def events(app, action=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [
            (e.action, e.actor_id, e.target_id, json.loads(e.details))
            for e in db.session.scalars(query)
        ]


def test_admin_changes_a_role_and_it_is_audited(app, client, auth):
    auth.login("admin")
    maria = user(app, "manager")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Maria Manager" in page and "Deactivate" in page
    response = client.post(f"/admin/users/{maria.id}/role", data={f"u{maria.id}-role": "recruiter"})
    assert response.location == "/admin/users"
    assert user(app, "manager").role == Role.RECRUITER
    (event,) = events(app, "user.role_changed")
    assert event[1] == user(app, "admin").id and event[2] == maria.id
    assert event[3] == {"old": "manager", "new": "recruiter"}


def test_an_admin_cannot_demote_or_deactivate_themselves(app, client, auth):
    auth.login("admin")
    adam = user(app, "admin")
    client.post(f"/admin/users/{adam.id}/role", data={f"u{adam.id}-role": "manager"})
    client.post(f"/admin/users/{adam.id}/active")
    adam = user(app, "admin")
    assert adam.role == Role.ADMIN and adam.active


def test_deactivation_and_reactivation_are_audited(app, client, auth):
    auth.login("admin")
    maria = user(app, "manager")
    client.post(f"/admin/users/{maria.id}/active")
    assert not user(app, "manager").active
    client.post(f"/admin/users/{maria.id}/active")
    assert user(app, "manager").active
    assert [e[0] for e in events(app) if e[0].startswith("user.") and "activ" in e[0]] == [
        "user.deactivated",
        "user.reactivated",
    ]


def test_sign_ins_and_outs_are_audited_without_passwords(app, client, auth):
    auth.login(password="a wrong guess!!")
    auth.login()
    auth.logout()
    actions = [e[0] for e in events(app)]
    assert actions == ["user.sign_in_failed", "user.signed_in", "user.signed_out"]
    with app.app_context():
        text = " ".join(e.details for e in db.session.scalars(select(AuditEvent)))
    assert "a wrong guess" not in text and PASSWORD not in text


def test_audit_log_shows_one_line_per_event_and_filters(app, client, auth):
    with app.app_context():
        maria = db.session.scalar(select(User).where(User.email == USERS["manager"][0]))
        record_event(maria, "test.multiline", maria, note="first line\nsecond line\r\nthird")
        for i in range(60):
            record_event(None, "test.filler", None, n=i)
        db.session.commit()
        maria_id = maria.id
    auth.login("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 2" in page
    rows = re.findall(r'<tr class="audit-event">.*', page)
    assert len(rows) == 50
    filtered = client.get("/admin/audit?action=test.multiline").get_data(as_text=True)
    (row,) = re.findall(r'<tr class="audit-event">(.*)', filtered)
    assert "first line second line third" in row and row.endswith("</tr>")
    by_maria = client.get(f"/admin/audit?actor={maria_id}").get_data(as_text=True)
    actions = re.findall(r'<tr class="audit-event">(?:<td>[^<]*</td>){2}<td>([^<]*)</td>', by_maria)
    assert actions == ["test.multiline"]
    assert "Filter" in by_maria and 'for="action"' in by_maria


def test_audit_log_is_for_admins_only(client, auth):
    auth.login("recruiter")
    assert client.get("/admin/audit").status_code == 404
    assert client.get("/admin/users").status_code == 404


def test_rejections_are_audited_without_the_reason_or_note(app, pipeline):
    from recruiter.models import Application, ReasonCode
    from recruiter.rejections.services import reject_application

    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        maria = db.session.scalar(select(User).where(User.email == USERS["manager"][0]))
        reason = db.session.get(ReasonCode, 1)
        reject_application(
            application, maria, "Subject", "Thank you, Casey.", "secret reason", reason=reason
        )
        label = reason.label
        db.session.commit()
    ((action, actor, _target, details),) = events(app, "rejection.scheduled")
    assert actor is not None
    assert details["application_id"] == pipeline["mine"]["applications"][0]
    assert details["reason_code"] == label  # the code's label, never the typed reason
    assert "secret" not in json.dumps(details) and "Casey" not in json.dumps(details)
