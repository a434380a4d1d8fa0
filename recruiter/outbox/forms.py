"""Form pieces for anything that ends up in a mail header."""

from __future__ import annotations

from wtforms.validators import ValidationError


class SingleLine:
    """Refuse line breaks and control characters: the value may reach a mail header."""

    def __init__(self, message: str = "Must be a single line, without line breaks.") -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if any(ord(c) < 32 or c == "\x7f" for c in field.data or ""):
            raise ValidationError(self.message)
