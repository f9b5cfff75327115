"""Teams benchmark (printed figures, not a timed test).

2,000 check-in prompts sent proactively through the real Teams gateway (botbuilder's
CloudAdapter, continue_conversation with stored references) to a fake Bot Connector
that admits Teams' rates — 30 requests per second per tenant, 7 per second per
conversation — and answers 429 above them.  Printed: the time against the floor those
rates imply (messages / 30 per second), lost and duplicated messages, 429 answers.

Everything is local: a temporary SQLite database, the fake Bot Connector of the tests.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

from adapters.runtime import TeamsOptions, open_runtime
from adapters.settings import Settings
from bench import report
from bench._fanout import drain_all
from bench.slack import _prompt
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.org.models import Person
from storage.engine import create_engine
from storage.records import Base
from tests.fakes.bot_connector import FakeBotConnector

PROMPTS = 2000
PER_TENANT = 30
PER_CONVERSATION = 7
CONCURRENCY = 8  # audiences sent to at once by the outbox drain (its default)
BATCH = 100  # deliveries claimed per round (the drain's default)
TENANT = "bench-tenant"


async def _database(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def bench_deliveries(tmp: Path, prompts: int) -> None:
    connector = await FakeBotConnector().start()
    connector.limit(per_second=PER_TENANT, per_conversation=PER_CONVERSATION)
    settings = Settings(STATBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    await _database(settings.database_url)
    async with open_runtime(settings, teams=TeamsOptions()) as runtime:
        clock = runtime.clock
        async with runtime.uow() as uow:
            for i in range(prompts):
                person = await uow.people.add(
                    Person(
                        email=f"p{i}@riverton.gov",
                        name=f"Person {i}",
                        timezone="America/New_York",
                        teams_user_id=f"29:user-{i}",
                        teams_conversation={
                            "user": {"id": f"29:user-{i}"},
                            "bot": {"id": "28:statbot", "name": "statbot"},
                            "conversation": {
                                "id": f"a:dm-{i}",
                                "conversationType": "personal",
                                "tenantId": TENANT,
                            },
                            "channelId": "msteams",
                            "serviceUrl": connector.url,
                        },
                    )
                )
                assert person.id is not None
                await enqueue(
                    uow,
                    audience=Delivery.to_person(person.id),
                    message=_prompt(i),
                    key=f"prompt:{i}",
                    now=clock.now(),
                )
            await uow.commit()
        try:
            elapsed, states = await drain_all(runtime, prompts, concurrency=CONCURRENCY, batch=BATCH)
        finally:
            await connector.close()
    posted = Counter(p.conversation for p in connector.posted)
    duplicates = sum(n - 1 for n in posted.values() if n > 1)
    lost = prompts - len(posted)
    floor = prompts / PER_TENANT
    stamps = sorted(p.at for p in connector.posted)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    print(
        f"{prompts} proactive check-in prompts, fake Bot Connector admitting {PER_TENANT}/s per tenant "
        f"and {PER_CONVERSATION}/s per conversation (429 above):"
    )
    print(
        f"  delivered in {elapsed:.2f} s; floor {floor:.2f} s; "
        f"ratio {elapsed / floor:.2f}x (goal: within 1.15x)"
    )
    print(
        f"  lost {lost}, duplicates {duplicates}, 429 answers {connector.refused.count(429)}, "
        f"outbox {dict(states)}"
    )
    print(f"  first to last message {span:.2f} s ({(len(stamps) - 1) / span if span else 0:.1f} messages/s)")
    report(
        f"Teams: {prompts} proactive prompts delivered (vs the rate-limit floor)",
        elapsed,
        unit="s",
        reference=floor,
        goal="≤ 1.15×, 0 lost, 0 twice",
        met=elapsed <= 1.15 * floor and lost == 0 and duplicates == 0,
    )


async def main(argv: list[str]) -> None:
    prompts = PROMPTS
    for arg in argv:
        if arg.startswith("--prompts="):
            prompts = int(arg.split("=", 1)[1])
    with tempfile.TemporaryDirectory() as tmp:
        await bench_deliveries(Path(tmp), prompts)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
