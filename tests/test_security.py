"""Refusing an unsafe start, cookie flags, request size limits and escaping (issue 7)."""

import subprocess
import sys

import pytest
from factories import PASSWORD, USERS

from recruiter import create_app
from recruiter.config import DEFAULT_SECRET_KEY
from recruiter.extensions import db
from recruiter.security import UnsafeConfiguration

GOOD_KEY = "k" * 64


def production_app(tmp_path, **config):
    """An app configured as on a server: not testing, not development."""
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", "SECRET_KEY": GOOD_KEY}
    settings.update(config)
    return create_app(settings)


@pytest.mark.parametrize("key", [DEFAULT_SECRET_KEY, "", "short-key"])
def test_refuses_to_start_with_a_weak_secret_key(tmp_path, key):
    with pytest.raises(UnsafeConfiguration, match="RECRUITER_SECRET_KEY"):
        production_app(tmp_path, SECRET_KEY=key)


def test_refuses_to_start_in_debug_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(UnsafeConfiguration, match="debug mode"):
        production_app(tmp_path)


def test_development_may_use_the_default_key_and_debug(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = production_app(tmp_path, SECRET_KEY=DEFAULT_SECRET_KEY, ENV="development")
    assert app.debug
    assert not app.config["SESSION_COOKIE_SECURE"]
    with app.app_context():
        db.engine.dispose()


def test_flask_command_explains_how_to_set_a_key(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RECRUITER_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/c.db",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "recruiter", "users", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "secret key" in result.stderr and "RECRUITER_SECRET_KEY" in result.stderr


def test_cookies_are_secure_httponly_and_lax_in_production(tmp_path):
    app = production_app(tmp_path)
    with app.app_context():
        from flask_migrate import upgrade

        from recruiter import ROOT
        from recruiter.auth.services import create_user

        upgrade(directory=str(ROOT / "migrations"))
        create_user(USERS["manager"][0], "Maria", USERS["manager"][2], PASSWORD)
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": USERS["manager"][0], "password": PASSWORD, "remember": "y"},
        base_url="https://recruiter.example",
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} == {"session", "remember_token"}
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    remember = next(c for c in cookies if c.startswith("remember_token"))
    assert "Max-Age=604800" in remember or "Expires" in remember
    with app.app_context():
        db.engine.dispose()


def test_cookies_are_httponly_and_lax_in_development(client):
    response = client.post("/login", data={"email": USERS["manager"][0], "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_an_over_large_form_gets_a_friendly_413(client, auth):
    auth.login()
    response = client.post("/openings/new", data={"title": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than this page accepts" in response.get_data(as_text=True)
