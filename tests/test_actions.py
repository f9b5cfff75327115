"""The actions buttons and forms carry: one enum, one handler each, the wire unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.actions import Action
from bot.clock import FakeClock
from bot.conversation import BUTTONS, FORMS, StatBot
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, pid, text_of

# Slack, Teams and console payloads carry these strings: they never change.
WIRE = {
    "checkin.open",
    "checkin.submit",
    "checkin.confirm",
    "followup.ask",
    "followup.answer",
    "followup.track",
    "escalation.ack",
    "escalation.snooze",
    "escalation.done",
    "digest.show",
    "memo.approve",
    "brief.send",
    "decision.choose",
}


def test_every_action_has_a_handler() -> None:
    handled = set(BUTTONS) | set(FORMS)
    assert handled == set(Action), f"without a handler: {set(Action) - handled}"
    assert all(callable(h) for h in [*BUTTONS.values(), *FORMS.values()])


def test_the_action_strings_on_the_wire_are_unchanged() -> None:
    assert {a.value for a in Action} == WIRE


def test_every_action_the_core_writes_is_an_action() -> None:
    """Buttons and forms written anywhere in the core (literal or by name) use a known action."""
    core = Path(__file__).resolve().parent.parent / "bot"
    literal = re.compile(r"""\b(?:Button|Form)\((?:[^()]|\([^()]*\))*?\baction\s*=\s*["']([a-z_.]+)["']""")
    found = {m for path in core.rglob("*.py") for m in literal.findall(path.read_text(encoding="utf-8"))}
    assert found <= WIRE, f"unknown actions: {found - WIRE}"


@pytest.mark.parametrize("action", ["nonsense", "checkin.submit", ""])
async def test_an_unknown_or_misplaced_button_is_out_of_date(
    action: str, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    head = await pid(org_uow, "robert.hayes@riverton.gov")
    assert text_of(await bot.on_button(head, action, {})) == "That button is out of date."


@pytest.mark.parametrize("action", ["nonsense", "checkin.open", "escalation.ack"])
async def test_an_unknown_or_misplaced_form_is_out_of_date(
    action: str, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    head = await pid(org_uow, "robert.hayes@riverton.gov")
    reply = text_of(await bot.on_form(head, action, {}, {}))
    assert reply == "That form is out of date; type `report` to get a fresh one."


async def test_ids_from_a_button_are_not_trusted(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    """A forged button naming another unit's things is refused after the reload."""
    clock.set(ny(2026, 12, 1, 10))
    bot = StatBot(org_uow, clock)
    head = await pid(org_uow, "robert.hayes@riverton.gov")
    other = await pid(org_uow, "kevin.obrien@riverton.gov")
    await bot.on_text(head, "commit Replace truck 12 by Friday")
    await bot.on_text(await pid(org_uow, "dana.whitfield@riverton.gov"), "ask sanitation Why?")
    refused = text_of(await bot.on_button(other, "followup.answer", {"commitment": "2"}))
    assert refused == "Only Sanitation's head or deputy can answer it."
    assert "no longer exists" in text_of(await bot.on_button(other, "followup.answer", {"commitment": "1"}))
    assert "no longer exists" in text_of(await bot.on_button(other, "escalation.ack", {"escalation": "99"}))
