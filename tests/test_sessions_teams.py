"""Stat sessions on Microsoft Teams: activities posted to the real POST /api/messages
(botbuilder's CloudAdapter, auth off, loopback), answers and proactive messages going to
the fake Bot Connector.  The session list, scheduling, capture, close, the memo approved
with its card's button (Action.Execute and Action.Submit), the brief's Send now, and a
repeated exception's decision form, each checked in what the person sees and what is
stored or sent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery
from bot.sessions.jobs import plan_sessions
from bot.sessions.models import DocumentKind, DocumentState, ItemKind
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, ny, pid
from tests.test_session_brief import history
from tests.test_sessions import planned
from tests.test_teams_app import (
    HEAD,
    HEAD_EMAIL,
    OPS,
    OPS_EMAIL,
    Teams,
    _find,
    _invoke,
    _walk,
    connector,
    teams,
)

__all__ = ["connector", "history", "planned", "teams"]  # fixtures

ANALYST, ANALYST_EMAIL = "29:analyst-jordan", "jordan.kim@riverton.gov"
DEPUTY_EMAIL = "maria.santos@riverton.gov"


def shown(cards: Any) -> str:
    return json.dumps(cards, ensure_ascii=False).replace("\\\\", "")


def said_to(teams: Teams, user: str) -> str:
    """The latest message posted in the person's chat."""
    return shown(teams.connector.to(f"a:dm-{user}")[-1].cards)


async def meet(teams: Teams, *users: tuple[str, str, str]) -> None:
    """The people link themselves (a first message), so their chats are known."""
    for user, name, email in users:
        teams.connector.members[user] = {"name": name, "userPrincipalName": email}
        await teams.say(user, "help")


def _execute(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in _walk(card, "Action.Execute") if a["title"] == title)


