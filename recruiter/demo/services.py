"""Load a small, believable team into an empty database."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from ..auth.services import create_user
from ..extensions import db
from ..models import Application, Opening, Role, Stage, StageChange, User, utcnow
from ..openings.services import find_or_create_candidate
from ..pool.services import give_consent, tag_silver_medalist

DEMO_PASSWORD = "recruiter-demo-password"  # noqa: S105 (demo data only, printed on load)  # nosec B105

PEOPLE = [
    ("maria.lopez@acme.example", "María López", Role.MANAGER),
    ("sam.okafor@acme.example", "Sam Okafor", Role.MANAGER),
    ("lena.fischer@acme.example", "Lena Fischer", Role.MANAGER),
    ("riya.shah@acme.example", "Riya Shah", Role.RECRUITER),
    ("admin@acme.example", "Alex Admin", Role.ADMIN),
]

OPENINGS = [
    ("Backend Engineer (Python)", "Platform", "Berlin"),
    ("Site Reliability Engineer", "Platform", "Remote (EU)"),
    ("Product Designer", "Design", "Lisbon"),
    ("Data Analyst", "Growth", "London"),
    ("Frontend Engineer", "Web", "Remote (EU)"),
    ("Engineering Manager", "Platform", "Berlin"),
    ("Customer Success Lead", "Support", "Dublin"),
    ("Technical Writer", "Docs", "Remote"),
]

FIRST = [
    "Aisha",
    "Ben",
    "Chen",
    "Dara",
    "Elif",
    "Femi",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemal",
    "Lucía",
    "Mina",
    "Noah",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
]
LAST = ["Novak", "Haddad", "Kowalski", "Moreau", "Tanaka", "Silva", "Berg", "Ibrahim"]
ZONES = ["Europe/Berlin", "Europe/London", "Europe/Lisbon", "America/New_York", "Asia/Kolkata"]
STAGES = [
    Stage.APPLIED,
    Stage.SCREEN,
    Stage.INTERVIEW,
    Stage.FINAL,
    Stage.OFFER,
    Stage.APPLIED,
    Stage.SCREEN,
    Stage.INTERVIEW,
]


# Strengths and skills for the runners-up the demo keeps in the pool, by opening title.
POOL_TAGS = {
    "Backend Engineer (Python)": ("Clear API design; calm in incidents.", ["python", "postgresql"]),
    "Site Reliability Engineer": ("Automates everything twice.", ["kubernetes", "terraform"]),
    "Product Designer": ("Research-led, lovely prototypes.", ["figma", "user research"]),
    "Data Analyst": ("Asks the right question before the query.", ["sql", "python"]),
    "Frontend Engineer": ("Accessible, fast interfaces.", ["typescript", "react"]),
    "Engineering Manager": ("Grew a team of six; honest one-to-ones.", ["leadership", "python"]),
    "Customer Success Lead": ("Turned round two unhappy accounts.", ["onboarding", "sql"]),
    "Technical Writer": ("Docs people actually read.", ["writing", "python"]),
}


ROLE_FAMILIES = {
    "Platform": "engineering",
    "Web": "engineering",
    "Design": "design",
    "Growth": "data",
    "Support": "customer success",
    "Docs": "technical writing",
}


class DatabaseNotEmpty(Exception):
    """Demo data goes only into an empty database."""


def load_demo(seed: int = 7) -> dict[str, int]:
    """Users, eight openings and forty candidates spread over the stages. Flush only."""
    if db.session.scalar(select(func.count()).select_from(User)):
        raise DatabaseNotEmpty("The database already has users; demo data was not loaded.")
    rng = random.Random(seed)  # noqa: S311 (repeatable demo data, not security)  # nosec B311
    users = [create_user(email, name, role, DEMO_PASSWORD) for email, name, role in PEOPLE]
    managers = [u for u in users if u.role == Role.MANAGER]
    openings = [
        Opening(title=title, team=team, location=place, owner=managers[i % len(managers)])
        for i, (title, team, place) in enumerate(OPENINGS)
    ]
    db.session.add_all(openings)
    now = utcnow()
    for i in range(40):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
        candidate = find_or_create_candidate(
            f"{first}.{last}.{i}@example.com".lower(),
            name=f"{first} {last}",
            location=rng.choice(["Berlin", "London", "Lisbon", "Remote"]),
            timezone=rng.choice(ZONES),
        )
        # Offset by the round, so each opening gets a spread of stages, not one.
        stage = STAGES[(i + i // len(OPENINGS)) % len(STAGES)]
        applied = now - timedelta(days=rng.randint(3, 40))
        changed = min(now, applied + timedelta(days=rng.randint(1, 20)))
        application = Application(
            candidate=candidate,
            opening=openings[i % len(openings)],
            stage=stage,
            applied_at=applied,
            stage_changed_at=changed,
        )
        db.session.add(application)
        db.session.add(
            StageChange(application=application, to_stage=Stage.APPLIED, changed_at=applied)
        )
        if stage != Stage.APPLIED:
            db.session.add(
                StageChange(
                    application=application,
                    from_stage=Stage.APPLIED,
                    to_stage=stage,
                    changed_at=changed,
                )
            )
    db.session.flush()
    pooled = pool_finalists(openings)
    return {"users": len(users), "openings": len(openings), "candidates": 40, "pooled": pooled}


def pool_finalists(openings: list[Opening]) -> int:
    """Keep each opening's finalists in the pool, most of them with consent given.

    Needs a request context (links in the consent requests are absolute). Flush only.
    """
    finalists = [
        a
        for opening in openings
        for a in opening.applications
        if a.stage in (Stage.FINAL, Stage.OFFER)
    ]
    for number, application in enumerate(finalists):
        strengths, skills = POOL_TAGS[application.opening.title]
        entry = tag_silver_medalist(
            application,
            application.opening.owner,
            strengths=strengths,
            skills=skills,
            role_family=ROLE_FAMILIES[application.opening.team],
            seniority="senior" if number % 2 else "mid",
            locations=application.candidate.location,
            rating=4 + number % 2,
        )
        if number % 4:  # one in four is still waiting to answer
            give_consent(entry)
    return len(finalists)
