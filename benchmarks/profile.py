"""Time (and optionally profile) ``make bench``'s pages in-process, one request at a time.

    python -m benchmarks.profile [--size N | --database F] [--repeat R] [--sql] [--profile]
                                 [PAGE ...]

Uses the cached data set of ``make bench`` (built when missing). Each page is fetched once to
warm up, then R times; prints the median and the slowest time in ms, the number of SQL
statements and, with ``--sql``, each statement with its time. ``--profile`` prints a
pyinstrument profile of the page (``pip install pyinstrument``). Faster than a whole bench
run to see what a change does; the bench's wrk numbers are the ones that count.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from pathlib import Path

from flask_login import login_user
from sqlalchemy import event, select

from recruiter import create_app
from recruiter.extensions import db
from recruiter.models import User

from .pages import PAGES, page_urls
from .run import data_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="page names (default: all)")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument(
        "--database",
        type=Path,
        help="a copy of a data set to use instead (e.g. upgraded with a new migration)",
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--sql", action="store_true", help="print each statement and its time")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile")
    args = parser.parse_args()

    database = args.database or data_set(args.size)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": secrets.token_hex(32),
            "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": None,
        }
    )
    urls = page_urls(app)
    statements: list[tuple[str, float]] = []

    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("started", []).append(time.perf_counter())

        @event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            started = conn.info["started"].pop()
            statements.append((statement, (time.perf_counter() - started) * 1000))

    for name in args.pages or list(PAGES):
        found = urls.get(name)
        if found is None:
            print(f"{name}: not built")
            continue
        who, path = found
        client = app.test_client()
        with app.test_request_context():
            user = db.session.scalar(select(User).where(User.email == who))
            login_user(user)
            with client.session_transaction() as session:
                from flask import session as current

                session.update(dict(current))
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{name} {path} answered {response.status_code}")
        times, cpu = [], []
        for _ in range(args.repeat):
            statements.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        # CPU time is the steadier figure on a shared machine: other tenants stretch the
        # wall clock, much less the CPU this process used.
        print(
            f"{name:12} {path:40} median {statistics.median(times):7.1f} ms"
            f" (CPU {statistics.median(cpu):6.1f} ms)  max {max(times):7.1f} ms"
            f"  {len(statements)} statements ({sum(t for _, t in statements):.1f} ms in SQL)"
        )
        if args.sql:
            for statement, ms in statements:
                print(f"    {ms:7.1f} ms  {' '.join(statement.split())[:300]}")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(args.repeat):
                    client.get(path)
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
