"""Open-ended pages: Previous and Next without counting the whole list."""

from __future__ import annotations

from sqlalchemy import select

from recruiter.models import Application
from recruiter.paging import open_ended_page


def test_an_open_ended_page_knows_only_whether_more_follow(app, pipeline):
    ids = sorted(pipeline["mine"]["applications"] + pipeline["theirs"]["applications"])
    query = select(Application).order_by(Application.id)
    with app.app_context():
        first = open_ended_page(query, 1, per_page=3)
        second = open_ended_page(query, 2, per_page=3)
        beyond = open_ended_page(query, 3, per_page=3)
        below = open_ended_page(query, 0, per_page=3)
    assert [a.id for a in first.items] == ids[:3] and first.has_next and not first.has_prev
    assert [a.id for a in second.items] == ids[3:] and not second.has_next and second.has_prev
    assert second.prev_num == 1 and first.next_num == 2 and first.pages is None
    assert beyond.items == [] and not beyond.has_next
    assert [a.id for a in below.items] == ids[:3] and below.page == 1
