"""The committed migrations build exactly the schema the models describe, on both databases."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from recruiter import create_app
from recruiter.extensions import db
from recruiter.pool.search import include_object

MIGRATIONS = str(Path(__file__).parent.parent / "migrations")


def assert_models_match_migrations(database_uri: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(directory=MIGRATIONS, revision="base")
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()


def test_sqlite_schema_matches_models(tmp_path):
    assert_models_match_migrations(f"sqlite:///{tmp_path}/schema.db")


@pytest.mark.postgres
def test_postgres_schema_matches_models(postgres_url):
    assert_models_match_migrations(postgres_url)


def test_sqlite_runs_in_wal_mode(app):
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
