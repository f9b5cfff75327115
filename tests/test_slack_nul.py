"""A NUL character (\\x00) in anything typed in Slack never reaches the database.

PostgreSQL refuses NUL in text (SQLite stores it), so one typed or pasted into a command,
a DM, or a modal failed the whole turn there and lost what was typed.  The Slack edge
strips it: the text is used without it, and only when nothing is left of what was typed
is the person told.  Run on SQLite and, with STATBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text as sql

from adapters.slack import parse
from adapters.slack.app import UNREADABLE, UNREADABLE_FIELD
from bot.clock import FakeClock
from storage.uow import SqlUnitOfWorkFactory
from tests import test_slack_app as harness
from tests.fakes.slack_api import state_for
from tests.helpers import pid
from tests.test_slack_app import GOOD, HEAD, HEAD_EMAIL, Slack

api = harness.api
slack = harness.slack


async def _open_commitments(org_uow: SqlUnitOfWorkFactory) -> list[str]:
    head = await pid(org_uow, HEAD_EMAIL)
    async with org_uow() as uow:
        return sorted(c.text for c in await uow.commitments.open_for_owner(head))


async def _no_nul_stored(org_uow: SqlUnitOfWorkFactory) -> None:
    """None of the text a Slack turn writes (commitments, check-in drafts, the ids of
    processed events) holds a NUL."""
    async with org_uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        stored: list[Any] = []
        for query in (
            "select text from commitments",
            "select draft from checkins",
            "select event_id from processed_events",
        ):
            stored.extend((await session.execute(sql(query))).scalars().all())
    assert stored
    assert not [s for s in stored if "\x00" in (s if isinstance(s, str) else json.dumps(s))]


async def test_a_command_with_a_nul_is_stored_without_it(slack: Slack, org_uow: SqlUnitOfWorkFactory) -> None:
    response = await slack.command("commit Fix the\x00 hotline\x00 by 2026-12-20")
    assert response.status == 200
    (answer,) = slack.responses()
    assert "Fix the hotline" in json.dumps(answer)
    assert "\\u0000" not in json.dumps(answer)
    assert await _open_commitments(org_uow) == ["Fix the hotline"]


async def test_a_dm_with_a_nul_is_stored_without_it(slack: Slack, org_uow: SqlUnitOfWorkFactory) -> None:
    await slack.dm("commit Call\x00 the depot by 2026-12-20")
    (posted,) = slack.api.ok_calls("chat.postMessage")
    assert posted.params["channel"] == f"D{HEAD}"
    assert "Call the depot" in json.dumps(posted.params)
    assert await _open_commitments(org_uow) == ["Call the depot"]


@pytest.mark.parametrize("how", ["command", "dm"])
async def test_text_of_nothing_but_nuls_is_refused_with_a_clear_message(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, how: str
) -> None:
    if how == "command":
        await slack.command("\x00\x00")
        (answer,) = slack.responses()
        shown = answer["text"]
    else:
        await slack.dm("\x00")
        (posted,) = slack.api.ok_calls("chat.postMessage")
        shown = posted.params["text"]
    # Not the help text an empty /stat would show: the person learns what happened.
    assert shown == UNREADABLE
    assert await _open_commitments(org_uow) == []


async def test_a_nul_in_a_modal_is_stripped_and_the_rest_is_stored(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await harness._prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()
    typed = {
        **GOOD,
        "m.missed_pickups": "11\x000",
        "new.text": "Repaint\x00 the trucks",
        "new.due": "2026-12-18",
    }
    response = await slack.submit(modal, typed)
    assert response.status == 200 and await response.text() == ""  # stored, the modal closes
    assert await harness._stored(org_uow) == ("submitted", sorted(float(v) for v in GOOD.values()))
    assert await _open_commitments(org_uow) == ["Repaint the trucks"]
    assert "Recorded" in slack.texts("chat.postMessage")
    await _no_nul_stored(org_uow)


async def test_a_modal_field_of_nothing_but_nuls_is_sent_back_with_the_rest_kept(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    button = await harness._prompt_button(slack, org_uow, clock)
    await slack.click(button, channel=f"D{HEAD}")
    modal = slack.last_modal()
    typed = {**GOOD, "new.text": "\x00\x00", "new.due": "2026-12-18"}
    refused = await slack.submit(modal, typed, view_hash="h.same")
    # Answered under the field: Slack keeps everything typed in the open modal.
    assert await refused.json() == {"response_action": "errors", "errors": {"new.text": UNREADABLE_FIELD}}
    assert (await harness._stored(org_uow))[0] != "submitted"
    fixed = await slack.submit(modal, {**typed, "new.text": "Repaint the trucks"}, view_hash="h.same")
    assert fixed.status == 200 and await fixed.text() == ""
    assert await _open_commitments(org_uow) == ["Repaint the trucks"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if hasattr(value, "__dataclass_fields__"):
        return _strings([getattr(value, f) for f in value.__dataclass_fields__])
    return []


def test_no_parsed_event_carries_a_nul() -> None:
    n = "\x00"
    command = parse.parse_command(
        {
            "user_id": f"U1{n}",
            "channel_id": f"C1{n}",
            "text": f"st{n}atus",
            "trigger_id": f"t{n}",
            "response_url": "u",
        }
    )
    message = parse.parse_message(
        {
            "event_id": f"Ev{n}",
            "event": {
                "type": "message",
                "channel_type": "im",
                "user": "U1",
                "channel": "D1",
                "text": f"hi{n}",
            },
        }
    )
    click = parse.parse_button(
        {"user": {"id": "U1"}, "trigger_id": f"t{n}", "channel": {"id": f"D1{n}"}},
        {
            "value": json.dumps({"a": f"checkin.open{n}", "ids": {f"checkin{n}": f"1{n}"}}),
            "action_ts": f"1{n}",
        },
    )
    view = {
        "type": "modal",
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    submission = parse.parse_submission(
        {
            "user": {"id": "U1"},
            "trigger_id": "t",
            "view": {
                "id": "V1",
                "hash": f"h{n}",
                "private_metadata": json.dumps({"a": f"followup.answer{n}", "ids": {"commitment": f"3{n}"}}),
                "state": {"values": state_for(view, {"note": f"because{n}"})},
                "blocks": view["blocks"],
            },
        }
    )
    parsed = [command, message, click, submission]
    assert all(p is not None for p in parsed)
    assert not [s for s in _strings(parsed) if n in s]
    assert command is not None and command.text == "status" and not command.emptied
    assert submission is not None and submission.values == {"note": "because"} and submission.emptied == ()
