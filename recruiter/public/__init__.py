"""Pages for candidates, who never sign in: reached through signed links."""
