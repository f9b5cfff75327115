"""No two sections of a digest disagree: a property over simulated weeks (random
submissions on time or late, away periods that excuse a week, escalations in every
state and step, commitments and follow-ups kept, dropped or open, leaders'
acknowledgements), and a late submission settling its escalation through the bot."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checkins.models import CheckIn
from bot.clock import FakeClock
from bot.commitments.models import Commitment
from bot.conversation import StatBot
from bot.digests.builder import build_digest
from bot.digests.data import DigestData
from bot.escalations.models import Escalation
from bot.org.context import OrgContext, load_context
from storage.uow import SqlUnitOfWorkFactory
from tests.digest_consistency import contradictions
from tests.digest_state import NOW, WEEK, org
from tests.helpers import ny, pid

__all__ = ["org"]  # the fixture

CHECKIN = st.sampled_from(["never", "open", "on_time", "late", "excused"])
ESC_STATE = st.sampled_from(["active", "snoozed", "acknowledged", "resolved", "exhausted"])
COMMITMENT = st.tuples(
    st.sampled_from(["open", "done", "dropped"]),
    st.sampled_from(["checkin", "command", "followup"]),
    st.integers(-14, 14),  # due, days from the covered week's Sunday
    st.integers(0, 30),  # days since the last update
    st.booleans(),  # answered (a follow-up)
    st.one_of(st.none(), st.tuples(ESC_STATE, st.integers(0, 4))),  # its escalation
)
UNIT = st.tuples(
    CHECKIN,
    st.one_of(st.none(), st.tuples(ESC_STATE, st.integers(0, 4))),  # missed check-in chain
    st.lists(st.one_of(st.none(), st.floats(0, 500, allow_nan=False)), min_size=2, max_size=2),
    st.lists(COMMITMENT, max_size=3),
)


def _week(base: DigestData, units: list[tuple[object, ...]]) -> DigestData:
    data = dataclasses.replace(base, values={}, checkins=[], commitments=[], escalations=[])
    sunday = dt.date(2026, 11, 29)
    next_id = 1
    for unit, plan in zip(base.units, units, strict=False):
        assert unit.id is not None
        state, chain, values, commitments = plan
        assert isinstance(values, list) and isinstance(commitments, list)
        for metric in (m for m in base.metrics if m.unit_id == unit.id):
            assert metric.id is not None
            data.values[metric.id] = {
                w: v for w, v in zip(base.weeks[-2:], values, strict=True) if v is not None
            }
        if state != "never":
            opened = ny(2026, 11, 26, 9)
            submitted = state in ("on_time", "late")
            checkin = CheckIn(
                unit_id=unit.id,
                week=WEEK,
                state="submitted" if submitted else "excused" if state == "excused" else "open",
                opened_at=opened,
                deadline_at=opened + dt.timedelta(days=1),
                late=state == "late",
                excuse="away" if state == "excused" else None,
                submitted_by=unit.head_id if submitted else None,
                # A late one came in after the deadline, even on Monday before the digest.
                submitted_at=(ny(2026, 11, 30, 7) if state == "late" else opened) if submitted else None,
                id=next_id,
            )
            next_id += 1
            data.checkins.append(checkin)
            if chain is not None:
                data.escalations.append(_chain("missed_checkin", checkin.id or 0, unit.id, chain, next_id))
                next_id += 1
        for status, origin, due, quiet, answered, esc in commitments:
            commitment = Commitment(
                unit_id=unit.id,
                owner_id=unit.head_id,
                text="Clear the backlog",
                due_on=sunday + dt.timedelta(days=due),
                status=status,
                origin=origin,
                created_at=ny(2026, 11, 2, 9),
                updated_at=NOW - dt.timedelta(days=quiet),
                closed_at=None if status == "open" else NOW - dt.timedelta(days=quiet),
                asked_by=unit.leader_id if origin == "followup" else None,
                answer="Two trucks were in the shop." if origin == "followup" and answered else None,
                id=next_id,
            )
            next_id += 1
            data.commitments.append(commitment)
            if esc is not None:
                data.escalations.append(
                    _chain("overdue_commitment", commitment.id or 0, unit.id, esc, next_id)
                )
                next_id += 1
    return data


def _chain(kind: str, subject: int, unit_id: int, chain: tuple[str, int], ident: int) -> Escalation:
    state, step = chain
    return Escalation(
        kind=kind,
        subject_id=subject,
        unit_id=unit_id,
        episode="1",
        policy={},
        state=state,
        step=step,
        next_step_at=None,
        created_at=ny(2026, 11, 25, 9),
        updated_at=ny(2026, 11, 28, 9),
        snoozed_until=ny(2026, 12, 2, 9) if state == "snoozed" else None,
        id=ident,
    )


async def test_no_two_sections_of_a_digest_disagree(org: SqlUnitOfWorkFactory) -> None:
    async with org() as work:
        context: OrgContext = await load_context(work)
        base = await work.digest_source.load(week=WEEK)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(UNIT, min_size=len(base.units), max_size=len(base.units)), st.integers(0, 6))
    def check(units: list[tuple[object, ...]], days_later: int) -> None:
        data = _week(base, units)
        digest = build_digest(data, now=NOW + dt.timedelta(days=days_later), context=context)
        assert contradictions(digest) == []

    check()


async def test_a_late_submission_settles_its_escalation_and_the_digest_agrees(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    from bot.digests.service import build_for_week
    from tests.test_escalations import GOOD, HEAD, _sanitation_checkin, run_until

    bot = StatBot(org_uow, clock)
    checkin_id = await _sanitation_checkin(org_uow, clock)
    await run_until(org_uow, clock, ny(2026, 12, 7, 10))
    async with org_uow() as uow:
        (chain,) = await uow.escalations.for_subject("missed_checkin", checkin_id)
    assert chain.state == "active" and chain.step >= 1
    # Submitted late, with the next step hours away and no sweep in between.
    await bot.on_form(await pid(org_uow, HEAD), "checkin.submit", {"checkin": str(checkin_id)}, GOOD)
    async with org_uow() as uow:
        (chain,) = await uow.escalations.for_subject("missed_checkin", checkin_id)
        assert chain.state == "resolved" and chain.next_step_at is None
        digest, _ = await build_for_week(uow, "2026-W49", clock.now())
    sanitation = next(r for r in digest.reporting if r.unit_key == "sanitation")
    assert sanitation.state == "late" and sanitation.escalation_id is None
    assert not any(e.unit_key == "sanitation" and e.kind == "open_escalation" for e in digest.exceptions)
    assert contradictions(digest) == []
