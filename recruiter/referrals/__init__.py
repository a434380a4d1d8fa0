"""Referrals: one manager hands a pooled candidate to another manager's opening."""
