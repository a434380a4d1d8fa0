"""Candidates: one page with everything about a person."""
