"""The outbox: every email is written here with the change it reports, and sent by a worker."""
