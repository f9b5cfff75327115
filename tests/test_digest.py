"""The Monday leadership digest for a prepared week, checked item by item, and posting it
exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkins.models import Reading
from bot.clock import FakeClock
from bot.commitments.models import Commitment
from bot.digests.cards import digest_cards, digest_text, item_text
from bot.digests.charts import render_trend_chart
from bot.digests.jobs import post_due_digests
from bot.digests.models import Digest, DigestRecord, PostedDigest
from bot.digests.service import build_for_week, post_now
from bot.messages import Card
from bot.messages.model import Buttons, Image
from bot.org.apply import apply_org
from bot.org.models import Metric, Unit
from bot.org.schema import OrgFile
from storage.uow import SqlUnitOfWorkFactory
from tests.digest_state import (
    CREATED,
    DANA,
    DIGEST_TIME,
    JORDAN,
    NOW,
    PRIYA,
    WEEK,
    make_checkin,
    org,
    org_maps,
)
from tests.digest_state import build as _digest
from tests.digest_state import prepare as _prepare
from tests.helpers import ny

__all__ = ["org"]  # the fixture


async def test_reporting_lists_who_was_on_time_late_missing_and_excused(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    digest = await _digest(org)
    by_state: dict[str, list[str]] = {}
    for entry in digest.reporting:
        by_state.setdefault(entry.state, []).append(entry.unit_key)
    assert by_state == {
        "on_time": ["housing", "hr", "permits", "sanitation", "water"],
        "late": ["streets"],
        "missing": ["fire", "parks"],
        "excused": ["customer_service"],
    }
    excused = next(e for e in digest.reporting if e.state == "excused")
    assert excused.excuse == "Thanksgiving: the head and deputy are away"
    fire = next(e for e in digest.reporting if e.unit_key == "fire")
    assert fire.head is not None and fire.head.email == "thomas.reilly@riverton.gov"


async def test_scorecard_puts_problems_first_with_status_change_and_sparkline(
    org: SqlUnitOfWorkFactory,
) -> None:
    await _prepare(org)
    digest = await _digest(org)
    order = [(u.unit_key, u.status) for u in digest.scorecard]
    assert order[:5] == [
        ("streets", "red"),
        ("sanitation", "red"),  # red first (by name: "Public Works - Streets")
        ("fire", "none"),
        ("parks", "green"),  # then units that did not report
        ("housing", "amber"),
    ]
    assert {key for key, status in order[5:]} == {"customer_service", "hr", "permits", "water"}
    sanitation = next(u for u in digest.scorecard if u.unit_key == "sanitation")
    missed = sanitation.metrics[0]
    assert (missed.metric_key, missed.value_text, missed.target_text, missed.status) == (
        "missed_pickups",
        "200",
        "≤ 120",
        "red",
    )
    assert (missed.change, missed.change_text, missed.change_bad) == (30, "▲ 30", True)
    assert len(missed.sparkline) == 12 and missed.sparkline[-3:] == (160, 170, 200)
    assert missed.off_target_weeks == 3 and missed.note == "Two trucks broke down"
    tons = sanitation.metrics[1]
    assert (tons.status, tons.change, tons.change_text) == ("green", 0, "")


async def test_exceptions_are_ranked_and_carry_their_buttons(org: SqlUnitOfWorkFactory) -> None:
    prepared = await _prepare(org)
    ids = prepared.ids
    digest = await _digest(org)
    listed = [(e.severity, e.kind, e.unit_key) for e in digest.exceptions]
    assert listed == [
        ("high", "off_target_streak", "sanitation"),
        ("high", "big_move", "streets"),
        ("high", "overdue_commitment", "sanitation"),  # 10 days overdue
        ("high", "unanswered_followup", "housing"),  # was due Friday
        ("high", "open_escalation", "fire"),  # W47 is still missing, chased for 10 days
        ("medium", "confirmed_outlier", "water"),
        ("medium", "overdue_commitment", "water"),  # 3 days overdue
        ("medium", "quiet_commitment", "streets"),
        ("low", "due_this_week", "parks"),
    ]
    assert listed[0] == ("high", "off_target_streak", "sanitation")
    kinds = {e.kind for e in digest.exceptions}
    assert kinds == {
        "off_target_streak",
        "big_move",
        "confirmed_outlier",
        "overdue_commitment",
        "quiet_commitment",
        "due_this_week",
        "unanswered_followup",
        "open_escalation",
    }
    severities = [e.severity for e in digest.exceptions]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)

    streak = digest.exceptions[0]
    assert item_text(streak) == (
        "Missed pickups reported to 311: 200 (target ≤ 120), off target 3 weeks running, "
        "worse than last week (170)"
    )
    overdue = next(e for e in digest.exceptions if e.commitment_id == ids["overdue"])
    assert item_text(overdue) == f"#{ids['overdue']} “Hire two drivers” was due Fri 20 Nov (10 days overdue)"
    # The overdue commitment is escalating: one item, with both decisions on it.
    assert overdue.escalation_id == ids["esc.overdue"]
    # The missed check-in of the covered week is listed once, under "Who reported",
    # with the Acknowledge of its escalation: not also as an "Escalation open" item.
    assert not any(e.checkin_id == ids["checkin.fire"] for e in digest.exceptions)
    fire = next(r for r in digest.reporting if r.unit_key == "fire")
    assert fire.state == "missing" and fire.escalation_id == ids["esc.fire"]
    escalation = next(e for e in digest.exceptions if e.kind == "open_escalation")
    assert escalation.escalation_id == ids["esc.fire.before"]
    assert item_text(escalation).startswith("Fire & EMS has not submitted 2026-W47")
    outlier = next(e for e in digest.exceptions if e.kind == "confirmed_outlier")
    assert "confirmed despite the data check — “Really two: a quiet week”" in item_text(outlier)
    followup = next(e for e in digest.exceptions if e.kind == "unanswered_followup")
    assert item_text(followup).startswith("Dana Whitfield asked: “Why is the inspection backlog growing?”")

    cards = digest_cards(digest)
    summary = cards[0]
    buttons = [b for p in summary.parts if isinstance(p, Buttons) for b in p.buttons]
    assert [(b.label, b.action, b.ids) for b in buttons[:3]] == [
        ("Ask about this", "followup.ask", {"unit": "sanitation", "metric": "missed_pickups"}),
        ("Ask about this", "followup.ask", {"unit": "streets", "metric": "potholes_filled"}),
        ("Ask about this", "followup.ask", {"commitment": str(ids["overdue"])}),
    ]
    assert ("Acknowledge", "escalation.ack", {"escalation": str(ids["esc.overdue"])}) in [
        (b.label, b.action, b.ids) for b in buttons
    ]
    text = summary.plain_text()
    assert "Leadership digest · 2026-W48" in text
    assert "Check-ins: 5 on time, 1 late, 2 not submitted, 1 excused" in text
    assert "Commitments: 2 overdue, 1 gone quiet, 1 due this week" in text
    assert "@Robert Hayes" in text  # the person who owes the answer is mentioned


async def test_promised_vs_delivered(org: SqlUnitOfWorkFactory) -> None:
    prepared = await _prepare(org)
    digest = await _digest(org)
    outcomes = {p.commitment_id: p.outcome for p in digest.promises}
    ids = prepared.ids
    assert outcomes == {
        ids["kept"]: "kept",
        ids["kept_late"]: "kept_late",
        ids["broken"]: "not_kept",
        ids["dropped"]: "dropped",
    }
    assert [p.outcome for p in digest.promises] == ["not_kept", "dropped", "kept_late", "kept"]
    text = digest_text(digest)
    assert "2 of 4 commitments due last week were kept." in text


async def test_cadence_health(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    cadence = (await _digest(org)).cadence
    assert cadence.weeks == ("2026-W45", "2026-W46", "2026-W47", "2026-W48")
    # Restricted HR stays out of the totals: 7 units with check-ins in W45-W47 (21, one
    # late, one missed) + W48: 6 due (excused left out), 4 on time.
    assert (cadence.checkins_due, cadence.checkins_on_time) == (21 + 6, 19 + 4)
    assert (cadence.followups_asked, cadence.followups_answered, cadence.followups_waiting) == (2, 1, 0)
    assert cadence.leader_actions == 2  # commitment.created is not a leader action
    assert (cadence.flagged_last_week, cadence.flagged_acted_on) == (3, 2)
    text = digest_text(await _digest(org))
    assert "Items flagged last week that got a leader action: 67% (2 of 3)" in text
    assert "Leaders' follow-ups answered (4 weeks): 50% (1 of 2)" in text


async def test_restricted_unit_stays_out_of_the_channel(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    clock = FakeClock(NOW)
    assert await post_due_digests(org, clock) == 1
    channel = await _cards_to(org, "channel:citistat")
    mayor = await _cards_to(org, "person:" + str(await _pid(org, DANA)))
    analyst = await _cards_to(org, "person:" + str(await _pid(org, JORDAN)))
    assert "Human Resources" not in "\n".join(c.plain_text() for c in channel)
    assert "Human Resources" not in "\n".join(c.plain_text() for c in analyst)
    assert "Human Resources" in "\n".join(c.plain_text() for c in mayor)
    # The channel's cadence figures do not count HR either.
    assert "Check-ins on time, 4 weeks: 85% (23 of 27)" in "\n".join(c.plain_text() for c in channel)


async def _pid(uow: SqlUnitOfWorkFactory, email: str) -> int:
    async with uow() as work:
        found = await work.people.by_email(email)
    assert found is not None and found.id is not None
    return found.id


async def _cards_to(uow: SqlUnitOfWorkFactory, audience: str) -> list[Card]:
    async with uow() as work:
        return [Card.model_validate(d.payload) for d in await work.deliveries.for_audience(audience)]


async def _all_deliveries(uow: SqlUnitOfWorkFactory) -> list[str]:
    async with uow() as work:
        keys = []
        for audience in ("channel:citistat", *[f"person:{n}" for n in range(1, 60)]):
            keys += [d.idempotency_key for d in await work.deliveries.for_audience(audience)]
    return keys


async def test_posted_once_at_monday_eight_to_channel_and_audience(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    clock = FakeClock(DIGEST_TIME - dt.timedelta(minutes=1))
    assert await post_due_digests(org, clock) == 0
    assert await _all_deliveries(org) == []
    clock.set(DIGEST_TIME)
    assert await post_due_digests(org, clock) == 1
    assert await post_due_digests(org, clock) == 0  # the sweep again, or a replica
    clock.advance(dt.timedelta(hours=3))
    assert await post_due_digests(org, clock) == 0
    keys = await _all_deliveries(org)
    assert len(keys) == len(set(keys))
    audiences = {k.split(":")[2] + ":" + k.split(":")[3] for k in keys}
    expected = {"channel:citistat"} | {
        f"person:{await _pid(org, e)}" for e in (DANA, "marcus.bell@riverton.gov", PRIYA, JORDAN)
    }
    assert audiences == expected
    first = (await _cards_to(org, "channel:citistat"))[0]
    assert first.plain_text().startswith("Leadership digest · 2026-W48")
    async with org() as work:
        record = await work.digests.get("leadership", WEEK)
        assert record is not None and record.posted_at == DIGEST_TIME
        (ref,) = [r for r in record.posted.charts if r.endswith("-all")]
        chart = await work.digest_source.chart(ref)
    assert chart is not None and chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Missed pickups reported to 311" in chart.alt_text


async def test_posted_once_after_downtime_but_not_a_week_late(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    clock = FakeClock(ny(2026, 12, 1, 10))  # back on Tuesday morning
    assert await post_due_digests(org, clock) == 1
    assert await post_due_digests(org, clock) == 0
    async with org() as work:
        assert await work.digests.get("leadership", WEEK) is not None
    # The next week: down from Sunday to the next Monday night — that one is still posted
    # (W49 on Monday 7 Dec), but a bot back only on the Monday after next skips W49.
    clock.set(ny(2026, 12, 14, 9))
    assert await post_due_digests(org, clock) == 1
    async with org() as work:
        assert await work.digests.get("leadership", "2026-W49") is None
        assert await work.digests.get("leadership", "2026-W50") is not None
    clock.set(ny(2026, 12, 20, 23))  # Sunday: six days and 15 hours late for W50's Monday
    assert await post_due_digests(org, clock) == 0


async def test_post_now_does_not_resend_unless_forced(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    clock = FakeClock(NOW)
    first = await post_now(org, clock, WEEK)
    assert first.posted and first.deliveries > 0
    again = await post_now(org, clock, WEEK)
    assert not again.posted and again.posted_at == NOW
    clock.advance(dt.timedelta(hours=1))
    forced = await post_now(org, clock, WEEK, force=True)
    assert forced.posted and forced.deliveries == first.deliveries
    assert await post_due_digests(org, clock) == 0


async def test_build_for_week_gives_the_cards_for_the_cli(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    async with org() as work:
        digest, cards = await build_for_week(work, WEEK, NOW)
    assert digest.week == WEEK
    assert [c.parts[0].text for c in cards if hasattr(c.parts[0], "text")][:2] == [
        "Leadership digest · 2026-W48",
        "Scorecard · 2026-W48",
    ]
    images = [p for c in cards for p in c.parts if isinstance(p, Image)]
    assert len(images) == 1 and images[0].ref == "digest-2026-W48-all"


async def test_chart_is_a_png_with_a_text_alternative(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    digest = await _digest(org)
    assert [(c.unit_key, c.metric_key) for c in digest.charts] == [
        ("sanitation", "missed_pickups"),
        ("streets", "potholes_filled"),
    ]
    png, alt = render_trend_chart(digest.charts)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert alt.startswith("Trends of 2 metrics needing attention, 2026-W37 to 2026-W48.")
    assert "Sanitation — Missed pickups reported to 311: 200 against a target of 120 (lower is better)" in alt
    assert "off target 3 weeks running" in alt


async def test_load_runs_the_same_statements_for_more_units(
    org: SqlUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    await _prepare(org)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def measure() -> int:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            async with org() as work:
                await work.digest_source.load(week=WEEK)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        return len(statements)

    before = await measure()
    units, _, people = await org_maps(org)
    head = people["robert.hayes@riverton.gov"].id or 0
    async with org() as work:
        for n in range(6):
            unit = await work.units.add(
                Unit(
                    key=f"extra{n}",
                    name=f"Extra {n}",
                    timezone="America/New_York",
                    head_id=head,
                    leader_id=head,
                    created_at=CREATED,
                )
            )
            for m in range(3):
                metric = await work.metrics.add(
                    Metric(
                        unit_id=unit.id or 0,
                        key=f"m{m}",
                        name=f"M{m}",
                        measure="count",
                        direction="higher",
                        target=10,
                    )
                )
                await work.readings.add(
                    Reading(
                        unit_id=unit.id or 0,
                        metric_id=metric.id or 0,
                        week=WEEK,
                        value=3,
                        updated_at=NOW,
                        updated_by=None,
                    )
                )
            await work.checkins.add(make_checkin(unit, WEEK, "submitted", by=head))
            await work.commitments.add(
                Commitment(
                    unit_id=unit.id or 0,
                    owner_id=head,
                    text="x",
                    due_on=dt.date(2026, 12, 1),
                    status="open",
                    origin="command",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await work.commit()
    after = await measure()
    assert before == after <= 13
    assert len((await _digest(org)).scorecard) == len(units) + 6


async def test_first_digest_after_install_says_nothing_about_unasked_units(
    uow: SqlUnitOfWorkFactory, example_org: OrgFile
) -> None:
    # Installed on Saturday 28 Nov: no check-in of 2026-W48 could have opened.
    clock = FakeClock(ny(2026, 11, 28, 12))
    async with uow() as work:
        await apply_org(work, example_org, now=clock.now())
        await work.commit()
    clock.set(ny(2026, 11, 30, 8, 5))
    assert await post_due_digests(uow, clock) == 0
    async with uow() as work:
        record = await work.digests.get("leadership", "2026-W48")
        assert record is not None and record.content == {"skipped": "no units"}
        assert await work.deliveries.since(0) == []


def test_every_exception_kind_has_one_detector_and_its_words() -> None:
    from bot.digests.cards import _KIND_WORD
    from bot.digests.detectors import DETECTORS
    from bot.digests.models import KIND_ORDER, ExceptionKind

    assert set(DETECTORS) == set(get_args(ExceptionKind)) == set(KIND_ORDER)
    assert len(KIND_ORDER) == len(set(KIND_ORDER))
    assert len(set(DETECTORS.values())) == len(DETECTORS)
    assert set(_KIND_WORD) == set(KIND_ORDER)


async def test_a_digest_posted_before_items_carried_facts_still_reads(org: SqlUnitOfWorkFactory) -> None:
    await _prepare(org)
    digest = await _digest(org)
    stored = digest.model_dump(mode="json")
    for item, written in zip(stored["exceptions"], digest.exceptions, strict=True):
        # The shape an earlier version stored: the item's text instead of its facts, and
        # "no change" written into the scorecard's lines.
        del item["facts"]
        item["text"] = item_text(written)
    for unit in stored["scorecard"]:
        for line in unit["metrics"]:
            if line["change"] == 0:
                line["change_text"] = "no change"
    old = Digest.model_validate(stored)
    assert [e.facts.type for e in old.exceptions] == ["written"] * len(digest.exceptions)
    assert digest_text(old) == digest_text(digest)


def test_posted_digest_record_keeps_the_stored_shape() -> None:
    skipped = DigestRecord.of("leadership", WEEK, NOW, PostedDigest.skip("no units"))
    assert skipped.content == {"skipped": "no units"}
    assert skipped.skipped and skipped.posted.digest is None
    last_week = DigestRecord(
        audience="leadership", week=WEEK, built_at=NOW, content={"flagged": [["metric:a/b"]]}
    )
    assert last_week.posted.flagged == (("metric:a/b",),) and not last_week.skipped
    # What the loader reads of last week's record, leniently.
    assert PostedDigest.flagged_in({"flagged": [["commitment:1", 2], "junk"]}) == [["commitment:1", "2"]]
    assert PostedDigest.flagged_in(None) == []
