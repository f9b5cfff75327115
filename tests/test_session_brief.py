"""A stat session's brief: what it says and in which order, its suggested questions, the
analysts' edits, who may see it, and the sweep that drafts and sends it once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkins.models import Reading
from bot.clock import FakeClock
from bot.commands import BriefAdd, BriefDrop, BriefShow, CommandError, parse_command
from bot.commitments.models import Commitment, CommitmentStatus
from bot.conversation import StatBot
from bot.org.context import load_context
from bot.org.models import Metric, Unit
from bot.sessions.brief_service import build
from bot.sessions.jobs import send_due_briefs
from bot.sessions.models import DocumentKind, DocumentState, ItemKind, SessionItem, SessionState, StatSession
from storage.records import CommitmentRecord, MetricRecord, ReadingRecord, UnitRecord
from storage.repositories.base import values_of
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import card_text, deliveries_to, ny, pid, text_of
from tests.test_sessions import ANALYST, CHAIR, HEAD, MAYOR, planned, say

__all__ = ["planned"]  # fixture

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"]
HR_LEADER = "marcus.bell@riverton.gov"


async def _session(uow: SqlUnitOfWorkFactory, unit_key: str, index: int = 0) -> StatSession:
    async with uow() as work:
        unit = await work.units.by_key(unit_key)
        assert unit is not None
        found = [
            s for s in await work.sessions.between(NOW, NOW + dt.timedelta(weeks=6)) if s.unit_id == unit.id
        ]
    return found[index]


def _commitment(unit: Unit, owner: int, text: str, due: dt.date, **more: Any) -> Commitment:
    assert unit.id is not None
    fields: dict[str, Any] = {
        "status": CommitmentStatus.OPEN,
        "origin": "command",
        "created_at": NOW - dt.timedelta(days=20),
        "updated_at": NOW - dt.timedelta(days=2),
    }
    fields.update(more)
    return Commitment(unit_id=unit.id, owner_id=owner, text=text, due_on=due, **fields)


@pytest.fixture
async def history(planned: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    """Sanitation's last session (Tue 17 Nov, closed) and what it captured, its numbers
    since, and its commitments."""
    head, mayor, chair = [await pid(planned, e) for e in (HEAD, MAYOR, CHAIR)]
    async with planned() as work:
        unit = await work.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        metrics = {m.key: m for m in await work.metrics.for_unit(unit.id)}
        last = await work.sessions.add(
            StatSession(
                unit_id=unit.id,
                starts_at=ny(2026, 11, 17, 10),
                minutes=60,
                chair_id=chair,
                scheduled_chair_id=chair,
                state=SessionState.CLOSED,
                created_at=NOW - dt.timedelta(days=30),
                updated_at=NOW - dt.timedelta(days=13),
                closed_at=ny(2026, 11, 17, 11),
                closed_by=chair,
            )
        )
        origin = f"session:{last.id}"
        promised = [
            _commitment(
                unit,
                head,
                "Hire two drivers",
                dt.date(2026, 11, 27),
                status=CommitmentStatus.DONE,
                closed_at=ny(2026, 11, 25, 12),
                origin=origin,
            ),
            _commitment(unit, head, "Publish the route map", dt.date(2026, 11, 25), origin=origin),
            _commitment(unit, head, "Fix the depot scales", dt.date(2026, 12, 10), origin=origin),
            _commitment(
                unit,
                head,
                "Pilot Sunday pickups",
                dt.date(2026, 11, 28),
                status=CommitmentStatus.DROPPED,
                closed_at=ny(2026, 11, 20),
                origin=origin,
            ),
        ]
        for c in promised:
            c = await work.commitments.add(c)
            await work.session_items.add(
                SessionItem(
                    session_id=last.id or 0,
                    kind=ItemKind.PROMISE,
                    text=c.text,
                    created_by=chair,
                    created_at=ny(2026, 11, 17, 10, 30),
                    owner_id=head,
                    due_on=c.due_on,
                    commitment_id=c.id,
                )
            )
        await work.session_items.add(
            SessionItem(
                session_id=last.id or 0,
                kind=ItemKind.REQUEST,
                text="Overtime hours by district",
                created_by=chair,
                created_at=ny(2026, 11, 17, 10, 40),
                owner_id=head,
                due_on=dt.date(2026, 11, 27),
                answer="https://files.riverton.gov/overtime.xlsx",
                answered_by=head,
                answered_at=ny(2026, 11, 24, 9),
            )
        )
        await work.session_items.add(
            SessionItem(
                session_id=last.id or 0,
                kind=ItemKind.REQUEST,
                text="Complaints per route",
                created_by=chair,
                created_at=ny(2026, 11, 17, 10, 45),
                owner_id=head,
                due_on=dt.date(2026, 11, 27),
            )
        )
        values = {
            "missed_pickups": [110, 160, 180, 200, 210],  # off target from W45: 4 weeks
            "tons_collected": [1950, 1950, 1950, 1960, 1700],  # a big drop in W48
            "recycling_diversion": [30, 30, 30, 30, 30],
            "missed_pickups_48h": [95, 95, 95, 95, 95],
        }
        notes = {("missed_pickups", "2026-W47"): "Two trucks out of service"}
        for key, series in values.items():
            for week, value in zip(WEEKS, series, strict=True):
                await work.readings.add(
                    Reading(
                        unit_id=unit.id,
                        metric_id=metrics[key].id or 0,
                        week=week,
                        value=value,
                        updated_at=NOW - dt.timedelta(days=3),
                        updated_by=head,
                        note=notes.get((key, week), ""),
                    )
                )
        await work.commitments.add(
            _commitment(
                unit,
                head,
                "Why are missed pickups up?",
                dt.date(2026, 11, 20),
                status=CommitmentStatus.DONE,
                origin="followup",
                asked_by=mayor,
                metric_id=metrics["missed_pickups"].id,
                created_at=ny(2026, 11, 16, 9),
                answer="Trucks are ageing; new ones arrive in January",
                closed_at=ny(2026, 11, 18),
            )
        )
        await work.commitments.add(
            _commitment(unit, head, "Clear the bulk-item backlog", dt.date(2026, 12, 3))
        )
        await work.commitments.add(_commitment(unit, head, "Audit fuel cards", dt.date(2026, 11, 24)))
        await work.commitments.add(_commitment(unit, head, "Replace bins on Elm St", dt.date(2027, 2, 1)))
        await work.commit()
    return planned


def _sections(text: str) -> list[str]:
    headings = [
        "What was promised at the last session",
        "Data requested last time",
        "Standing exceptions",
        "New since the last session",
        "Commitments due",
        "Suggested questions",
    ]
    return [h for h in sorted(headings, key=text.index)]


async def test_the_brief_says_what_happened_since_the_last_session_in_order(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    session = await _session(history, "sanitation")
    text = await say(bot, history, ANALYST, f"brief {session.id}")
    assert f"Brief for session #{session.id}: Sanitation, Tue 01 Dec 10:00 EST" in text
    assert _sections(text) == [
        "What was promised at the last session",
        "Data requested last time",
        "Standing exceptions",
        "New since the last session",
        "Commitments due",
        "Suggested questions",
    ]
    order = [
        "1. Hire two drivers (Robert Hayes): kept: done Wed 25 Nov, due Fri 27 Nov",
        "2. Publish the route map (Robert Hayes): late: due Wed 25 Nov, open 5 days past it",
        "3. Fix the depot scales (Robert Hayes): open: due Thu 10 Dec",
        "4. Pilot Sunday pickups (Robert Hayes): dropped (was due Sat 28 Nov)",
        "5. Overtime hours by district (Robert Hayes): came Tue 24 Nov: https://files.riverton.gov/overtime.xlsx",
        "6. Complaints per route (Robert Hayes): not come yet (asked for Fri 27 Nov)",
        "7. Missed pickups reported to 311: 210 in 2026-W48 against a target of ≤ 120; off target 4 weeks running."
        " The unit wrote for 2026-W47: “Two trucks out of service”. Dana Whitfield asked on Mon 16 Nov:"
        " “Why are missed pickups up?”; the answer: “Trucks are ageing; new ones arrive in January”",
        "8. Tons of refuse collected: moved the wrong way (▼ 260) to 1,700 in 2026-W48",
        "9. Audit fuel cards (Robert Hayes): due Tue 24 Nov, 6 days overdue",
        "10. Clear the bulk-item backlog (Robert Hayes): due Thu 03 Dec",
        "11. The promise “Publish the route map” due Wed 25 Nov is late: when will it be done?",
        "12. The promise “Pilot Sunday pickups” was dropped",
        "13. The data asked for last time, “Complaints per route”, has not come: when will it?",
        "14. Missed pickups reported to 311 has been off target for 4 weeks after 1 earlier question;"
        " what is different about the plan this time?",
        "15. Tons of refuse collected moved the wrong way in 2026-W48 (▼ 260)",
        "16. “Audit fuel cards” was due Tue 24 Nov",
    ]
    missing = [line for line in order if line not in text]
    assert not missing, text
    at = [text.index(line) for line in order]
    assert at == sorted(at), text
    assert "Replace bins on Elm St" not in text  # due long after the session
    assert "17." not in text
    assert "[Send now]" in text and f"brief add {session.id} <text>" in text


async def test_an_analyst_adds_and_drops_items_and_the_unit_head_may_not(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    session = await _session(history, "sanitation")
    added = await say(
        bot, history, ANALYST, f"brief {session.id} add Ask about the new trucks' delivery date"
    )
    assert "17. Ask about the new trucks' delivery date: added to the draft" in added
    dropped = await say(bot, history, CHAIR, f"brief {session.id} drop 8")
    # Dropping an item drops the question about it too; the others keep their numbers.
    assert "Tons of refuse collected" not in dropped and "2 items dropped" not in dropped
    assert "1 item dropped from the draft." in dropped
    assert "17. Ask about the new trucks' delivery date" in dropped
    assert "9. Audit fuel cards" in dropped and "\n8. " not in dropped and "\n15. " not in dropped
    assert "has no item 40" in await say(bot, history, ANALYST, f"brief {session.id} drop 40")
    for gone in (8, 15):  # the item, and the question about it
        assert f"Item {gone} of the brief for session #{session.id} was dropped already" in await say(
            bot, history, ANALYST, f"brief {session.id} drop {gone}"
        )
    for email in (HEAD, "samuel.okafor@riverton.gov"):
        refused = await say(bot, history, email, f"brief {session.id} add Anything")
        assert f"There is no brief for session #{session.id} that you may see." == refused
    async with history() as work:
        document = await work.session_documents.of(session.id or 0, DocumentKind.BRIEF)
        entries = [e.action for e in await work.audit.recent()]
    assert document is not None and document.state == DocumentState.DRAFT
    assert document.edits["added"] == ["Ask about the new trucks' delivery date"]
    assert len(document.edits["dropped"]) == 1 and document.edits["dropped"][0].endswith(":big_move")
    assert "Ask about the new trucks" in document.body and "1,700" not in document.body
    assert "- **17. Ask about the new trucks' delivery date**" in document.body
    assert "- **9. Audit fuel cards (Robert Hayes)** — due Tue 24 Nov, 6 days overdue" in document.body
    assert len(document.edits["numbered"]) == 17 and document.edits["numbered"][7].endswith(":big_move")
    assert "brief.item_added" in entries and "brief.item_dropped" in entries


async def test_an_item_appearing_between_reading_and_dropping_does_not_move_the_numbers(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    session = await _session(history, "sanitation")
    read = await say(bot, history, ANALYST, f"brief {session.id}")
    assert "8. Tons of refuse collected" in read and "17." not in read
    # Before the analyst types `drop 8`, the last session's record gets a request it had
    # missed: a new item in the second section, ahead of item 8.
    chair, head = await pid(history, CHAIR), await pid(history, HEAD)
    async with history() as work:
        unit = await work.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        last = await work.sessions.last_closed(unit.id, session.starts_at)
        assert last is not None and last.id is not None
        await work.session_items.add(
            SessionItem(
                session_id=last.id,
                kind=ItemKind.REQUEST,
                text="Bins per district",
                created_by=chair,
                created_at=ny(2026, 11, 17, 10, 50),
                owner_id=head,
                due_on=dt.date(2026, 11, 27),
            )
        )
        await work.commit()
    dropped = await say(bot, history, ANALYST, f"brief {session.id} drop 8")
    # Item 8 is still the tonnage drop the analyst read; the new request and its question
    # get the next numbers, and everything else keeps its own.
    assert "Tons of refuse collected" not in dropped and "moved the wrong way" not in dropped
    assert "7. Missed pickups reported to 311: 210 in 2026-W48" in dropped
    assert "17. Bins per district (Robert Hayes): not come yet" in dropped
    assert "18. The data asked for last time, “Bins per district”, has not come" in dropped
    assert "6. Complaints per route" in dropped and "9. Audit fuel cards" in dropped
    async with history() as work:
        document = await work.session_documents.of(session.id or 0, DocumentKind.BRIEF)
        (entry,) = [e for e in await work.audit.recent() if e.action == "brief.item_dropped"]
    assert document is not None and document.edits["dropped"] == [document.edits["numbered"][7]]
    assert document.edits["numbered"][7].endswith(":big_move")
    assert entry.detail["number"] == 8 and entry.detail["text"] == "Tons of refuse collected"
    # Shown again: the numbers stay as they were given.
    again = await say(bot, history, CHAIR, f"brief {session.id}")
    assert "17. Bins per district" in again and "7. Missed pickups" in again and "\n8. " not in again


async def test_send_now_sends_once_and_a_sent_brief_cannot_change(
    history: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(history, clock)
    session = await _session(history, "sanitation")
    await say(bot, history, ANALYST, f"brief {session.id}")
    analyst = await pid(history, ANALYST)
    ids = {"session": str(session.id)}
    assert text_of(await bot.on_button(await pid(history, HEAD), "brief.send", ids)).startswith(
        "There is no brief"
    )
    sent = text_of(await bot.on_button(analyst, "brief.send", ids))
    assert sent == f"Sent the brief for session #{session.id} to 2 people."
    again = text_of(await bot.on_button(analyst, "brief.send", ids))
    assert "has been sent; a sent brief cannot be changed" in again
    assert "cannot be changed" in await say(bot, history, CHAIR, f"brief {session.id} drop 1")
    shown = await say(bot, history, CHAIR, f"brief {session.id}")
    assert "Standing exceptions" in shown and "Sent Mon 30 Nov 07:00 EST" in shown
    # The sweep finds it sent: nothing goes out twice.
    await send_due_briefs(history, clock)
    for email in (CHAIR, ANALYST):
        key = f"session:{session.id}:brief:"
        briefs = [d for d in await deliveries_to(history, email) if d.idempotency_key.startswith(key)]
        assert len(briefs) == 1 and "Missed pickups reported to 311" in card_text(briefs[0])


async def test_the_sweep_drafts_then_sends_at_the_working_moment_skipping_the_weekend(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    streets = await _session(planned, "streets")  # Tue 15 Dec 10:00 in New York
    # Sanitation's session of Tue 1 Dec is due at once: drafted and sent now.
    await send_due_briefs(planned, clock)
    async with planned() as work:
        assert await work.session_documents.of(streets.id or 0, DocumentKind.BRIEF) is None
    clock.set(ny(2026, 12, 10, 9, 59))
    await send_due_briefs(planned, clock)
    async with planned() as work:
        assert await work.session_documents.of(streets.id or 0, DocumentKind.BRIEF) is None
    clock.set(ny(2026, 12, 10, 10, 0))  # 72 working hours before: the draft opens
    assert await send_due_briefs(planned, clock) == 1
    drafts = [
        d
        for d in await deliveries_to(planned, ANALYST)
        if f"session:{streets.id}:brief-draft" in d.idempotency_key
    ]
    assert len(drafts) == 1 and "Draft. It goes out Fri 11 Dec 10:00 EST." in card_text(drafts[0])
    clock.set(ny(2026, 12, 11, 9, 59))
    assert await send_due_briefs(planned, clock) == 0
    # 48 hours of working days before Tuesday 10:00 is Friday 10:00, not Sunday.
    clock.set(ny(2026, 12, 11, 10, 0))
    assert await send_due_briefs(planned, clock) == 1
    assert await send_due_briefs(planned, clock) == 0
    for email in (CHAIR, ANALYST):
        sent = [
            d
            for d in await deliveries_to(planned, email)
            if d.idempotency_key.startswith(f"session:{streets.id}:brief:")
        ]
        assert len(sent) == 1, email
    async with planned() as work:
        document = await work.session_documents.of(streets.id or 0, DocumentKind.BRIEF)
    assert document is not None and document.state == DocumentState.SENT
    assert document.sent_at == ny(2026, 12, 11, 10, 0)
    assert document.body.startswith(f"# Brief for session #{streets.id}: Public Works - Streets")
    assert "## Suggested questions" in document.body


async def test_a_restricted_units_brief_stays_with_who_may_see_the_unit(
    planned: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    bot = StatBot(planned, clock)
    done = await say(bot, planned, HR_LEADER, "session hr Dec 10 14:00")
    number = int(done.split("#")[1].split(":")[0])
    assert (
        await say(bot, planned, ANALYST, f"brief {number}")
        == f"There is no brief for session #{number} that you may see."
    )
    assert "Brief for session" in await say(bot, planned, HR_LEADER, f"brief {number}")


def test_brief_commands_parse() -> None:
    today = dt.date(2026, 11, 30)
    assert parse_command("brief 12", today=today) == BriefShow(id=12)
    assert parse_command("brief #12 add Ask about trucks", today=today) == BriefAdd(
        id=12, text="Ask about trucks"
    )
    assert parse_command("brief 12 drop 3", today=today) == BriefDrop(id=12, item=3)
    # The order the draft card and the help show: the word, then the session number.
    assert parse_command("brief add 12 Ask about trucks", today=today) == BriefAdd(
        id=12, text="Ask about trucks"
    )
    assert parse_command("brief drop #12 3", today=today) == BriefDrop(id=12, item=3)
    assert parse_command("/stat brief DROP 12 3", today=today) == BriefDrop(id=12, item=3)
    for bad, problem in (
        ("brief", "session number"),
        ("brief 12 drop", "which item"),
        ("brief 12 add", "what to add"),
        ("brief 12 redo", "add <text> or drop"),
        ("brief drop", "session number after drop"),
        ("brief add 12", "what to add"),
        ("brief drop 12", "which item"),
        ("brief drop twelve 3", "session number"),
    ):
        with pytest.raises(CommandError) as caught:
            parse_command(bad, today=today)
        assert problem in caught.value.message


async def test_building_a_brief_runs_the_same_statements_for_1000_units(
    history: SqlUnitOfWorkFactory, engine: AsyncEngine, clock: FakeClock
) -> None:
    session = await _session(history, "sanitation")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def measure() -> tuple[int, str]:
        async with history() as work:
            ctx = await load_context(work)
            statements.clear()
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            try:
                brief = await build(work, ctx, session, None, clock.now())
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count)
        return len(statements), brief.unit_name

    before, _ = await measure()
    head = await pid(history, HEAD)
    async with history() as work:
        units = [
            values_of(
                Unit(
                    key=f"u{n}",
                    name=f"Unit {n}",
                    timezone="America/New_York",
                    head_id=head,
                    leader_id=head,
                    created_at=NOW,
                )
            )
            for n in range(1000)
        ]
        ids = list((await work.session.execute(insert(UnitRecord).returning(UnitRecord.id), units)).scalars())
        metric_ids = list(
            (
                await work.session.execute(
                    insert(MetricRecord).returning(MetricRecord.id),
                    [
                        values_of(
                            Metric(
                                unit_id=u, key="m", name="M", measure="count", direction="higher", target=10
                            )
                        )
                        for u in ids
                    ],
                )
            ).scalars()
        )
        await work.session.execute(
            insert(ReadingRecord),
            [
                values_of(Reading(unit_id=u, metric_id=m, week=w, value=3, updated_at=NOW, updated_by=head))
                for u, m in zip(ids, metric_ids, strict=True)
                for w in WEEKS
            ],
        )
        await work.session.execute(
            insert(CommitmentRecord),
            [
                values_of(
                    Commitment(
                        unit_id=u,
                        owner_id=head,
                        text="x",
                        due_on=dt.date(2026, 12, 1),
                        status=CommitmentStatus.OPEN,
                        origin="command",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
                for u in ids
            ],
        )
        await work.commit()
    after, name = await measure()
    assert before == after <= 10 and name == "Sanitation"
