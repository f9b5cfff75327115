"""Stat sessions: the org file's series, the planning sweep, and the `session` commands
(list, schedule one, cancel with a reason, hand the chair over), with their records."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.clock import FakeClock
from bot.commands import CommandError, SessionCancel, SessionChair, Sessions, SessionSchedule, parse_command
from bot.conversation import StatBot
from bot.deliveries.models import Delivery
from bot.org.apply import apply_org
from bot.org.schema import OrgFile, OrgFileError, parse_org
from bot.sessions.jobs import plan_sessions
from bot.sessions.service import WITHDRAWN
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import NY, card_text, ny, pid, text_of
from tests.test_races import Gate, gated, replica

__all__ = ["replica"]  # fixture

CHAIR = "luis.ortega@riverton.gov"  # leads Sanitation and Streets; chairs "operations"
HEAD = "robert.hayes@riverton.gov"  # Sanitation head
DEPUTY = "maria.santos@riverton.gov"  # Sanitation deputy
ANALYST = "jordan.kim@riverton.gov"  # attends "operations"
OTHER_LEADER = "samuel.okafor@riverton.gov"
MAYOR = "dana.whitfield@riverton.gov"
ADMIN = "priya.raman@riverton.gov"  # an admin and a leader
TODAY = dt.date(2026, 11, 30)


async def say(bot: StatBot, uow: SqlUnitOfWorkFactory, email: str, text: str) -> str:
    return text_of(await bot.on_text(await pid(uow, email), text))


@pytest.fixture
async def planned(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> SqlUnitOfWorkFactory:
    assert await plan_sessions(org_uow, clock) > 0
    return org_uow


# --- the org file ---------------------------------------------------------------------------


def _with_sessions(example_org_text: str, sessions: str) -> str:
    return example_org_text.split("\nsessions:")[0] + "\nsessions:\n" + sessions


@pytest.fixture(scope="module")
def org_text() -> str:
    from tests.conftest import EXAMPLE_ORG

    return EXAMPLE_ORG.read_text()


def test_every_problem_of_a_sessions_section_is_named_by_its_place(org_text: str) -> None:
    bad = """\
  - name: ops
    units: [sanitation, nowhere]
    chair: robert.hayes@riverton.gov
    attendees: [ghost@riverton.gov]
    every_weeks: 0
  - name: ops
    units: []
    chair: nobody@riverton.gov
    day: someday
"""
    with pytest.raises(OrgFileError) as caught:
        parse_org(_with_sessions(org_text, bad))
    problems = "\n".join(caught.value.problems)
    for expected in (
        "sessions[0].units[1]: no unit has the key 'nowhere'",
        "sessions[0].chair: robert.hayes@riverton.gov chairs a session, so must be a leader or an admin",
        "sessions[0].attendees[0]: ghost@riverton.gov is not one of the people",
        "sessions[0].every_weeks: must be at least 1",
        "sessions[1].name: 'ops' is already sessions[0]",
        "sessions[1].units: must not be empty",
        "sessions[1].chair: nobody@riverton.gov is not one of the people",
        "sessions[1].day:",
    ):
        assert expected in problems, problems


async def test_reapplying_the_file_changes_nothing_and_a_file_without_sessions_stores_none(
    uow: SqlUnitOfWorkFactory, example_org: OrgFile, clock: FakeClock, org_text: str
) -> None:
    async with uow() as work:
        await apply_org(work, example_org, now=clock.now())
        await work.commit()
    async with uow() as work:
        again = await apply_org(work, example_org, now=clock.now())
    assert not again.changes, again
    without = parse_org(org_text.split("\nsessions:")[0])
    async with uow() as work:
        diff = await apply_org(work, without, now=clock.now())
        settings = await work.org.settings()
    assert diff.changes and settings is not None and "sessions" not in settings.options


# --- planning -------------------------------------------------------------------------------


async def test_planning_adds_the_next_six_weeks_once_with_units_in_turn(
    org_uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    # Two replicas plan at once: each meeting is stored once.
    first, second = await asyncio.gather(plan_sessions(org_uow, clock), plan_sessions(replica, clock))
    assert first + second == 5
    assert await plan_sessions(org_uow, clock) == 0
    async with org_uow() as uow:
        sessions = await uow.sessions.between(clock.now(), clock.now() + dt.timedelta(weeks=6))
        units = {u.id: u.key for u in await uow.units.all()}
    assert [(units[s.unit_id], f"{s.starts_at:%Y-%m-%d %H:%M}") for s in sessions] == [
        ("sanitation", "2026-12-01 15:00"),  # Tuesday 10:00 in New York
        ("fire", "2026-12-02 19:00"),
        ("streets", "2026-12-15 15:00"),  # two weeks on, the next unit of the rotation
        ("sanitation", "2026-12-29 15:00"),
        ("fire", "2026-12-30 19:00"),
    ]


async def test_a_meeting_the_file_no_longer_holds_is_withdrawn_with_the_reason(
    planned: SqlUnitOfWorkFactory, clock: FakeClock, org_text: str
) -> None:
    moved = org_text.replace('    day: tuesday\n    time: "10:00"', '    day: thursday\n    time: "10:00"')
    async with planned() as uow:
        await apply_org(uow, parse_org(moved), now=clock.now())
        await uow.commit()
    assert await plan_sessions(planned, clock) == 6  # three withdrawn, three added
    async with planned() as uow:
        sessions = await uow.sessions.between(clock.now(), clock.now() + dt.timedelta(weeks=6))
        audit = [e.action for e in await uow.audit.recent(limit=100) if e.subject.startswith("session:")]
    withdrawn = [s for s in sessions if s.state == "cancelled"]
    assert len(withdrawn) == 3 and {s.cancel_reason for s in withdrawn} == {WITHDRAWN}
    assert {f"{s.starts_at:%a}" for s in sessions if s.state == "scheduled" and s.series == "operations"} == {
        "Thu"
    }
    assert audit.count("session.withdrawn") == 3


THANKSGIVING_SERIES = """\
  - name: thursdays
    units: [sanitation]
    every_weeks: 1
    day: thursday
    time: "10:00"
    chair: luis.ortega@riverton.gov
    attendees: [jordan.kim@riverton.gov]
