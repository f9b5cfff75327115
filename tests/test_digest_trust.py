"""What a leader notices first in a digest: an empty week is not a good week, one fact
sits in one place, a silent unit is one line, numbers and times read right."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.checkins.status import format_change
from bot.clock import FakeClock
from bot.commitments.models import Commitment, answer_origin
from bot.digests.builder import build_digest
from bot.digests.cards import item_parts, reporting_card, scorecard_card, summary_card
from bot.digests.service import build_for_week
from bot.messages.model import Facts, Note
from bot.org.apply import apply_org
from bot.org.context import load_context
from bot.org.models import Metric
from bot.org.schema import OrgFile
from storage.uow import SqlUnitOfWorkFactory
from tests.digest_state import DANA, NOW, WEEK, org, prepare
from tests.digest_state import build as build_week
from tests.helpers import ny

__all__ = ["org"]  # the fixture


async def test_an_empty_week_says_nothing_was_due_and_why(
    uow: SqlUnitOfWorkFactory, example_org: OrgFile
) -> None:
    clock = FakeClock(ny(2026, 12, 1, 10))  # right after `statbot org apply`
    async with uow() as work:
        await apply_org(work, example_org, now=clock.now())
        await work.commit()
    async with uow() as work:
        digest, cards = await build_for_week(work, "2026-W48", clock.now())
    text = cards[0].plain_text()
    assert "Nothing was due in 2026-W48: the units were set up on Tue 01 Dec" in text
    assert "Nothing is off target" not in text
    facts = {f.label: f for p in summary_card(digest).parts if isinstance(p, Facts) for f in p.facts}
    assert facts["Check-ins"].value == "none due" and facts["Check-ins"].status == "none"
    assert facts["Metrics"].status == "none"


async def test_one_fact_one_place(org: SqlUnitOfWorkFactory) -> None:
    ids = (await prepare(org)).ids
    digest = await build_week(org)
    text = "\n".join(c.plain_text() for c in [summary_card(digest), reporting_card(digest)])
    # Fire & EMS missed 2026-W48: once, under Who reported, with its Acknowledge.
    assert text.count("Fire & EMS has not submitted 2026-W48") == 0
    assert "Fire & EMS — escalating, 1 message sent" in text and "Acknowledge Fire & EMS" in text
    assert "message(s)" not in text and "check-in(s)" not in text and "metric(s)" not in text
    # A silent unit is one line in the scorecard.
    scorecard = scorecard_card(digest).plain_text()
    fire = [line for line in scorecard.splitlines() if "Response time" in line or "Fire & EMS" in line]
    assert fire == ["Fire & EMS — no data, did not report · no readings yet (4 metrics) · @Thomas Reilly"]
    assert ids["esc.fire"]


async def test_times_are_in_the_organisation_s_zone(org: SqlUnitOfWorkFactory) -> None:
    await prepare(org)
    digest = await build_week(org)
    late = reporting_card(digest).plain_text()
    assert "Public Works - Streets — submitted Sat 28 Nov 09:00 EST" in late and "UTC" not in late


async def test_a_move_the_wrong_way_still_on_target_is_not_flagged(org: SqlUnitOfWorkFactory) -> None:
    await prepare(org)
    async with org() as work:
        context = await load_context(work)
        data = await work.digest_source.load(week=WEEK)
    metric = next(m for m in data.metrics if m.key == "pothole_days" or m.name.startswith("Days to fill"))
    assert metric.id is not None and metric.direction == "lower" and metric.target == 3
    data.values[metric.id] = {**data.values.get(metric.id, {}), data.weeks[-2]: 2.0, WEEK: 3.0}
    digest = build_digest(data, now=NOW, context=context)
    assert not any(e.kind == "big_move" and e.metric_key == metric.key for e in digest.exceptions)
    data.values[metric.id] = {**data.values[metric.id], WEEK: 4.0}
    digest = build_digest(data, now=NOW, context=context)
    assert any(e.kind == "big_move" and e.metric_key == metric.key for e in digest.exceptions)


def test_a_percentage_moves_by_points() -> None:
    rate = Metric(unit_id=1, key="r", name="Rate", measure="percent", direction="higher", target=25)
    assert format_change(rate, 24.3 - 26.7) == "▼ 2.4 pts"
    assert format_change(rate, 1.0) == "▲ 1 pt"
    days = dataclasses.replace(rate, measure="days")
    assert format_change(days, 1.0) == "▲ 1 day"


async def test_a_flagged_item_shows_its_history_with_the_leaders(org: SqlUnitOfWorkFactory) -> None:
    await prepare(org)
    async with org() as work:
        sanitation = await work.units.by_key("sanitation")
        assert sanitation is not None and sanitation.id is not None
        metric = next(m for m in await work.metrics.for_unit(sanitation.id) if m.key == "missed_pickups")
        mayor = await work.people.by_email(DANA)
        assert mayor is not None

        def question(asked: dt.datetime, answer: str | None) -> Commitment:
            return Commitment(
                unit_id=sanitation.id or 0,
                owner_id=sanitation.head_id,
                text="Why did missed pickups double?",
                due_on=asked.date() + dt.timedelta(days=2),
                status="done" if answer else "open",
                origin="followup",
                created_at=asked,
                updated_at=asked + dt.timedelta(days=1),
                closed_at=asked + dt.timedelta(days=1) if answer else None,
                asked_by=mayor.id,
                answer=answer,
                metric_id=metric.id,
            )

        await work.commitments.add(question(ny(2026, 11, 3, 9), "Holiday schedule."))
        last = await work.commitments.add(question(ny(2026, 11, 17, 9), "Two trucks were in the shop."))
        await work.commitments.add(
            Commitment(
                unit_id=sanitation.id,
                owner_id=sanitation.head_id,
                text="Both trucks back on the road",
                due_on=dt.date(2026, 11, 20),
                status="done",
                origin=answer_origin(last.id or 0),
                created_at=ny(2026, 11, 18, 9),
                updated_at=ny(2026, 11, 19, 9),
                closed_at=ny(2026, 11, 19, 9),
            )
        )
        await work.commit()
    digest = await build_week(org)
    item = next(e for e in digest.exceptions if e.metric_key == "missed_pickups")
    text = "\n".join(p.text for p in item_parts(item) if isinstance(p, Note))
    assert text == (
        "Asked twice since 2026-W45, last answer (2026-W47): “Two trucks were in the shop.” — it promised "
        f"#{(last.id or 0) + 1} “Both trucks back on the road” by Fri 20 Nov: kept."
    )
    # The promise an answer made is in promised vs delivered like any other.
    async with org() as work:
        data = await work.digest_source.load(week="2026-W47")
        context = await load_context(work)
    earlier = build_digest(data, now=ny(2026, 11, 23, 9), context=context)
    assert any(p.text == "Both trucks back on the road" and p.outcome == "kept" for p in earlier.promises)
