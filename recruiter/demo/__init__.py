"""Demo data: a believable team to explore the app with."""