"""


def test_a_meeting_on_a_public_holiday_moves_to_the_next_working_day_at_the_same_time(org_text: str) -> None:
    from bot.calendar import WorkCalendar
    from bot.sessions.schedule import occurrences

    (series,) = parse_org(_with_sessions(org_text, THANKSGIVING_SERIES)).sessions
    start, end = ny(2026, 11, 16), ny(2026, 12, 8)
    meetings = list(occurrences(series, "America/New_York", start, end, WorkCalendar("US", "NY")))
    assert [(f"{m.starts_at.astimezone(NY):%a %d %b %H:%M}", m.holiday) for m in meetings] == [
        ("Thu 19 Nov 10:00", None),
        ("Fri 27 Nov 10:00", "Thanksgiving Day"),  # not Thursday 26, and not dropped
        ("Thu 03 Dec 10:00", None),
    ]
    assert meetings[1].moved_from == ny(2026, 11, 26, 10) and not meetings[1].skipped
    # Without a calendar (or with one that has no holidays) it stays on Thursday.
    assert ny(2026, 11, 26, 10) in {m.starts_at for m in occurrences(series, "America/New_York", start, end)}
    # A meeting just before the window that a holiday moves into it is in it.
    late = list(occurrences(series, "America/New_York", ny(2026, 11, 26, 12), end, WorkCalendar("US", "NY")))
    assert late[0].starts_at == ny(2026, 11, 27, 10)


async def _apply(uow: SqlUnitOfWorkFactory, text: str, clock: FakeClock) -> None:
    async with uow() as work:
        await apply_org(work, parse_org(text), now=clock.now())
        await work.commit()


async def test_planning_moves_the_thanksgiving_meeting_to_friday_once_however_many_replicas_plan(
    uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock, org_text: str
) -> None:
    clock.set(ny(2026, 11, 16, 7))
    await _apply(uow, _with_sessions(org_text, THANKSGIVING_SERIES), clock)
    first, second = await asyncio.gather(plan_sessions(uow, clock), plan_sessions(replica, clock))
    assert first + second == 6  # Thursdays 19 Nov to 24 Dec, Thanksgiving's on Friday
    assert await plan_sessions(uow, clock) == 0
    # Days later, the org file applied again: the same moments, only Thu 31 Dec is new.
    clock.set(ny(2026, 11, 19, 12))
    await _apply(uow, _with_sessions(org_text, THANKSGIVING_SERIES), clock)
    assert await plan_sessions(replica, clock) == 1
    async with uow() as work:
        sessions = await work.sessions.between(ny(2026, 11, 16), ny(2027, 1, 1))
        planned = [e for e in await work.audit.recent(limit=100) if e.action == "session.planned"]
    assert [f"{s.starts_at.astimezone(NY):%a %d %b %H:%M}" for s in sessions] == [
        "Thu 19 Nov 10:00",
        "Fri 27 Nov 10:00",
        "Thu 03 Dec 10:00",
        "Thu 10 Dec 10:00",
        "Thu 17 Dec 10:00",
        "Thu 24 Dec 10:00",
        "Thu 31 Dec 10:00",
    ]
    assert len(planned) == 7
    (moved,) = [e for e in planned if "moved_from" in e.detail]
    assert moved.detail["moved_from"] == ny(2026, 11, 26, 10).isoformat()
    assert moved.detail["day_off"] == "Thanksgiving Day"
    listed = await say(StatBot(uow, clock), uow, CHAIR, "session")
    assert "Sanitation · Fri 27 Nov 10:00 EST" in listed and "Thu 26 Nov" not in listed


async def test_a_meeting_stored_on_the_holiday_before_is_withdrawn_saying_where_it_went(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, org_text: str
) -> None:
    """A meeting planned on Thanksgiving before holidays counted (or before the org file
    named the calendar) is withdrawn with the reason, and Friday's is added."""
    from bot.org.context import load_context
    from bot.sessions.service import plan

    clock.set(ny(2026, 11, 16, 7))
    text = _with_sessions(org_text, THANKSGIVING_SERIES)
    await _apply(uow, text.replace("  holidays:\n    country: US\n    subdivision: NY\n", ""), clock)
    assert await plan_sessions(uow, clock) == 6
    await _apply(uow, text, clock)
    async with uow() as work:
        assert await plan(work, await load_context(work), clock.now()) == 2
        await work.commit()
        sessions = await work.sessions.between(ny(2026, 11, 26), ny(2026, 11, 28))
    assert [(f"{s.starts_at.astimezone(NY):%a %d}", s.state, s.cancel_reason) for s in sessions] == [
        ("Thu 26", "cancelled", "Thanksgiving Day: the meeting moves to Fri 27 Nov 10:00 EST"),
        ("Fri 27", "scheduled", None),
    ]
    # Nobody cancelled it: once its day has passed, the chair's ledger does not count it.
    from bot.sessions.ledger import figures

    async with uow() as work:
        chair = await work.people.by_email(CHAIR)
        assert chair is not None
        ledger = await figures(work, chair, ny(2026, 11, 30, 12), 4, (await load_context(work)).calendar)
    assert (ledger.scheduled, ledger.cancelled) == (2, 0)  # Thu 19 Nov and Fri 27 Nov


