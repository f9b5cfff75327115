"""Database outages through the real Teams endpoint: a message, a stranger's first message,
an Action.Execute click, an Action.Submit and a personal install each get the core's
"try again" where their answer would have gone, and the bot recovers by itself.  The
adapter's own calls (processed ids, linking, the stored reference) are the first to meet
the outage, so they are what these turns exercise."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.runtime import TeamsOptions, open_runtime
from adapters.settings import Settings
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from storage.engine import session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.bot_connector import FakeBotConnector
from tests.helpers import ny
from tests.test_outage import OUTAGE_WORDS, Unreachable, cut, db_url
from tests.test_teams_app import GOOD, HEAD, STRANGER, Teams, _find, _invoke, _personal_install, connector

__all__ = ["connector", "cut", "db_url"]  # fixtures


def _said(posted: Any) -> str:
    return json.dumps(posted.cards, ensure_ascii=False)


async def test_every_teams_turn_says_try_again_during_an_outage_and_recovers(
    cut: Unreachable,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    uow = SqlUnitOfWorkFactory(session_factory(cut.engine))
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with (
        open_runtime(settings, clock=clock, engine=cut.engine, uow=uow, teams=TeamsOptions()) as runtime,
        TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client,
    ):
        teams = Teams(client, connector, runtime)
        dm = f"a:dm-{HEAD}"
        await teams.say(HEAD, "help")
        clock.set(ny(2026, 12, 3, 9, 30))
        await open_due_checkins(org_uow, clock)
        await drain(uow, runtime.gateway, clock)
        prompt = connector.to(dm)[-1]
        button = _find(prompt.cards, "Action.Execute")
        assert button is not None
        before = len(connector.posted)

        await cut.down()
        caplog.clear()
        with caplog.at_level(logging.INFO):
            typed = teams.activity(HEAD, text="commit Fix the hotline by Friday")
            response = await teams.post(typed)
            assert response.status == 201
            (answer,) = connector.posted[before:]
            assert answer.conversation == dm and OUTAGE_WORDS in _said(answer)

            # Someone not linked yet: the look-up by Teams id meets the outage.
            await teams.say(STRANGER, "status")
            assert OUTAGE_WORDS in _said(connector.to(f"a:dm-{STRANGER}")[-1])

            # A click answered in the invoke: a message, so the card stays as it was.
            response = await teams.post(_invoke(teams, HEAD, button["data"]))
            assert response.status == 200
            body = await response.json()
            assert body["type"] == "application/vnd.microsoft.activity.message"
            assert OUTAGE_WORDS in body["value"]

            # An Action.Submit (the form's values as strings) and a reinstall.
            await teams.say(HEAD, "", value={**button["data"], **GOOD})
            assert OUTAGE_WORDS in _said(connector.to(dm)[-1])
            response = await teams.post(_personal_install(teams, HEAD, dm))
            assert response.status == 201
            assert OUTAGE_WORDS in _said(connector.to(dm)[-1])

            assert len(connector.posted) == before + 4  # one answer each, nothing else
            warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert len(warnings) == 1, [r.getMessage() for r in warnings]
            assert not any(r.exc_info for r in caplog.records)
            # The outage met each person's turn before the core could: each counted once
            # as unavailable (the reinstall is no turn of theirs).
            unavailable = {
                kind: runtime.metrics.registry.get_sample_value(
                    "statbot_turns_total", {"kind": kind, "outcome": "unavailable"}
                )
                for kind in ("text", button["data"]["action"])
            }
            assert unavailable == {"text": 2, button["data"]["action"]: 2}

        await cut.up()
        # Nothing was recorded during the outage: Teams' redelivery of the message
        # is processed in full now.
        response = await teams.post(typed)
        assert response.status == 201
        assert "Fix the hotline" in _said(connector.to(dm)[-1])
        await teams.say(HEAD, "status")
        assert "Sanitation" in _said(connector.to(dm)[-1])
        assert OUTAGE_WORDS not in _said(connector.to(dm)[-1])