async def test_a_session_from_the_list_to_the_approved_memo_on_teams(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await meet(teams, (OPS, "Luis Ortega", OPS_EMAIL), (HEAD, "Robert Hayes", HEAD_EMAIL))
    await plan_sessions(org_uow, clock)
    await teams.say(OPS, "session")
    listed = said_to(teams, OPS)
    assert "Upcoming stat sessions" in listed and "#1 · Sanitation · Tue 01 Dec 10:00 EST" in listed
    await teams.say(OPS, "stat session streets Dec 10 14:00")
    assert (
        "Scheduled session #6: Public Works - Streets, Thu 10 Dec 14:00 EST, chaired by Luis Ortega."
        in said_to(teams, OPS)
    )
    await teams.say(HEAD, "session cancel 6 Too busy")
    assert "There is no session #6 that you may see" in said_to(teams, HEAD)  # not his unit's
    await teams.say(HEAD, "session cancel 1 Too busy")
    assert "Only Luis Ortega (its chair and Sanitation's leader), an analyst or an admin" in said_to(
        teams, HEAD
    )
    async with org_uow() as uow:
        scheduled = await uow.sessions.get(6)
    assert scheduled is not None and scheduled.state == "scheduled"
    assert scheduled.starts_at == ny(2026, 12, 10, 14)

    clock.set(dt.datetime(2026, 12, 1, 15, 10, tzinfo=dt.UTC))  # Sanitation's session, under way
    await teams.say(OPS, f"promise @{HEAD_EMAIL} Clear the bulk-item backlog by Dec 18")
    assert "Recorded promise #1 in session #1 (Sanitation): Clear the bulk-item backlog" in said_to(
        teams, OPS
    )
    await teams.say(OPS, "request Overtime hours by route by next session")
    assert "Recorded request for data #2" in said_to(teams, OPS)
    await teams.say(OPS, "decide Two trucks move to Route 7")
    assert "Recorded decision #3" in said_to(teams, OPS)
    await teams.say(OPS, "note Crews asked for a second depot")
    assert "Recorded note #4" in said_to(teams, OPS)
    await teams.say(HEAD, "note I was here")
    assert "No session you chair" in said_to(teams, HEAD)
    await teams.say(HEAD, "provide 2 https://data.riverton.gov/ot.xlsx")
    assert "request #2 (Overtime hours by route) is provided" in said_to(teams, HEAD)
    # The owner of the promise and the unit's head were told, on Teams.
    await drain(org_uow, teams.runtime.gateway, clock)
    to_head = shown([p.cards for p in teams.connector.to(f"a:dm-{HEAD}")])
    assert "you promised: Clear the bulk-item backlog" in to_head
    assert "asks for: Overtime hours by route" in to_head

    before = len(teams.connector.to(f"a:dm-{OPS}"))
    await teams.say(OPS, "session close")
    closed, memo = teams.connector.to(f"a:dm-{OPS}")[before:]
    assert "Closed session #1 (Sanitation)" in shown(closed.cards)
    draft = memo.cards[0]
    assert "Draft — Follow-up memo: Sanitation stat session" in shown(draft)
    assert "Crews asked for a second depot" in shown(draft) and "Two trucks move to Route 7" in shown(draft)
    approve = _execute(draft, "Approve and send")

    # Someone else's click on the chair's button is refused and the card stays.
    refused = await teams.post({**_invoke(teams, HEAD, approve["data"]), "replyToId": memo.id})
    assert refused.status == 200
    assert "Only the chair of session #1 approves its memo" in shown(await refused.json())
    # The chair's click (Action.Execute): the card answers what was done.
    response = await teams.post({**_invoke(teams, OPS, approve["data"]), "replyToId": memo.id})
    assert response.status == 200
    answer = (await response.json())["value"]
    assert "Sent the memo of session #1 to Robert Hayes, Maria Santos, Jordan Kim." in shown(answer)
    assert _walk(answer, "Action.Execute") == []
    # The same button again (Action.Submit, from an older copy): nothing is sent twice.
    await teams.say(OPS, "", value=approve["data"], replyToId=memo.id)
    assert "was sent already" in shown(teams.connector.to(f"a:dm-{OPS}")[-1].cards) + shown(
        [u.cards for u in teams.connector.updated]
    )
    async with org_uow() as uow:
        stored = await uow.session_documents.of(1, DocumentKind.MEMO)
        items = await uow.session_items.for_sessions([1])
    assert stored is not None and stored.state == DocumentState.SENT
    assert stored.approved_by == await pid(org_uow, OPS_EMAIL)
    assert sorted(i.kind for i in items) == sorted(
        [ItemKind.PROMISE, ItemKind.REQUEST, ItemKind.DECISION, ItemKind.NOTE]
    )
    await drain(org_uow, teams.runtime.gateway, clock)
    memos = [p for p in teams.connector.to(f"a:dm-{HEAD}") if "Follow-up memo" in shown(p.cards)]
    assert len(memos) == 1 and "Clear the bulk-item backlog" in shown(memos[0].cards)
    assert "(provided)" in shown(memos[0].cards)
    async with org_uow() as uow:
        deputy = await uow.deliveries.for_audience(Delivery.to_person(await pid(org_uow, DEPUTY_EMAIL)))
    assert ["Follow-up memo" in card_text(d) for d in deputy] == [True]  # not on Teams: kept for her
    await teams.say(OPS, "ledger")
    assert "Leader attention ledger: Luis Ortega" in said_to(teams, OPS)


async def test_the_brief_and_a_decision_on_a_repeated_exception_on_teams(
    teams: Teams, history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from tests.test_session_decisions import _previous_brief_showed_missed_pickups

    key = await _previous_brief_showed_missed_pickups(history, ny(2026, 11, 17, 8))
    await meet(teams, (OPS, "Luis Ortega", OPS_EMAIL), (ANALYST, "Jordan Kim", ANALYST_EMAIL))
    await teams.say(ANALYST, "brief 1")
    brief = teams.connector.to(f"a:dm-{ANALYST}")[-1]
    assert "8. Tons of refuse collected" in shown(brief.cards)
    await teams.say(ANALYST, "brief add 1 Ask about the new trucks' delivery date")
    assert "17. Ask about the new trucks' delivery date" in said_to(teams, ANALYST)
    await teams.say(OPS, "brief drop 1 8")
    assert "Tons of refuse collected" not in said_to(teams, OPS) and "1 item dropped" in said_to(teams, OPS)
    # Send now, from the card the chair was just shown.
    card = teams.connector.to(f"a:dm-{OPS}")[-1]
    send = _execute(card.cards[0], "Send now")
    response = await teams.post({**_invoke(teams, OPS, send["data"]), "replyToId": card.id})
    assert response.status == 200
    assert "Sent the brief for session #1 to 2 people." in shown(await response.json())
    async with history() as uow:
        document = await uow.session_documents.of(1, DocumentKind.BRIEF)
    assert document is not None and document.state == DocumentState.SENT
    assert "- **17. Ask about the new trucks' delivery date**" in document.body

    # Missed pickups was standing in the last brief too, and nobody acted: the chair is
    # asked to decide, on Teams.
    await drain(history, teams.runtime.gateway, clock)
    (asked,) = [p for p in teams.connector.to(f"a:dm-{OPS}") if "A decision is needed" in shown(p.cards)]
    directive = _execute(asked.cards[0], "Directive")
    opened = await teams.post({**_invoke(teams, OPS, directive["data"]), "replyToId": asked.id})
    form = (await opened.json())["value"]
    assert [e["id"] for e in _walk(form, "Input.Text")] == ["in.text"]
    assert [e["id"] for e in _walk(form, "Input.ChoiceSet")] == ["in.owner"]
    assert [e["id"] for e in _walk(form, "Input.Date")] == ["in.due"]
    submit = _find(form, "Action.Execute")
    assert submit is not None
    # A date in the past: the form comes back in place with the error, and what was typed.
    head = str(await pid(history, HEAD_EMAIL))
    typed = {"in.text": "Run a second shift on Route 7", "in.owner": head, "in.due": "2026-11-02"}
    again = await teams.post({**_invoke(teams, OPS, {**submit["data"], **typed}), "replyToId": asked.id})
    back = (await again.json())["value"]
    assert "is in the past" in shown(back)
    assert next(e for e in _walk(back, "Input.Text") if e["id"] == "in.text")["value"] == typed["in.text"]
    assert next(e for e in _walk(back, "Input.ChoiceSet") if e["id"] == "in.owner")["value"] == head
    async with history() as uow:
        assert await uow.session_items.for_sessions([1], ItemKind.DECISION) == []
    # Fixed and sent with Action.Submit (every value a string): recorded, the card settled.
    resubmit = _find(back, "Action.Execute")
    assert resubmit is not None
    await teams.say(OPS, "", value={**resubmit["data"], **typed, "in.due": "2026-12-18"}, replyToId=asked.id)
    everything = shown([p.cards for p in teams.connector.to(f"a:dm-{OPS}")]) + shown(
        [u.cards for u in teams.connector.updated]
    )
    assert "Recorded for session #1: Missed pickups reported to 311: directive" in everything
    async with history() as uow:
        (decision,) = await uow.session_items.for_sessions([1], ItemKind.DECISION)
        (promise,) = await uow.session_items.for_sessions([1], ItemKind.PROMISE)
        commitment = await uow.commitments.get(promise.commitment_id or 0)
    assert decision.subject == key and "Run a second shift on Route 7" in decision.text
    assert commitment is not None and commitment.due_on == dt.date(2026, 12, 18)
    assert commitment.owner_id == int(head) and commitment.origin == "session:1"
