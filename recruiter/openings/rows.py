"""The opening page's application rows, each rendered once for exactly what it shows.

A row drawn in Jinja cost about 150 microseconds (a dozen calls, twenty escaped values): fifty
of them were a third of the page. A row's markup is a pure function of the values it displays
(name, email, stage, "3 days", its note's state, its rejection's send time, its pool badge,
the page's links), so it is drawn through ``RowMacro`` (recruiter/templating.py), which keeps
each distinct row's markup in a bounded LRU cache: the same values give the same markup
whatever changes in the database, and a row whose values change is simply a new key. Times
enter as the displayed text, never as a datetime; the CSRF token is put in per page.
"""

from __future__ import annotations

from typing import NamedTuple

from markupsafe import Markup

from ..models import ConsentState, MessageStatus, Stage
from ..pool.forms import FELL_THROUGH_CHOICES
from ..rejections.views import send_time
from ..templating import RowMacro, UrlPattern, url_pattern, waited
from .forms import STAGE_CHOICES


class Choice(NamedTuple):
    """An option of a row's select; hashable, unlike WTForms' SelectChoice."""

    value: str
    label: str


# The move and fell-through choices, the same for every row (and so part of every key).
ROW_CHOICES = tuple(
    tuple(Choice(c.value, c.label) for c in choices)
    for choices in (STAGE_CHOICES, FELL_THROUGH_CHOICES)
)


class RowView(NamedTuple):
    """What one row shows, as plain hashable values."""

    id: int
    candidate_id: int
    name: str
    email: str
    stage: Stage
    waited: str
    note_status: MessageStatus | None
    note_error: str | None
    pending_rejection_id: int | None
    sends: str | None
    entry_id: int | None
    consent_state: ConsentState | None
    taggable: bool


class RowLinks(NamedTuple):
    """The links of every row, as patterns (the same objects on every page: url_pattern)."""

    candidate: UrlPattern
    move: UrlPattern
    reject: UrlPattern
    rejection: UrlPattern
    undo: UrlPattern
    refer: UrlPattern
    entry: UrlPattern
    tag: UrlPattern
    fell_through: UrlPattern


def row_links() -> RowLinks:
    """The rows' links for this page."""
    return RowLinks(
        url_pattern("candidates.show", "candidate_id"),
        url_pattern("openings.move", "application_id"),
        url_pattern("rejections.reject", "application_id"),
        url_pattern("rejections.show", "rejection_id"),
        url_pattern("rejections.undo", "rejection_id"),
        url_pattern("referrals.from_application", "application_id"),
        url_pattern("pool.show", "entry_id"),
        url_pattern("pool.tag", "application_id"),
        url_pattern("pool.fell_through", "application_id"),
    )


def pipeline_rows(applications, pool, links: RowLinks, csrf: str, now) -> Markup:
    """The markup of a stage's rows (PipelineRow), with their pool actions from ``pool``."""
    entries, taggable = pool.entries_by_candidate, pool.taggable
    views = []
    for a in applications:
        rejection, entry = a.rejection, entries.get(a.candidate_id)
        message = rejection.message if rejection else None
        pending = rejection is not None and rejection.pending
        view = RowView(
            a.id,
            a.candidate_id,
            a.candidate.name,
            a.candidate.email,
            a.stage,
            waited(a.stage_changed_at, now),
            message.status if message else None,
            message.last_error if message else None,
            rejection.id if pending else None,
            send_time(message.send_after, a.candidate.timezone)
            if pending and not a.stage.is_active
            else None,
            entry.id if entry else None,
            entry.consent_state if entry else None,
            a.id in taggable,
        )
        views.append((view,))
    row = RowMacro("openings/_row.html", "row")
    return row.each((links, *ROW_CHOICES), views, csrf=csrf)
