"""The weekly check-in cycle through the core, with a fake clock and a real database."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.checkins.cards import reminder_card
from bot.checkins.jobs import open_due_checkins, send_due_reminders
from bot.checkins.models import Reading
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.messages import Buttons, Card, Facts, Form, Reply
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import NY, card_text, deliveries_to, ny, only_form, pid, text_of

HEAD = "robert.hayes@riverton.gov"  # Sanitation head
DEPUTY = "maria.santos@riverton.gov"
STREETS_HEAD = "kevin.obrien@riverton.gov"

GOOD = {
    "m.missed_pickups": "110",
    "m.tons_collected": "1,950",
    "m.recycling_diversion": "26",
    "m.missed_pickups_48h": "92%",
}


@pytest.fixture
def bot(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> StatBot:
    return StatBot(org_uow, clock)


async def _open_sanitation(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> int:
    clock.set(ny(2026, 12, 3, 9, 30))  # Thursday of 2026-W49, after the 09:00 opening
    await open_due_checkins(org_uow, clock)
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        checkin = await uow.checkins.for_unit_week(unit_id, "2026-W49")
    assert checkin is not None and checkin.id is not None
    return checkin.id


async def _unit_id(org_uow: SqlUnitOfWorkFactory, key: str) -> int:
    async with org_uow() as uow:
        unit = await uow.units.by_key(key)
    assert unit is not None and unit.id is not None
    return unit.id


async def test_checkins_open_once_with_one_prompt(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(ny(2026, 12, 3, 8, 59))
    await open_due_checkins(org_uow, clock)
    before = await deliveries_to(org_uow, HEAD)
    assert before == []
    clock.set(ny(2026, 12, 3, 9, 1))
    await open_due_checkins(org_uow, clock)
    await open_due_checkins(org_uow, clock)  # a second sweep (or replica) changes nothing
    prompts = await deliveries_to(org_uow, HEAD)
    assert len(prompts) == 1
    text = card_text(prompts[0])
    assert "Weekly check-in · Sanitation · 2026-W49" in text
    assert "Missed pickups reported to 311" in text
    assert "[Fill in this week's numbers]" in text
    assert "Due Fri 04 Dec 16:00 EST" in text


async def test_deputy_stands_in_for_an_away_head(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head = await pid(org_uow, HEAD)
    reply = await bot.on_text(head, "away Dec 2 to Dec 8")
    assert "away Wed 02 Dec – Tue 08 Dec" in text_of(reply)
    assert "Maria Santos will get Sanitation's check-ins" in text_of(reply)
    await _open_sanitation(org_uow, clock)
    assert await deliveries_to(org_uow, HEAD) == []
    (prompt,) = await deliveries_to(org_uow, DEPUTY)
    assert "standing in for @Robert Hayes" in card_text(prompt)


async def test_excused_when_head_and_deputy_are_away(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    await bot.on_text(await pid(org_uow, HEAD), "away Dec 2 to Dec 8")
    await bot.on_text(await pid(org_uow, DEPUTY), "away Dec 3")
    await _open_sanitation(org_uow, clock)
    assert await deliveries_to(org_uow, HEAD) == [] and await deliveries_to(org_uow, DEPUTY) == []
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        checkin = await uow.checkins.for_unit_week(unit_id, "2026-W49")
    assert checkin is not None and checkin.state == "excused"
    assert checkin.excuse == "the head is away and no deputy is available"


async def test_christmas_moves_the_deadline_to_monday(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 24, 10))  # Thursday; Friday 25th is Christmas Day
    await open_due_checkins(org_uow, clock)
    (prompt,) = [d for d in await deliveries_to(org_uow, HEAD) if "2026-W52" in card_text(d)]
    text = card_text(prompt)
    assert "Due Mon 28 Dec 16:00 EST" in text
    assert "Moved from Friday because of Christmas Day" in text


async def test_form_errors_keep_what_was_typed(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    form = only_form(await bot.on_button(head, "checkin.open", {"checkin": str(checkin_id)}))
    assert [i.name for i in form.inputs][:2] == ["m.missed_pickups", "m.tons_collected"]
    assert not [i for i in form.inputs if i.name.startswith("why.")]  # nothing is red yet
    assert "Target: ≤ 120" in form.inputs[0].hint
    bad = {**GOOD, "m.missed_pickups": "lots", "m.recycling_diversion": "130", "m.tons_collected": "1950.5"}
    again = only_form(await bot.on_form(head, form.action, form.ids, bad))
    assert set(again.errors) == {"m.missed_pickups", "m.recycling_diversion", "m.tons_collected"}
    assert "outside the valid range (0% to 100%)" in again.errors["m.recycling_diversion"]
    assert "whole number" in again.errors["m.tons_collected"]
    values = {i.name: i.value for i in again.inputs}
    assert values["m.missed_pickups"] == "lots"  # nothing typed is lost
    # The draft survives closing the form: `report` brings the same values back.
    reopened = only_form(await bot.on_text(head, "report"))
    assert {i.name: i.value for i in reopened.inputs}["m.recycling_diversion"] == "130"
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        assert await uow.readings.for_unit_week(unit_id, "2026-W49") == []


async def test_submit_stores_readings_with_revisions(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    reply = await bot.on_form(head, "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    text = text_of(reply)
    assert "Thanks! Recorded Sanitation's numbers for 2026-W49." in text
    assert "Tons of refuse collected: 1,950 (target ≥ 1,900)" in text
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        checkin = await uow.checkins.get(checkin_id)
        readings = {r.metric_id: r for r in await uow.readings.for_unit_week(unit_id, "2026-W49")}
        assert checkin is not None and checkin.state == "submitted" and not checkin.late
        assert checkin.submitted_by == head
        assert sorted(r.value for r in readings.values()) == [26, 92, 110, 1950]
    # An edit after submitting is kept as a revision with the old value.
    clock.advance(dt.timedelta(hours=1))
    await bot.on_form(
        head, "checkin.submit", {"checkin": str(checkin_id)}, {**GOOD, "m.missed_pickups": "115"}
    )
    async with org_uow() as uow:
        reading = next(r for r in await uow.readings.for_unit_week(unit_id, "2026-W49") if r.value == 115)
        assert reading.id is not None
        revisions = await uow.readings.revisions(reading.id)
    assert [(r.previous_value, r.value) for r in revisions] == [(None, 110), (110, 115)]
    assert revisions[1].note == "edited"


async def test_late_submission_is_flagged(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    clock.set(ny(2026, 12, 4, 16, 1))
    reply = await bot.on_form(await pid(org_uow, HEAD), "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    assert "(late)" in text_of(reply)
    async with org_uow() as uow:
        checkin = await uow.checkins.get(checkin_id)
    assert checkin is not None and checkin.late


async def test_off_target_needs_an_explanation(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    ids = {"checkin": str(checkin_id)}
    form = only_form(await bot.on_form(head, "checkin.submit", ids, {**GOOD, "m.missed_pickups": "200"}))
    assert form.errors == {"why.missed_pickups": "200 misses the target (≤ 120): add a short explanation."}
    reply = await bot.on_form(
        head,
        "checkin.submit",
        ids,
        {**GOOD, "m.missed_pickups": "200", "why.missed_pickups": "Two trucks broke down"},
    )
    assert "Recorded" in text_of(reply)
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        notes = {r.value: r.note for r in await uow.readings.for_unit_week(unit_id, "2026-W49")}
    assert notes[200] == "Two trucks broke down"


async def _history(org_uow: SqlUnitOfWorkFactory, bot: StatBot, clock: FakeClock) -> None:
    """Four ordinary weeks of Sanitation numbers before 2026-W49."""
    unit_id = await _unit_id(org_uow, "sanitation")
    values = {
        "missed_pickups": 110,
        "tons_collected": 1950,
        "recycling_diversion": 26,
        "missed_pickups_48h": 92,
    }
    async with org_uow() as uow:
        for metric in await uow.metrics.for_unit(unit_id):
            assert metric.id is not None
            for week in ("2026-W45", "2026-W46", "2026-W47", "2026-W48"):
                await uow.readings.add(
                    Reading(
                        unit_id=unit_id,
                        metric_id=metric.id,
                        week=week,
                        value=values[metric.key],
                        updated_at=clock.now(),
                        updated_by=None,
                    )
                )
        await uow.commit()


async def test_far_off_value_asks_to_confirm_or_correct(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _history(org_uow, bot, clock)
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    ids = {"checkin": str(checkin_id)}
    typo = {**GOOD, "m.tons_collected": "195", "why.tons_collected": "Landfill closed"}
    reply = await bot.on_form(head, "checkin.submit", ids, typo)
    confirm = only_form(reply)
    assert confirm.action == "checkin.confirm"
    facts = [f for p in confirm.intro if isinstance(p, Facts) for f in p.facts]
    assert [(f.label, f.value) for f in facts] == [
        ("Tons of refuse collected", "195 is 10× away from the recent median (1,950)")
    ]
    # Correcting it stores the corrected value, not the typo.
    done = await bot.on_form(
        head, "checkin.confirm", ids, {"ok.tons_collected": "correct", "m.tons_collected": "1950"}
    )
    assert "Recorded" in text_of(done)
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        values = sorted(r.value for r in await uow.readings.for_unit_week(unit_id, "2026-W49"))
    assert 1950 in values and 195 not in values


async def test_confirmed_outlier_is_marked(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _history(org_uow, bot, clock)
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    ids = {"checkin": str(checkin_id)}
    await bot.on_form(
        head,
        "checkin.submit",
        ids,
        {**GOOD, "m.tons_collected": "195", "why.tons_collected": "Landfill closed"},
    )
    done = await bot.on_form(
        head, "checkin.confirm", ids, {"ok.tons_collected": "confirm", "m.tons_collected": "195"}
    )
    assert "Recorded" in text_of(done)
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        reading = next(r for r in await uow.readings.for_unit_week(unit_id, "2026-W49") if r.value == 195)
    assert reading.confirmed_outlier


async def test_reminders_before_at_and_after_the_deadline_once_each(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)
    # Sweep every 30 minutes for five days, twice each time (as two replicas would).
    for _ in range(5 * 48):
        clock.advance(dt.timedelta(minutes=30))
        await send_due_reminders(org_uow, clock)
        await send_due_reminders(org_uow, clock)
    reminders = [d for d in await deliveries_to(org_uow, HEAD) if "Reminder" in card_text(d)]
    when = [d.created_at.astimezone(NY).strftime("%a %H:%M") for d in reminders]
    # 4 h before the deadline, at it, then daily; the two weekend ones wait for Monday
    # morning's working hours and collapse into one.
    assert when == ["Fri 12:00", "Fri 16:00", "Mon 08:30"]
    assert "is due Fri 04 Dec 16:00 EST" in card_text(reminders[0])
    assert "was due Fri 04 Dec 16:00 EST" in card_text(reminders[-1])


async def test_no_reminder_after_submitting(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    await bot.on_form(await pid(org_uow, HEAD), "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    clock.advance(dt.timedelta(days=3))
    await send_due_reminders(org_uow, clock)
    assert [d for d in await deliveries_to(org_uow, HEAD) if "Reminder" in card_text(d)] == []


async def test_only_head_or_deputy_may_submit(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    outsider = await pid(org_uow, STREETS_HEAD)
    reply = await bot.on_form(outsider, "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    assert "Only the head or deputy of Sanitation (or an admin) can report for it." in text_of(reply)
    deputy = await pid(org_uow, DEPUTY)
    assert "Recorded" in text_of(
        await bot.on_form(deputy, "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    )


async def test_plain_text_answers(bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    first = text_of(await bot.on_text(head, "missed pickups reported 110, tons 1950"))
    assert (
        "Still needed for 2026-W49: Recycling diversion rate, Missed pickups collected within 48 hours."
        in first
    )
    unknown = text_of(await bot.on_text(head, "widgets 5"))
    assert "widgets" in unknown
    done = text_of(await bot.on_text(head, "recycling 26, missed_pickups_48h 92"))
    assert "Thanks! Recorded Sanitation's numbers for 2026-W49." in done


async def test_text_answer_off_target_then_why(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    reply = text_of(
        await bot.on_text(head, "missed pickups reported 200, tons 1950, recycling 26, missed_pickups_48h 92")
    )
    assert "Not stored yet" in reply and "why missed_pickups:" in reply
    done = text_of(await bot.on_text(head, "why missed_pickups: two trucks broke down"))
    assert "Recorded" in done


async def test_text_without_open_checkin_gets_short_help(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = text_of(await bot.on_text(await pid(org_uow, HEAD), "hello there"))
    assert "Try `help`" in reply


async def test_report_without_open_checkin_says_so(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = text_of(await bot.on_text(await pid(org_uow, HEAD), "report"))
    assert "no open check-in" in reply


async def test_stale_form_is_refused_clearly(bot: StatBot, org_uow: SqlUnitOfWorkFactory) -> None:
    reply = text_of(await bot.on_form(await pid(org_uow, HEAD), "checkin.submit", {"checkin": "999"}, GOOD))
    assert "no longer exists" in reply


async def test_form_is_a_form(bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    await _open_sanitation(org_uow, clock)
    reply = await bot.on_text(await pid(org_uow, HEAD), "/stat report")
    assert isinstance(reply.messages[0], Form)


async def test_only_the_far_off_value_is_marked_confirmed(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _history(org_uow, bot, clock)
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    ids = {"checkin": str(checkin_id)}
    form = only_form(
        await bot.on_form(
            head,
            "checkin.submit",
            ids,
            {**GOOD, "m.tons_collected": "195", "why.tons_collected": "Landfill closed"},
        )
    )
    assert [i.name for i in form.inputs] == ["ok.tons_collected", "m.tons_collected"]
    await bot.on_form(
        head, "checkin.confirm", ids, {"ok.tons_collected": "confirm", "m.tons_collected": "195"}
    )
    unit_id = await _unit_id(org_uow, "sanitation")
    async with org_uow() as uow:
        confirmed = {
            r.value: r.confirmed_outlier for r in await uow.readings.for_unit_week(unit_id, "2026-W49")
        }
    assert confirmed == {110: False, 195: True, 26: False, 92: False}


async def test_report_and_text_go_to_the_latest_open_week(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _open_sanitation(org_uow, clock)  # 2026-W49, never answered
    clock.set(ny(2026, 12, 10, 9, 30))
    await open_due_checkins(org_uow, clock)  # 2026-W50
    head = await pid(org_uow, HEAD)
    form = only_form(await bot.on_text(head, "report"))
    assert "2026-W50" in form.title
    done = text_of(
        await bot.on_text(head, "missed_pickups 110, tons 1950, recycling 26, missed_pickups_48h 92")
    )
    assert "numbers for 2026-W50" in done


async def test_submitted_numbers_can_be_edited_from_the_receipt_or_report(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    receipt = (await bot.on_form(head, "checkin.submit", {"checkin": str(checkin_id)}, GOOD)).messages[0]
    assert isinstance(receipt, Card)
    (edit,) = [b for p in receipt.parts if isinstance(p, Buttons) for b in p.buttons]
    assert edit.label == "Edit these numbers"
    form = only_form(await bot.on_button(head, edit.action, edit.ids))
    assert {i.name: i.value for i in form.inputs}["m.missed_pickups"] == "110"
    again = only_form(await bot.on_text(head, "report"))
    assert again.ids == {"checkin": str(checkin_id)}
    updated = text_of(await bot.on_form(head, again.action, again.ids, {**GOOD, "m.missed_pickups": "111"}))
    assert "Updated Sanitation's numbers for 2026-W49." in updated


async def test_new_commitment_in_the_form(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    head, deputy = await pid(org_uow, HEAD), await pid(org_uow, DEPUTY)
    ids = {"checkin": str(checkin_id)}
    bad = only_form(
        await bot.on_form(
            head,
            "checkin.submit",
            ids,
            {**GOOD, "new.text": "Fix truck 9", "new.due": "next Friday", "new.owner": "999"},
        )
    )
    assert bad.errors == {"new.owner": "Choose the owner among Robert Hayes, Maria Santos."}
    reply = text_of(
        await bot.on_form(
            head,
            "checkin.submit",
            ids,
            {**GOOD, "new.text": "Fix truck 9", "new.due": "next Friday", "new.owner": str(deputy)},
        )
    )
    assert "New commitment #1: Fix truck 9 (due Fri 11 Dec)" in reply
    async with org_uow() as uow:
        (commitment,) = await uow.commitments.open_for_owner(deputy)
    assert commitment.origin == "checkin" and commitment.created_by == head


async def test_open_commitments_are_updated_in_the_form(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Replace truck 12 by Friday")
    await bot.on_text(head, "commit Hire two drivers by 2026-12-31")
    await bot.on_text(head, "commit Reroute district 4 by 2026-12-20")
    checkin_id = await _open_sanitation(org_uow, clock)
    ids = {"checkin": str(checkin_id)}
    form = only_form(await bot.on_text(head, "report"))
    assert {"c.1", "cdate.1", "cnote.1", "c.2", "c.3"} <= {i.name for i in form.inputs}
    bad = only_form(
        await bot.on_form(
            head, "checkin.submit", ids, {**GOOD, "c.1": "dropped", "c.2": "moved", "cdate.3": "12/05"}
        )
    )
    assert bad.errors == {
        "cnote.1": "Say in a few words why #1 is dropped.",
        "cdate.2": "Give #2 its new date.",
        "cdate.3": bad.errors["cdate.3"],
    }
    assert "2026-12-05 or Dec 5" in bad.errors["cdate.3"]
    reply = text_of(
        await bot.on_form(
            head,
            "checkin.submit",
            ids,
            {
                **GOOD,
                "c.1": "dropped",
                "cnote.1": "Truck sold",
                "c.2": "moved",
                "cdate.2": "2027-01-15",
                "c.3": "done",
            },
        )
    )
    assert "Commitments: #1 dropped; #3 done; #2 moved to Fri 15 Jan" in reply  # by due date
    async with org_uow() as uow:
        c1, c2, c3 = [await uow.commitments.get(i) for i in (1, 2, 3)]
        notes = [u.note for u in await uow.commitments.updates(1)]
    assert (c1.status, c2.status, c3.status) == ("dropped", "open", "done")  # type: ignore[union-attr]
    assert c2.due_on == dt.date(2027, 1, 15)  # type: ignore[union-attr]
    assert notes[-1] == "Truck sold"


async def test_the_form_lists_at_most_twelve_commitments(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head = await pid(org_uow, HEAD)
    for n in range(15):
        await bot.on_text(head, f"commit Task {n} by 2027-01-{n + 1:02d}")
    await _open_sanitation(org_uow, clock)
    form = only_form(await bot.on_text(head, "report"))
    listed = [i.name for i in form.inputs if i.name.startswith("c.")]
    assert listed == [f"c.{n}" for n in range(1, 13)]  # the soonest due
    assert "3 more open commitments are not listed here" in text_of(
        Reply(messages=(Card(parts=form.intro, summary="x"),))
    )


async def test_the_due_date_hint_names_a_real_day_that_parses(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.parsing import parse_date

    clock.set(ny(2026, 12, 1, 10))
    await _open_sanitation(org_uow, clock)
    form = only_form(await bot.on_text(await pid(org_uow, HEAD), "report"))
    hint = next(i.hint for i in form.inputs if i.name == "new.due")
    assert hint == "e.g. friday, Dec 11 or 2026-12-11"
    example = dt.date.fromisoformat(hint.rsplit(" ", 1)[1])
    assert example.strftime("%A") == "Friday"
    assert parse_date("Dec 11", today=dt.date(2026, 12, 1)) == example


async def test_counts_in_checkin_cards_are_words_not_fallbacks(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    head = await pid(org_uow, HEAD)
    await bot.on_text(head, "commit Fix the truck by 2026-12-18")
    checkin_id = await _open_sanitation(org_uow, clock)
    texts = [text_of(await bot.on_text(head, "status")), text_of(await bot.on_text(head, "status all"))]
    texts += [card_text(d) for d in await deliveries_to(org_uow, HEAD)]
    async with org_uow() as uow:
        checkin = await uow.checkins.get(checkin_id)
        assert checkin is not None
        unit, person = await uow.units.get(checkin.unit_id), await uow.people.get(head)
    assert unit is not None and person is not None
    for hours, ago in ((1, "1 hour ago"), (5, "5 hours ago"), (30, "1 day ago"), (80, "3 days ago")):
        late = checkin.deadline_at + dt.timedelta(hours=hours)
        texts.append(reminder_card(checkin, unit, person, late, 2).plain_text())
        assert ago in texts[-1]
    assert "1 open commitment," in texts[0]
    assert not [t for t in texts if "(s)" in t]


async def test_status_names_a_metric_without_readings_once(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(ny(2026, 12, 1, 10))
    reply = await bot.on_text(await pid(org_uow, HEAD), "status")
    text = text_of(reply)
    assert "Missed pickups reported to 311: — · target ≤ 120" in text
    card = reply.messages[0]
    assert isinstance(card, Card)
    names = [f.label for p in card.parts if isinstance(p, Facts) for f in p.facts][1:]
    assert len(names) == 4
    for name in names:
        assert text.count(name) == 1, name


async def test_the_form_asks_why_only_for_a_red_value_right_after_it(
    bot: StatBot, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    checkin_id = await _open_sanitation(org_uow, clock)
    head = await pid(org_uow, HEAD)
    form = only_form(await bot.on_button(head, "checkin.open", {"checkin": str(checkin_id)}))
    red = {**GOOD, "m.missed_pickups": "180"}  # target ≤ 120
    again = only_form(await bot.on_form(head, form.action, form.ids, red))
    names = [i.name for i in again.inputs]
    assert names[:3] == ["m.missed_pickups", "why.missed_pickups", "m.tons_collected"]
    assert [n for n in names if n.startswith("why.")] == ["why.missed_pickups"]
    assert "misses the target (≤ 120)" in again.errors["why.missed_pickups"]
    assert {i.name: i.value for i in again.inputs}["m.missed_pickups"] == "180"
    done = await bot.on_form(head, again.action, again.ids, {**red, "why.missed_pickups": "Two trucks down"})
    assert "Thanks! Recorded" in text_of(done)