async def test_a_meeting_that_could_only_move_onto_the_next_one_is_skipped_and_audited_once(
    uow: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock, org_text: str
) -> None:
    # An organisation that works on Thursdays only: Thanksgiving's next working day is the
    # following Thursday, the series' next meeting.
    text = _with_sessions(org_text, THANKSGIVING_SERIES).replace(
        "    days: [monday, tuesday, wednesday, thursday, friday]", "    days: [thursday]"
    )
    clock.set(ny(2026, 11, 16, 7))
    await _apply(uow, text, clock)
    await asyncio.gather(plan_sessions(uow, clock), plan_sessions(replica, clock))
    clock.set(ny(2026, 11, 19, 12))
    await plan_sessions(uow, clock)
    async with uow() as work:
        sessions = await work.sessions.between(ny(2026, 11, 16), ny(2027, 1, 1))
        audit = await work.audit.recent(limit=100)
    days = [f"{s.starts_at.astimezone(NY):%d %b}" for s in sessions]
    assert days == ["19 Nov", "03 Dec", "10 Dec", "17 Dec", "24 Dec", "31 Dec"]
    (skipped,) = [e for e in audit if e.action == "session.skipped"]
    assert skipped.subject == "series:thursdays" and skipped.actor_id is None
    assert skipped.detail["unit"] == "sanitation" and skipped.detail["day_off"] == "Thanksgiving Day"
    assert skipped.detail["planned_for"] == ny(2026, 11, 26, 10).isoformat()


