"""Pages of long lists, for the ``pager`` macro (``templates/_macros.html``).

A list whose size is cheap to know shows "Page 2 of 7" (``CountedPages``). A list that can be
as long as the history (everyone waiting on a decision, every follow-up due across a big
team) is not counted: counting costs as much as there are rows. It offers Previous and Next
(``OpenEndedPage``), reading one row more than a page to know whether a next page exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from .extensions import db


class PageLinks:
    """Previous and next for the ``pager`` macro, given ``page`` (and ``has_next``)."""

    page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


class CountedPages(PageLinks):
    """PageLinks for a list whose size is known: ``total`` rows, ``per_page`` a page."""

    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class OpenEndedPage(PageLinks):
    """A page of a list that is not counted: its rows, and whether a next page exists."""

    items: list[Any]
    page: int
    has_next: bool
    pages = None

    @classmethod
    def of(cls, rows: list[Any], page: int, per_page: int) -> OpenEndedPage:
        """From up to ``per_page + 1`` rows read from the page's start."""
        return cls(rows[:per_page], page, len(rows) > per_page)


def open_ended_page(query: Select, page: int, per_page: int) -> OpenEndedPage:
    """Page ``page`` (from 1) of an ORM query, without counting the whole list."""
    page = max(page, 1)
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    return OpenEndedPage.of(list(rows), page, per_page)
