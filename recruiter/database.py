"""Engine set-up that makes SQLite safe for several writers."""

from flask import has_request_context, request
from sqlalchemy import Engine, event

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine) -> None:
    """Turn on WAL, foreign keys and immediate write transactions for SQLite.

    A deferred SQLite transaction that reads and then writes fails at once with
    "database is locked" when another writer got in first, whatever the busy timeout.
    So every transaction that may write (any non-GET request, every command and worker)
    starts with BEGIN IMMEDIATE and waits its turn instead.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event decides
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write() else "BEGIN")


def may_write() -> bool:
    """Whether the current unit of work may write: anything but a read-only request."""
    return not (has_request_context() and request.method in READ_ONLY_METHODS)
