"""Head and deputy submit the same check-in modal at once, through two replicas (two
runtimes, each with its own engine, on one database) of the real bolt app over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FakeClock
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi
from tests.test_races import Gate, gated
from tests.test_slack_app import (
    GOOD,
    HEAD,
    HEAD_EMAIL,
    LEADER,
    LEADER_EMAIL,
    Slack,
    _open_sanitation,
    _settings,
    _slack,
    buttons_in,
)

DEPUTY, DEPUTY_EMAIL = "U0MARIA001", "maria.santos@riverton.gov"  # Sanitation deputy
THEIRS = {**GOOD, "m.missed_pickups": "111"}


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(users={HEAD: HEAD_EMAIL, DEPUTY: DEPUTY_EMAIL, LEADER: LEADER_EMAIL}, channels={})
    await fake.start()
    yield fake
    await fake.close()


async def _replica(
    db_url: str, engine: AsyncEngine, clock: FakeClock, api: FakeSlackApi, uow: Any
) -> AsyncIterator[Slack]:
    async for s in _slack(_settings(db_url, api), engine, clock, api, uow=uow, process_before_response=True):
        yield s


async def test_head_and_deputy_submit_the_modal_at_once(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> None:
    await _open_sanitation(org_uow, clock)
    other = create_engine(db_url)
    gate = Gate(armed=False)
    first = _replica(db_url, engine, clock, api, gated(org_uow, gate, "checkins"))
    second = _replica(
        db_url, other, clock, api, gated(SqlUnitOfWorkFactory(session_factory(other)), gate, "checkins")
    )
    try:
        one, two = await first.__anext__(), await second.__anext__()
        await one.command("report", user=HEAD)
        head_modal = one.last_modal()
        await two.command("report", user=DEPUTY)
        deputy_modal = two.last_modal()
        before = len(api.ok_calls("chat.postMessage"))
        gate.armed = True
        answers = await asyncio.gather(
            one.submit(head_modal, GOOD, user=HEAD, view_id="VHEAD"),
            two.submit(deputy_modal, THEIRS, user=DEPUTY, view_id="VDEPUTY"),
        )
        gate.armed = False
        # Both modals close; each person gets one message in their DM.
        assert [a.status for a in answers] == [200, 200]
        assert [await a.text() for a in answers] == ["", ""]
        posted = api.ok_calls("chat.postMessage")[before:]
        by_channel = {c.params["channel"]: json.dumps(c.params) for c in posted}
        assert sorted(by_channel) == sorted([f"D{HEAD}", f"D{DEPUTY}"]), by_channel
        assert "went wrong" not in "".join(by_channel.values())
        lost = [channel for channel, text in by_channel.items() if "was just submitted" in text]
        assert len(lost) == 1, by_channel
        loser = lost[0][1:]
        winner, won_values = (HEAD, GOOD) if loser == DEPUTY else (DEPUTY, THEIRS)
        lost_values = THEIRS if loser == DEPUTY else GOOD
        winner_name = "Robert Hayes" if winner == HEAD else "Maria Santos"
        assert f"{winner_name} submitted it" in by_channel[lost[0]]
        assert "Thanks! Recorded" in by_channel[f"D{winner}"]
        # The loser's message has an edit button: it opens the modal with their numbers.
        message = next(c.params for c in posted if c.params["channel"] == lost[0])
        (edit,) = buttons_in(message["blocks"])
        assert edit["text"]["text"] == "Edit the check-in"
        replica = one if loser == HEAD else two
        await replica.click(edit, user=loser, channel=lost[0])
        reopened = json.dumps(replica.last_modal())
        assert f'"{lost_values["m.missed_pickups"]}"' in reopened
        async with org_uow() as uow:
            unit = await uow.units.by_key("sanitation")
            assert unit is not None and unit.id is not None
            readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
            checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
            audited = [e for e in await uow.audit.recent(limit=100) if e.action == "checkin.submitted"]
        assert checkin is not None and checkin.state == "submitted"
        assert sorted(r.value for r in readings) == sorted(float(v) for v in won_values.values())
        assert len(audited) == 1
    finally:
        await first.aclose()
        await second.aclose()
        await other.dispose()
