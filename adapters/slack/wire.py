"""What statbot writes into Block Kit and reads back from Slack's payloads.

render.py writes these names and encodings, parse.py reads them: the modal's callback id,
the prefix of every statbot action id, a button's value and a modal's private_metadata
(``{"a": action, "ids": {...}}``), and the input elements' action id (each input block's
block_id is the input's name).  Pure: no client, no Block Kit models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Shared with every adapter (Slack strips NUL from every string it takes from a payload).
from bot.messages.text import without_nul as without_nul

FORM_CALLBACK = "statbot_form"
ACTION_PREFIX = "statbot:"
# Every input element of a statbot modal has this action id; its block's id is the input name.
INPUT_ACTION = "value"
# An adapter-level button: re-run a text turn (e.g. `report` typed in a DM, where Slack
# gives no trigger_id to open a modal) now that a click brought one.
REPLAY = "slack.replay"


def button_action_id(action: str, index: int) -> str:
    """A button's action_id: unique within its message, recognisable as statbot's."""
    return f"{ACTION_PREFIX}{action}:{index}"


def encode_action(action: str, ids: Mapping[str, str]) -> str:
    """A button's value, or a modal's private_metadata: the action name and its ids."""
    return json.dumps({"a": action, "ids": dict(ids)}, separators=(",", ":"))


def form_metadata(action: str, ids: Mapping[str, str]) -> str:
    return encode_action(action, ids)


def read_form_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``view.state.values`` → strings keyed by input name ("" when empty), NUL stripped."""
    out: dict[str, str] = {}
    for block_id, actions in state_values.items():
        if not actions:
            out[without_nul(block_id)] = ""
            continue
        action = actions.get(INPUT_ACTION) or next(iter(actions.values()))
        out[without_nul(block_id)] = without_nul(_action_value(action)) if isinstance(action, Mapping) else ""
    return out


def emptied_form_values(state_values: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """The inputs whose typed text was nothing but NUL characters: stripping them leaves
    an empty field, which means something else than what was typed."""
    emptied: list[str] = []
    for block_id, actions in state_values.items():
        action = (actions.get(INPUT_ACTION) or next(iter(actions.values()), None)) if actions else None
        raw = _action_value(action) if isinstance(action, Mapping) else ""
        if raw and not without_nul(raw).strip():
            emptied.append(without_nul(block_id))
    return tuple(emptied)


def _action_value(action: Mapping[str, Any]) -> str:
    kind = action.get("type")
    raw: Any
    if kind == "datepicker":
        raw = action.get("selected_date")
    elif kind in ("static_select", "radio_buttons", "external_select"):
        selected = action.get("selected_option")
        raw = selected.get("value") if isinstance(selected, Mapping) else None
    else:
        raw = action.get("value")
    return raw if isinstance(raw, str) else ""
