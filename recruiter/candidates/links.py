"""Signed links for candidates, who never sign in: consent, withdrawal, feedback, referrals.

A link carries a purpose, the candidate's id and optional extra values, signed with the
app's secret key and dated; a link for one purpose cannot be used for another.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

DEFAULT_MAX_AGE = 60 * 60 * 24 * 60  # sixty days


class LinkExpired(Exception):
    """The link was genuine but is too old."""


class LinkInvalid(Exception):
    """The link was altered, is for another purpose, or is not ours."""


def serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"candidate:{purpose}")


def make_token(purpose: str, candidate_id: int, **extra: Any) -> str:
    """A signed token for ``purpose`` naming the candidate (and any extra values)."""
    return serializer(purpose).dumps({"c": candidate_id, **extra})


def read_token(purpose: str, token: str, max_age: int = DEFAULT_MAX_AGE) -> dict[str, Any]:
    """The token's values (``c`` is the candidate id), or LinkExpired / LinkInvalid."""
    try:
        data = serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise LinkExpired("This link has expired.") from error
    except BadSignature as error:
        raise LinkInvalid("This link is not valid.") from error
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise LinkInvalid("This link is not valid.")
    return data


def external_link(endpoint: str, purpose: str, candidate_id: int, **extra: Any) -> str:
    """An absolute URL to a public page, carrying a signed token in ``token``."""
    return url_for(endpoint, token=make_token(purpose, candidate_id, **extra), _external=True)
