"""Generate a big, believable history fast: ``flask demo generate --applications N``.

Rows go in through the raw DB-API connection with ``executemany`` over chunks of tuples, not
one ORM object at a time: a million applications, their stage histories, rejections and sent
notes load in about 70 s on two shared cores, 84 s of CPU (see benchmarks/README.md).

The shape, for N applications (seeded, so the same N and seed give the same data):

- a handful of users: the demo team of ``demo load`` (same addresses and password) and a few
  more managers; the password is hashed once and the hash reused;
- N/100 openings over two years; the recent ones open, older ones filled or closed;
  opening 1 is open, owned by María López, with 500 applications (the pipeline benchmark);
- about N/2 candidates, each applying to about two openings;
- every application with its stage history; closed and filled openings hold only decided
  applications, mostly rejected; every rejection has its note, sent;
- 5% of applications' candidates in the silver-medalist pool (rejected after at least an
  interview), 85% with consent given, with skills from a small vocabulary and strengths text;
  on SQLite the full-text index fills itself from the insert triggers.
"""

from __future__ import annotations

import enum
import queue
import random
import threading
import time
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from flask import current_app, render_template
from sqlalchemy import Table, func, select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import (
    Application,
    Candidate,
    Opening,
    OutboxMessage,
    Rejection,
    Role,
    SilverMedalist,
    Skill,
    StageChange,
    User,
    silver_medalist_skill,
    utcnow,
)
from .services import DEMO_PASSWORD, FIRST, LAST, OPENINGS, PEOPLE, ZONES, DatabaseNotEmpty

CHUNK = 20_000
DAY = 86_400.0
HISTORY_DAYS = 730
OPEN_WINDOW_DAYS = 90
BIG_OPENING_APPLICATIONS = 500
POOL_SHARE = 0.05

MORE_MANAGERS = [
    ("jonas.berg@acme.example", "Jonas Berg"),
    ("amara.diallo@acme.example", "Amara Diallo"),
    ("kenji.watanabe@acme.example", "Kenji Watanabe"),
    ("sofia.rossi@acme.example", "Sofia Rossi"),
    ("priya.nair@acme.example", "Priya Nair"),
]
FIRST_NAMES = [
    *FIRST,
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bianca",
    "Carlos",
    "Dmitri",
    "Emma",
    "Farah",
    "Gabriel",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Laila",
    "Mateo",
    "Nadia",
]
LAST_NAMES = [
    *LAST,
    *[
        "García",
        "Nguyen",
        "Okafor",
        "Schmidt",
        "Rossi",
        "Kim",
        "Petrov",
        "Costa",
        "Müller",
        "Andersson",
        "Cohen",
        "Mensah",
    ],
    *[
        "Dubois",
        "Yilmaz",
        "Singh",
        "Popescu",
        "Horvat",
        "Lindqvist",
        "Oliveira",
        "Sato",
        "Walsh",
        "Kaur",
        "Ferreira",
    ],
]
PLACES = ["Berlin", "London", "Lisbon", "Dublin", "Remote", "New York", "Bangalore", "Madrid"]
REASONS = [
    "Less hands-on experience with our stack than the other finalists.",
    "The role needs on-site presence three days a week.",
    "Another candidate matched the scope more closely.",
    "Did not reach the bar in the system design interview.",
    "Position filled.",
]
# (stage reached before the decision, weight) for decided applications.
REACHED = [("applied", 50), ("screen", 25), ("interview", 15), ("final", 8), ("offer", 2)]
# Final stage of an application in an open opening.
OPEN_MIX = [
    ("applied", 33),
    ("screen", 15),
    ("interview", 10),
    ("final", 5),
    ("offer", 2),
    ("rejected", 32),
    ("withdrawn", 3),
]
LADDER = ["applied", "screen", "interview", "final", "offer"]
POOLABLE = ("interview", "final", "offer")
MESSAGE_COLUMNS = [
    *("id", "recipient", "subject", "text_body", "html_body", "status", "message_id_header"),
    *("candidate_id", "attempts", "last_error", "transport", "created_at", "send_after"),
    "sent_at",
]
REJECTION_COLUMNS = [
    *("id", "application_id", "author_id", "internal_reason", "subject", "body", "message_id"),
    "created_at",
]
# Opening title -> (role family, skills its silver medalists tend to have).
ROLE_SKILLS = {
    "Backend Engineer (Python)": ("backend", ["python", "django", "flask", "postgresql", "sql"]),
    "Site Reliability Engineer": ("sre", ["kubernetes", "terraform", "aws", "python", "go"]),
    "Product Designer": ("design", ["figma", "ux research", "prototyping", "design systems"]),
    "Data Analyst": ("data", ["sql", "python", "statistics", "dbt", "tableau"]),
    "Frontend Engineer": ("frontend", ["react", "typescript", "css", "accessibility"]),
    "Engineering Manager": ("engineering management", ["hiring", "coaching", "python", "go"]),
    "Customer Success Lead": ("customer success", ["onboarding", "salesforce", "coaching"]),
    "Technical Writer": ("writing", ["technical writing", "docs as code", "markdown"]),
}
STRENGTHS = [
    "Strong {skill} fundamentals; explained trade-offs clearly in the {stage} round.",
    "Thoughtful about {skill} at scale; a close second to the hire for the {title} role.",
    "Great collaborator, curious, shipped a backend migration with {skill} end to end.",
    "Excellent {skill} take-home; the team wanted them, the timing did not work out.",
    "Calm under pressure, mentors others, deep {skill} experience from a previous role.",
]
SENIORITIES = ["junior", "mid", "mid", "senior", "senior", "lead", "principal"]
CONSENT_GIVEN_SHARE = 0.85
EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 (naive UTC, the stored form)


