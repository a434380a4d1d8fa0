"""The one rule of who may see what, used by every view that takes an id.

A manager sees their own openings, the applications in them and the candidates who
applied to them; recruiters and admins see everything. Anything else is a 404, so an
id that belongs to someone else looks exactly like one that does not exist.
"""

from __future__ import annotations

from functools import cache, wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, bindparam, exists, select

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    ConsentState,
    Opening,
    Referral,
    Role,
    SilverMedalist,
    User,
)


def visible_openings(query: Select, user: User | None = None) -> Select:
    """Narrow a query over Opening to what ``user`` may see."""
    user = user or current_user
    if user.sees_everything:
        return query
    return query.where(Opening.owner_id == user.id)


def owner_in_view(user: User, owner_id: int | None = None) -> int | None:
    """Whose openings a list shows: ``owner_id``'s (or everyone's, None) for a user who sees
    everything, and a manager's own whatever was asked (visible_openings' rule, for lists
    that filter by owner themselves)."""
    return owner_id if user.sees_everything else user.id


def may_see_opening(opening: Opening, user: User | None = None) -> bool:
    user = user or current_user
    return user.sees_everything or opening.owner_id == user.id


def get_opening(opening_id: int) -> Opening:
    """The opening, or 404 when it does not exist or is not the user's to see."""
    opening = db.session.get(Opening, opening_id)
    if opening is None or not may_see_opening(opening):
        abort(404)
    return opening


def get_application(application_id: int) -> Application:
    """The application, or 404 when its opening is not the user's to see."""
    application = db.session.get(Application, application_id)
    if application is None or not may_see_opening(application.opening):
        abort(404)
    return application


def may_see_candidate(candidate_id: int | None, user: User | None = None) -> bool:
    """Whether the candidate applied to one of the user's openings (or the user sees all)."""
    user = user or current_user
    if user.sees_everything:
        return True
    if candidate_id is None:
        return False
    params = {"candidate_id": candidate_id, "owner_id": user.id}
    return bool(db.session.scalar(applied_to_owner_query(), params))


@cache
def applied_to_owner_query() -> Select:
    return select(applied_to_owner(Application.candidate_id == bindparam("candidate_id")))


def applied_to_owner(candidate) -> exists:
    """EXISTS an application of ``candidate`` (a clause on Application.candidate_id) to an
    opening owned by the ``owner_id`` parameter: may_see_candidate's rule, in SQL."""
    return exists().where(
        candidate,
        Application.opening_id == Opening.id,
        Opening.owner_id == bindparam("owner_id"),
    )


@cache
def candidate_query(sees_everything: bool) -> Select:
    """The candidate ``candidate_id`` if the user may see them (may_see_candidate's rule, so
    the page needs one statement, not two); built once."""
    query = select(Candidate).where(Candidate.id == bindparam("candidate_id"))
    if sees_everything:
        return query
    return query.where(applied_to_owner(Application.candidate_id == Candidate.id))


def get_candidate(candidate_id: int) -> Candidate:
    """The candidate, or 404 unless they applied to one of the user's openings."""
    query = candidate_query(current_user.sees_everything)
    params = {"candidate_id": candidate_id, "owner_id": current_user.id}
    candidate = db.session.scalar(query, params)
    if candidate is None:
        abort(404)
    return candidate


def roles_required(*roles: Role):
    """Limit a view to some roles; others get 404, as for an object they may not see."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        # Read by tests/test_access.py, which walks the route map role by role.
        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


# --- Pool (issue 5) ---
# The pool is shared: every signed-in user sees entries whose candidate agreed to it. An entry
# still waiting for consent (or one that left the pool) is seen only by the vouching manager,
# the owner of the opening it came from, and recruiters and admins.


def visible_pool_entries(query: Select, user: User | None = None) -> Select:
    """Narrow a query over SilverMedalist to what ``user`` may see."""
    user = user or current_user
    if user.sees_everything:
        return query
    own_opening = exists().where(
        Opening.id == SilverMedalist.opening_id, Opening.owner_id == user.id
    )
    return query.where(
        (SilverMedalist.consent_state == ConsentState.GIVEN)
        | (SilverMedalist.vouched_by_id == user.id)
        | own_opening
    )


def get_silver_medalist(entry_id: int) -> SilverMedalist:
    """The pool entry, or 404 when it does not exist or is not the user's to see."""
    query = visible_pool_entries(select(SilverMedalist).where(SilverMedalist.id == entry_id))
    entry = db.session.scalar(query)
    if entry is None:
        abort(404)
    return entry


# --- Referrals (issue 6) ---
# A manager sees the referrals they made, and those to their openings once the receiving
# manager may know of them (at once, or after the candidate agreed to the introduction).


def may_see_referral(referral: Referral, user: User | None = None) -> bool:
    user = user or current_user
    if user.sees_everything or referral.from_manager_id == user.id:
        return True
    return referral.opening.owner_id == user.id and referral.introduced_at is not None


def get_referral(referral_id: int) -> Referral:
    """The referral, or 404 when it does not exist or is not the user's to see."""
    referral = db.session.get(Referral, referral_id)
    if referral is None or not may_see_referral(referral):
        abort(404)
    return referral
