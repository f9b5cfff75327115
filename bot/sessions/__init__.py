"""Stat sessions: the recurring meeting in which a leader questions a unit about its
numbers and promises, planned from the org file's ``sessions:`` section or one at a time."""
