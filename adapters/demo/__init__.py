"""`statbot demo`: N weeks of the example org on a fresh database, with a moving clock
and simulated people, driven through the real bot (the same StatBot every platform
uses).  It prints the conversation and writes a summary (and each Monday's digest)
per week to a folder.

The people are simulated (personas.py), not the bot: heads answer on time, late, never,
or with a typo that validation catches; leaders act on escalations and ask about digest
items; heads answer those questions.  simulation.py is the world they live in: the
clock, the sweeps, the outbox and the printing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from adapters.demo.personas import PERSONAS, People
from adapters.demo.sessions import Chairs, write_session_documents
from adapters.demo.simulation import Simulation
from bot.clock import FakeClock
from bot.conversation import StatBot
from bot.deliveries.models import Delivery
from bot.messages import Card
from bot.org.apply import apply_org
from bot.org.schema import load_org
from bot.ports import UnitOfWorkFactory


async def run_demo(
    uow: UnitOfWorkFactory,
    org_file: str,
    weeks: int,
    out: Path | None,
    console: Console,
    *,
    seed: int = 7,
    today: dt.date | None = None,
    clock: FakeClock | None = None,
    bot: StatBot | None = None,
) -> dict[str, int]:
    """Simulate ``weeks`` weeks ending around ``today``; returns counts of what happened.
    ``clock`` and ``bot`` come from the runtime (`statbot demo`); the clock is moved."""
    org = load_org(org_file)
    zone = ZoneInfo(org.organisation.timezone)
    today = today or dt.datetime.now(zone).date()
    monday = today - dt.timedelta(days=today.weekday(), weeks=weeks)
    start = dt.datetime.combine(monday, dt.time(6, 0), zone).astimezone(dt.UTC)
    clock = clock or FakeClock(start)
    clock.set(start)
    async with uow() as work:
        await apply_org(work, org, now=clock.now())
        await work.commit()
    clock.set(start)
    sim = Simulation(uow, clock, bot or StatBot(uow, clock), console, out, random.Random(seed))
    people = People(sim)
    chairs = Chairs(sim, people, random.Random(f"sessions:{seed}"))

    async def react(delivery: Delivery, card: Card) -> None:
        await people.plan_reaction(delivery, card)
        await chairs.plan_reaction(delivery, card)

    sim.reactor = react
    await sim.load()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    people.plan_absences(start, weeks)
    await sim.run(start, weeks)
    async with uow() as work:
        steps = 0
        for audience in [*(f"person:{i}" for i in sim.people), "channel:citistat"]:
            steps += sum(
                1
                for d in await work.deliveries.for_audience(audience)
                if d.idempotency_key.startswith("escalation:")
            )
        sim.stats["escalation steps sent"] = steps
    if out is not None:
        sim.stats["session documents written"] = await write_session_documents(
            uow, sim, out, start, start + dt.timedelta(weeks=weeks)
        )
        _say_why_no_digest(out, sim.digests_written, clock.now(), zone)
        (out / "stats.json").write_text(json.dumps(sim.stats, indent=2, sort_keys=True), encoding="utf-8")
    return sim.stats


def _say_why_no_digest(out: Path, written: set[str], now: dt.datetime, zone: ZoneInfo) -> None:
    """Every week folder holds its digest, or says why it does not."""
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        if folder.name in written:
            continue
        ended = now.astimezone(zone)
        (folder / "no-digest.txt").write_text(
            f"No digest for {folder.name}: it is posted on the Monday after the week, and the demo "
            f"stopped before that ({ended:%a %d %b %H:%M %Z}).\n"
            f"Run the demo one week longer to see it.\n",
            encoding="utf-8",
        )


__all__ = ["PERSONAS", "Chairs", "People", "Simulation", "run_demo"]
