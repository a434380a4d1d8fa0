"""The wording check: flag risky phrasing in a rejection note before it is sent.

The rules are data, kept in ``phrases.json`` beside this module; this module only loads them,
matches them against a note and resolves overlaps. No Flask app is needed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

#: category key -> (label shown to the manager, legal: must be fixed before sending)
CATEGORIES: Mapping[str, tuple[str, bool]] = MappingProxyType(
    {
        "age": ("Age", True),
        "sex_family": ("Sex, marital or family status", True),
        "pregnancy": ("Pregnancy", True),
        "race_origin": ("Race, ethnicity or national origin", True),
        "religion": ("Religion", True),
        "disability_health": ("Disability or health", True),
        "sexual_orientation": ("Sexual orientation or gender identity", True),
        "genetic": ("Genetic information", True),
        "comparison": ("Comparison with other candidates", True),
        "scores_reasons": ("Scores or reasons that invite dispute", True),
        "promises": ("Promises the company may not keep", True),
        "tone": ("Harsh or belittling tone", False),
    }
)

# Outside a character class a space matches any whitespace and an apostrophe a curly one too.
_OUTSIDE_CLASS = {" ": r"\s+", "'": "['’]"}
_INSIDE_CLASS = {" ": r"\s", "'": "'’"}


@dataclass(frozen=True)
class Finding:
    """One risky phrase: where it is in the note, and why and how to change it."""

    phrase: str
    start: int
    end: int
    category: str
    why: str
    suggestion: str

    @property
    def blocking(self) -> bool:
        """True when the phrase must be fixed before the note is sent."""
        return CATEGORIES[self.category][1]

    @property
    def label(self) -> str:
        """The category's name for people."""
        return CATEGORIES[self.category][0]

    def to_dict(self) -> dict[str, str | int]:
        """The finding as plain JSON-ready values."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Rule:
    """One compiled rule from ``phrases.json``."""

    regex: re.Pattern[str]
    category: str
    why: str
    suggestion: str
    example: str

    def find(self, text: str) -> Iterable[Finding]:
        """Every match of this rule in ``text``."""
        for match in self.regex.finditer(text):
            if match.end() > match.start():
                yield Finding(
                    phrase=match.group(),
                    start=match.start(),
                    end=match.end(),
                    category=self.category,
                    why=self.why,
                    suggestion=self.suggestion,
                )


def expand(pattern: str) -> str:
    """Rewrite a rule's pattern: flexible spaces and apostrophes, word boundaries at both ends."""
    if re.search(r" [?*+{]", pattern):
        raise ValueError(f"write optional whitespace as \\s? or \\s*, not ' ?': {pattern!r}")
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
            char = _INSIDE_CLASS.get(char, char)
        elif char == "[":
            in_class = True
        else:
            char = _OUTSIDE_CLASS.get(char, char)
        out.append(char)
    return rf"(?<!\w)(?:{''.join(out)})(?!\w)"


def compile_rule(data: Mapping[str, str]) -> Rule:
    """Check and compile one rule read from the JSON file."""
    if data["category"] not in CATEGORIES:
        raise ValueError(f"unknown category {data['category']!r} in rule {data['pattern']!r}")
    regex = re.compile(expand(data["pattern"]), re.IGNORECASE)
    return Rule(regex, data["category"], data["why"], data["suggestion"], data.get("example", ""))


@cache
def load_rules() -> tuple[Rule, ...]:
    """The rules from ``phrases.json``, compiled once per process."""
    text = resources.files(__package__).joinpath("phrases.json").read_text(encoding="utf-8")
    return tuple(compile_rule(data) for data in json.loads(text)["rules"])


def _overlaps(finding: Finding, kept: list[Finding]) -> bool:
    return any(finding.start < other.end and other.start < finding.end for other in kept)


def check_note(text: str) -> list[Finding]:
    """The risky phrases in ``text``, in order; of overlapping matches only the longest is kept."""
    found = [finding for rule in load_rules() for finding in rule.find(text)]
    # Longest first; on a tie a blocking finding beats a tone one, then the earlier one wins.
    found.sort(key=lambda f: (f.start - f.end, not f.blocking, f.start))
    kept: list[Finding] = []
    for finding in found:
        if not _overlaps(finding, kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that must be fixed before the note can be sent."""
    return [finding for finding in findings if finding.blocking]


def summary(findings: list[Finding]) -> str:
    """One line for people: how many phrases were flagged and how many block sending."""
    if not findings:
        return "No risky wording found."
    must = len(blocking(findings))
    noun = "phrase" if len(findings) == 1 else "phrases"
    return f"{len(findings)} {noun} flagged: {must} to fix, {len(findings) - must} to confirm."
