"""The pool search page's results and filters, drawn for a fraction of the cost of Jinja loops.

The result cards and the suggestions are template macros kept per distinct arguments
(RowMacro); the filters' selects are made here, since WTForms and Jinja spend most of their
time on each option's escaping and attributes.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from ..templating import RowMacro


def result_cards(rows: list, reasons: dict[int, list], show_url: str) -> Markup:
    """The search results (pool.services.PoolRow) with why each matched, as the pool page
    shows them (templates/pool/_result_card.html); ``show_url`` is the entry page's URL
    without the id. A card is a pure function of what it shows, so one that comes back
    unchanged costs a look-up (RowMacro)."""
    card = RowMacro("pool/_result_card.html", "card")
    return card.each((show_url,), [(row, tuple(reasons[row.id])) for row in rows])


def datalists(skills: list[str], families: list[str]) -> Markup:
    """The suggestions for the skills and role family fields (pool/_macros.html's datalists),
    drawn once per pair of vocabularies."""
    return RowMacro("pool/_macros.html", "datalists")(tuple(skills), tuple(families))


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
