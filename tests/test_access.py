"""One access rule for every route: another manager's objects are 404, and nothing changes."""

import re

import pytest
from factories import USERS
from sqlalchemy import select

from recruiter.extensions import db
from recruiter.models import (
    Application,
    Candidate,
    Opening,
    OutboxMessage,
    Referral,
    Rejection,
    Role,
    SilverMedalist,
    Stage,
    User,
    utcnow,
)

# Settings kept by recruiters and admins: a manager gets 404 (checked in the first test).
RECRUITER_ONLY = ("rejection_settings.",)
PUBLIC_ENDPOINTS = {"static", "auth.login", "desk.home", "bootstrap.static"}
# Candidate-facing pages (signed links, no sign-in) live in the `public` blueprint.
PUBLIC_BLUEPRINTS = ("public.",)


def snapshot(app) -> list:
    """Everything a forbidden request could change."""
    with app.app_context():
        rows = []
        for model in (Application, Candidate, OutboxMessage, User):
            for obj in db.session.scalars(select(model).order_by(model.id)):
                rows.append(
                    {
                        c.name: getattr(obj, c.key, None)
                        for c in model.__table__.columns
                        if c.name not in ("session_version",)
                    }
                )
        return rows


@pytest.fixture
def ids_of_maria(app, pipeline) -> dict:
    """Ids of objects that belong to Maria, keyed by URL argument name."""
    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        message = OutboxMessage(
            recipient=application.candidate.email,
            subject="s",
            text_body="t",
            message_id_header="<x@y>",
            transport="mailbox",
            candidate_id=application.candidate_id,
            sent_at=utcnow(),
            status="sent",
        )
        entry = SilverMedalist(
            candidate_id=application.candidate_id,
            application_id=application.id,
            opening_id=application.opening_id,
            vouched_by_id=application.opening.owner_id,
            strengths="Clear thinker",
        )
        # A recruiter referred the pooled candidate to another of Maria's openings.
        second = Opening(title="Platform Lead", owner_id=application.opening.owner_id)
        referral = Referral(
            entry=entry,
            candidate_id=application.candidate_id,
            opening=second,
            from_manager=db.session.scalar(select(User).where(User.role == "recruiter")),
            note="Strong systems thinker",
            status="pending",
            introduced_at=utcnow(),
        )
        db.session.add_all([message, entry, second, referral])
        pending = OutboxMessage(
            recipient=application.candidate.email,
            subject="s",
            text_body="t",
            message_id_header="<pending@y>",
            candidate_id=application.candidate_id,
        )
        rejection = Rejection(
            application=application,
            author_id=application.opening.owner_id,
            internal_reason="",
            subject="s",
            body="b",
            message=pending,
            previous_stage=Stage.INTERVIEW,
        )
        db.session.add(rejection)
        db.session.commit()
        return {
            "rejection_id": rejection.id,
            "template_id": 1,
            "reason_id": 1,
            "stage": "interview",
            "opening_id": application.opening_id,
            "application_id": application.id,
            "candidate_id": application.candidate_id,
            "message_id": message.id,
            "entry_id": entry.id,
            "referral_id": referral.id,
            "user_id": application.opening.owner_id,
            # Candidate pages take a signed token; a wrong one must get a kind page, not a 500.
            "token": "not-a-valid-token",
            "outcome": "given",
        }


def is_public(rule) -> bool:
    return rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith(PUBLIC_BLUEPRINTS)


def routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        if is_public(rule) or not rule.arguments:
            continue
        yield rule


def fill(rule, ids) -> str:
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"{rule.rule}: add an id for {missing} to this test"
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def test_other_manager_gets_404_everywhere(app, client, auth, ids_of_maria):
    auth.login("other_manager")
    before = snapshot(app)
    checked = 0
    for rule in routes_with_ids(app):
        url = fill(rule, ids_of_maria)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, data={"stage": "final", "title": "x"})
            assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
            checked += 1
    assert checked >= 8
    assert snapshot(app) == before


def allowed_roles(app, rule) -> frozenset:
    """The roles a view is limited to by roles_required (every role when not limited)."""
    view = app.view_functions[rule.endpoint]
    return getattr(view, "allowed_roles", frozenset(Role))


@pytest.mark.parametrize("who", ["manager", "recruiter", "admin"])
def test_owner_recruiter_and_admin_may_see(app, client, auth, ids_of_maria, who):
    auth.login(who)
    for rule in routes_with_ids(app):
        if who == "manager" and rule.endpoint.startswith(RECRUITER_ONLY):
            continue
        if "GET" in rule.methods:
            url = fill(rule, ids_of_maria)
            expected = 200 if USERS[who][2] in allowed_roles(app, rule) else 404
            assert client.get(url).status_code == expected, url


