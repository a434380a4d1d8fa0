"""Cached figures: costly figures shared by every app process through the database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade

from recruiter import create_app
from recruiter.extensions import db
from recruiter.figures import cached_figure
from recruiter.models import CachedFigure, utcnow


def config(database_uri: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "MAIL_SERVER": None,
    }


def two_processes(database_uri: str):
    """Two app instances on one database, as two app servers would be."""
    first = create_app(config(database_uri))
    with first.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
    return first, create_app(config(database_uri))


def figure(app, key: str, computed: list) -> object:
    """The figure under ``key`` as a page view (a GET) would read it."""

    def compute():
        computed.append(key)
        return {"1": [6.0, len(computed)]}

    with app.test_request_context("/decisions-waiting"):
        value, _ = cached_figure(key, compute)
        db.session.remove()
        return value


def check_shared(first, second) -> None:
    computed: list[str] = []
    assert figure(first, "medians", computed) == {"1": [6.0, 1]}
    # The other process reads the stored copy instead of computing it again.
    assert figure(second, "medians", computed) == {"1": [6.0, 1]}
    assert computed == ["medians"]
    with second.app_context():
        stored = db.session.get(CachedFigure, "medians")
        stored.computed_at = utcnow() - timedelta(seconds=601)
        db.session.commit()
    # Aged: worked out again, stored over the old copy, then shared again.
    assert figure(second, "medians", computed) == {"1": [6.0, 2]}
    assert figure(first, "medians", computed) == {"1": [6.0, 2]}
    assert computed == ["medians", "medians"]
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_a_figure_is_shared_between_processes_on_sqlite(tmp_path):
    check_shared(*two_processes(f"sqlite:///{tmp_path / 'figures.sqlite3'}"))


@pytest.mark.postgres
def test_a_figure_is_shared_between_processes_on_postgres(postgres_url):
    check_shared(*two_processes(postgres_url))