# --- the commands -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("session", Sessions()),
        (
            "session sanitation Dec 17 10:00",
            SessionSchedule("sanitation", dt.date(2026, 12, 17), dt.time(10)),
        ),
        (
            'session "Public Works" 2026-12-17 3pm',
            SessionSchedule("Public Works", dt.date(2026, 12, 17), dt.time(15)),
        ),
        ("session streets friday 9:30 am", SessionSchedule("streets", dt.date(2026, 12, 4), dt.time(9, 30))),
        ("session cancel 4 Mayor at the council", SessionCancel(4, "Mayor at the council")),
        ("session chair #4 @samuel.okafor@riverton.gov", SessionChair(4, "@samuel.okafor@riverton.gov")),
    ],
)
def test_session_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("session cancel 4", "say why session #4 is cancelled"),
        ("session cancel", "needs the session number and the reason"),
        ("session cancel four Nobody came", '"four" is not a session number'),
        ("session chair 4", "needs the session number and who chairs it instead"),
        ("session sanitation Dec 17", "give the date and the time"),
        ("session sanitation 10:00", "give the date and the time"),
        ("session sanitation Blursday 10:00", "session date"),
        ("session sanitation Dec 17 25:00", "give the date and the time"),
    ],
)
def test_malformed_session_commands_say_how(text: str, words: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text, today=TODAY)
    assert words in caught.value.message and "session [<unit>" in caught.value.message