@pytest.mark.parametrize("who", ["manager", "recruiter"])
def test_pages_for_other_roles_are_404(app, client, auth, ids_of_maria, who):
    auth.login(who)
    before = snapshot(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or USERS[who][2] in allowed_roles(app, rule):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(fill(rule, ids_of_maria), method=method, data={"role": "admin"})
            assert response.status_code == 404, f"{who}: {method} {rule.rule}"
            checked += 1
    assert checked >= 3
    assert snapshot(app) == before


def test_signed_out_visitors_are_sent_to_sign_in(app, client, ids_of_maria):
    for rule in app.url_map.iter_rules():
        if is_public(rule):
            continue
        url = fill(rule, ids_of_maria)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code == 302, f"{method} {url}"
            assert response.location.startswith("/login")


def test_unknown_ids_are_404(client, auth):
    auth.login("admin")
    for url in [
        "/openings/999999",
        "/candidates/999999",
        "/applications/999999/reject",
        "/mailbox/999999",
    ]:
        assert client.get(url).status_code == 404


def test_lists_show_only_my_openings(client, auth, pipeline):
    auth.login("other_manager")
    page = client.get("/openings/").get_data(as_text=True)
    assert "Designer" in page and "Backend Engineer" not in page


def test_closed_application_cannot_be_rejected(app, client, auth, pipeline):
    with app.app_context():
        application = db.session.get(Application, pipeline["mine"]["applications"][0])
        application.stage = Stage.HIRED
        db.session.commit()
    auth.login()
    response = client.get(f"/applications/{pipeline['mine']['applications'][0]}/reject")
    assert response.status_code == 302


# --- Security headers and CSRF on every route (issue 7) ---


def get_routes(app, ids):
    """Every GET URL of the route map, ids filled with Maria's objects."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in ("static", "bootstrap.static"):
            yield fill(rule, ids)


def assert_secure_headers(response, url, framed=False):
    csp = response.headers.get("Content-Security-Policy", "")
    assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0], url
    assert ("frame-ancestors 'self'" if framed else "frame-ancestors 'none'") in csp, url
    if "sandbox" not in csp:
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, url
        # Only an email preview's style attributes may be inline; never script.
        assert "unsafe" not in csp.replace("style-src-attr 'unsafe-inline'", ""), url
    assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert response.headers["Referrer-Policy"], url


@pytest.mark.parametrize("who", [None, "manager", "admin"])
def test_every_page_carries_the_security_headers(app, client, auth, ids_of_maria, who):
    if who:
        auth.login(who)
    for url in get_routes(app, ids_of_maria):
        response = client.get(url)
        framed = url.endswith("/html") and response.status_code == 200
        assert_secure_headers(response, url, framed=framed)
        assert response.headers["Cache-Control"] == "no-store", url
        if response.mimetype == "text/html" and not url.endswith("/html"):
            # A sandboxed srcdoc preview is a separate (escaped) document, not this page's markup.
            page = re.sub(r'srcdoc="[^"]*"', "", response.get_data(as_text=True))
            # Nothing the CSP would block: no inline script, handler or style attribute.
            assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
            assert not re.search(r"\son[a-z]+=|\sstyle=|<style", page), url


def test_static_files_are_cacheable_and_nosniff(client):
    with client.get("/static/app.css") as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_mailbox_html_part_keeps_its_sandbox(app, client, auth, ids_of_maria):
    auth.login()
    response = client.get(f"/mailbox/{ids_of_maria['message_id']}/html")
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox; default-src 'none'")
    assert "frame-ancestors 'self'" in csp


@pytest.mark.parametrize("config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_every_state_change_needs_the_csrf_token(app, client, ids_of_maria):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    email, password = "adam@acme.example", "correct horse battery staple"
    refused = client.post("/login", data={"email": email, "password": password})
    assert refused.status_code == 400
    signed_in = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert signed_in.location == "/desk"
    before = snapshot(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            url = fill(rule, ids_of_maria)
            response = client.open(url, method=method, data={"stage": "final", "title": "x"})
            assert response.status_code == 400, f"{method} {url} -> {response.status_code}"
            checked += 1
    assert checked >= 3
    assert snapshot(app) == before
    assert client.get("/desk").status_code == 200


def test_get_never_changes_anything(app, client, auth, ids_of_maria):
    auth.login("admin")
    before = snapshot(app)
    for url in get_routes(app, ids_of_maria):
        client.get(url)
    assert snapshot(app) == before


def test_state_changes_refuse_get_with_405(app, client, auth, ids_of_maria):
    auth.login("admin")
    before = snapshot(app)
    post_only = [r for r in app.url_map.iter_rules() if "GET" not in r.methods]
    assert len(post_only) >= 8
    for rule in post_only:
        assert client.get(fill(rule, ids_of_maria)).status_code == 405, rule.rule
    assert snapshot(app) == before
