"""Where features that hold candidate data plug into export, erasure and retention.

A feature (the pool, referrals, ...) registers once, at import of its services module::

    from ..privacy.registry import register_privacy_hook

    register_privacy_hook(
        "pool",
        exporter=lambda candidate: {...},      # JSON-ready data it holds about them
        eraser=lambda candidate: None,         # blank its personal data; flush, never commit
        retains=lambda candidate: False,       # True while a lawful basis (consent) keeps them
        last_activity=lambda candidate: None,  # its latest activity (datetime) or None
    )

Erasers run before the candidate's own name and address are blanked, so they may still
read them (e.g. to find free text that mentions them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..models import Candidate


@dataclass(frozen=True)
class PrivacyHook:
    name: str
    exporter: Callable[[Candidate], Any] | None = None
    eraser: Callable[[Candidate], None] | None = None
    retains: Callable[[Candidate], bool] | None = None
    last_activity: Callable[[Candidate], datetime | None] | None = None


HOOKS: dict[str, PrivacyHook] = {}


def register_privacy_hook(
    name: str,
    exporter: Callable[[Candidate], Any] | None = None,
    eraser: Callable[[Candidate], None] | None = None,
    retains: Callable[[Candidate], bool] | None = None,
    last_activity: Callable[[Candidate], datetime | None] | None = None,
) -> PrivacyHook:
    """Add (or replace) the hook called ``name``; the export gets a key of that name."""
    hook = PrivacyHook(name, exporter, eraser, retains, last_activity)
    HOOKS[name] = hook
    return hook


def hooks() -> list[PrivacyHook]:
    return list(HOOKS.values())
