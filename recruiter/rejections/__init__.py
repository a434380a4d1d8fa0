"""Rejections: the note, the internal reason, the wording check."""
