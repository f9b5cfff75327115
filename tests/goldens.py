"""Golden files of core cards as each platform shows them: Block Kit JSON under
tests/golden/slack/, console text under tests/golden/console/ (the same files and the
same STATBOT_UPDATE_GOLDEN=1 switch as the renderer tests).  Review the diff after
regenerating."""

from __future__ import annotations

import json
import os
from pathlib import Path

from adapters.console.render import render_card as render_console
from adapters.slack.render import fallback_text
from adapters.slack.render import render_card as render_slack
from bot.messages import Card

GOLDEN = Path(__file__).parent / "golden"


def _check(path: Path, text: str) -> None:
    if os.environ.get("STATBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with STATBOT_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, f"{path} differs: review, then STATBOT_UPDATE_GOLDEN=1"


def assert_card_golden(name: str, card: Card) -> None:
    """``name`` as a Slack message, fallback text and blocks (tests/golden/slack/NAME.json),
    and as console text (tests/golden/console/NAME.txt)."""
    message = {"text": fallback_text(card), "blocks": render_slack(card)}
    _check(
        GOLDEN / "slack" / f"{name}.json",
        json.dumps(message, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
    )
    _check(GOLDEN / "console" / f"{name}.txt", render_console(card) + "\n")


def assert_text_golden(name: str, text: str) -> None:
    """Plain text (tests/golden/console/NAME.txt), e.g. the digest file of the demo."""
    _check(GOLDEN / "console" / f"{name}.txt", text)
