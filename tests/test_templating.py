"""The row helpers every list page calls: the same output as url_for and the old macros."""

from __future__ import annotations

from flask import render_template_string, url_for
from markupsafe import Markup

from recruiter.models import MessageStatus, Stage
from recruiter.templating import UrlPattern, message_state, stage_badge


def test_a_url_pattern_builds_what_url_for_builds(app):
    with app.test_request_context("/"):
        for endpoint, argument in [
            ("candidates.show", "candidate_id"),
            ("openings.move", "application_id"),
            ("rejections.reject", "application_id"),
        ]:
            pattern = UrlPattern(endpoint, argument)
            for value in (1, 42, 1_000_000):
                assert pattern(value) == url_for(endpoint, **{argument: value})
        # Only integers go in: anything else is refused, not pasted into the URL.
        pattern = UrlPattern("candidates.show", "candidate_id")
        for bad in ("1/../admin", "x", None):
            try:
                pattern(bad)
            except (TypeError, ValueError):
                continue
            raise AssertionError(f"{bad!r} was accepted")


def test_badges_escape_and_colour():
    assert stage_badge(Stage.OFFER) == Markup(
        '<span class="badge text-bg-primary border">Offer</span>'
    )
    assert "text-bg-light" in stage_badge(Stage.APPLIED)
    assert message_state(None) == ""


def test_helpers_are_available_in_every_template(app):
    with app.test_request_context("/"):
        html = render_template_string(
            "{{ stage_badge(stage) }} {{ note_state(status) }} {{ url_pattern('candidates.show',"
            " 'candidate_id')(7) }}",
            stage=Stage.HIRED,
            status=MessageStatus.SENT,
        )
    assert html == (
        '<span class="badge text-bg-success border">Hired</span> '
        '<span class="badge text-bg-success">Note sent</span> /candidates/7'
    )


def test_menu_links_follow_the_mount_point(app, auth):
    """The menu's links are built once, but once per mount point: behind a proxy that serves
    the app under /recruiter they point there, and the root's pages still point to the root."""
    auth.login("manager")
    client = auth.client
    mounted = client.get("/desk", base_url="http://localhost/recruiter").get_data(True)
    assert 'href="/recruiter/openings/"' in mounted
    assert 'href="/recruiter/bootstrap/static/css/bootstrap.min.css"' in mounted
    at_root = client.get("/desk").get_data(True)
    assert 'href="/openings/"' in at_root
    assert "/recruiter/" not in at_root
    assert '<script src="/bootstrap/static/js/bootstrap.min.js"></script>' in at_root
