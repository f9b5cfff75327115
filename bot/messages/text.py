"""Small helpers for the words of messages."""

from __future__ import annotations

NUL = "\x00"


def without_nul(text: str) -> str:
    """``text`` without NUL characters: PostgreSQL refuses them in text columns (SQLite
    stores them), and nobody means to type one.  Every adapter strips them from what
    comes in, at the edge, so none reaches the core or the database."""
    return text.replace(NUL, "") if NUL in text else text


def only_nul(text: str) -> bool:
    """Whether ``text`` held something that is nothing once its NUL characters are gone:
    what was typed cannot be read, and reading it as empty would mean something else."""
    return bool(text.strip()) and not without_nul(text).strip()


def possessive(name: str) -> str:
    """``Sanitation's``, but ``Human Resources'``."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 message``, ``2 messages``; ``plural`` for words that do not just take an s."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


SPARK = "▁▂▃▄▅▆▇█"
NO_READING = "·"


def format_number(x: float) -> str:
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:g}"


def sparkline_text(values: tuple[float | None, ...]) -> str:
    """Unicode blocks scaled between the lowest and highest reading; · marks no reading.
    Shared by the renderers that have no chart of their own (console, Slack)."""
    present = [v for v in values if v is not None]
    if not present:
        return NO_READING * len(values)
    low, high = min(present), max(present)
    out = []
    for v in values:
        if v is None:
            out.append(NO_READING)
        elif high == low:
            out.append(SPARK[len(SPARK) // 2])
        else:
            out.append(SPARK[round((v - low) / (high - low) * (len(SPARK) - 1))])
    return "".join(out)
