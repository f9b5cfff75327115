"""Text in the kept Markdown documents (briefs and memos)."""

from __future__ import annotations


def literal(text: str) -> str:
    """Text shown as typed: people's words (and names) must not turn into Markdown
    structure, a link or bold, in the kept document and its PDF."""
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, f"\\{ch}")
    return text
