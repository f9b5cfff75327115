"""Database outages through the real Slack app over HTTP (issue 10, item 7): a command, a
DM, a button and a modal submission each get "try again" where their answer would have
gone, and the bot recovers by itself.  A modal keeps what was typed: the words are the
form's own error.  A hung database keeps the modal within Slack's 3 s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from storage.engine import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi
from tests.test_outage import OUTAGE_WORDS, TcpProxy, Unreachable, cut, db_url, open_unreachable, proxied_url
from tests.test_slack_app import HEAD, Slack, _prompt_button, _settings, _slack, api

__all__ = ["api", "cut", "db_url"]  # fixtures


def modal_action(view: dict[str, Any]) -> str:
    """The statbot form action a modal submits (kept in its private metadata)."""
    return str(json.loads(view["private_metadata"])["a"])


def _first_input(view: dict[str, Any]) -> str:
    return next(b["block_id"] for b in view["blocks"] if b["type"] == "input")


async def _statbot(
    db_url: str, engine: AsyncEngine, clock: FakeClock, api: FakeSlackApi, **options: Any
) -> AsyncIterator[Slack]:
    async for s in _slack(_settings(db_url, api), engine, clock, api, **options):
        yield s


async def test_command_dm_button_and_modal_say_try_again_during_an_outage(
    cut: Unreachable,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async for slack in _statbot(db_url, cut.engine, clock, api, process_before_response=True):
        button = await _prompt_button(slack, org_uow, clock)
        await slack.click(button, channel=f"D{HEAD}")
        modal = slack.last_modal()
        posted_before = len(api.ok_calls("chat.postMessage"))

        await cut.down()
        caplog.clear()
        with caplog.at_level(logging.INFO):
            command = await slack.command("status")
            assert command.status == 200
            assert OUTAGE_WORDS in json.dumps(slack.responses()[-1])  # ephemeral, via response_url

            dm = await slack.dm("commit Fix the hotline by Friday")
            assert dm.status == 200
            in_dm = api.ok_calls("chat.postMessage")[posted_before:]
            assert [c.params["channel"] for c in in_dm] == [f"D{HEAD}"]
            assert OUTAGE_WORDS in json.dumps(in_dm[0].params)

            clicked = await slack.click(button, channel=f"D{HEAD}")
            assert clicked.status == 200
            in_dm = api.ok_calls("chat.postMessage")[posted_before:]
            assert len(in_dm) == 2 and OUTAGE_WORDS in json.dumps(in_dm[1].params)

            submitted = await slack.submit(modal, {"m.missed_pickups": "110"})
            assert submitted.status == 200
            answer = await submitted.json()
            # The form's own error, under its first field: Slack keeps everything typed
            # (a new view would show the form empty, or no form at all).
            assert answer["response_action"] == "errors"
            assert list(answer["errors"]) == [_first_input(modal)]
            assert OUTAGE_WORDS in answer["errors"][_first_input(modal)]

            for _ in range(10):
                await slack.command("status")
            assert all(OUTAGE_WORDS in json.dumps(r) for r in slack.responses()[-10:])
            warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert len(warnings) == 1, [r.getMessage() for r in warnings]
            assert not any(r.exc_info for r in caplog.records)

        # Every turn the outage met is counted once, as unavailable, by what it was.
        registry = slack.adapter.metrics.registry
        counted = {
            (s.labels["kind"], s.labels["outcome"]): s.value
            for metric in registry.collect()
            if metric.name == "statbot_turns"
            for s in metric.samples
            if s.name == "statbot_turns_total"
        }
        assert {k: v for k, v in counted.items() if k[1] == "unavailable"} == {
            ("text", "unavailable"): 12,  # 11 commands and the DM
            (json.loads(button["value"])["a"], "unavailable"): 1,
            (modal_action(modal), "unavailable"): 1,
        }

        await cut.up()
        await slack.command("status")
        assert "Sanitation" in json.dumps(slack.responses()[-1])
        assert OUTAGE_WORDS not in json.dumps(slack.responses()[-1])


async def test_a_database_lost_in_the_middle_of_a_form_turn_is_said_in_the_modal(
    cut: Unreachable, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    async for slack in _statbot(db_url, cut.engine, clock, api, process_before_response=True):
        button = await _prompt_button(slack, org_uow, clock)
        await slack.click(button, channel=f"D{HEAD}")
        modal = slack.last_modal()
        posted_before = len(api.ok_calls("chat.postMessage"))
        people = slack.adapter.people
        found = people.person_for

        async def then_the_database_dies(user_id: str, found: Any = found) -> Any:
            person = await found(user_id)
            await cut.down()
            return person

        people.person_for = then_the_database_dies  # type: ignore[method-assign]
        submitted = await slack.submit(modal, {"m.missed_pickups": "110"})
        answer = await submitted.json()
        assert answer["response_action"] == "errors"
        assert OUTAGE_WORDS in answer["errors"][_first_input(modal)]
        await slack.adapter.wait_idle()
        assert api.ok_calls("chat.postMessage")[posted_before:] == []  # nothing to the DM
        people.person_for = found  # type: ignore[method-assign]
        await cut.up()
        async with org_uow() as uow:
            assert await uow.readings.for_unit_week(1, "2026-W49") == []


async def test_a_hung_database_keeps_the_modal_within_three_seconds_and_then_says_so(
    org_uow: SqlUnitOfWorkFactory, db_url: str, tmp_path: Path, clock: FakeClock, api: FakeSlackApi
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a hung server needs the PostgreSQL proxy")
    # Timeouts longer than the form deadline (2 s, the production default).
    hung = await open_unreachable(db_url, tmp_path, db_timeout=2.5)
    assert hung.proxy is not None
    try:
        async for slack in _statbot(db_url, hung.engine, clock, api, process_before_response=False):
            button = await _prompt_button(slack, org_uow, clock)
            await slack.click(button, channel=f"D{HEAD}")
            await slack.adapter.wait_idle()
            modal = slack.last_modal()

            hung.hang()
            # Each request is acknowledged within Slack's 3 s on its own (a command holds
            # its ack up to the answer budget, a modal up to the form deadline).
            started = time.perf_counter()
            submitted = await slack.submit(modal, {"m.missed_pickups": "110"})
            modal_acked = time.perf_counter() - started
            started = time.perf_counter()
            command = await slack.command("status")
            command_acked = time.perf_counter() - started
            assert submitted.status == command.status == 200
            assert modal_acked < 3.0 and command_acked < 3.0
            saving = await submitted.json()
            # Pushed on top of the form, which stays beneath as typed.
            assert saving["response_action"] == "push" and "Saving" in json.dumps(saving["view"])

            await asyncio.wait_for(slack.adapter.wait_idle(), timeout=30)
            (updated,) = api.ok_calls("views.update")
            assert updated.params["external_id"] == saving["view"]["external_id"]
            assert OUTAGE_WORDS in json.dumps(updated.params)
            assert "what you typed is still there" in json.dumps(updated.params)
            assert "Saved." not in json.dumps(updated.params)
            assert OUTAGE_WORDS in json.dumps(slack.responses()[-1])

            hung.proxy.resume()
            await slack.command("status")
            await asyncio.wait_for(slack.adapter.wait_idle(), timeout=30)
            assert "Sanitation" in json.dumps(slack.responses()[-1])
    finally:
        await hung.engine.dispose()
        await hung.proxy.close()


async def test_with_the_production_timeouts_a_hung_database_keeps_slacks_three_seconds(
    org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    """storage/engine.py's own timeouts (5 s connect, 15 s statements, 10 s pool): the
    turns that meet the hang first are acknowledged in time and answered when the driver
    gives up; once the outage is known, the "try again" rides in the ack itself."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a hung server needs the PostgreSQL proxy")
    url = make_url(db_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    engine = create_engine(proxied_url(db_url, proxy.port))
    try:
        async for slack in _statbot(db_url, engine, clock, api, process_before_response=False):
            button = await _prompt_button(slack, org_uow, clock)
            await slack.click(button, channel=f"D{HEAD}")
            await slack.adapter.wait_idle()
            modal = slack.last_modal()

            proxy.pause()
            started = time.perf_counter()
            command = await slack.command("status")
            assert time.perf_counter() - started < 3.0 and command.status == 200
            started = time.perf_counter()
            submitted = await slack.submit(modal, {"m.missed_pickups": "110"})
            assert time.perf_counter() - started < 3.0 and submitted.status == 200
            assert (await submitted.json())["response_action"] == "push"  # "saving", over the form
            await asyncio.wait_for(slack.adapter.wait_idle(), timeout=60)  # the driver's timeouts
            assert OUTAGE_WORDS in json.dumps(slack.responses()[-1])
            assert OUTAGE_WORDS in json.dumps(api.ok_calls("views.update")[-1].params)

            # Known now: nobody waits for the driver's timeouts any more.
            started = time.perf_counter()
            command = await slack.command("status")
            assert time.perf_counter() - started < 3.0
            assert OUTAGE_WORDS in await command.text()  # in the ack itself
            started = time.perf_counter()
            submitted = await slack.submit(modal, {"m.missed_pickups": "110"})
            assert time.perf_counter() - started < 3.0
            answer = await submitted.json()
            assert answer["response_action"] == "errors"
            assert OUTAGE_WORDS in answer["errors"][_first_input(modal)]

            proxy.resume()
            for _ in range(100):  # the ping in flight gets its answer once bytes flow again
                command = await slack.command("status")
                await slack.adapter.wait_idle()
                if "Sanitation" in await command.text() + json.dumps(slack.responses()[-1:]):
                    break
                await asyncio.sleep(0.1)
            assert "Sanitation" in await command.text() + json.dumps(slack.responses()[-1:])
    finally:
        proxy.resume()
        await engine.dispose()
        await proxy.close()
