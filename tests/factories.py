"""Shared test data: the seeded team and a builder for openings with applications."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from recruiter.extensions import db
from recruiter.models import Application, Candidate, Opening, Role, Stage, StageChange, User

PASSWORD = "correct horse battery staple"
USERS = {
    "manager": ("maria@acme.example", "Maria Manager", Role.MANAGER),
    "other_manager": ("oscar@acme.example", "Oscar Other", Role.MANAGER),
    "recruiter": ("rita@acme.example", "Rita Recruiter", Role.RECRUITER),
    "admin": ("adam@acme.example", "Adam Admin", Role.ADMIN),
}


def make_opening(owner_email: str, title: str = "Backend Engineer", n: int = 1) -> dict:
    """An opening owned by ``owner_email`` with ``n`` applications at interview; returns ids."""
    owner = db.session.scalar(select(User).where(User.email == owner_email))
    opening = Opening(title=title, team="Platform", location="Berlin", owner=owner)
    db.session.add(opening)
    ids = []
    for i in range(n):
        candidate = Candidate(
            name=f"Casey Candidate{i}", email=f"casey{i}.{title[:3].lower()}@example.com"
        )
        application = Application(candidate=candidate, opening=opening, stage=Stage.INTERVIEW)
        db.session.add_all(
            [candidate, application, StageChange(application=application, to_stage=Stage.APPLIED)]
        )
        db.session.flush()
        ids.append(application.id)
    db.session.commit()
    return {"opening": opening.id, "applications": ids}


def migrated_app_with_users(database_uri: str, *who: str):
    """An app on a freshly migrated database (PostgreSQL, say) with these users of USERS."""
    from pathlib import Path

    from flask_migrate import upgrade

    from recruiter import create_app
    from recruiter.auth.services import create_user

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
        for name in who:
            create_user(*USERS[name], PASSWORD)
        db.session.commit()
    return app


@contextmanager
def statements_run(engine) -> Iterator[list[tuple[str, object]]]:
    """The SQL statements (text, parameters) ``engine`` runs inside the block."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, *args) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
