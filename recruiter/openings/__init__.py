"""Openings, the applications in them, and moving applications between stages."""