async def test_the_list_shows_each_person_what_they_take_part_in(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(planned, clock)
    chair = await say(bot, planned, CHAIR, "session")
    assert "Upcoming stat sessions" in chair and "Sanitation · Tue 01 Dec 10:00 EST" in chair
    assert "chaired by Luis Ortega" in chair and "Fire" in chair  # a leader sees the programme
    head = await say(bot, planned, HEAD, "session")
    assert "Sanitation" in head and "Streets" not in head and "Fire" not in head
    # The commands that change sessions are shown to those who may use them only.
    assert "session cancel <id> <reason>" in chair and "session cancel" not in head


async def test_a_leader_schedules_one_and_a_head_cannot(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(planned, clock)
    done = await say(bot, planned, CHAIR, "session streets Dec 10 14:00")
    assert (
        done.startswith("Scheduled session #")
        and "Streets, Thu 10 Dec 14:00 EST, chaired by Luis Ortega" in done
    )
    assert "already has a session" in await say(bot, planned, MAYOR, "session streets Dec 10 14:00")
    assert "Only a leader or an analyst" in await say(bot, planned, HEAD, "session sanitation Dec 10 14:00")
    assert "That moment has passed" in await say(bot, planned, CHAIR, "session streets 2026-11-30 06:00")
    async with planned() as uow:
        audit = [e for e in await uow.audit.recent(limit=100) if e.action == "session.scheduled"]
    assert len(audit) == 1 and audit[0].actor_id == await pid(planned, CHAIR)


async def _first(uow: SqlUnitOfWorkFactory) -> int:
    async with uow() as work:
        sessions = await work.sessions.between(
            dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
        )
    assert sessions and sessions[0].id is not None
    return sessions[0].id  # Sanitation, Tue 01 Dec 10:00 EST


async def test_cancelling_needs_a_reason_is_recorded_and_tells_everyone(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(planned, clock)
    number = await _first(planned)
    assert "say why" in await say(bot, planned, CHAIR, f"session cancel {number}")
    assert await say(bot, planned, HEAD, f"session cancel {number} Too busy") == (
        f"Only Luis Ortega (its chair and Sanitation's leader), an analyst or an admin can cancel "
        f"or hand over session #{number}; nothing was changed."
    )
    done = await say(bot, planned, CHAIR, f"session cancel {number} Storm response")
    assert done == f"Cancelled session #{number} (Sanitation, Tue 01 Dec 10:00 EST): Storm response"
    assert "is cancelled already" in await say(bot, planned, CHAIR, f"session cancel {number} Again")
    async with planned() as uow:
        stored = await uow.sessions.get(number)
        audit = [e for e in await uow.audit.recent(limit=100) if e.action == "session.cancelled"]
        told = {
            email: [
                card_text(d)
                for d in await uow.deliveries.for_audience(Delivery.to_person(await pid(planned, email)))
            ]
            for email in (HEAD, DEPUTY, ANALYST, CHAIR)
        }
    assert stored is not None and stored.state == "cancelled" and stored.cancel_reason == "Storm response"
    assert len(audit) == 1 and audit[0].detail == {"reason": "Storm response"}
    for email in (HEAD, DEPUTY, ANALYST):
        (card,) = told[email]
        assert "cancelled by Luis Ortega: Storm response" in card
    assert told[CHAIR] == []  # who cancelled it is not told
    listed = await say(bot, planned, HEAD, "session")
    assert "cancelled by Luis Ortega: Storm response" in listed


async def test_handing_the_chair_over_is_recorded_as_a_delegation(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(planned, clock)
    number = await _first(planned)
    assert "I don't know" in await say(bot, planned, CHAIR, f"session chair {number} @ghost@riverton.gov")
    done = await say(bot, planned, CHAIR, f"session chair {number} @{OTHER_LEADER}")
    assert "Samuel Okafor now chairs session" in done and "recorded as a delegation" in done
    assert "already chairs" in await say(bot, planned, CHAIR, f"session chair {number} {OTHER_LEADER}")
    listed = await say(bot, planned, MAYOR, "session")
    assert "chaired by Samuel Okafor (delegated by Luis Ortega)" in listed
    async with planned() as uow:
        (entry,) = [e for e in await uow.audit.recent(limit=100) if e.action == "session.chair_delegated"]
        new_chair = await pid(planned, OTHER_LEADER)
        (card,) = await uow.deliveries.for_audience(Delivery.to_person(new_chair))
    assert entry.detail == {"chair_from": await pid(planned, CHAIR), "chair_to": new_chair}
    assert "Luis Ortega asks you to chair the stat session about Sanitation" in card_text(card)
    # The new chair may now cancel it; the one who delegated still may too.
    assert "Cancelled session" in await say(bot, planned, OTHER_LEADER, f"session cancel {number} Clash")


async def test_only_its_chairs_the_units_leader_analysts_and_admins_cancel_or_hand_it_over(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(planned, clock)
    number = await _first(planned)  # Sanitation: Luis Ortega chairs it and leads the unit
    refusal = (
        "Only Luis Ortega (its chair and Sanitation's leader), an analyst or an admin can cancel "
        f"or hand over session #{number}; nothing was changed."
    )
    # A leader of other units (the mayor, too) sees the session but may not call it off.
    for email in (MAYOR, OTHER_LEADER, HEAD, DEPUTY):
        assert await say(bot, planned, email, f"session cancel {number} Clash") == refusal, email
        assert await say(bot, planned, email, f"session chair {number} @{MAYOR}") == refusal, email
    # They may still schedule one of their own.
    assert (await say(bot, planned, MAYOR, "session sanitation Dec 9 14:00")).startswith("Scheduled")
    # An analyst and an admin may; after a hand-over the new chair and the one it was
    # scheduled with may too, and the refusal names both.
    assert "Samuel Okafor now chairs" in await say(
        bot, planned, ANALYST, f"session chair {number} @{OTHER_LEADER}"
    )
    assert "Dana Whitfield now chairs" in await say(bot, planned, ADMIN, f"session chair {number} @{MAYOR}")
    assert await say(bot, planned, OTHER_LEADER, f"session cancel {number} Clash") == (
        "Only Dana Whitfield (its chair), Luis Ortega (the chair it was scheduled with and "
        f"Sanitation's leader), an analyst or an admin can cancel or hand over session #{number}; "
        "nothing was changed."
    )
    assert "Cancelled session" in await say(bot, planned, MAYOR, f"session cancel {number} Council meeting")
    async with planned() as uow:
        audit = [e.action for e in await uow.audit.recent(limit=100) if e.subject == f"session:{number}"]
    assert audit.count("session.chair_delegated") == 2 and audit.count("session.cancelled") == 1


async def test_two_people_changing_one_session_at_once_one_wins(
    planned: SqlUnitOfWorkFactory, replica: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    number = await _first(planned)
    gate = Gate()
    a = StatBot(gated(planned, gate, "sessions"), clock)
    b = StatBot(gated(replica, gate, "sessions"), clock)
    chair, analyst = await pid(planned, CHAIR), await pid(planned, ANALYST)
    replies = [
        text_of(r)
        for r in await asyncio.gather(
            a.on_text(chair, f"session cancel {number} Storm"),
            b.on_text(analyst, f"session chair {number} @{OTHER_LEADER}"),
        )
    ]
    lost = [r for r in replies if "got there first" in r]
    assert len(lost) == 1, replies
    async with planned() as uow:
        stored = await uow.sessions.get(number)
        audit = [e for e in await uow.audit.recent(limit=100) if e.subject == f"session:{number}"]
    assert stored is not None
    changes = [e.action for e in audit if e.action != "session.planned"]
    assert len(changes) == 1, changes
    if changes == ["session.cancelled"]:
        assert stored.state == "cancelled" and not stored.delegated and "cancelled it" in lost[0]
    else:
        assert stored.state == "scheduled" and stored.delegated and "chaired by Samuel Okafor" in lost[0]
