"""Fixtures: the app on a migrated SQLite copy, sign-in per role, real SMTP, PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from factories import PASSWORD, USERS, make_opening
from flask_migrate import upgrade
from postgres import PostgresCluster
from smtp_server import SMTPTestServer
from werkzeug.serving import make_server

from recruiter import create_app
from recruiter.auth.services import create_user
from recruiter.extensions import db

FAST_HASH = "pbkdf2:sha256:1000"


def base_config(database_uri: str, **extra) -> dict:
    """A test configuration; hashing is cheap here, its production default is tested apart."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "MAIL_SERVER": None,
        "OUTBOX_RETRY_BASE_SECONDS": 0,
    }
    config.update(extra)
    return config


def seed(app) -> None:
    """The team every test starts with: two managers, a recruiter and an admin."""
    with app.app_context():
        for email, name, role in USERS.values():
            create_user(email, name, role, PASSWORD)
        db.session.commit()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite file migrated to head and seeded, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
        db.engine.dispose()
    seed(app)
    with app.app_context():
        db.engine.dispose()
    return path


@pytest.fixture
def config_overrides() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(migrated_sqlite, tmp_path, config_overrides):
    path = tmp_path / "recruiter.sqlite3"
    shutil.copy(migrated_sqlite, path)
    app = create_app(base_config(f"sqlite:///{path}", **config_overrides))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Sign in and out as one of the seeded users."""

    def __init__(self, client):
        self.client = client

    def login(self, who: str = "manager", password: str = PASSWORD):
        email = USERS[who][0] if who in USERS else who
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def pipeline(app) -> dict:
    """Maria's opening with three applications, and Oscar's with one."""
    with app.app_context():
        mine = make_opening(USERS["manager"][0], "Backend Engineer", 3)
        theirs = make_opening(USERS["other_manager"][0], "Designer", 1)
    return {"mine": mine, "theirs": theirs}


@pytest.fixture(scope="session")
def smtp_session():
    with SMTPTestServer() as server:
        yield server


@pytest.fixture
def smtp(smtp_session):
    """A real SMTP server on loopback, emptied for each test."""
    smtp_session.reset()
    yield smtp_session
    smtp_session.reset()


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory):
    """A throwaway PostgreSQL 15 cluster, started once for the session."""
    # Not under pytest's tmp dir: that is private to root and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="recruiter-pg-"))
    cluster = PostgresCluster(folder)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster, request) -> str:
    """A fresh, empty database in the cluster for one test."""
    return postgres_cluster.create_database()


class LiveServer:
    """The app served by Werkzeug in a thread, for the browser."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server
