"""Every `/stat` command through the core, as any platform would call it."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Form
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, pid, text_of

HEAD = "robert.hayes@riverton.gov"
DEPUTY = "maria.santos@riverton.gov"
OTHER_HEAD = "kevin.obrien@riverton.gov"
MAYOR = "dana.whitfield@riverton.gov"
ANALYST = "jordan.kim@riverton.gov"
HR_HEAD = "carla.mendes@riverton.gov"


@pytest.fixture
def bot(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> StatBot:
    clock.set(ny(2026, 12, 1, 10))  # Tuesday
    return StatBot(org_uow, clock)


async def say(bot: StatBot, org_uow: SqlUnitOfWorkFactory, email: str, text: str) -> str:
    return text_of(await bot.on_text(await pid(org_uow, email), text))


async def test_help_lists_commands_and_explains_one(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    everything = await say(bot, org_uow, HEAD, "help")
    for word in (
        "report",
        "status",
        "commitments",
        "overdue",
        "commit",
        "done",
        "update",
        "away",
        "digest",
        "ask",
    ):
        assert word in everything
    one = await say(bot, org_uow, HEAD, "/stat help commit")
    assert "commit <text> by <date>" in one


async def test_commit_done_update_and_lists(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    created = await say(bot, org_uow, HEAD, "commit Clear the bulk-item backlog by Friday")
    assert created == "Commitment #1 for Sanitation: Clear the bulk-item backlog — due Fri 04 Dec 2026."
    mine = await say(bot, org_uow, HEAD, "commitments")
    assert "#1 Clear the bulk-item backlog: due Fri 04 Dec · Robert Hayes, Sanitation" in mine
    by_unit = await say(bot, org_uow, MAYOR, "commitments sanitation")
    assert "#1 Clear the bulk-item backlog" in by_unit
    by_person = await say(bot, org_uow, MAYOR, f"commitments @{HEAD}")
    assert "#1 Clear the bulk-item backlog" in by_person
    assert (
        await say(bot, org_uow, DEPUTY, "update #1 two crews assigned") == "Noted on #1: two crews assigned"
    )
    refused = await say(bot, org_uow, OTHER_HEAD, "done 1")
    assert "#1 belongs to Sanitation; only its owner" in refused
    assert (
        await say(bot, org_uow, HEAD, "done 1")
        == "#1 marked done by Robert Hayes: Clear the bulk-item backlog"
    )
    assert await say(bot, org_uow, HEAD, "done 1") == "#1 is already done."
    assert "Nothing open." in await say(bot, org_uow, HEAD, "commitments")
    async with org_uow() as uow:
        updates = await uow.commitments.updates(1)
    assert [(u.status, u.note) for u in updates] == [
        ("open", "created"),
        ("open", "two crews assigned"),
        ("done", "done"),
    ]


async def test_overdue_lists_only_what_the_person_may_see(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await say(bot, org_uow, HEAD, "commit Fix route 7 by Wednesday")
    await say(bot, org_uow, HR_HEAD, "commit Fill the payroll clerk post by Wednesday")
    clock.set(ny(2026, 12, 7, 10))
    mayor = await say(bot, org_uow, MAYOR, "overdue")
    assert "#1 Fix route 7: overdue by 5 days" in mayor and "payroll clerk" in mayor
    other = await say(bot, org_uow, OTHER_HEAD, "overdue")
    assert "Fix route 7" in other and "payroll clerk" not in other  # HR is restricted


async def test_status_of_a_unit_and_overview(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    mine = await say(bot, org_uow, HEAD, "status")
    assert "Sanitation · 2026-W49" in mine and "Check-in: not opened yet" in mine
    assert "Missed pickups reported to 311: — · target ≤ 120" in mine
    other = await say(bot, org_uow, HEAD, "status streets")
    assert "Public Works - Streets · 2026-W49" in other
    overview = await say(bot, org_uow, MAYOR, "status")
    assert "All units this week" in overview and "Human Resources" in overview
    hidden = await say(bot, org_uow, OTHER_HEAD, "status")
    assert "Public Works - Streets" in hidden
    refused = await say(bot, org_uow, ANALYST, "status hr")
    assert "is restricted" in refused
    unknown = await say(bot, org_uow, MAYOR, "status bakery")
    assert "There is no unit 'bakery'. Units: sanitation" in unknown


async def test_commit_needs_a_unit(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = await say(bot, org_uow, MAYOR, "commit Fix everything by Friday")
    assert "you are not the head or deputy of one" in reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commit Fix the hotline", "commit <text> by <date>"),
        ("commit by Friday", "commit <text> by <date>"),
        ("done", "done <id>"),
        ("done twelve", "done <id>"),
        ("update 3", "update <id> <note>"),
        ("away yesterday", "away"),
        ("digest 2026-W99", "2026 has no week 99"),
        ("ask", "ask <unit> <question>"),
        ("commit Fix it by 12/05", "2026-12-05 or Dec 5"),
    ],
)
async def test_malformed_commands_get_that_commands_help(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, text: str, expected: str
) -> None:
    assert expected in await say(bot, org_uow, HEAD, text)


async def test_unknown_ids_and_text(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    assert "There is no commitment #42" in await say(bot, org_uow, HEAD, "done 42")
    assert "Try `help`" in await say(bot, org_uow, HEAD, "what's up?")


async def test_report_opens_the_form_when_a_checkin_is_open(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.checkins.jobs import open_due_checkins

    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    reply = await bot.on_text(await pid(org_uow, HEAD), "report")
    assert isinstance(reply.messages[0], Form)
    refused = await say(bot, org_uow, MAYOR, "report")
    assert "no open check-in" in refused


async def test_unknown_person_and_unexpected_errors(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "I don't know you yet" in text_of(await bot.on_text(9999, "help"))

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("bot.checkins.handlers.status", broken)
    reply = await say(bot, org_uow, HEAD, "status")
    assert reply == "Something went wrong on my side; nothing was changed. Please try again."


async def test_away_is_stored(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = await say(bot, org_uow, "grace.liu@riverton.gov", "away Dec 7 to Dec 11")
    assert "Parks & Recreation has no deputy, so its check-ins are excused" in reply or "no deputy" in reply
    async with org_uow() as uow:
        periods = await uow.away.for_person(await pid(org_uow, "grace.liu@riverton.gov"))
    assert [(p.starts_on.isoformat(), p.ends_on.isoformat()) for p in periods] == [
        ("2026-12-07", "2026-12-11")
    ]


async def test_digest_in_chat_for_leaders_only(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await say(bot, org_uow, HR_HEAD, "commit Fill the payroll clerk post by Wednesday")
    clock.set(ny(2026, 12, 7, 10))
    mayor = await say(bot, org_uow, MAYOR, "digest")
    assert "Leadership digest · 2026-W49" in mayor
    assert "Human Resources" in mayor
    analyst = await say(bot, org_uow, ANALYST, "digest 2026-W49")
    assert "Leadership digest · 2026-W49" in analyst and "Human Resources" not in analyst
    refused = await say(bot, org_uow, HEAD, "digest")
    assert "The digest is for leaders and analysts" in refused


async def test_status_shows_an_earlier_week_still_open(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.checkins.jobs import open_due_checkins

    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    clock.set(ny(2026, 12, 7, 10))  # Monday of 2026-W50; W49 was never submitted
    reply = await say(bot, org_uow, HEAD, "status")
    assert "Sanitation · 2026-W50" in reply
    assert "Still open: 2026-W49: late, was due Fri 04 Dec 16:00 EST" in reply
