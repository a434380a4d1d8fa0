"""The pool's small pieces of markup, made in Python for the search page's rows.

The same markup as the macros in templates/pool/_macros.html (consent_badge, stars), for
a fraction of a macro call: the pool page draws them on each of its twenty rows.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from ..models import ConsentState

CONSENT_COLOURS = {
    ConsentState.PENDING: "warning",
    ConsentState.GIVEN: "success",
    ConsentState.DECLINED: "secondary",
    ConsentState.WITHDRAWN: "secondary",
    ConsentState.EXPIRED: "secondary",
}
# Every consent badge there can be, made once.
CONSENT_BADGES = {
    state: Markup('<span class="badge text-bg-{}">{}</span>').format(colour, state.label)
    for state, colour in CONSENT_COLOURS.items()
}


@lru_cache(maxsize=16)
def stars(rating: int) -> Markup:
    """A rating of 0 to 5 as stars, with words for screen readers."""
    return Markup(
        '<span title="Rated {0} of 5">{1}{2}<span class="visually-hidden"> rated {0} of 5'
        "</span></span>"
    ).format(rating, "★" * rating, "☆" * (5 - rating))


@lru_cache(maxsize=1024)
def skill_badge(name: str) -> Markup:
    return Markup('<span class="badge text-bg-light border me-1">{}</span>').format(name)


def skill_badges(names: list[str]) -> Markup:
    return Markup("").join(skill_badge(name) for name in names)


GLOBALS = {"consent_badges": CONSENT_BADGES, "stars_of": stars, "skill_badges": skill_badges}
