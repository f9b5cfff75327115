"""Escalation chains with a fake clock and a real database: every step, every stop
condition, the working-hours rule, and once-only sending."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.deliveries.models import Delivery
from bot.escalations.jobs import sweep
from bot.messages import Buttons, Card
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import NY, card_text, ny, only_form, pid, text_of

HEAD = "robert.hayes@riverton.gov"  # Sanitation: standard policy
DEPUTY = "maria.santos@riverton.gov"
LEADER = "luis.ortega@riverton.gov"
MAYOR = "dana.whitfield@riverton.gov"
GOOD = {
    "m.missed_pickups": "110",
    "m.tons_collected": "1950",
    "m.recycling_diversion": "26",
    "m.missed_pickups_48h": "92",
}


@pytest.fixture
def bot(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> StatBot:
    return StatBot(org_uow, clock)


async def escalations_sent(
    org_uow: SqlUnitOfWorkFactory, unit: str = "sanitation"
) -> list[tuple[str, str, Delivery]]:
    """(local time, who, delivery) for every escalation message about ``unit``, in order."""
    async with org_uow() as uow:
        people = {f"person:{p.id}": p.email for p in await uow.people.all()}
        wanted = await uow.units.by_key(unit)
        assert wanted is not None
        rows = []
        for audience in [*people, "channel:citistat"]:
            for d in await uow.deliveries.for_audience(audience):
                if not d.idempotency_key.startswith("escalation:"):
                    continue
                escalation = await uow.escalations.get(int(d.idempotency_key.split(":")[1]))
                if escalation is not None and escalation.unit_id == wanted.id:
                    rows.append(
                        (
                            d.created_at.astimezone(NY).strftime("%a %d %H:%M"),
                            people.get(audience, audience),
                            d,
                        )
                    )
    return sorted(rows, key=lambda r: r[2].created_at)


async def run_until(
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    end: dt.datetime,
    *,
    step: dt.timedelta = dt.timedelta(hours=6),
) -> None:
    """Sweep (twice each time, as two replicas would) at every moment a step falls due,
    and at least every ``step`` so quiet items are detected."""
    while True:
        await sweep(org_uow, clock)
        await sweep(org_uow, clock)
        if clock.now() >= end:
            return
        async with org_uow() as uow:
            due = [e.next_step_at for e in await uow.escalations.active() if e.next_step_at]
        upcoming = [t for t in due if t > clock.now()]
        clock.set(min([*upcoming, clock.now() + step, end]))


async def _sanitation_checkin(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> int:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
    assert checkin is not None and checkin.id is not None
    return checkin.id


async def test_missed_checkin_climbs_the_chain_in_working_hours(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 19, 12))
    sent = [(when, who) for when, who, _ in await escalations_sent(org_uow)]
    # Deadline Fri 16:00; +2h is after working hours (17:00), so the owner hears Monday
    # morning; then a day each to the deputy and the leader, two to the channel, and the
    # channel again a week later (repeat 1w, at most 2 times).
    assert sent == [
        ("Mon 07 08:30", HEAD),
        ("Tue 08 08:30", DEPUTY),
        ("Wed 09 08:30", LEADER),
        ("Fri 11 08:30", "channel:citistat"),
        ("Fri 18 08:30", "channel:citistat"),
    ]


async def test_escalation_message_says_what_how_long_and_who(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 9, 9))
    leader_card = next(d for _, who, d in await escalations_sent(org_uow) if who == LEADER)
    text = card_text(leader_card)
    assert "Sanitation's check-in for 2026-W49 was not submitted" in text
    assert "Quiet for 4 days." in text
    assert "Already asked: @Robert Hayes, @Maria Santos." in text
    card = Card.model_validate(leader_card.payload)
    labels = [b.label for p in card.parts if isinstance(p, Buttons) for b in p.buttons]
    assert labels == ["Acknowledge", "Snooze 2 days", "Ask the unit"]


async def test_submitting_stops_the_chain_even_for_a_late_sweep(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 7, 9))
    assert [who for _, who, _ in await escalations_sent(org_uow)].count(HEAD) == 1
    await bot.on_form(await pid(org_uow, HEAD), "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    # The sweeper was down for a week: when it comes back it must not nag.
    clock.set(ny(2026, 12, 14, 9))
    await sweep(org_uow, clock)
    assert (
        len([1 for _, _, d in await escalations_sent(org_uow) if "Sanitation's check-in" in card_text(d)])
        == 1
    )
    async with org_uow() as uow:
        chain = (await uow.escalations.for_subject("missed_checkin", checkin_id))[0]
    assert chain.state == "resolved"


async def test_acknowledge_stops_and_snooze_delays(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 7, 9))
    async with org_uow() as uow:
        chain = (await uow.escalations.for_subject("missed_checkin", checkin_id))[0]
    ids = {"escalation": str(chain.id), "days": "3"}
    snoozed = text_of(await bot.on_button(await pid(org_uow, LEADER), "escalation.snooze", ids))
    assert "Snoozed until Thu 10 Dec 08:30" in snoozed
    await run_until(org_uow, clock, ny(2026, 12, 10, 8))
    assert [who for _, who, _ in await escalations_sent(org_uow)] == [HEAD]
    await run_until(org_uow, clock, ny(2026, 12, 10, 9))
    assert [who for _, who, _ in await escalations_sent(org_uow)] == [HEAD, DEPUTY]
    refused = await bot.on_button(await pid(org_uow, DEPUTY), "escalation.ack", ids)
    assert "Only leaders can acknowledge or snooze an escalation" in text_of(refused)
    assert not refused.settles_source  # the message keeps its buttons
    ack = await bot.on_button(await pid(org_uow, LEADER), "escalation.ack", ids)
    assert "Acknowledged by Luis Ortega" in text_of(ack)
    assert ack.settles_source  # platforms update the message the click came from
    await run_until(org_uow, clock, ny(2026, 12, 20, 9), step=dt.timedelta(hours=3))
    assert [who for _, who, _ in await escalations_sent(org_uow)] == [HEAD, DEPUTY]


async def test_outsiders_cannot_acknowledge(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 7, 9))
    async with org_uow() as uow:
        chain = (await uow.escalations.for_subject("missed_checkin", checkin_id))[0]
    outsider = await pid(org_uow, "kevin.obrien@riverton.gov")
    reply = text_of(await bot.on_button(outsider, "escalation.ack", {"escalation": str(chain.id)}))
    assert "Only leaders can acknowledge" in reply
    owner = await pid(org_uow, HEAD)
    reply = text_of(
        await bot.on_button(owner, "escalation.snooze", {"escalation": str(chain.id), "days": "2"})
    )
    assert "Only leaders can acknowledge or snooze" in reply
    async with org_uow() as uow:
        assert (await uow.escalations.get(chain.id or 0)).state == "active"  # type: ignore[union-attr]


async def test_overdue_commitment_escalates_and_mark_done_stops_it(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))  # Tuesday
    head = await pid(org_uow, HEAD)
    created = text_of(await bot.on_text(head, "commit Replace truck 12 by Thursday"))
    assert "due Thu 03 Dec 2026" in created
    await run_until(org_uow, clock, ny(2026, 12, 7, 12), step=dt.timedelta(hours=1))
    sent = [(when, who) for when, who, d in await escalations_sent(org_uow)]
    # Past due at midnight after Thursday; the owner hears at Friday's start of work,
    # the deputy two days later (Sunday → Monday morning).
    assert sent == [("Fri 04 08:30", HEAD), ("Mon 07 08:30", DEPUTY)]
    card = Card.model_validate((await escalations_sent(org_uow))[-1][2].payload)
    done = next(b for p in card.parts if isinstance(p, Buttons) for b in p.buttons if b.label == "Mark done")
    reply = text_of(await bot.on_button(await pid(org_uow, DEPUTY), done.action, done.ids))
    assert "marked done by Maria Santos: Replace truck 12" in reply
    await run_until(org_uow, clock, ny(2026, 12, 20, 12), step=dt.timedelta(hours=6))
    assert len(await escalations_sent(org_uow)) == 2


async def test_moving_the_due_date_starts_a_new_episode(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Replace truck 12 by Thursday")
    await run_until(org_uow, clock, ny(2026, 12, 4, 9))
    assert len(await escalations_sent(org_uow)) == 1
    async with org_uow() as uow:
        commitment = (await uow.commitments.open_for_owner(head))[0]
        commitment.due_on = dt.date(2026, 12, 11)
        await uow.commitments.save(commitment)
        await uow.commit()
    await run_until(org_uow, clock, ny(2026, 12, 11, 17))
    assert len(await escalations_sent(org_uow)) == 1  # the old chain stopped, no new one yet
    await run_until(org_uow, clock, ny(2026, 12, 14, 9))
    assert len(await escalations_sent(org_uow)) == 2  # a new episode for the new date


async def test_commitment_gone_quiet(bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Rebuild the route map by 2027-03-01")
    await run_until(org_uow, clock, ny(2026, 12, 15, 8), step=dt.timedelta(hours=6))
    assert await escalations_sent(org_uow) == []
    await run_until(org_uow, clock, ny(2026, 12, 15, 12), step=dt.timedelta(hours=1))
    ((_, who, delivery),) = await escalations_sent(org_uow)
    assert who == HEAD and "has had no update: Rebuild the route map" in card_text(delivery)
    # An update ends the quiet; nothing more is sent.
    await bot.on_text(head, "update 1 drafted the new map")
    await run_until(org_uow, clock, ny(2026, 12, 24, 12), step=dt.timedelta(hours=6))
    assert len(await escalations_sent(org_uow)) == 1


async def test_followup_asked_answered_or_escalated(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    mayor = await pid(org_uow, MAYOR)
    asked = text_of(await bot.on_text(mayor, "ask sanitation Why did missed pickups double?"))
    assert "Asked Robert Hayes (Sanitation), answer due Thu 03 Dec" in asked
    async with org_uow() as uow:
        (question,) = await uow.deliveries.for_audience(f"person:{await pid(org_uow, HEAD)}")
    card = Card.model_validate(question.payload)
    assert "Dana Whitfield asks Sanitation" in card.plain_text()
    answer_button = next(b for p in card.parts if isinstance(p, Buttons) for b in p.buttons)
    # Unanswered past its due date (Thursday), it escalates like any quiet item: a day
    # later (Saturday → Monday morning) to the head, another day later to the deputy.
    await run_until(org_uow, clock, ny(2026, 12, 8, 12))
    assert [(when, who) for when, who, _ in await escalations_sent(org_uow)] == [
        ("Mon 07 08:30", HEAD),
        ("Tue 08 08:30", DEPUTY),
    ]
    form = only_form(await bot.on_button(await pid(org_uow, HEAD), answer_button.action, answer_button.ids))
    empty = only_form(await bot.on_form(await pid(org_uow, HEAD), form.action, form.ids, {"answer": " "}))
    assert empty.errors == {"answer": "Write your answer."}
    done = text_of(
        await bot.on_form(
            await pid(org_uow, HEAD), form.action, form.ids, {"answer": "Two trucks down; fixed."}
        )
    )
    assert "your answer to follow-up" in done
    async with org_uow() as uow:
        to_mayor = await uow.deliveries.for_audience(f"person:{mayor}")
    assert "Two trucks down; fixed." in card_text(to_mayor[-1])
    await run_until(org_uow, clock, ny(2026, 12, 20, 12), step=dt.timedelta(hours=6))
    assert len(await escalations_sent(org_uow)) == 2


async def test_only_leaders_ask(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = text_of(await bot.on_text(await pid(org_uow, "kevin.obrien@riverton.gov"), "ask sanitation why?"))
    assert "Follow-up questions are for leaders and analysts." in reply


async def test_ask_about_a_digest_item_records_what_it_was_about(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    mayor = await pid(org_uow, MAYOR)
    ids = {"unit": "sanitation", "metric": "missed_pickups"}
    form = only_form(await bot.on_button(mayor, "followup.ask", ids))
    assert {i.name: i.value for i in form.inputs}["question"] == (
        "What is the plan to bring Missed pickups reported to 311 back on target?"
    )
    bad = only_form(await bot.on_form(mayor, form.action, form.ids, {"question": "Why?", "due": "12/05"}))
    assert "2026-12-05 or Dec 5" in bad.errors["due"]
    reply = text_of(await bot.on_form(mayor, form.action, form.ids, {"question": "Why?", "due": "Friday"}))
    assert "answer due Fri 04 Dec" in reply
    async with org_uow() as uow:
        entry = (await uow.audit.recent(limit=1))[0]
    assert entry.action == "followup.asked"
    assert entry.detail["unit"] == "sanitation" and entry.detail["metric"] == "missed_pickups"


async def test_owner_and_deputy_get_the_way_to_finish_not_to_silence(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 8, 12))
    owner_card, deputy_card = [Card.model_validate(d.payload) for _, _, d in await escalations_sent(org_uow)]
    for card in (owner_card, deputy_card):
        labels = [b.label for p in card.parts if isinstance(p, Buttons) for b in p.buttons]
        assert labels == ["Fill in the numbers"]


async def test_a_late_sweep_at_night_waits_for_working_hours(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _sanitation_checkin(org_uow, clock)
    # The bot was down from Thursday until Tuesday 23:00: nothing goes out at night.
    clock.set(ny(2026, 12, 8, 23))
    await sweep(org_uow, clock)
    await sweep(org_uow, clock)
    assert await escalations_sent(org_uow) == []
    clock.set(ny(2026, 12, 9, 8, 30))
    await sweep(org_uow, clock)
    assert [(when, who) for when, who, _ in await escalations_sent(org_uow)] == [("Wed 09 08:30", HEAD)]


async def test_restricted_units_never_reach_the_channel(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 31, 12), step=dt.timedelta(hours=12))
    sent = await escalations_sent(org_uow, unit="hr")
    assert sent and all(who != "channel:citistat" for _, who, _ in sent)


async def test_analysts_cannot_ask_restricted_units(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = text_of(await bot.on_text(await pid(org_uow, "jordan.kim@riverton.gov"), "ask hr Why?"))
    assert "Human Resources is restricted" in reply


async def test_a_question_asked_at_night_waits_for_the_heads_morning(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 22))
    await bot.on_text(await pid(org_uow, MAYOR), "ask sanitation Why did missed pickups double?")
    async with org_uow() as uow:
        (question,) = await uow.deliveries.for_audience(f"person:{await pid(org_uow, HEAD)}")
    assert question.next_attempt_at == ny(2026, 12, 2, 8, 30)


async def test_followups_are_not_ticked_off_in_the_checkin_form(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    await bot.on_text(await pid(org_uow, MAYOR), "ask sanitation Why did missed pickups double?")
    await _sanitation_checkin(org_uow, clock)
    form = only_form(await bot.on_text(await pid(org_uow, HEAD), "report"))
    assert not [i for i in form.inputs if i.name.startswith("c.")]


async def test_restricted_commitments_are_not_revealed_by_id(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    await bot.on_text(
        await pid(org_uow, "carla.mendes@riverton.gov"), "commit Fill the payroll clerk post by Friday"
    )
    reply = text_of(await bot.on_text(await pid(org_uow, HEAD), "done 1"))
    assert reply == "There is no commitment #1 you can see. `commitments` lists yours."
