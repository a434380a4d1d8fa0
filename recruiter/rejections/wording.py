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
from functools import cache, cached_property
from importlib import resources
from re import _constants as sre
from re import _parser as sre_parse
from re._casefix import _EXTRA_CASES
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
    """One rule from ``phrases.json``: ``pattern`` is the expanded regex (case-insensitive).

    ``needles``: strings (in ``folded`` form) of which every match contains at least one, so
    a note that contains none of them is not searched with the rule's regex; None when no
    such strings could be worked out. It is only a shortcut: the findings are the same.
    The regex is compiled on first use: most rules are never searched in a process that
    checks ordinary notes, and compiling all of them took about a third of a bulk check.
    """

    pattern: str
    category: str
    why: str
    suggestion: str
    example: str
    needles: tuple[str, ...] | None = None

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)

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


# -- The shortcut: which rules can match a note at all ---------------------------------------
#
# Checking a note runs every rule's regex over it, and there are over a hundred; a bulk
# rejection checks a thousand notes. Each rule needs some literal text (a word of it, or one
# of a few words); a rule none of whose words is in the note cannot match, so its regex is
# skipped. Case-insensitive matching is compared on lower-cased text with every non-word
# character as one marker, so "sub-par" and "sub par" fold alike; characters that Python's
# regex engine case-folds in other ways (dotless i, long s, Greek and Cyrillic variants, the
# dotted capital I) turn the shortcut off for that note or rule.

_NON_WORD = re.compile(r"\W")
_ODD_CASE = frozenset(
    chr(code) for key, extra in _EXTRA_CASES.items() for code in (key, *extra) if code > 127
) | {"\u0130"}


def folded(text: str) -> str | None:
    """``text`` lower-cased, each non-word character as NUL; None when the fold is unsafe."""
    lowered = text.lower()
    if len(lowered) != len(text) or not _ODD_CASE.isdisjoint(lowered):
        return None
    return _NON_WORD.sub("\0", lowered)


def _needles(items) -> set[str] | None:
    """Strings of which every match of the parsed ``items`` contains one (or None).

    From each required part (a run of literal characters, a group, each branch of an
    alternation, a repeat of at least one) the set whose shortest string is longest is kept.
    """
    best: set[str] | None = None
    best_length = 0
    items = list(items)
    i = 0
    while i < len(items):
        op, av = items[i]
        found: set[str] | None = None
        if op is sre.LITERAL:
            run = []
            while i < len(items) and items[i][0] is sre.LITERAL:
                run.append(chr(items[i][1]))
                i += 1
            found = {"".join(run)}
            i -= 1
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, pattern = av
            found = None if (add_flags or del_flags) else _needles(pattern)
        elif op is sre.BRANCH:
            found = set()
            for alternative in av[1]:
                more = _needles(alternative)
                if more is None:
                    found = None
                    break
                found |= more
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            found = _needles(av[2])
        i += 1
        if found:
            length = min(len(needle) for needle in found)
            if length > best_length:
                best, best_length = found, length
    return best


def needles_of(pattern: str) -> tuple[str, ...] | None:
    """The folded needles of a rule's pattern, or None when none are known (always search)."""
    found = _needles(sre_parse.parse(pattern, re.IGNORECASE))
    if not found:
        return None
    folds = [folded(needle) for needle in found]
    if any(fold is None or not fold for fold in folds):
        return None
    return tuple(sorted(set(folds)))  # type: ignore[arg-type]


def compile_rule(data: Mapping[str, str]) -> Rule:
    """Check and compile one rule read from the JSON file."""
    if data["category"] not in CATEGORIES:
        raise ValueError(f"unknown category {data['category']!r} in rule {data['pattern']!r}")
    pattern = expand(data["pattern"])
    return Rule(
        pattern,
        data["category"],
        data["why"],
        data["suggestion"],
        data.get("example", ""),
        needles_of(pattern),  # parsing it also refuses a malformed pattern here, at load
    )


def may_match(rule: Rule, fold: str | None) -> bool:
    """False only when the rule certainly cannot match the note whose fold is ``fold``."""
    return fold is None or rule.needles is None or any(n in fold for n in rule.needles)


@cache
def load_rules() -> tuple[Rule, ...]:
    """The rules from ``phrases.json``, compiled once per process."""
    text = resources.files(__package__).joinpath("phrases.json").read_text(encoding="utf-8")
    return tuple(compile_rule(data) for data in json.loads(text)["rules"])


def _overlaps(finding: Finding, kept: list[Finding]) -> bool:
    return any(finding.start < other.end and other.start < finding.end for other in kept)


def check_note(text: str) -> list[Finding]:
    """The risky phrases in ``text``, in order; of overlapping matches only the longest is kept."""
    fold = folded(text)
    found = [
        finding for rule in load_rules() if may_match(rule, fold) for finding in rule.find(text)
    ]
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
