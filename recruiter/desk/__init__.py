"""My desk: everything a user owes a candidate, on the first screen."""
