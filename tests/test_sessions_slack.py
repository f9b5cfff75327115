"""A stat session through the real Slack app (over HTTP, against the fake Web API): the
commands answered ephemerally, the memo's Approve button clicked, the memo in the outbox
for the unit, and the ledger."""

from __future__ import annotations

import datetime as dt
import json

from bot.clock import FakeClock
from bot.deliveries.models import Delivery
from bot.sessions.jobs import plan_sessions
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, pid
from tests.test_slack_app import HEAD, HEAD_EMAIL, LEADER, OPS, Slack, api, buttons_in, slack

__all__ = ["api", "slack"]  # fixtures


def last_answer(slack: Slack) -> str:
    return json.dumps(slack.responses()[-1])


async def test_a_session_from_plan_to_memo_through_slack(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await plan_sessions(org_uow, clock)
    await slack.command("session", user=OPS)
    assert "Upcoming stat sessions" in last_answer(slack) and "Sanitation" in last_answer(slack)
    await slack.command("session cancel 2 Storm response", user=OPS)  # Streets, Tue 15 Dec
    assert "Cancelled session #2" in last_answer(slack)
    await slack.command("session cancel 1 Too busy", user=HEAD)
    assert "Only Luis Ortega (its chair and Sanitation's leader), an analyst or an admin" in last_answer(
        slack
    )

    clock.set(dt.datetime(2026, 12, 1, 15, 10, tzinfo=dt.UTC))  # Sanitation's session, under way
    await slack.command(f"promise @{HEAD_EMAIL} Clear the bulk-item backlog by Dec 18", user=OPS)
    assert "Recorded promise #1 in session #1 (Sanitation)" in last_answer(slack)
    await slack.command("request Overtime hours by route by next session", user=OPS)
    assert "Recorded request for data #2" in last_answer(slack)
    await slack.command("decide Two trucks move to Route 7", user=OPS)
    await slack.command("provide 2 https://data.riverton.gov/ot.xlsx", user=HEAD)
    assert "request #2 (Overtime hours by route) is provided" in last_answer(slack)

    await slack.command("session close", user=OPS)
    closed, answer = slack.responses()[-2:]  # the words, then the draft memo with its button
    assert "Closed session #1 (Sanitation)" in json.dumps(closed)
    (approve,) = [b for b in buttons_in(answer.get("blocks")) if "memo.approve" in b["action_id"]]
    await slack.click(approve, user=HEAD, channel="C0GENERAL1")
    assert "Only the chair" in last_answer(slack)
    await slack.click(approve, user=OPS, channel="C0GENERAL1")
    assert "Sent the memo of session #1 to Robert Hayes, Maria Santos, Jordan Kim." in last_answer(slack)
    async with org_uow() as uow:
        to_head = await uow.deliveries.for_audience(Delivery.to_person(await pid(org_uow, HEAD_EMAIL)))
    memos = [card_text(d) for d in to_head if "Follow-up memo" in card_text(d)]
    assert len(memos) == 1 and "Clear the bulk-item backlog" in memos[0] and "(provided)" in memos[0]

    await slack.command("ledger", user=OPS)
    assert "Leader attention ledger: Luis Ortega" in last_answer(slack)
    assert "Memos sent on time" in last_answer(slack)


MAYOR, MAYOR_EMAIL = "U0MAYOR001", "dana.whitfield@riverton.gov"  # a leader, of no unit


async def test_only_who_a_session_belongs_to_cancels_or_hands_it_over_in_slack(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    slack.api.users[MAYOR] = MAYOR_EMAIL
    await plan_sessions(org_uow, clock)
    who = "Only Luis Ortega (its chair and Sanitation's leader), an analyst or an admin"
    for text in ("session cancel 1 Council meeting", "session chair 1 @dana.whitfield@riverton.gov"):
        await slack.command(text, user=MAYOR)
        assert who in last_answer(slack) and "nothing was changed" in last_answer(slack)
    # An admin may hand it over; the new chair may then cancel it.
    await slack.command(f"session chair 1 @{MAYOR_EMAIL}", user=LEADER)
    assert "Dana Whitfield now chairs session #1" in last_answer(slack)
    await slack.command("session cancel 1 Council meeting", user=MAYOR)
    assert "Cancelled session #1 (Sanitation, Tue 01 Dec 10:00 EST): Council meeting" in last_answer(slack)
    async with org_uow() as uow:
        session = await uow.sessions.get(1)
    assert session is not None and session.state == "cancelled"
    assert session.cancelled_by == await pid(org_uow, MAYOR_EMAIL)
