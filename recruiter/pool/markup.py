"""The pool search page's results, as markup made in Python.

The same markup as the macros in templates/pool/_macros.html (consent_badge, stars) and the
card the page showed, for a fraction of the cost of Jinja's expressions and macro calls: the
page draws twenty of them.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

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


def result_cards(rows: list, reasons: dict[int, list], show_url: str) -> Markup:
    """The search results (pool.services.PoolRow) with why each matched, as the pool page
    shows them; ``show_url`` is the entry page's URL without the id."""
    return Markup("\n    ").join(card(row, tuple(reasons[row.id]), show_url) for row in rows)


@lru_cache(maxsize=1024)
def card(row, reasons: tuple, show_url: str) -> Markup:
    """One result's markup: a pure function of the values it shows, so a row that comes
    back unchanged costs a look-up (at most a few hundred kB for all of them)."""
    details = [row.role_family or "no role family"]
    if row.seniority:
        details.append(row.seniority.label)
    if row.locations:
        details.append(row.locations)
    if row.opening_title:
        details.append(f"from {row.opening_title}")
    why = ""
    if reasons:
        why = Markup(
            '\n        <div class="small mt-1"><span class="text-muted">Why it matched:</span>'
            " {}</div>"
        ).format(Markup("; ").join(reasons))
    return Markup(
        '<article class="card mb-2" id="entry-{id}">\n'
        '      <div class="card-body py-2">\n'
        '        <h3 class="h6 mb-1"><a href="{url}{id}">{name}</a> {badge} {stars}</h3>\n'
        '        <div class="small text-muted">{details}</div>\n'
        '        <div class="small">{skills}</div>{why}\n'
        "      </div>\n"
        "    </article>"
    ).format(
        id=row.id,
        url=show_url,
        name=row.name,
        badge=CONSENT_BADGES[row.consent_state],
        stars=stars(row.rating),
        details=Markup(" · ").join(details),
        skills=skill_badges(row.skills),
        why=why,
    )


def datalists(skills: list[str], families: list[str]) -> Markup:
    """The suggestions for the skills and role family fields (the datalists macro's markup)."""
    return suggestions(tuple(skills), tuple(families))


@lru_cache(maxsize=8)
def suggestions(skills: tuple[str, ...], families: tuple[str, ...]) -> Markup:
    """datalists' markup: a pure function of the two vocabularies."""
    option = Markup('<option value="{}">')
    return Markup(
        '<datalist id="skill-options">{}</datalist>\n<datalist id="family-options">{}</datalist>'
    ).format(
        Markup("").join(option.format(s) for s in skills),
        Markup("").join(option.format(f) for f in families),
    )


def select(field) -> Markup:
    """A WTForms select field as a plain select (WTForms renders each option through
    html_params, slowly; so does Markup.format)."""
    options = "".join(
        f'<option{" selected" if c.selected else ""} value="{escape(c.value)}">'
        f"{escape(c.label)}</option>"
        for c in field.iter_choices()
    )
    # Every value is escaped above.
    return Markup(  # noqa: S704  # nosec B704
        f'<select class="form-select" id="{escape(field.id)}" name="{escape(field.name)}">'
        f"{options}</select>"
    )


GLOBALS = {"result_cards": result_cards, "datalists": datalists, "select": select}