def lookup_table(weights: list[tuple[str, int]]) -> list[str]:
    """A list of 100 entries to pick from with one random index (weights sum to 100)."""
    table = [value for value, weight in weights for _ in range(weight)]
    if len(table) != 100:
        raise ValueError(f"weights must sum to 100, not {len(table)}")
    return table


@dataclass
class Counts:
    """What was generated, and how long it took."""

    users: int = 0
    openings: int = 0
    candidates: int = 0
    applications: int = 0
    stage_changes: int = 0
    rejections: int = 0
    messages: int = 0
    pool: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def ascii_name(name: str) -> str:
    """'Lucía' -> 'lucia', for email addresses."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


class BulkWriter:
    """executemany over chunks on the raw DB-API connection, in one transaction."""

    def __init__(self, dialect_name: str) -> None:
        self.sqlite = dialect_name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.connection = db.engine.raw_connection()
        self.cursor = self.connection.cursor()
        self.stamp = self.timestamp()
        self.jobs: queue.Queue[tuple | None] = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self.work, name="demo-generate-writer")
        self.failure: BaseException | None = None

    def timestamp(self) -> Callable[[float], object]:
        """Epoch seconds -> the stored form, to the second.

        On SQLite that is SQLAlchemy's text form ('2026-11-23 14:05:09.000000'), built from
        two lookups instead of a datetime per value: millions of timestamps are written.
        """
        if not self.sqlite:
            return lambda t: EPOCH + timedelta(seconds=int(t))
        clock = [
            f"{h:02d}:{m:02d}:{s:02d}.000000"
            for h in range(24)
            for m in range(60)
            for s in range(60)
        ]
        days: dict[int, str] = {}

        def stamp(t: float) -> str:
            day, second = divmod(int(t), 86_400)
            prefix = days.get(day)
            if prefix is None:
                prefix = days[day] = (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
            return prefix + clock[second]

        return stamp

    def begin(self) -> None:
        if self.sqlite:
            # A fresh, empty database: durability can wait until the load is done.
            # The rollback journal in memory: the file was empty, so it stays small, and the
            # rows are written once (through WAL they would be written twice).
            for pragma in (
                "foreign_keys=OFF",
                "synchronous=OFF",
                "journal_mode=MEMORY",
                "cache_size=-262144",
                "temp_store=MEMORY",
            ):
                self.cursor.execute(f"PRAGMA {pragma}")
            self.cursor.execute("BEGIN")
        self.thread.start()

    def insert(self, table: Table, columns: list[str], rows: Iterable[tuple]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order) plus the table's scalar defaults.

        Chunks go to a writer thread: SQLite works (without the GIL) while Python builds the
        next chunk, which on two cores nearly halves the time.
        """
        extra, values = self.defaults(table, columns)
        names = ", ".join(f'"{c}"' for c in [*columns, *extra])
        marks = ", ".join([self.mark] * (len(columns) + len(extra)))
        # Table and column names come from our own models, values are bound parameters.
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608  # nosec B608
        rows = iter(rows)
        total = 0
        while chunk := list(islice(rows, CHUNK)):
            self.put((sql, chunk, values))
            total += len(chunk)
        return total

    def put(self, job: tuple | None) -> None:
        if self.failure is not None:
            raise self.failure
        self.jobs.put(job)

    def work(self) -> None:
        """The writer thread: run queued chunks until told to stop."""
        while (job := self.jobs.get()) is not None:
            sql, chunk, values = job
            if self.failure is not None:
                continue  # drain the queue, so the producer never blocks
            try:
                if values:
                    chunk = [row + values for row in chunk]
                self.cursor.executemany(sql, chunk)
            except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
                self.failure = error

    def drain(self) -> None:
        """Wait for the writer thread to write everything queued."""
        self.jobs.put(None)
        self.thread.join()
        if self.failure is not None:
            raise self.failure

    def defaults(self, table: Table, given: list[str]) -> tuple[list[str], tuple]:
        """Columns not given that have a Python-side default, with that default's value.

        So a column that another feature adds later (with a default) needs no change here.
        """
        stamp = self.stamp
        names, values = [], []
        for column in table.columns:
            if column.name in given or column.primary_key or column.default is None:
                continue
            value = column.default.arg
            if callable(value):
                value = value(None) if column.default.is_callable else value
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, datetime):
                value = stamp(value.timestamp())
            names.append(column.name)
            values.append(value)
        return names, tuple(values)

    def finish(self) -> None:
        """Commit, and put SQLite back to its everyday settings."""
        self.drain()
        self.connection.commit() if not self.sqlite else self.cursor.execute("COMMIT")
        if self.sqlite:
            # Statistics from a sample (a full ANALYZE reads every index), then WAL as usual.
            for pragma in ("analysis_limit=1000", "journal_mode=WAL", "synchronous=NORMAL"):
                self.cursor.execute(f"PRAGMA {pragma}")
            self.cursor.execute("ANALYZE")
            self.cursor.execute("PRAGMA foreign_keys=ON")
        else:
            self.cursor.execute("ANALYZE")
            self.connection.commit()
        self.cursor.close()
        self.connection.close()

    def abort(self) -> None:
        if self.thread.is_alive():
            self.failure = self.failure or RuntimeError("aborted")
            self.jobs.put(None)
            self.thread.join()
        self.connection.rollback()
        self.connection.close()


