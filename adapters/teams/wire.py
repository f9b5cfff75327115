"""What statbot puts into an Adaptive Card's action data and reads back.  Pure.

Buttons and forms carry an action name and ids only (the handler reloads the state).
Action.Submit data is merged with the inputs by Teams and arrives as strings; Action.Execute
data arrives as sent.  Input ids are prefixed so they can never collide with ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages.text import only_nul, without_nul

MARK = "statbot"
INPUT_PREFIX = "in."


def button_data(action: str, ids: Mapping[str, str]) -> dict[str, Any]:
    return {MARK: "button", "action": action, "ids": dict(ids)}


def form_data(action: str, ids: Mapping[str, str]) -> dict[str, Any]:
    return {MARK: "form", "action": action, "ids": dict(ids)}


def input_id(name: str) -> str:
    return INPUT_PREFIX + name


def _text(value: Any) -> str:
    return without_nul("" if value is None else str(value))


def read_data(data: Mapping[str, Any]) -> tuple[str, str, dict[str, str], dict[str, str]] | None:
    """(kind, action, ids, values) of statbot's action data, or None.  NUL characters are
    stripped from every string (PostgreSQL refuses them)."""
    kind = data.get(MARK)
    action = data.get("action")
    ids = data.get("ids") or {}
    if kind not in ("button", "form") or not isinstance(action, str) or not isinstance(ids, Mapping):
        return None
    values = {
        _text(k)[len(INPUT_PREFIX) :]: _text(v) for k, v in data.items() if str(k).startswith(INPUT_PREFIX)
    }
    return str(kind), without_nul(action), {_text(k): _text(v) for k, v in ids.items()}, values


def emptied_values(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The inputs whose typed text was nothing but NUL characters: stripping them leaves an
    empty field, which means something else than what was typed."""
    return tuple(
        _text(k)[len(INPUT_PREFIX) :]
        for k, v in data.items()
        if str(k).startswith(INPUT_PREFIX) and isinstance(v, str) and only_nul(v)
    )
