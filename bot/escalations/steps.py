"""The step maths of an escalation chain: which step comes next, and when it falls due.

A chain's steps run in order; after the last one, that step repeats every
``repeat_every``, at most ``repeat_times`` times (a chain without ``repeat_every`` does
not repeat).  Step 0 waits from the moment the item went quiet, each later step from the
moment the previous step happened.  A step that would fall outside the recipient's
working hours waits for the start of their next working period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bot.calendar import WorkCalendar, shift
from bot.clock import ensure_utc
from bot.escalations.policy import Chain, Recipient, Step


@dataclass(frozen=True)
class PlannedStep:
    index: int
    notify: Recipient
    due_at: dt.datetime


def total_steps(chain: Chain) -> int:
    """How many steps the chain takes, repeats included."""
    repeats = chain.repeat_times if chain.repeat_every is not None else 0
    return len(chain.steps) + repeats


def step_at(chain: Chain, index: int) -> Step | None:
    """Step number ``index`` (0-based), repeats included; None once the chain is exhausted."""
    if index < 0:
        raise ValueError(f"step index cannot be negative ({index})")
    if index < len(chain.steps):
        return chain.steps[index]
    if index < total_steps(chain) and chain.repeat_every is not None:
        return Step(wait=chain.repeat_every, notify=chain.steps[-1].notify)
    return None


def next_due(
    chain: Chain,
    index: int,
    previous_at: dt.datetime,
    *,
    calendar: WorkCalendar,
    tz: str,
) -> dt.datetime | None:
    """When step ``index`` falls due, given that the previous step happened (or, for step
    0, the item went quiet) at ``previous_at``; None when the chain is exhausted.

    ``tz`` is the recipient's zone.  Whole days of the wait are calendar days there, so
    "wait 1d" after Friday 14:00 is Saturday 14:00 even across a change of the clocks,
    and then moves to the recipient's next working moment.
    """
    step = step_at(chain, index)
    if step is None:
        return None
    return _due(step, ensure_utc(previous_at), calendar, tz)


def _due(step: Step, previous_at: dt.datetime, calendar: WorkCalendar, tz: str) -> dt.datetime:
    return calendar.next_working_moment(shift(previous_at, step.wait, tz), tz)


def plan(
    chain: Chain,
    quiet_since: dt.datetime,
    *,
    calendar: WorkCalendar,
    tz: str,
    recipient_tz: Mapping[Recipient, str] | None = None,
) -> list[PlannedStep]:
    """Every step of the chain with its due time, if each step happens when it falls due
    and nobody acknowledges (for previews such as "what happens if this stays quiet").

    ``recipient_tz`` gives each recipient's zone where it differs from ``tz``.
    """
    zones = recipient_tz or {}
    planned: list[PlannedStep] = []
    previous = ensure_utc(quiet_since)
    index = 0
    while (step := step_at(chain, index)) is not None:
        due = _due(step, previous, calendar, zones.get(step.notify, tz))
        planned.append(PlannedStep(index=index, notify=step.notify, due_at=due))
        previous = due
        index += 1
    return planned