def ensure_empty() -> None:
    """Refuse a database that holds anything a user made."""
    for model in (User, Opening, Candidate, Application):
        if db.session.scalar(select(func.count()).select_from(model)):
            raise DatabaseNotEmpty(
                "The database is not empty; demo generate fills an empty one only. "
                "Point RECRUITER_SQLALCHEMY_DATABASE_URI at a new database and run db upgrade."
            )


def generate(applications: int, seed: int = 1) -> Counts:
    """Fill an empty database with ``applications`` applications and everything around them."""
    if applications < 1:
        raise ValueError("Generate at least one application.")
    ensure_empty()
    db.session.commit()  # release the read transaction before writing on another connection
    started = time.perf_counter()
    writer = BulkWriter(db.engine.dialect.name)
    try:
        writer.begin()
        counts = Generator(writer, applications, seed).run()
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    counts.seconds = time.perf_counter() - started
    return counts


class Generator:
    """Builds the rows; one instance per run."""

    def __init__(self, writer: BulkWriter, applications: int, seed: int) -> None:
        self.w = writer
        self.n = applications
        self.rng = random.Random(seed)  # noqa: S311 (repeatable demo data)  # nosec B311
        self.seed = seed
        self.ts = writer.stamp
        self.now = utcnow().timestamp()  # epoch seconds
        self.counts = Counts()
        self.n_candidates = max(1, applications // 2)
        self.n_openings = max(1, applications // 100)
        # candidate id -> (application id, opening plan, stage reached, rejected at), the
        # first interview-or-later rejection of each candidate: who may be pooled.
        self.poolable: dict[int, tuple[int, dict, str, float]] = {}

    def run(self) -> Counts:
        """Rows in foreign-key order (PostgreSQL checks each row), so candidates come before
        the applications that decide when each candidate first appeared."""
        managers = self.users()
        openings = self.openings(managers)
        perm = list(range(1, self.n_candidates + 1))
        self.rng.shuffle(perm)
        applied = self.applied_times(openings)
        self.candidates(self.first_seen(perm, applied))
        self.applications(openings, perm, applied)
        self.pool()
        return self.counts

    # -- users ----------------------------------------------------------------------------

    def users(self) -> list[tuple[int, str]]:
        """The demo team and a few more managers; returns managers as (id, name)."""
        password_hash = generate_password_hash(
            DEMO_PASSWORD, method=current_app.config["PASSWORD_HASH_METHOD"]
        )
        people = [*PEOPLE, *((email, name, Role.MANAGER) for email, name in MORE_MANAGERS)]
        created = self.ts(self.now - (HISTORY_DAYS + 30) * DAY)
        rows = [
            (i, email, name, role.value, True, password_hash, 1, created)
            for i, (email, name, role) in enumerate(people, start=1)
        ]
        columns = ["id", "email", "name", "role", "active", "password_hash"]
        self.counts.users = self.w.insert(
            User.__table__, [*columns, "session_version", "created_at"], rows
        )
        return [(row[0], row[2]) for row in rows if row[3] == Role.MANAGER.value]

    # -- openings -------------------------------------------------------------------------

    def openings(self, managers: list[tuple[int, str]]) -> list[dict]:
        """Openings over two years; opening 1 is María's big open one."""
        rng, now = self.rng, self.now
        sizes = self.opening_sizes()
        plans = []
        for i, size in enumerate(sizes):
            if i == 0:
                created, owner = now - 45 * DAY, managers[0]
            else:
                created = now - HISTORY_DAYS * DAY * (1 - i / len(sizes)) - 5 * DAY
                owner = managers[rng.randrange(len(managers))]
            title, team, place = OPENINGS[rng.randrange(len(OPENINGS))]
            is_open = i == 0 or now - created < OPEN_WINDOW_DAYS * DAY
            status = "open" if is_open else ("filled" if rng.random() < 0.7 else "closed")
            changed = created if is_open else min(now, created + rng.uniform(30, 80) * DAY)
            plans.append(
                {
                    "id": i + 1,
                    "title": title,
                    "team": team,
                    "location": place,
                    "owner": owner,
                    "status": status,
                    "created": created,
                    "changed": changed,
                    "size": size,
                }
            )
        rows = (
            (
                p["id"],
                p["title"],
                p["team"],
                p["location"],
                p["owner"][0],
                p["status"],
                self.ts(p["created"]),
                self.ts(p["changed"]),
            )
            for p in plans
        )
        columns = ["id", "title", "team", "location", "owner_id", "status", "created_at"]
        self.counts.openings = self.w.insert(
            Opening.__table__, [*columns, "status_changed_at"], rows
        )
        return plans

    def opening_sizes(self) -> list[int]:
        """How many applications each opening gets: 500 for the first, the rest spread."""
        n, k = self.n, self.n_openings
        if k == 1:
            return [n]
        big = min(BIG_OPENING_APPLICATIONS, n // 2)
        rest = n - big
        weights = [self.rng.uniform(0.5, 1.5) for _ in range(k - 1)]
        scale = rest / sum(weights)
        sizes = [int(w * scale) for w in weights]
        for i in range(rest - sum(sizes)):
            sizes[i % len(sizes)] += 1
        return [big, *sizes]

    # -- applications, histories, rejections, notes ----------------------------------------

    def applied_times(self, openings: list[dict]) -> array:
        """When each application (by id - 1) came in: within 40 days of its opening."""
        rng, now = self.rng, self.now
        applied = array("d")
        for plan in openings:
            window = max(DAY, min(40 * DAY, now - plan["created"]))
            applied.extend(plan["created"] + rng.random() * window for _ in range(plan["size"]))
        return applied

    def first_seen(self, perm: list[int], applied: array) -> array:
        """Each candidate's first application time (candidate ids are 1-based)."""
        first = array("d", [self.now]) * self.n_candidates
        n_candidates = len(perm)
        for index, at in enumerate(applied):
            candidate = perm[index % n_candidates] - 1
            if at < first[candidate]:
                first[candidate] = at
        return first

    def applications(self, openings: list[dict], perm: list[int], applied: array) -> None:
        """Applications, then each chunk's stage history; then rejections with their notes."""
        stage_changes: list[tuple] = []
        rejections: list[tuple] = []
        rows = self.application_rows(openings, perm, applied, stage_changes, rejections)
        table = Application.__table__
        columns = ["id", "candidate_id", "opening_id", "stage", "applied_at", "stage_changed_at"]
        while chunk := list(islice(rows, CHUNK)):
            self.counts.applications += self.w.insert(table, columns, chunk)
            self.write_history(stage_changes)
        self.write_rejections(rejections)

    def application_rows(self, openings, perm, applied_times, stage_changes, rejections):
        """Yield application rows; collect their stage changes and rejections on the way."""
        rng, now, ts = self.rng, self.now, self.ts
        reached_table, open_table = lookup_table(REACHED), lookup_table(OPEN_MIX)
        app_id = 0
        n_candidates = len(perm)
        for plan in openings:
            owner_id = plan["owner"][0]
            is_open = plan["status"] == "open"
            hired = plan["status"] == "filled"
            limit = now if is_open else plan["changed"]
            for _ in range(plan["size"]):
                candidate_id = perm[app_id % n_candidates]
                applied = applied_times[app_id]
                app_id += 1
                reached = reached_table[int(rng.random() * 100)]
                if is_open:
                    final = open_table[int(rng.random() * 100)]
                    if final in LADDER:
                        reached = final
                elif hired:
                    hired = False
                    final, reached = "hired", "offer"
                else:
                    final = "withdrawn" if rng.random() < 0.08 else "rejected"
                path = LADDER[: LADDER.index(reached) + 1]
                if final not in LADDER:
                    path.append(final)
                at, previous, stamp = applied, None, ts(applied)
                applied_stamp = stamp
                for step, stage in enumerate(path):
                    if step:
                        at = min(max(limit, at), at + (0.5 + 8.5 * rng.random()) * DAY)
                        stamp = ts(at)
                    stage_changes.append((app_id, previous, stage, owner_id, stamp))
                    previous = stage
                if final == "rejected":
                    rejections.append((app_id, candidate_id, plan, at, stamp))
                    if reached in POOLABLE and candidate_id not in self.poolable:
                        self.poolable[candidate_id] = (app_id, plan, reached, at)
                yield (app_id, candidate_id, plan["id"], final, applied_stamp, stamp)

    def write_history(self, stage_changes: list[tuple]) -> None:
        columns = ["application_id", "from_stage", "to_stage", "changed_by_id", "changed_at"]
        self.counts.stage_changes += self.w.insert(StageChange.__table__, columns, stage_changes)
        stage_changes.clear()

    def write_rejections(self, rejections: list[tuple]) -> None:
        """Each rejection with its note, sent a few minutes later; written side by side."""
        templates = NoteTemplates.render()
        names = self.candidate_names()
        rng, ts, seed = self.rng, self.ts, self.seed
        pending: list[tuple] = []

        def messages() -> Iterator[tuple]:
            for rejection_id, (app_id, candidate_id, plan, at, stamp) in enumerate(rejections, 1):
                first, full, email = names(candidate_id)
                subject, body, text, html = templates.fill(first, full, plan)
                reason = REASONS[rejection_id % len(REASONS)]
                author = plan["owner"][0]
                pending.append(
                    (rejection_id, app_id, author, reason, subject, body, rejection_id, stamp)
                )
                sent = ts(at + 30 + rng.random() * 900)
                yield (
                    *(rejection_id, email, subject, text, html, "sent"),
                    *(f"<g{seed}.{rejection_id}@acme.example>", candidate_id, 1, "", "smtp"),
                    *(stamp, stamp, sent),
                )

        source = messages()
        while wrote := self.w.insert(
            OutboxMessage.__table__, MESSAGE_COLUMNS, islice(source, CHUNK)
        ):
            self.counts.messages += wrote
            self.counts.rejections += self.w.insert(Rejection.__table__, REJECTION_COLUMNS, pending)
            pending.clear()

    # -- candidates -----------------------------------------------------------------------

    def candidate_names(self) -> Callable[[int], tuple[str, str, str]]:
        """Candidate id -> (first name, full name, email), the same every time for an id."""
        firsts = [(f, ascii_name(f)) for f in FIRST_NAMES]
        lasts = [(name, ascii_name(name)) for name in LAST_NAMES]
        n_first, n_last = len(firsts), len(lasts)

        def names(candidate_id: int) -> tuple[str, str, str]:
            first, first_ascii = firsts[(candidate_id * 7919 + self.seed) % n_first]
            last, last_ascii = lasts[(candidate_id * 104729 + self.seed) % n_last]
            email = f"{first_ascii}.{last_ascii}.{candidate_id}@example.com"
            return first, f"{first} {last}", email

        return names

    def candidates(self, first_seen: array) -> None:
        names = self.candidate_names()
        rng, ts = self.rng, self.ts

        def rows() -> Iterator[tuple]:
            for candidate_id in range(1, self.n_candidates + 1):
                _, full, email = names(candidate_id)
                place = PLACES[rng.randrange(len(PLACES))]
                zone = ZONES[rng.randrange(len(ZONES))]
                yield (candidate_id, full, email, "", place, zone, ts(first_seen[candidate_id - 1]))

        columns = ["id", "name", "email", "phone", "location", "timezone", "created_at"]
        self.counts.candidates = self.w.insert(Candidate.__table__, columns, rows())

    # -- pool -----------------------------------------------------------------------------

    def pool(self) -> None:
        """5% of applications' candidates in the pool, each with skills and strengths."""
        rng, ts, now = self.rng, self.ts, self.now
        wanted = min(len(self.poolable), int(self.n * POOL_SHARE))
        sources = self.poolable
        chosen = sorted(rng.sample(sorted(sources), wanted))
        vocabulary = sorted({skill for _, skills in ROLE_SKILLS.values() for skill in skills})
        skill_ids = {name: i for i, name in enumerate(vocabulary, start=1)}
        self.w.insert(Skill.__table__, ["id", "name"], [(i, n) for n, i in skill_ids.items()])
        consent_days = 730
        links: list[tuple[int, int]] = []
        given = 0

        def rows() -> Iterator[tuple]:
            nonlocal given
            for entry_id, candidate_id in enumerate(chosen, start=1):
                app_id, plan, reached, at = sources[candidate_id]
                family, skills = ROLE_SKILLS.get(plan["title"], ("", vocabulary))
                mine = rng.sample(skills, min(len(skills), rng.randint(2, 3)))
                if rng.random() < 0.2:
                    mine.append(vocabulary[rng.randrange(len(vocabulary))])
                mine = sorted(set(mine))
                links.extend((entry_id, skill_ids[name]) for name in mine)
                strengths = STRENGTHS[rng.randrange(len(STRENGTHS))].format(
                    skill=mine[0], stage=reached, title=plan["title"]
                )
                place = plan["location"]
                remote = "Remote" in place or rng.random() < 0.6
                locations = place if remote else f"{place}, Remote"
                tagged = at + 60
                if rng.random() < CONSENT_GIVEN_SHARE:
                    given += 1
                    consented = min(now - DAY, tagged + rng.uniform(1, 14) * DAY)
                    state = "given"
                    given_at, expires = ts(consented), ts(consented + consent_days * DAY)
                    due = ts(consented + 90 * DAY)
                else:
                    state, given_at, expires, due = "pending", None, None, None
                document = "\n".join([strengths, " ".join(mine), family])
                yield (
                    *(entry_id, candidate_id, app_id, plan["id"], reached, plan["owner"][0]),
                    *(strengths, family, SENIORITIES[rng.randrange(len(SENIORITIES))]),
                    *(locations, rng.randint(3, 5), state, ts(tagged), given_at, expires),
                    *(3, due, document, ts(tagged)),
                )

        columns = [
            *("id", "candidate_id", "application_id", "opening_id", "stage_reached"),
            *("vouched_by_id", "strengths", "role_family", "seniority", "locations", "rating"),
            *("consent_state", "consent_requested_at", "consent_given_at", "consent_expires_at"),
            *("cadence_months", "next_touch_due", "search_document", "created_at"),
        ]
        self.counts.pool = self.w.insert(SilverMedalist.__table__, columns, rows())
        self.w.insert(silver_medalist_skill, ["silver_medalist_id", "skill_id"], links)
        sources.clear()
        self.counts.notes.append(
            f"Pool: {self.counts.pool:,} silver medalists ({given:,} with consent given)."
        )


class NoteTemplates:
    """The default note and its email, rendered once with markers, then filled by formatting.

    Per opening the title and manager go in once; per rejection only the candidate's names.
    """

    FIRST, FULL, TITLE, MANAGER = "\x01F\x01", "\x01N\x01", "\x01T\x01", "\x01M\x01"

    def __init__(self, body: str, text: str, html: str) -> None:
        self.parts = (body, text, html)
        self.per_opening: dict[int, tuple[str, str, str, str]] = {}

    @classmethod
    def render(cls) -> NoteTemplates:
        company = current_app.config["COMPANY_NAME"]
        body = render_template(
            "rejections/default_note.txt",
            candidate={"first_name": cls.FIRST},
            opening={"title": cls.TITLE},
            manager={"name": cls.MANAGER},
            company=company,
        ).strip()
        context = {"body": body, "company": company, "candidate_name": cls.FULL}
        return cls(
            body,
            render_template("email/rejection.txt", **context),
            render_template("email/rejection.html", **context),
        )

    def for_opening(self, plan: dict) -> tuple[str, str, str, str]:
        """Subject, and body, text and html as %-format strings awaiting the names."""
        found = self.per_opening.get(plan["id"])
        if found is None:
            title, manager = plan["title"], plan["owner"][1]
            formats = tuple(
                part.replace("%", "%%")
                .replace(self.TITLE, title.replace("%", "%%"))
                .replace(self.MANAGER, manager.replace("%", "%%"))
                .replace(self.FIRST, "%(first)s")
                .replace(self.FULL, "%(full)s")
                for part in self.parts
            )
            found = self.per_opening[plan["id"]] = (f"Your application for {title}", *formats)
        return found

    def fill(self, first: str, full: str, plan: dict) -> tuple[str, str, str, str]:
        subject, body, text, html = self.for_opening(plan)
        names = {"first": first, "full": full}
        body = body % names
        text = body if text == self.parts[0] else text % names
        return subject, body, text, html % names
