"""Escalation step maths: the order of steps, bounded repeats, and working-hours timing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import WorkCalendar
from bot.escalations.policy import Chain, Step
from bot.escalations.steps import PlannedStep, next_due, plan, step_at, total_steps

UTC = dt.UTC
NY = "America/New_York"
BERLIN = "Europe/Berlin"
US = WorkCalendar("US", "NY")
DE = WorkCalendar("DE", "BE")


def at(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    local = dt.datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def chain(**extra: Any) -> Chain:
    return Chain.model_validate(
        {
            "steps": [
                {"wait": "4h", "notify": "owner"},
                {"wait": "1d", "notify": "deputy"},
                {"wait": "1d", "notify": "leader"},
                {"wait": "1d", "notify": "channel"},
            ],
            **extra,
        }
    )


REPEATING = chain(repeat_every="1d", repeat_times=2)


def test_steps_come_in_order_then_repeat_the_last_a_bounded_number_of_times() -> None:
    assert total_steps(REPEATING) == 6
    assert [step_at(REPEATING, i) for i in range(7)] == [
        Step(wait=dt.timedelta(hours=4), notify="owner"),
        Step(wait=dt.timedelta(days=1), notify="deputy"),
        Step(wait=dt.timedelta(days=1), notify="leader"),
        Step(wait=dt.timedelta(days=1), notify="channel"),
        Step(wait=dt.timedelta(days=1), notify="channel"),
        Step(wait=dt.timedelta(days=1), notify="channel"),
        None,
    ]
    assert step_at(REPEATING, 100) is None


def test_repeats_wait_repeat_every() -> None:
    hourly = chain(repeat_every="2h", repeat_times=1)
    assert step_at(hourly, 4) == Step(wait=dt.timedelta(hours=2), notify="channel")
    assert step_at(hourly, 5) is None


def test_a_chain_without_repeats_ends_after_its_last_step() -> None:
    assert total_steps(chain()) == 4
    assert step_at(chain(), 3) is not None
    assert step_at(chain(), 4) is None
    # Without an interval there is nothing to repeat at.
    assert total_steps(chain(repeat_times=3)) == 4
    assert step_at(chain(repeat_times=3), 4) is None


def test_a_negative_step_is_a_bug() -> None:
    with pytest.raises(ValueError):
        step_at(REPEATING, -1)


def due(index: int, previous: dt.datetime, tz: str = NY, calendar: WorkCalendar = US) -> Any:
    return next_due(REPEATING, index, previous, calendar=calendar, tz=tz)


def test_a_step_inside_working_hours_is_due_after_its_wait() -> None:
    assert due(0, at(NY, 2026, 11, 17, 10)) == at(NY, 2026, 11, 17, 14)
    assert due(1, at(NY, 2026, 11, 17, 14)) == at(NY, 2026, 11, 18, 14)


def test_a_step_after_hours_waits_for_the_next_morning() -> None:
    assert due(0, at(NY, 2026, 11, 17, 15)) == at(NY, 2026, 11, 18, 8, 30)


def test_a_step_due_saturday_waits_for_monday() -> None:
    assert due(1, at(NY, 2026, 11, 13, 10)) == at(NY, 2026, 11, 16, 8, 30)


def test_a_step_due_before_a_monday_holiday_waits_for_tuesday() -> None:
    # Martin Luther King Jr. Day, Monday 19 January 2026.
    assert due(1, at(NY, 2026, 1, 16, 10)) == at(NY, 2026, 1, 20, 8, 30)
    # Good Friday to Easter Monday in Berlin.
    assert due(1, at(BERLIN, 2026, 4, 2, 10), BERLIN, DE) == at(BERLIN, 2026, 4, 7, 8, 30)


def test_an_exhausted_chain_has_no_next_step() -> None:
    assert due(6, at(NY, 2026, 11, 17, 10)) is None
    assert next_due(chain(), 4, at(NY, 2026, 11, 17, 10), calendar=US, tz=NY) is None


def test_the_recipients_zone_decides() -> None:
    # 14:00 in New York is 20:00 in Berlin, after hours there.
    previous = at(NY, 2026, 11, 17, 10)
    assert due(0, previous, BERLIN, DE) == at(BERLIN, 2026, 11, 18, 8, 30)


def test_day_waits_keep_the_local_time_across_the_eu_clock_change() -> None:
    three_days = Chain.model_validate({"steps": [{"wait": "3d", "notify": "leader"}]})
    previous = at(BERLIN, 2026, 10, 23, 14)  # Friday, UTC+2
    result = next_due(three_days, 0, previous, calendar=DE, tz=BERLIN)
    # Monday 14:00 local, now UTC+1: 73 hours later, not 72.
    assert result == dt.datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert result - previous == dt.timedelta(hours=73)


def test_a_weekend_step_across_the_us_clock_change_waits_for_monday_morning() -> None:
    # Friday 30 October is UTC-4; Monday 2 November 08:30 is UTC-5.
    assert due(1, at(NY, 2026, 10, 30, 11)) == dt.datetime(2026, 11, 2, 13, 30, tzinfo=UTC)


def test_naive_previous_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        due(0, dt.datetime(2026, 11, 17, 10))  # noqa: DTZ001


def test_plan_previews_the_whole_chain() -> None:
    # Quiet since Monday 9 November 09:00; Wednesday 11 November is Veterans Day.
    assert plan(REPEATING, at(NY, 2026, 11, 9, 9), calendar=US, tz=NY) == [
        PlannedStep(0, "owner", at(NY, 2026, 11, 9, 13)),
        PlannedStep(1, "deputy", at(NY, 2026, 11, 10, 13)),
        PlannedStep(2, "leader", at(NY, 2026, 11, 12, 8, 30)),
        PlannedStep(3, "channel", at(NY, 2026, 11, 13, 8, 30)),
        PlannedStep(4, "channel", at(NY, 2026, 11, 16, 8, 30)),
        PlannedStep(5, "channel", at(NY, 2026, 11, 17, 8, 30)),
    ]


def test_plan_uses_each_recipients_zone() -> None:
    planned = plan(chain(), at(NY, 2026, 11, 9, 9), calendar=US, tz=NY, recipient_tz={"leader": BERLIN})
    # The deputy's step is Tuesday 13:00 New York, 19:00 Berlin: the leader in Berlin waits
    # one day to Wednesday 19:00, after hours there, so Thursday 08:30 Berlin.
    assert planned[2] == PlannedStep(2, "leader", at(BERLIN, 2026, 11, 12, 8, 30))
