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

    What every match contains, worked out from the pattern, lets a note skip the rules it
    cannot match (a shortcut: the findings are the same). ``requires``: terms that all hold
    for a match (see ``_terms``); ``needles``: the coarser form checked first, for each term
    the strings (in ``folded`` form) one of which a match contains, None when there is none.
    The regex is compiled on first use: most rules are never searched in a process that
    checks ordinary notes, and compiling all of them took about a third of a bulk check.
    """

    pattern: str
    category: str
    why: str
    suggestion: str
    example: str
    needles: tuple[tuple[str, ...], ...] | None = None
    requires: tuple = ()

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
# rejection checks a thousand notes. Each rule needs some literal text (words of it, or one
# of a few words for an alternation, as ``_terms`` works out from the parsed pattern); a rule
# whose required words are not all in the note cannot match, so its regex is skipped: for an
# ordinary note two or three rules of 140 are searched. Case-insensitive matching is
# compared on lower-cased text with every non-word character as one marker, so "sub-par" and
# "sub par" fold alike; characters that Python's regex engine case-folds in other ways
# (dotless i, long s, Greek and Cyrillic variants, the dotted capital I) turn the shortcut
# off for that note or rule.

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


def _terms(items) -> tuple:
    """What every match of the parsed ``items`` contains, as terms that must all hold.

    A term is a folded string the match contains, or a tuple of alternatives (each a tuple
    of terms) of which one holds. A run of literal characters is a string; a group, or a
    repeat of at least one, adds the terms of what it holds; an alternation is one term
    (none when one of its branches requires nothing). A string that does not fold safely
    is left out: leaving a term out only makes the shortcut search more often.
    """
    terms: list = []
    items = list(items)
    i = 0
    while i < len(items):
        op, av = items[i]
        if op is sre.LITERAL:
            run = []
            while i < len(items) and items[i][0] is sre.LITERAL:
                run.append(chr(items[i][1]))
                i += 1
            fold = folded("".join(run))
            if fold:
                terms.append(fold)
            continue
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, pattern = av
            if not (add_flags or del_flags):
                terms.extend(_terms(pattern))
        elif op is sre.BRANCH:
            alternatives = tuple(_terms(alternative) for alternative in av[1])
            if all(alternatives):
                terms.append(alternatives)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            terms.extend(_terms(av[2]))
        i += 1
    return tuple(sorted(terms, key=lambda term: not isinstance(term, str)))  # strings first


def _parts(terms: tuple) -> list[set[str]]:
    """Per term, strings one of which a match contains (an alternation: each branch's best)."""
    parts = []
    for term in terms:
        if isinstance(term, str):
            parts.append({term})
            continue
        union: set[str] = set()
        for alternative in term:
            best = _best(_parts(alternative))
            if best is None:
                break
            union |= best
        else:
            parts.append(union)
    return parts


def _best(parts: list[set[str]]) -> set[str] | None:
    """The part whose shortest string is longest (the rarest to find by chance)."""
    return max(parts, key=lambda part: min(map(len, part)), default=None)


def holds(terms: tuple, present: set[str]) -> bool:
    """Whether a note holding the ``present`` needles has what the ``terms`` require."""
    for term in terms:  # plain loops: this runs for every rule of every note checked
        if isinstance(term, str):
            if term not in present:
                return False
        else:
            for alternative in term:
                if holds(alternative, present):
                    break
            else:
                return False
    return True


def _strings(terms: tuple) -> set[str]:
    """Every string in the terms, at any depth."""
    found: set[str] = set()
    for term in terms:
        if isinstance(term, str):
            found.add(term)
        else:
            for alternative in term:
                found |= _strings(alternative)
    return found


def compile_rule(data: Mapping[str, str]) -> Rule:
    """Check and compile one rule read from the JSON file."""
    if data["category"] not in CATEGORIES:
        raise ValueError(f"unknown category {data['category']!r} in rule {data['pattern']!r}")
    pattern = expand(data["pattern"])
    terms = _terms(sre_parse.parse(pattern, re.IGNORECASE))  # also refuses a bad pattern
    needles = tuple(sorted({tuple(sorted(part)) for part in _parts(terms)}))
    return Rule(
        pattern,
        data["category"],
        data["why"],
        data["suggestion"],
        data.get("example", ""),
        needles or None,
        terms,
    )


@dataclass(frozen=True)
class _NeedleIndex:
    """The rules' needles, for finding at once which rules a note may match.

    ``short``: needles under three characters; ``three``: those of exactly three;
    ``by_start``: the longer ones by their first three; ``parts_of``: every needle -> the
    numbers of the parts it belongs to (maybe none: a string of ``requires`` only);
    ``rule_parts``: per rule, the numbers of its parts (None: none).
    """

    short: tuple[str, ...]
    three: frozenset[str]
    by_start: Mapping[str, tuple[str, ...]]
    starts: frozenset[str]
    parts_of: Mapping[str, tuple[int, ...]]
    rule_parts: tuple[frozenset[int] | None, ...]


@cache
def _needle_index() -> _NeedleIndex:
    numbers: dict[tuple[str, ...], int] = {}
    rule_parts = []
    parts_of: dict[str, list[int]] = {}
    for rule in load_rules():
        for needle in _strings(rule.requires):
            parts_of.setdefault(needle, [])
        if rule.needles is None:
            rule_parts.append(None)
        else:
            rule_parts.append(frozenset(numbers.setdefault(p, len(numbers)) for p in rule.needles))
    for part, number in numbers.items():
        for needle in part:
            parts_of.setdefault(needle, []).append(number)
    by_start: dict[str, list[str]] = {}
    for needle in sorted(parts_of):
        if len(needle) > 3:
            by_start.setdefault(needle[:3], []).append(needle)
    return _NeedleIndex(
        short=tuple(sorted(n for n in parts_of if len(n) < 3)),
        three=frozenset(n for n in parts_of if len(n) == 3),
        by_start=MappingProxyType({start: tuple(group) for start, group in by_start.items()}),
        starts=frozenset(by_start),
        parts_of=MappingProxyType({needle: tuple(p) for needle, p in parts_of.items()}),
        rule_parts=tuple(rule_parts),
    )


def present_needles(fold: str) -> set[str]:
    """Which of the rules' needles the folded note contains.

    A needle of three characters is in the note if it is one of the note's three-character
    slices; a longer one can only be if its first three are, so only those are looked for.
    """
    index = _needle_index()
    slices = {fold[i : i + 3] for i in range(len(fold) - 2)}
    found = {needle for needle in index.short if needle in fold}
    found |= index.three.intersection(slices)
    for start in index.starts.intersection(slices):
        found.update(needle for needle in index.by_start[start] if needle in fold)
    return found


def rules_to_search(text: str) -> list[Rule]:
    """The rules that may match ``text``: those whose required strings are all in the note.

    Every rule when the note's fold is unsafe. The others cannot match, so skipping them
    changes no finding. The quick test of the parts first, then the finer one of the terms.
    """
    rules = load_rules()
    fold = folded(text)
    if fold is None:
        return list(rules)
    index = _needle_index()
    present = present_needles(fold)
    satisfied: set[int] = set()
    for needle in present:
        satisfied.update(index.parts_of[needle])
    return [
        rule
        for rule, parts in zip(rules, index.rule_parts, strict=True)
        if (parts is None or parts <= satisfied) and holds(rule.requires, present)
    ]


@cache
def load_rules() -> tuple[Rule, ...]:
    """The rules from ``phrases.json``, read once per process (each regex compiled when used)."""
    text = resources.files(__package__).joinpath("phrases.json").read_text(encoding="utf-8")
    return tuple(compile_rule(data) for data in json.loads(text)["rules"])


def _overlaps(finding: Finding, kept: list[Finding]) -> bool:
    return any(finding.start < other.end and other.start < finding.end for other in kept)


def check_note(text: str) -> list[Finding]:
    """The risky phrases in ``text``, in order; of overlapping matches only the longest is kept."""
    found = [finding for rule in rules_to_search(text) for finding in rule.find(text)]
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
