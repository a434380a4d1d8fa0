"""App-wide protections: refusing an unsafe start, security headers, cookies and request size.

Every response gets a Content-Security-Policy without inline script or style, ``nosniff``,
``frame-ancestors 'none'`` and a Referrer-Policy; every page shown to a signed-in user is
``no-store``, since those pages carry candidates' personal data. A view that must differ (the
development mailbox's sandboxed HTML part, framed by our own page) says so with
:func:`framed_by_self` or sets its own policy, which this hook leaves alone.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import DEFAULT_SECRET_KEY

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-src 'self'; frame-ancestors {ancestors}"
)
MIN_SECRET_KEY_LENGTH = 32
STATIC_ENDPOINTS = ("static", "bootstrap.static")


class UnsafeConfiguration(RuntimeError):
    """The app was asked to start in a way that is only safe on a developer's machine."""


def is_local(app: Flask) -> bool:
    """Development (RECRUITER_ENV=development, set by scripts/serve) or the test suite."""
    return app.config.get("ENV") == "development" or app.testing


def check_startup(app: Flask) -> None:
    """Refuse to start outside development with debug on or a weak secret key."""
    if is_local(app):
        return
    if app.debug:
        raise UnsafeConfiguration(
            "Refusing to start with debug mode on outside development: it lets anyone who "
            "reaches an error page run code. Unset FLASK_DEBUG (and --debug), or set "
            "RECRUITER_ENV=development on a developer's machine."
        )
    key = app.config.get("SECRET_KEY") or ""
    if key == DEFAULT_SECRET_KEY or len(str(key)) < MIN_SECRET_KEY_LENGTH:
        raise UnsafeConfiguration(
            "Refusing to start without a secret key of your own: anyone who knows the default "
            "can forge sessions. Set one of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, e.g. in instance/config.py:\n"
            "  SECRET_KEY = '<output of: python -c \"import secrets; "
            "print(secrets.token_hex(32))\">'\n"
            "or in the environment: RECRUITER_SECRET_KEY=... "
            "(`make run` writes instance/config.py for you)."
        )


def configure_cookies(app: Flask) -> None:
    """Session and remember cookies: HttpOnly, SameSite=Lax, Secure outside development."""
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        app.config[f"{prefix}_HTTPONLY"] = True
        app.config[f"{prefix}_SAMESITE"] = "Lax"
        if not is_local(app):
            app.config[f"{prefix}_SECURE"] = True


def framed_by_self(view):
    """Let this view's page be framed by our own pages (frame-ancestors 'self')."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.frame_ancestors = "'self'"
        return view(*args, **kwargs)

    return wrapped


def shows_email_preview(view):
    """Allow inline style *attributes* (not <style>, never script) on this view's page.

    An email preview in a sandboxed ``srcdoc`` frame inherits the page's policy, and HTML
    mail is styled inline. Style attributes cannot run script or read the page.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.inline_style_attributes = True
        return view(*args, **kwargs)

    return wrapped


def content_security_policy() -> str:
    """The policy for this request."""
    policy = CONTENT_SECURITY_POLICY.format(ancestors=g.get("frame_ancestors", "'none'"))
    if g.get("inline_style_attributes"):
        policy += "; style-src-attr 'unsafe-inline'"
    return policy


def add_security_headers(response: Response) -> Response:
    """The headers every response carries (a view's own CSP is kept: it is stricter)."""
    ancestors = g.get("frame_ancestors", "'none'")
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault(
        "X-Frame-Options", "DENY" if ancestors == "'none'" else "SAMEORIGIN"
    )
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint not in STATIC_ENDPOINTS:
        # Candidate data lives on signed-in pages; the sign-in page holds a CSRF token.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Check the configuration, then install the hooks. Called first thing in create_app."""
    check_startup(app)
    configure_cookies(app)
    if app.config.get("TRUSTED_PROXIES"):
        count = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.after_request(add_security_headers)
