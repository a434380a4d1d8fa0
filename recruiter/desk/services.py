"""What the desk reads: plain rows from statements built once."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Row, Select, bindparam, select

from ..auth.access import owner_in_view
from ..extensions import db
from ..models import Opening, OpeningStatus, User


def open_openings(user: User, limit: int) -> list[Row]:
    """The newest ``limit`` open openings ``user`` sees: id, title and the owner's name."""
    owner = owner_in_view(user)
    params = {"limit": limit} if owner is None else {"limit": limit, "owner": owner}
    return db.session.execute(open_openings_query(owner is not None), params).all()


@cache
def open_openings_query(of_owner: bool) -> Select:
    """open_openings' statement; every value is a parameter. It walks the
    (owner_id, status, created_at) or (status, created_at) index from the newest. Written
    on the tables (a Core statement), so its rows skip the ORM's loading."""
    o, u = Opening.__table__.c, User.__table__.c
    query = (
        select(o.id, o.title, u.name.label("owner_name"))
        .join_from(Opening.__table__, User.__table__, u.id == o.owner_id)
        .where(o.status == OpeningStatus.OPEN)
    )
    if of_owner:
        query = query.where(o.owner_id == bindparam("owner"))
    return query.order_by(o.created_at.desc()).limit(bindparam("limit"))
