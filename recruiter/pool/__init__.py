"""The silver-medalist pool: tagging, consent, keep-in-touch, rediscovery, backfill."""
