"""Figures too costly to compute on every page view, kept for a while in the database.

A figure (say, each manager's median days from final interview to decision over the last
year) reads a year of history; it barely moves in ten minutes. The first page view after it
has aged computes it and stores it; later views, on any app process, read the stored copy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from .extensions import db
from .models import CachedFigure, utcnow

log = logging.getLogger(__name__)

# Read on every view of a page with a figure: built once.
STORED = select(CachedFigure.value, CachedFigure.computed_at).where(
    CachedFigure.key == bindparam("key")
)


def cached_figure(key: str, compute: Callable[[], Any]) -> tuple[Any, datetime]:
    """The figure under ``key`` and when it was computed; computed anew (and stored) when
    missing or older than ``FIGURES_MAX_AGE_SECONDS``. The value must survive JSON."""
    max_age = timedelta(seconds=current_app.config["FIGURES_MAX_AGE_SECONDS"])
    now = utcnow()
    row = db.session.execute(STORED, {"key": key}).first()
    if row is not None and now - row.computed_at < max_age:
        return json.loads(row.value), row.computed_at
    value = compute()
    store(key, json.dumps(value), now)
    return json.loads(json.dumps(value)), now


def store(key: str, value: str, at: datetime) -> None:
    """Write the figure in its own short transaction: a page view only reads otherwise, and
    two processes storing the same figure at once both succeed (the later one wins)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(CachedFigure).values(key=key, value=value, computed_at=at)
    statement = statement.on_conflict_do_update(
        index_elements=[CachedFigure.key],
        set_={"value": statement.excluded.value, "computed_at": statement.excluded.computed_at},
    )
    try:
        with db.engine.begin() as connection:
            connection.execute(statement)
    except OperationalError:  # busy with another writer: the next view stores it
        log.warning("could not store the figure %s now; it will be computed again", key)
