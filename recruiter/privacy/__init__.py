"""Privacy: export and erase one candidate's data, legal holds, and retention."""
