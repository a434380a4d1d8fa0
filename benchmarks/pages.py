"""The pages ``make bench`` measures: name -> who signs in, and how to build the URL.

A page whose endpoint the app does not have yet is reported as "not yet built" and left out
of the JSON. Adding a page when its feature lands is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, url_for
from sqlalchemy import func, select

from recruiter.extensions import db
from recruiter.models import Application, Opening, OpeningStatus, User

MANAGER = "maria.lopez@acme.example"
RECRUITER = "riya.shah@acme.example"


@dataclass
class Ids:
    """Objects the URLs point at, found in the generated data."""

    big_opening: int
    new_opening: int
    candidate: int


@dataclass
class Page:
    who: str
    endpoint: str
    args: Callable[[Ids], dict]


# name -> page. The pool search is the pool's index page with a skill filter and words; the
# matches for a new opening are the pool panel of a small OPEN opening's page (the app has no
# separate matches page: services.matches_for_opening runs while that page renders).
PAGES: dict[str, Page] = {
    "pipeline": Page(MANAGER, "openings.show", lambda ids: {"opening_id": ids.big_opening}),
    "no_ghosting": Page(MANAGER, "rejections.waiting", lambda ids: {}),
    "pool_search": Page(RECRUITER, "pool.index", lambda ids: {"skills": "python", "q": "backend"}),
    "matches": Page(MANAGER, "openings.show", lambda ids: {"opening_id": ids.new_opening}),
    "candidate": Page(MANAGER, "candidates.show", lambda ids: {"candidate_id": ids.candidate}),
    "desk": Page(MANAGER, "desk.index", lambda ids: {}),
    "team_desk": Page(RECRUITER, "desk.index", lambda ids: {}),
}


def find_ids() -> Ids:
    """Opening 1 (500 applications), María's newest open opening, and a candidate of hers
    with the most applications (the longest history)."""
    maria = db.session.scalar(select(User.id).where(User.email == MANAGER))
    new_opening = db.session.scalar(
        select(func.max(Opening.id)).where(
            Opening.owner_id == maria, Opening.status == OpeningStatus.OPEN
        )
    )
    in_big = select(Application.candidate_id).where(Application.opening_id == 1)
    candidate = db.session.scalar(
        select(Application.candidate_id)
        .where(Application.candidate_id.in_(in_big))
        .group_by(Application.candidate_id)
        .order_by(func.count().desc(), Application.candidate_id)
        .limit(1)
    )
    return Ids(big_opening=1, new_opening=new_opening or 1, candidate=candidate)


def page_urls(app: Flask) -> dict[str, tuple[str, str] | None]:
    """name -> (who, path), or None for a page the app does not have yet."""
    with app.app_context():
        ids = find_ids()
    urls: dict[str, tuple[str, str] | None] = {}
    with app.test_request_context():
        for name, page in PAGES.items():
            if page.endpoint not in app.view_functions:
                urls[name] = None
                continue
            urls[name] = (page.who, url_for(page.endpoint, **page.args(ids)))
    return urls
