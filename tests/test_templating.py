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


def test_a_row_macro_draws_each_distinct_row_once(app):
    """Rows drawn through row_macro are the macro's output, kept per distinct arguments:
    a changed value (a name, the time waited) draws the row again."""
    from collections import namedtuple

    from recruiter.templating import RowMacro, macro_output, url_pattern

    Row = namedtuple("Row", "id candidate_id candidate_name stage opening_title opening_id")
    row = Row(3, 7, "Ann <b>", Stage.FINAL, "Backend", 1)
    with app.test_request_context("/"):
        urls = (
            url_pattern("candidates.show", "candidate_id"),
            url_pattern("openings.show", "opening_id"),
        )
        waiting_row = RowMacro("desk/_rows.html", "waiting_row")
        first = waiting_row(*urls, row, "3 days")
        hits = macro_output.cache_info().hits
        assert waiting_row(*urls, row, "3 days") == first
        assert macro_output.cache_info().hits == hits + 1
        # The same URL pattern made again (on another request) is the same object and key.
        assert url_pattern("candidates.show", "candidate_id") is urls[0]
        hits = macro_output.cache_info().hits
        assert RowMacro("desk/_rows.html", "waiting_row")(*urls, row, "3 days") == first
        assert macro_output.cache_info().hits == hits + 1
        later = waiting_row(*urls, row, "4 days")
        renamed = waiting_row(*urls, row._replace(candidate_name="Bo"), "3 days")
    assert '<a href="/candidates/7">Ann &lt;b&gt;</a>' in first
    assert '<span class="badge text-bg-primary border">Final</span>' in first
    assert "Backend · waiting 3 days" in first and 'href="/openings/1#application-3"' in first
    assert "waiting 4 days" in later and "Bo</a>" in renamed


def test_rows_get_the_page_csrf_token_which_is_no_part_of_their_key(app):
    """A signed CSRF token changes every second: the rows are kept with a mark in its place
    and each page's token is put in when the list is drawn."""
    from collections import namedtuple

    from recruiter.templating import CSRF_MARK, RowMacro, macro_output, url_pattern

    Row = namedtuple("Row", "id candidate_id candidate_name stage opening_title")
    rows = [(Row(5, 9, "Ann", Stage.FINAL, "Backend"), "Maria", "3 days")]
    with app.test_request_context("/"):
        urls = tuple(
            url_pattern(
                endpoint, "application_id" if "candidates" not in endpoint else "candidate_id"
            )
            for endpoint in ("candidates.show", "openings.move", "rejections.reject")
        )
        options = (("final", Markup('<option value="final" selected>Final</option>')),)
        waiting_row = RowMacro("rejections/_waiting_row.html", "waiting_row")
        first = waiting_row.each((urls, options), rows, csrf="token-one")
        hits = macro_output.cache_info().hits
        second = waiting_row.each((urls, options), rows, csrf="token-two")
        assert macro_output.cache_info().hits == hits + 1
    assert 'name="csrf_token" value="token-one"' in first
    assert 'name="csrf_token" value="token-two"' in second and "token-one" not in second
    assert CSRF_MARK not in first + second
    assert '<option value="final" selected>Final</option>' in first
    assert 'action="/openings/applications/5/stage"' in first and "Maria · waiting 3 days" in first
