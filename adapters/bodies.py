"""Reading a JSON request body that anyone on the internet may have sent.  Pure.

Both platform routes take JSON from callers they have not authenticated yet (Teams) or
that signed something malformed (Slack).  Reading it must fail with a short reason, never
with an exception that escapes as a 500: the standard library's decoder raises
RecursionError (not ValueError) for deeply nested arrays, and a body that decodes but is
nested hundreds of levels deep would make any recursive walk over it (a log formatter, a
deserialiser) fail later.  Reasons name what is wrong, never a byte of the body.
"""

from __future__ import annotations

import json
from typing import Any

# Slack's and Teams' payloads nest about ten levels (an Adaptive Card's containers a few
# more); sixty-four leaves room for any real one.
MAX_DEPTH = 64


class Unreadable(ValueError):
    """The body is not JSON statbot will read; the message is the reason, safe to log."""


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` (decoded JSON) nests more than ``limit`` arrays or objects.
    Iterative: a recursive walk would itself fail on the bodies it is meant to catch."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def load_json(raw: bytes | str) -> Any:
    """``raw`` decoded as UTF-8 JSON, or Unreadable with the reason."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise Unreadable("body is not UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise Unreadable("body is nested too deeply") from None
    except ValueError:  # json.JSONDecodeError is a ValueError
        raise Unreadable("body is not valid JSON") from None
    if too_deep(value):
        raise Unreadable("body is nested too deeply")
    return value
