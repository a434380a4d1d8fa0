"""In-process measurements for ``make bench``: bulk rejection and outbox delivery."""

from __future__ import annotations

import secrets
import smtplib
import subprocess
import sys
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select

from recruiter import create_app
from recruiter.extensions import db
from recruiter.models import (
    Application,
    Candidate,
    Opening,
    OutboxMessage,
    Stage,
    StageChange,
    User,
)
from recruiter.outbox.delivery import deliver_due, to_mail_message
from recruiter.outbox.services import queue_email
from recruiter.rejections.services import bulk_reject, load_for_bulk, stage_default

from .pages import MANAGER

ROOT = Path(__file__).resolve().parent.parent


def bench_config(database: Path, **extra) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
        "MAIL_SERVER": None,
        **extra,
    }


def bulk_reject_1000_s(database: Path) -> float:
    """Seconds to reject 1,000 applications of one opening with issue 3's bulk service.

    What the bulk view's "send" does: load the selected applications (locked), then
    ``bulk_reject`` with the interview stage's default template and reason: each note filled,
    wording-checked, the rejection, the stage change and the outbox message for each. Set-up
    (a new opening with 1,000 candidates at interview) is not timed; everything is rolled back
    so the cached data set stays as generated.
    """
    app = create_app(bench_config(database))
    with app.app_context():
        maria = db.session.scalar(select(User).where(User.email == MANAGER))
        opening = Opening(title="Bench Engineer", team="Bench", location="Remote", owner=maria)
        db.session.add(opening)
        applications = []
        for i in range(1000):
            candidate = Candidate(name=f"Bench Person{i}", email=f"bench.{i}@bench.example")
            application = Application(candidate=candidate, opening=opening, stage=Stage.INTERVIEW)
            db.session.add_all([candidate, application])
            db.session.add(StageChange(application=application, to_stage=Stage.APPLIED))
            applications.append(application)
        db.session.flush()
        ids = [a.id for a in applications]
        template, reason = stage_default(Stage.INTERVIEW)
        if template is None or reason is None:
            raise RuntimeError("no default template and reason for the interview stage")
        subject, body = template.subject, template.body
        db.session.expire_all()
        started = time.perf_counter()
        loaded = load_for_bulk(opening, ids, lock=True)
        results = bulk_reject(
            loaded, maria, subject, body, reason=reason, template=template, internal_reason="Bench"
        )
        db.session.flush()
        seconds = time.perf_counter() - started
        scheduled = sum(r.ok for r in results)
        db.session.rollback()
        db.engine.dispose()
    if scheduled != len(ids):
        outcomes = {r.outcome for r in results if not r.ok}
        raise RuntimeError(f"bulk rejection scheduled {scheduled} of {len(ids)}: {outcomes}")
    return seconds


class SinkServer:
    """aiosmtpd's Sink handler in its own process, so it does not share our GIL."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> SinkServer:
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter)
            [*command, "-c", "aiosmtpd.handlers.Sink"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=1).quit()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the SMTP sink did not start")

    def __exit__(self, *exc) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


def outbox_rates(
    folder: Path, port: int, count: int = 2000, rounds: int = 10
) -> tuple[float, float]:
    """(worker messages/s, plain smtplib messages/s) for ``count`` rejection notes.

    The two are timed in alternating rounds (the worker delivers a round's notes, then the
    plain loop sends the same notes' bytes over its one connection), so a change in the
    machine's load lands on both alike instead of on whichever ran second.
    """
    database = folder / "outbox.sqlite3"
    database.unlink(missing_ok=True)
    config = bench_config(database, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    app = create_app(config)
    sender = app.config["MAIL_DEFAULT_SENDER"]
    per_round = count // rounds
    worker_seconds = floor_seconds = 0.0
    sent = 0
    with app.app_context(), SinkServer(port):
        upgrade(directory=str(ROOT / "migrations"))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            for round_ in range(rounds):
                first = round_ * per_round
                for i in range(first, first + per_round):
                    queue_email(
                        f"candidate{i}@example.com",
                        "Your application for Backend Engineer",
                        "rejection",
                        body=f"Dear Candidate {i},\n\nThank you for your time.\n\n"
                        "Kind regards,\nMaría",
                        candidate_name=f"Candidate {i}",
                    )
                db.session.commit()
                queued = db.session.scalars(
                    select_all().where(OutboxMessage.sent_at.is_(None))
                ).all()
                raw = [(m.recipient, to_mail_message(m).as_bytes()) for m in queued]
                db.session.commit()
                started = time.perf_counter()
                while (report := deliver_due(app.config["OUTBOX_BATCH_SIZE"])).total:
                    sent += len(report.sent)
                worker_seconds += time.perf_counter() - started
                started = time.perf_counter()
                for recipient, message in raw:
                    smtp.sendmail(sender, [recipient], message)
                floor_seconds += time.perf_counter() - started
        if sent != per_round * rounds:
            raise RuntimeError(f"the worker sent {sent} of {per_round * rounds} messages")
        db.engine.dispose()
    return sent / worker_seconds, per_round * rounds / floor_seconds


def select_all():
    return select(OutboxMessage).order_by(OutboxMessage.id)
