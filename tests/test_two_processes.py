"""Two app processes on one PostgreSQL behave as one: throttling and sign-out (issue 7)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from factories import PASSWORD, USERS
from flask_migrate import upgrade

from recruiter import create_app
from recruiter.auth.services import create_user
from recruiter.extensions import db

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar talking to one server or another, as a user switching servers would."""

    def __init__(self, jar=None):
        self.jar = jar or http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=30) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def token(self, server: str, path: str = "/login") -> str:
        page = self.request(server + path)[2]
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def sign_in(self, server: str, email: str, password: str) -> tuple[int, str, str]:
        data = {"email": email, "password": password, "csrf_token": self.token(server)}
        return self.request(server + "/login", data)


@pytest.fixture(scope="module")
def servers(postgres_cluster, tmp_path_factory):
    """Two `flask run` processes on one migrated, seeded PostgreSQL database."""
    postgres_url = postgres_cluster.create_database()
    tmp_path = tmp_path_factory.mktemp("servers")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": postgres_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        for email, name, role in USERS.values():
            create_user(email, name, role, PASSWORD)
        db.session.commit()
        db.engine.dispose()
    env = {
        **os.environ,
        "RECRUITER_ENV": "development",
        "RECRUITER_SECRET_KEY": "s" * 64,
        "RECRUITER_SQLALCHEMY_DATABASE_URI": postgres_url,
    }
    env.pop("FLASK_DEBUG", None)
    processes, urls, logs = [], [], []
    for _ in range(2):
        port = free_port()
        command = [sys.executable, "-m", "flask", "--app", "recruiter", "run", "--port", str(port)]
        log = open(tmp_path / f"server-{port}.log", "w")  # noqa: SIM115
        logs.append(log)
        processes.append(subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_until_up(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        for log in logs:
            log.close()


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/login", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def test_throttling_counted_on_one_server_holds_on_the_other(servers):
    one, two = servers
    browser = Browser()
    email = USERS["manager"][0]
    for i in range(5):
        status, _, _ = browser.sign_in(servers[i % 2], email, "not the password!")
        assert status == 200
    status, _, page = browser.sign_in(two, email, PASSWORD)
    assert status == 429 and "Please wait" in page
    status, _, _ = browser.sign_in(one, email, PASSWORD)
    assert status == 429


def test_signing_out_on_one_server_ends_the_session_on_the_other(servers):
    one, two = servers
    browser = Browser()
    status, location, _ = browser.sign_in(one, USERS["recruiter"][0], PASSWORD)
    assert (status, location) == (302, "/desk")
    copied = Browser(jar=http.cookiejar.CookieJar())
    for cookie in browser.jar:
        copied.jar.set_cookie(cookie)
    assert copied.request(two + "/desk")[0] == 200
    status, _, _ = browser.request(one + "/logout", {"csrf_token": browser.token(one, "/desk")})
    assert status == 302
    status, location, _ = copied.request(two + "/desk")
    assert status == 302 and location.startswith("/login")
