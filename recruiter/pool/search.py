"""Full-text search over the pool: SQLite FTS5, or PostgreSQL's to_tsvector with a GIN index.

Both index ``silver_medalist.search_document`` (strengths, skills, roles of interest and
touch notes), which the pool service rewrites on every change. The index objects are made
by the migration for each dialect; they are not in the models, so autogenerate skips them.
"""

from __future__ import annotations

import re
from functools import cache

from markupsafe import Markup, escape
from sqlalchemy import (
    BindParameter,
    Float,
    Integer,
    String,
    Subquery,
    Text,
    TextClause,
    bindparam,
    func,
    literal_column,
    select,
    text,
)

from ..extensions import db
from ..models import SilverMedalist

FTS_TABLE = "silver_medalist_fts"
PG_INDEX = "ix_silver_medalist_search_document_fts"
PG_CONFIG = literal_column("'english'::regconfig")
WORD = re.compile(r"\w+", re.UNICODE)
START, STOP = "\x02", "\x03"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the full-text objects (made per dialect in the migration) out of autogenerate."""
    return not (name and (name.startswith(FTS_TABLE) or name == PG_INDEX))


def words(query: str) -> list[str]:
    """The words of a free-text query, without any search-engine syntax."""
    return WORD.findall(query)


def fts5_query(query: str, any_word: bool = False) -> str:
    """Each word quoted (so nothing is read as FTS5 syntax), all of them or any of them."""
    quoted = [f'"{w}"' for w in words(query)]
    return (" OR " if any_word else " ").join(quoted)


def pg_query(query: str, any_word: bool = False) -> str:
    """A websearch_to_tsquery text: all words, or any of them."""
    return (" or " if any_word else " ").join(words(query))


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def text_matches(query: str, any_word: bool = False) -> Subquery | None:
    """A subquery of (id, score) for entries matching ``query``; higher score is better."""
    if not words(query):
        return None
    return text_match(bindparam("q", text_query(query, any_word), type_=String), is_postgres())


def text_match(query: BindParameter, postgres: bool) -> Subquery:
    """(id, score) of the entries the engine's query text ``query`` matches."""
    if postgres:
        vector = func.to_tsvector(PG_CONFIG, SilverMedalist.search_document)
        tsquery = func.websearch_to_tsquery(PG_CONFIG, query)
        return (
            select(SilverMedalist.id.label("id"), func.ts_rank(vector, tsquery).label("score"))
            .where(vector.op("@@")(tsquery))
            .subquery("text_match")
        )
    statement = text(
        # FTS_TABLE is a constant; the user's words are a bound parameter.
        f"SELECT rowid AS id, -bm25({FTS_TABLE}) AS score FROM {FTS_TABLE}"  # noqa: S608  # nosec B608
        f" WHERE {FTS_TABLE} MATCH :{query.key}"
    ).bindparams(query)
    return statement.columns(id=Integer, score=Float).subquery("text_match")


def text_query(query: str, any_word: bool = False) -> str:
    """The engine's query text for ``query`` (the value of text_subquery's parameter)."""
    return pg_query(query, any_word) if is_postgres() else fts5_query(query, any_word)


@cache
def text_subquery(postgres: bool) -> Subquery:
    """text_matches with the query text a parameter, ``text_query``, given when executed:
    built once per engine kind, for statements that are built once too."""
    return text_match(bindparam("text_query", type_=String), postgres)


def snippets(query: str, ids: list[int], any_word: bool = False) -> dict[int, Markup]:
    """For each entry id, the matching words in context, with the matches marked."""
    if not words(query) or not ids:
        return {}
    if is_postgres():
        tsquery = func.websearch_to_tsquery(PG_CONFIG, pg_query(query, any_word))
        headline = func.ts_headline(
            PG_CONFIG,
            SilverMedalist.search_document,
            tsquery,
            f"StartSel={START}, StopSel={STOP}, MaxWords=18, MinWords=6",
        )
        rows = db.session.execute(
            select(SilverMedalist.id, headline).where(SilverMedalist.id.in_(ids))
        )
    else:
        params = {"q": fts5_query(query, any_word), "low": min(ids), "high": max(ids), "ids": ids}
        rows = db.session.execute(fts5_snippets(), params)
    return {entry_id: mark(snippet) for entry_id, snippet in rows if snippet and START in snippet}


@cache
def fts5_snippets() -> TextClause:
    """snippets' statement on SQLite, built once. FTS5 runs the whole query again for each
    value of "rowid IN (...)": read the range of rowids once instead, and pick the ids out
    of it ("+" keeps the IN a filter)."""
    statement = text(
        # Constants only; the query words, the bounds and the ids are bound.
        f"SELECT rowid, snippet({FTS_TABLE}, 0, '{START}', '{STOP}', '…', 12)"  # noqa: S608  # nosec B608
        f" FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"
        " AND rowid >= :low AND rowid <= :high AND +rowid IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    return statement.columns(rowid=Integer, snippet=Text)


def mark(snippet: str) -> Markup:
    """Escape the snippet, then turn the match markers into <mark> elements."""
    escaped = str(escape(snippet))
    # Escaped first; only our own <mark> tags are added back.
    return Markup(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704  # nosec B704


def forget_erased_text() -> None:
    """Make the index drop text that was replaced (call after erasing personal data).

    SQLite FTS5 only marks replaced text as deleted; the words stay in its shadow tables
    until their segments are merged, so merge them all now ('optimize'). PostgreSQL's GIN
    index is over the row's own column: old entries go with the old row versions, at VACUUM.
    """
    if not is_postgres():
        db.session.execute(
            text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")  # noqa: S608  # nosec B608
        )
