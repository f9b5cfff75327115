"""What statbot puts into an Adaptive Card's action data and reads back.  Pure.

Buttons and forms carry an action name and ids only (the handler reloads the state).
Action.Submit data is merged with the inputs by Teams and arrives as strings; Action.Execute
data arrives as sent.  Input ids are prefixed so they can never collide with ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MARK = "statbot"
INPUT_PREFIX = "in."


def button_data(action: str, ids: Mapping[str, str]) -> dict[str, Any]:
    return {MARK: "button", "action": action, "ids": dict(ids)}


def form_data(action: str, ids: Mapping[str, str]) -> dict[str, Any]:
    return {MARK: "form", "action": action, "ids": dict(ids)}


def input_id(name: str) -> str:
    return INPUT_PREFIX + name


def read_data(data: Mapping[str, Any]) -> tuple[str, str, dict[str, str], dict[str, str]] | None:
    """(kind, action, ids, values) of statbot's action data, or None."""
    kind = data.get(MARK)
    action = data.get("action")
    ids = data.get("ids") or {}
    if kind not in ("button", "form") or not isinstance(action, str) or not isinstance(ids, Mapping):
        return None
    values = {
        str(k)[len(INPUT_PREFIX) :]: "" if v is None else str(v)
        for k, v in data.items()
        if str(k).startswith(INPUT_PREFIX)
    }
    return str(kind), action, {str(k): str(v) for k, v in ids.items()}, values
