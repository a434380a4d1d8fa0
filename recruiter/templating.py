"""Small pieces every list page draws on each row, as plain functions.

A Jinja macro call costs tens of microseconds and ``url_for`` about 25; a page of fifty
rows with four of each spent more time on them than on everything else. These functions
produce the same markup for a fraction of that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

from flask import current_app, request, url_for
from markupsafe import Markup

from .models import MessageStatus, Stage

T = TypeVar("T")

STAGE_COLOURS = {
    Stage.REJECTED: "secondary",
    Stage.HIRED: "success",
    Stage.WITHDRAWN: "secondary",
    Stage.OFFER: "primary",
    Stage.FINAL: "primary",
}
NOTE_COLOURS = {
    MessageStatus.QUEUED: "warning",
    MessageStatus.SENDING: "info",
    MessageStatus.SENT: "success",
    MessageStatus.FAILED: "danger",
    MessageStatus.CANCELLED: "secondary",
}


# Every badge there can be, made once: a badge per row is then a dictionary look-up.
STAGE_BADGES = {
    stage: Markup('<span class="badge text-bg-{} border">{}</span>').format(
        STAGE_COLOURS.get(stage, "light"), stage.label
    )
    for stage in Stage
}
NOTE_BADGES = {
    status: Markup('<span class="badge text-bg-{}">Note {}</span>').format(colour, status.value)
    for status, colour in NOTE_COLOURS.items()
}


def stage_badge(stage: Stage) -> Markup:
    return STAGE_BADGES[stage]


def note_state(status: MessageStatus | None) -> Markup:
    return NOTE_BADGES[status] if status else Markup("")


def message_state(message) -> Markup:
    return note_state(message.status if message else None)


def waited(since: datetime, now: datetime) -> str:
    days = (now - since).days
    return "today" if days == 0 else ("1 day" if days == 1 else f"{days} days")


class UrlPattern:
    """One ``url_for`` per page for a link every row has: the row's id is put in its place.

    ``url_pattern('candidates.show', 'candidate_id')(12)`` is ``url_for('candidates.show',
    candidate_id=12)``. Only for integer arguments: the value is passed through ``int``.
    """

    PLACEHOLDER = 918_273_645_546_372_819

    def __init__(self, endpoint: str, argument: str, **values) -> None:
        url = url_for(endpoint, **{argument: self.PLACEHOLDER}, **values)
        self.head, found, self.tail = url.partition(str(self.PLACEHOLDER))
        if not found:
            raise ValueError(f"{endpoint} does not put {argument} in its URL")

    def __call__(self, value: int) -> str:
        return f"{self.head}{int(value)}{self.tail}"


def built_once(kind: str, key: tuple, make: Callable[[], T]) -> T:
    """``make()``, kept per app and mount point (``SCRIPT_NAME``) under ``kind`` and ``key``:
    for what every page builds the same way, such as its links."""
    built = current_app.extensions.setdefault("recruiter.built_once", {})
    full_key = (kind, request.script_root, *key)
    value = built.get(full_key)
    if value is None:
        value = built[full_key] = make()
    return value


def fixed_url(endpoint: str, **values) -> str:
    """``url_for`` of a link that is the same on every page (the menus, the style sheets):
    base.html draws fourteen of them on every request."""
    key = (endpoint, *sorted(values.items()))
    return built_once("url", key, lambda: url_for(endpoint, **values))


def url_pattern(endpoint: str, argument: str, **values) -> UrlPattern:
    """``UrlPattern(endpoint, argument, **values)``, built once per app and mount point: the
    same object on every page, so a RowMacro's key holding it hashes and compares by
    identity."""
    key = (endpoint, argument, *sorted(values.items()))
    return built_once("pattern", key, lambda: UrlPattern(endpoint, argument, **values))


class RowMacro:
    """A macro whose output is kept for each distinct set of arguments, for the rows a list
    draws on every view: a row seen before is one look-up instead of a macro call.

    ``row_macro('desk/_rows.html', 'waiting_row')(candidate_url, row, '3 days')``. The
    markup must be a pure function of the arguments: the macro reads nothing else but the
    environment's globals (no ``now``, no ``current_user``), and time goes in as the string
    shown ("3 days"), never as the current time. Nor the CSRF token, which is signed anew
    every second: a row's form writes ``csrf_mark`` and ``each(..., csrf=token)`` puts the
    page's token in its place. Bounded: the least recently used rows go.
    """

    def __init__(self, template: str, macro: str) -> None:
        self.macro = getattr(current_app.jinja_env.get_template(template).module, macro)

    def __call__(self, *args) -> Markup:
        return macro_output(self.macro, args)

    def each(self, shared: tuple, rows: Iterable[tuple], csrf: str | None = None) -> Markup:
        """Every row's markup in one call from the template, ``self(*shared, *row)`` for
        each row (a template's loop costs several microseconds a row on its own), with
        ``csrf`` in place of ``CSRF_MARK`` when given."""
        macro = self.macro
        markup = Markup("").join([macro_output(macro, (*shared, *row)) for row in rows])
        return markup if csrf is None else markup.replace(CSRF_MARK, csrf)


# Where a row's form has the CSRF token (see RowMacro).
CSRF_MARK = "csrf-token-of-the-page-3f9b1c"


# Rows of every list share it: about 1 to 3 KB each, so at most about 10 MB per process.
@lru_cache(maxsize=4096)
def macro_output(macro, args: tuple) -> Markup:
    return macro(*args)  # a macro of an .html template returns Markup


GLOBALS = {
    "stage_badge": stage_badge,
    "note_state": note_state,
    "message_state": message_state,
    "waited": waited,
    "url_pattern": url_pattern,
    "fixed_url": fixed_url,
    "row_macro": RowMacro,
    "csrf_mark": CSRF_MARK,
}
