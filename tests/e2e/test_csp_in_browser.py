"""Chromium enforces the Content-Security-Policy and nothing on our pages breaks it (issue 7)."""

from factories import PASSWORD, USERS
from playwright.sync_api import Page, expect


def test_pages_load_without_csp_violations(app, pipeline, live_server, page: Page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(page.url + " " + message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(USERS["admin"][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Team desk")).to_be_visible()
    opening, application = pipeline["mine"]["opening"], pipeline["mine"]["applications"][0]
    for path in (
        f"/openings/{opening}",
        f"/applications/{application}/reject",
        "/admin/users",
        "/admin/audit",
        "/account/password",
    ):
        page.goto(live_server.url + path)
        # Bootstrap's own script and styles load and work: the navbar is styled.
        assert page.evaluate("typeof bootstrap") == "object", path
        assert page.locator("nav.navbar").evaluate("e => getComputedStyle(e).display") == "flex"
    # An inline script that slipped in would be refused by the browser.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.injected") is None
    assert any("script-src" in v for v in violations)
    assert [v for v in violations if "window.injected" not in v and "script-src" not in v] == []
