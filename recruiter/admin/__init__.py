"""Admin pages: users and roles, and the audit log."""
