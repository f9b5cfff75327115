"""Small helpers for the words of messages."""

from __future__ import annotations


def possessive(name: str) -> str:
    """``Sanitation's``, but ``Human Resources'``."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"
