"""A stat session through the real Slack app (over HTTP, against the fake Web API): the
commands answered ephemerally, the memo's Approve button clicked, the memo in the outbox
for the unit, and the ledger."""

from __future__ import annotations

import datetime as dt
import json

from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery
from bot.sessions.jobs import plan_sessions
from bot.sessions.models import DocumentKind, DocumentState, ItemKind
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, ny, pid
from tests.test_session_brief import history
from tests.test_sessions import planned
from tests.test_slack_app import HEAD, HEAD_EMAIL, LEADER, OPS, OPS_EMAIL, Slack, api, buttons_in, slack

__all__ = ["api", "history", "planned", "slack"]  # fixtures


def last_answer(slack: Slack) -> str:
    return json.dumps(slack.responses()[-1], ensure_ascii=False)


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


ANALYST, ANALYST_EMAIL = "U0JORDAN01", "jordan.kim@riverton.gov"  # attends "operations"
SAMUEL_EMAIL = "samuel.okafor@riverton.gov"


def answers(slack: Slack, since: int) -> str:
    return "\n".join(json.dumps(a, ensure_ascii=False) for a in slack.responses()[since:])


async def test_scheduling_handing_over_notes_and_the_memo_through_slack(
    slack: Slack, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await plan_sessions(org_uow, clock)
    await slack.command("session streets Dec 10 14:00", user=OPS)
    assert (
        "Scheduled session #6: Public Works - Streets, Thu 10 Dec 14:00 EST, chaired by Luis Ortega."
        in last_answer(slack)
    )
    async with org_uow() as uow:
        scheduled = await uow.sessions.get(6)
    assert scheduled is not None and scheduled.starts_at == ny(2026, 12, 10, 14)
    assert scheduled.created_by == await pid(org_uow, OPS_EMAIL) and scheduled.series is None
    await slack.command("session streets Dec 10 14:00", user=LEADER)
    assert "Public Works - Streets already has a session at Thu 10 Dec 14:00 EST" in last_answer(slack)
    await slack.command("session sanitation Dec 10 14:00", user=HEAD)
    assert "Only a leader or an analyst can schedule a session about Sanitation" in last_answer(slack)

    await slack.command(f"session chair 2 @{SAMUEL_EMAIL}", user=OPS)
    assert (
        "Samuel Okafor now chairs session #2 (Public Works - Streets, Tue 15 Dec 10:00 EST); "
        "recorded as a delegation." in last_answer(slack)
    )
    await slack.command("session", user=OPS)
    assert "chaired by Samuel Okafor (delegated by Luis Ortega)" in last_answer(slack)
    async with org_uow() as uow:
        delegated = await uow.sessions.get(2)
        to_samuel = await uow.deliveries.for_audience(Delivery.to_person(await pid(org_uow, SAMUEL_EMAIL)))
    assert delegated is not None and delegated.chair_id == await pid(org_uow, SAMUEL_EMAIL)
    assert delegated.scheduled_chair_id == await pid(org_uow, OPS_EMAIL)
    assert [
        "Luis Ortega asks you to chair the stat session about Public Works - Streets" in card_text(d)
        for d in to_samuel
    ] == [True]

    clock.set(dt.datetime(2026, 12, 1, 15, 10, tzinfo=dt.UTC))  # Sanitation's session, under way
    await slack.command("note Crews asked for a second depot", user=OPS)
    assert "Recorded note #1 in session #1 (Sanitation): Crews asked for a second depot." in last_answer(
        slack
    )
    await slack.command("note Anything", user=HEAD)
    assert "No session you chair" in last_answer(slack)
    await slack.command("session close", user=OPS)

    await slack.command("memo 1", user=HEAD)
    assert "The memo of session #1 is not approved yet; you will get it when it is." in last_answer(slack)
    await slack.command("memo 1", user=OPS)
    shown = last_answer(slack)
    assert "Draft — Follow-up memo: Sanitation stat session, Tue 01 Dec 10:00 EST" in shown
    assert "Crews asked for a second depot" in shown
    assert [b["text"]["text"] for b in buttons_in(slack.responses()[-1].get("blocks"))] == [
        "Approve and send"
    ]
    await slack.command("memo 1 add The depot on Elm St reopens Monday", user=HEAD)
    assert "Only the chair of session #1" in last_answer(slack)
    await slack.command("memo 1 add The depot on Elm St reopens Monday", user=OPS)
    added = slack.responses()[-1]
    assert "Added by the chair" in json.dumps(added) and "The depot on Elm St reopens Monday" in json.dumps(
        added
    )
    async with org_uow() as uow:
        memo = await uow.session_documents.of(1, DocumentKind.MEMO)
        notes = await uow.session_items.for_sessions([1], ItemKind.NOTE)
    assert memo is not None and memo.state == DocumentState.DRAFT
    assert memo.edits["added"] == ["The depot on Elm St reopens Monday"]
    assert "- The depot on Elm St reopens Monday" in memo.body
    assert [n.text for n in notes] == ["Crews asked for a second depot"]
    # Approved from the button of `memo 1`'s answer: what is sent carries the added line.
    (approve,) = buttons_in(added.get("blocks"))
    await slack.click(approve, user=OPS, channel="C0GENERAL1")
    assert "Sent the memo of session #1 to Robert Hayes, Maria Santos, Jordan Kim." in last_answer(slack)
    async with org_uow() as uow:
        head_id = await pid(org_uow, HEAD_EMAIL)
        head = await uow.people.get(head_id)
        assert head is not None
        head.slack_user_id = HEAD
        await uow.people.save(head)
        await uow.commit()
    await drain(org_uow, slack.adapter.gateway, clock)
    (memo_message,) = [
        c.params
        for c in slack.api.ok_calls("chat.postMessage")
        if c.params["channel"] == f"D{HEAD}" and "Follow-up memo" in json.dumps(c.params)
    ]
    assert "The depot on Elm St reopens Monday" in json.dumps(memo_message)
    assert "Crews asked for a second depot" in json.dumps(memo_message)


async def test_the_brief_from_draft_to_send_now_through_slack(
    slack: Slack, history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    slack.api.users[ANALYST] = ANALYST_EMAIL
    await slack.command("brief 1", user=ANALYST)
    draft = last_answer(slack)
    assert "Draft brief for session #1: Sanitation" in draft
    assert "8. Tons of refuse collected" in draft and "7. Missed pickups reported to 311" in draft
    assert "brief add 1 <text> adds a question" in draft
    # The words the card shows work as they are shown.
    await slack.command("brief add 1 Ask about the new trucks' delivery date", user=ANALYST)
    assert "17. Ask about the new trucks' delivery date" in last_answer(slack)
    await slack.command("brief drop 1 8", user=OPS)
    dropped, card = last_answer(slack), slack.responses()[-1]
    assert "Tons of refuse collected" not in dropped and "1 item dropped from the draft." in dropped
    assert "17. Ask about the new trucks' delivery date" in dropped and "9. Audit fuel cards" in dropped
    await slack.command("brief 1", user=HEAD)
    assert "There is no brief for session #1 that you may see." in last_answer(slack)
    await slack.command("brief add 1 Anything", user=HEAD)
    assert "There is no brief for session #1 that you may see." in last_answer(slack)
    async with history() as uow:
        document = await uow.session_documents.of(1, DocumentKind.BRIEF)
    assert document is not None and document.state == DocumentState.DRAFT
    assert document.edits["added"] == ["Ask about the new trucks' delivery date"]
    assert [document.edits["numbered"].index(k) + 1 for k in document.edits["dropped"]] == [8]

    # The draft's "Send now" button, clicked by the chair in the channel where it was shown.
    (send,) = [b for b in buttons_in(card.get("blocks")) if b["text"]["text"] == "Send now"]
    await slack.click(send, user=HEAD, channel="C0GENERAL1")
    assert "There is no brief for session #1 that you may see." in last_answer(slack)
    await slack.click(send, user=OPS, channel="C0GENERAL1")
    assert "Sent the brief for session #1 to 2 people." in last_answer(slack)
    await slack.click(send, user=ANALYST, channel="C0GENERAL1")
    assert "has been sent; a sent brief cannot be changed" in last_answer(slack)
    await slack.command("brief drop 1 3", user=OPS)
    assert "has been sent; a sent brief cannot be changed" in last_answer(slack)
    await slack.command("brief 1", user=ANALYST)
    assert "it can no longer be changed" in last_answer(slack) and "Ask about the new trucks" in last_answer(
        slack
    )
    async with history() as uow:
        document = await uow.session_documents.of(1, DocumentKind.BRIEF)
        sent_by = await uow.audit.latest_about("session:1")
    assert document is not None and document.state == DocumentState.SENT
    assert document.approved_by == await pid(history, OPS_EMAIL) and document.sent_at == clock.now()
    assert "- **17. Ask about the new trucks' delivery date**" in document.body
    assert sent_by is not None and sent_by.action == "brief.sent"
    # The draft (when it was made) and the brief reach the chair and the analyst, once each.
    await drain(history, slack.adapter.gateway, clock)
    await drain(history, slack.adapter.gateway, clock)
    posted = [(c.params["channel"], c.params["text"]) for c in slack.api.ok_calls("chat.postMessage")]
    for who in (OPS, ANALYST):
        assert [t for c, t in posted if c == f"D{who}"] == [
            "Draft brief for session #1: Sanitation",
            "Brief for session #1: Sanitation",
        ]


async def test_deciding_on_a_repeated_exception_through_the_slack_modal(
    slack: Slack, history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from tests.test_session_decisions import _previous_brief_showed_missed_pickups

    key = await _previous_brief_showed_missed_pickups(history, ny(2026, 11, 17, 8))
    await slack.command("session", user=OPS)  # Luis is linked to his Slack id
    await slack.command("brief 1", user=OPS)
    (send,) = [b for b in buttons_in(slack.responses()[-1].get("blocks")) if b["text"]["text"] == "Send now"]
    await slack.click(send, user=OPS, channel="C0GENERAL1")
    await drain(history, slack.adapter.gateway, clock)
    (asked,) = [
        c.params
        for c in slack.api.ok_calls("chat.postMessage")
        if c.params["channel"] == f"D{OPS}" and "A decision is needed" in json.dumps(c.params)
    ]
    choices = {b["text"]["text"]: b for b in buttons_in(asked["blocks"])}
    assert list(choices) == ["Directive", "Resources", "Escalate", "Accept"]

    # The same button in someone else's hands (forwarded, or forged) is refused.
    await slack.click(choices["Directive"], user=HEAD, channel="C0GENERAL1")
    assert "Only the chair of session #1 decides" in last_answer(slack)
    assert slack.api.ok_calls("views.open") == []
    await slack.click(choices["Directive"], user=OPS, channel=f"D{OPS}", trigger="trig.decide")
    (opened,) = slack.api.ok_calls("views.open")
    assert opened.params["trigger_id"] == "trig.decide"
    modal = slack.last_modal()
    fields = {b["block_id"]: b["element"]["type"] for b in modal["blocks"] if b["type"] == "input"}
    assert fields == {"text": "plain_text_input", "owner": "static_select", "due": "datepicker"}
    # No date: the field error comes back in the ack, keyed by its block, so Slack shows it
    # under the field and keeps everything typed; nothing is recorded.
    typed = {"text": "Run a second shift on Route 7", "owner": str(await pid(history, HEAD_EMAIL))}
    refused = await slack.submit(modal, typed, user=OPS, view_hash="h.decide")
    answer = await refused.json()
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"due"}
    async with history() as uow:
        assert await uow.session_items.for_sessions([1], ItemKind.DECISION) == []
    done = await slack.submit(modal, {**typed, "due": "2026-12-18"}, user=OPS, view_hash="h.decide")
    assert done.status == 200
    async with history() as uow:
        (decision,) = await uow.session_items.for_sessions([1], ItemKind.DECISION)
        (promise,) = await uow.session_items.for_sessions([1], ItemKind.PROMISE)
        commitment = await uow.commitments.get(promise.commitment_id or 0)
    assert decision.subject == key
    assert decision.text.startswith(
        "Missed pickups reported to 311: directive — Run a second shift on Route 7"
    )
    assert commitment is not None and commitment.due_on == dt.date(2026, 12, 18)
    assert commitment.owner_id == await pid(history, HEAD_EMAIL)
    said = slack.texts("chat.postMessage")
    assert "Recorded for session #1: Missed pickups reported to 311: directive" in said
    # The same choice again: recorded once.
    await slack.click(choices["Directive"], user=OPS, channel=f"D{OPS}", trigger="trig.decide2")
    again = await slack.submit(slack.last_modal(), {**typed, "due": "2026-12-18"}, user=OPS, view_id="VF2")
    assert again.status == 200
    async with history() as uow:
        assert len(await uow.session_items.for_sessions([1], ItemKind.DECISION)) == 1
