"""During a stat session and after it: promises (tracked as commitments), decisions,
requests for data and notes captured by the chair or an analyst; `session close`; the
follow-up memo approved by the chair and sent; a memo left unapproved is escalated."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.clock import FakeClock
from bot.commands import (
    CommandError,
    Decide,
    Memo,
    Note,
    Promise,
    Provide,
    Request,
    SessionClose,
    parse_command,
)
from bot.conversation import StatBot
from bot.deliveries.models import Delivery
from bot.escalations.jobs import detect
from bot.messages import Buttons, Card
from bot.sessions.jobs import escalate_late_memos, plan_sessions
from bot.sessions.models import DocumentKind, SessionState
from bot.sessions.service import WITHDRAWN
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, pid, text_of

CHAIR = "luis.ortega@riverton.gov"
HEAD = "robert.hayes@riverton.gov"
DEPUTY = "maria.santos@riverton.gov"
ANALYST = "jordan.kim@riverton.gov"  # attends "operations"
MAYOR = "dana.whitfield@riverton.gov"
TODAY = dt.date(2026, 12, 1)
# Sanitation's session of the "operations" series: Tue 01 Dec 10:00 New York.
STARTS = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
async def meeting(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> tuple[StatBot, int]:
    await plan_sessions(org_uow, clock)
    clock.set(STARTS + dt.timedelta(minutes=10))
    async with org_uow() as uow:
        (session,) = [s for s in await uow.sessions.between(STARTS, STARTS + dt.timedelta(minutes=1))]
    assert session.id is not None
    return StatBot(org_uow, clock), session.id


async def say(bot: StatBot, uow: SqlUnitOfWorkFactory, email: str, text: str) -> str:
    return text_of(await bot.on_text(await pid(uow, email), text))


async def told(uow: SqlUnitOfWorkFactory, email: str) -> list[str]:
    async with uow() as work:
        return [
            card_text(d)
            for d in await work.deliveries.for_audience(Delivery.to_person(await pid(uow, email)))
        ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "promise @robert.hayes@riverton.gov Clear the bulk-item backlog by Dec 18",
            Promise("@robert.hayes@riverton.gov", "Clear the bulk-item backlog", dt.date(2026, 12, 18)),
        ),
        ("decide Two trucks move to Route 7", Decide("Two trucks move to Route 7")),
        ("request Overtime hours by route by next session", Request("Overtime hours by route", None)),
        ("request Overtime by route by Dec 11", Request("Overtime by route", dt.date(2026, 12, 11))),
        ("note Head asks for a mechanic", Note("Head asks for a mechanic")),
        ("provide 3 https://data.riverton.gov/ot.xlsx", Provide(3, "https://data.riverton.gov/ot.xlsx")),
        ("session close", SessionClose()),
    ],
)
def test_capture_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("promise Clear the backlog by Dec 18", "whose promise it is first, as @email"),
        ("promise @robert.hayes@riverton.gov Clear the backlog", "needs a due date"),
        ("decide", "decide needs the decision"),
        ("note", "note needs the note"),
        ("provide 3", "the data or a link after request #3"),
        ("session close now", "session takes nothing after it"),
    ],
)
def test_malformed_capture_commands_say_how(text: str, words: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text, today=TODAY)
    assert words in caught.value.message, caught.value.message


async def test_a_promise_is_a_commitment_with_its_owner_told(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot, number = meeting
    reply = await say(bot, org_uow, CHAIR, f"promise @{HEAD} Clear the bulk-item backlog by Dec 4")
    assert reply.startswith("Recorded promise #1 in session #") and "tracked as commitment #1" in reply
    async with org_uow() as uow:
        commitment = await uow.commitments.get(1)
    assert commitment is not None and commitment.origin == f"session:{number}"
    assert commitment.owner_id == await pid(org_uow, HEAD) and commitment.due_on == dt.date(2026, 12, 4)
    (card,) = await told(org_uow, HEAD)
    assert "you promised: Clear the bulk-item backlog, by Fri 04 Dec" in card and "`done 1`" in card
    assert "Clear the bulk-item backlog" in await say(bot, org_uow, HEAD, "commitments")
    # It is a commitment like any other: past its date, its escalation chain starts.
    clock.set(dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC))
    assert await detect(org_uow, clock) >= 1
    async with org_uow() as uow:
        chains = await uow.escalations.for_subject("overdue_commitment", 1)
    assert len(chains) == 1


async def test_only_the_chair_or_an_analyst_records_and_only_while_it_is_under_way(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot, _ = meeting
    refused = await say(bot, org_uow, HEAD, "note We need a mechanic")
    assert refused.startswith("No session you chair")
    assert "Recorded note #1" in await say(bot, org_uow, ANALYST, "note Head asks for a mechanic")
    assert "Recorded decision #2" in await say(bot, org_uow, CHAIR, "decide Two trucks move to Route 7")
    clock.set(STARTS - dt.timedelta(hours=2))
    assert (await say(bot, org_uow, CHAIR, "decide Too early")).startswith("No session you chair")
    clock.set(STARTS + dt.timedelta(hours=6))
    assert (await say(bot, org_uow, CHAIR, "decide Too late")).startswith("No session you chair")
    async with org_uow() as uow:
        audit = [
            e.action
            for e in await uow.audit.recent(limit=50)
            if e.action in ("session.note", "session.decision")
        ]
    assert sorted(audit) == ["session.decision", "session.note"]


async def test_a_request_is_owed_by_the_head_until_provided(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory
) -> None:
    bot, _ = meeting
    reply = await say(bot, org_uow, CHAIR, "request Overtime hours by route by next session")
    assert "request for data #1" in reply and "by the next session" in reply
    (card,) = await told(org_uow, HEAD)
    assert "asks for: Overtime hours by route, by the next session" in card and "`provide 1" in card
    assert "Only Sanitation's head or deputy" in await say(bot, org_uow, ANALYST, "provide 1 no")
    assert "There is no request #9" in await say(bot, org_uow, HEAD, "provide 9 x")
    done = await say(bot, org_uow, DEPUTY, "provide 1 https://data.riverton.gov/ot.xlsx")
    assert done.startswith("Thanks: request #1")
    assert "Maria Santos provided request #1 already" in await say(bot, org_uow, HEAD, "provide 1 again")
    chair_cards = await told(org_uow, CHAIR)
    assert any(
        "https://data.riverton.gov/ot.xlsx" in c and "Maria Santos (Sanitation) provided" in c
        for c in chair_cards
    )


async def test_closing_drafts_the_memo_the_chair_approves_and_the_unit_receives(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory
) -> None:
    bot, number = meeting
    await say(bot, org_uow, CHAIR, f"promise @{HEAD} Clear the bulk-item backlog by Dec 18")
    await say(bot, org_uow, ANALYST, "request Overtime hours by route by next session")
    await say(bot, org_uow, CHAIR, "decide Two trucks move to Route 7")
    await say(bot, org_uow, CHAIR, "note Head asks for a mechanic")
    assert "has no memo yet" in await say(bot, org_uow, HEAD, f"memo {number}")
    chair = await pid(org_uow, CHAIR)
    closed = await bot.on_text(chair, "session close")
    text = text_of(closed)
    assert text.startswith(f"Closed session #{number} (Sanitation)")
    memo_text = text.split("Draft — ", 1)[1]
    order = ["Promises made by the unit", "Requests for data", "Decisions", "Notes"]
    assert [memo_text.index(h) for h in order] == sorted(memo_text.index(h) for h in order)
    assert "#1 Robert Hayes: Clear the bulk-item backlog, by Fri 18 Dec" in memo_text
    assert "Chaired by Luis Ortega; attending: Jordan Kim." in memo_text
    assert (await say(bot, org_uow, CHAIR, "note After the end")).startswith("No session you chair")
    async with org_uow() as uow:
        session = await uow.sessions.get(number)
        document = await uow.session_documents.of(number, DocumentKind.MEMO)
    assert session is not None and session.state == "closed" and session.closed_by == chair
    assert (
        document is not None
        and document.state == "draft"
        and document.body.startswith("# Follow-up memo: Sanitation")
    )
    assert "- #1 Robert Hayes: Clear the bulk-item backlog, by Fri 18 Dec" in document.body
    # Before approval the unit does not see it; only the chair approves.
    assert "not approved yet" in await say(bot, org_uow, HEAD, f"memo {number}")
    memo_card = closed.messages[-1]
    assert isinstance(memo_card, Card)
    (approve,) = [b for p in memo_card.parts if isinstance(p, Buttons) for b in p.buttons]
    analyst = await pid(org_uow, ANALYST)
    assert "Only the chair" in text_of(await bot.on_button(analyst, approve.action, approve.ids))
    sent = await bot.on_button(chair, approve.action, approve.ids)
    assert text_of(sent) == f"Sent the memo of session #{number} to Robert Hayes, Maria Santos, Jordan Kim."
    assert sent.settles_source
    assert "sent already" in text_of(await bot.on_button(chair, approve.action, approve.ids))
    for email in (HEAD, DEPUTY, ANALYST):
        memos = [c for c in await told(org_uow, email) if "Follow-up memo: Sanitation" in c]
        assert len(memos) == 1 and "Draft" not in memos[0] and "Approve" not in memos[0], email
    assert "Follow-up memo: Sanitation" in await say(bot, org_uow, HEAD, f"memo {number}")


async def test_a_memo_left_unapproved_for_two_working_days_is_escalated_to_the_chair_once(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot, _ = meeting
    await say(bot, org_uow, CHAIR, "session close")  # Tue 01 Dec 10:10 New York
    clock.set(dt.datetime(2026, 12, 3, 15, 9, tzinfo=dt.UTC))  # Thu 10:09
    assert await escalate_late_memos(org_uow, clock) == 0
    clock.set(dt.datetime(2026, 12, 3, 15, 11, tzinfo=dt.UTC))
    assert await escalate_late_memos(org_uow, clock) == 1
    assert await escalate_late_memos(org_uow, clock) == 0
    late = [c for c in await told(org_uow, CHAIR) if "still a draft two working days" in c]
    assert len(late) == 1 and "Approve and send" in late[0]


async def test_the_chair_adds_a_line_to_the_draft_memo_before_approving_it(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory
) -> None:
    bot, number = meeting
    assert parse_command(f"memo {number} add Next one moves to Thursday", today=TODAY) == Memo(
        number, "Next one moves to Thursday"
    )
    with pytest.raises(CommandError):
        parse_command(f"memo {number} change it", today=TODAY)
    await say(bot, org_uow, CHAIR, "decide Two trucks move to Route 7")
    closed = await bot.on_text(await pid(org_uow, CHAIR), "session close")
    assert f"`memo {number} add <text>` adds a line first" in text_of(closed).replace(
        "memo 1", f"memo {number}"
    )
    assert "Only the chair" in await say(bot, org_uow, HEAD, f"memo {number} add Mine")
    edited = await say(bot, org_uow, CHAIR, f"memo {number} add The next session moves to Thursday")
    assert "Added by the chair" in edited and "The next session moves to Thursday" in edited
    memo_card = closed.messages[-1]
    assert isinstance(memo_card, Card)
    (approve,) = [b for p in memo_card.parts if isinstance(p, Buttons) for b in p.buttons]
    await bot.on_button(await pid(org_uow, CHAIR), approve.action, approve.ids)
    (sent,) = [c for c in await told(org_uow, HEAD) if "Follow-up memo" in c]
    assert "The next session moves to Thursday" in sent
    async with org_uow() as uow:
        document = await uow.session_documents.of(number, DocumentKind.MEMO)
    assert document is not None and "## Added by the chair" in document.body
    assert "sent already" in await say(bot, org_uow, CHAIR, f"memo {number} add Too late")


async def test_the_digests_cadence_health_counts_sessions_held_and_memos_on_time(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.digests.jobs import post_due_digests

    bot, _ = meeting
    closed = await bot.on_text(await pid(org_uow, CHAIR), "session close")
    memo_card = closed.messages[-1]
    assert isinstance(memo_card, Card)
    (approve,) = [b for p in memo_card.parts if isinstance(p, Buttons) for b in p.buttons]
    await bot.on_button(await pid(org_uow, CHAIR), approve.action, approve.ids)
    # Fire's session of Wed 02 Dec is cancelled.
    async with org_uow() as uow:
        (fire,) = await uow.sessions.between(STARTS + dt.timedelta(days=1), STARTS + dt.timedelta(days=2))
    cancelled = await say(bot, org_uow, "angela.brooks@riverton.gov", f"session cancel {fire.id} Storm")
    assert cancelled.startswith(f"Cancelled session #{fire.id} (Fire & EMS")
    # A meeting the planning withdrew (the org file changed, or a holiday moved it) is
    # nobody's cancellation: it is not counted.
    async with org_uow() as uow:
        streets = await uow.units.by_key("streets")
        assert streets is not None and streets.id is not None
        await uow.sessions.add(
            replace(
                fire,
                id=None,
                unit_id=streets.id,
                starts_at=STARTS + dt.timedelta(days=2),
                state=SessionState.CANCELLED,
                cancel_reason=WITHDRAWN,
                cancelled_by=None,
            )
        )
        await uow.commit()
    clock.set(dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC))  # Monday 09:00, digest time
    await post_due_digests(org_uow, clock)
    digest = await say(bot, org_uow, MAYOR, "digest")
    assert "Stat sessions held (4 weeks): 1 of 2, 1 cancelled · memos on time: 1 of 1" in digest


async def test_people_s_words_stay_as_typed_in_the_kept_memo(
    meeting: tuple[StatBot, int], org_uow: SqlUnitOfWorkFactory
) -> None:
    """Markdown in what people typed is not Markdown structure in the kept memo (nor in its
    PDF): no bold, no link, no heading."""
    bot, number = meeting
    await say(bot, org_uow, ANALYST, "note **urgent** see [the plan](https://example.org/x) <b>now</b>")
    await say(bot, org_uow, CHAIR, "session close")
    async with org_uow() as uow:
        memo = await uow.session_documents.of(number, DocumentKind.MEMO)
    assert memo is not None
    assert r"\*\*urgent\*\* see \[the plan\](https://example.org/x) \<b\>now\</b\>" in memo.body
