"""Template placeholders: a small fixed set, filled by plain string substitution.

Never Jinja and never ``str.format`` on objects: a template is words with a few ``{name}``
tokens, so nothing in it can reach the configuration, a model or any code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: placeholder -> what it stands for (shown as help beside the template editor)
PLACEHOLDERS: Mapping[str, str] = {
    "candidate_first_name": "The candidate's first name",
    "candidate_name": "The candidate's full name",
    "opening_title": "The job title",
    "manager_name": "The hiring manager's name",
    "company": "The company's name",
    "closing": "A closing sentence: an open door when the candidate is in the pool, else neutral",
}

_TOKEN = re.compile(r"\{([^{}]*)\}")


class PlaceholderError(ValueError):
    """A template uses a placeholder that does not exist, or one that has no value."""


def check_placeholders(text: str) -> list[str]:
    """The problems with the braces in ``text``: unknown placeholders or stray braces."""
    problems = []
    for match in _TOKEN.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            problems.append(f"Unknown placeholder {match.group()}.")
    rest = _TOKEN.sub("", text)
    if "{" in rest or "}" in rest or "{{" in text or "{%" in text:
        problems.append(
            "Braces are only for placeholders such as {candidate_first_name}; "
            "nothing else (no {{ }} or {% %}) is allowed."
        )
    return list(dict.fromkeys(problems))


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder with its value in one pass; refuse unknown or empty ones."""
    problems = check_placeholders(text)
    if problems:
        raise PlaceholderError(" ".join(problems))

    def value_of(match: re.Match[str]) -> str:
        value = str(values.get(match.group(1), "")).strip()
        if not value:
            raise PlaceholderError(f"{match.group()} has no value for this candidate.")
        return value

    return _TOKEN.sub(value_of, text)
