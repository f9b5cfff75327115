"""Slack benchmarks (printed figures, not timed tests).

1. Latency and throughput of signed `/stat status` requests on POST /slack/events at a
   steady (open-loop) load, next to a bare bolt app that acks a static text, same run
   (rounds of each taken in turn, so that the machine's noise falls on both alike):
   the ack latency and the time to answer (until the person sees the answer: in the ack,
   or the response_url call on the fake), p50 and p99, and their ratios.
2. Time to deliver 2,000 check-in prompts through a fake Web API that admits a fixed
   rate of chat.postMessage calls and answers 429 above it, against the floor that rate
   implies (messages / rate); lost and duplicated messages are counted.

Everything is local: a temporary SQLite database, the fake Slack API of the tests.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runtime import open_runtime
from adapters.settings import Settings
from bench import report
from bench._fanout import drain_all
from bot.checkins.cards import fill_button
from bot.checkins.models import CheckIn
from bot.clock import SystemClock
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.messages import Buttons, Card, Heading, Note, paragraph
from bot.org.apply import apply_org
from bot.org.models import Person
from bot.org.schema import load_org
from storage.engine import create_engine, session_factory
from storage.records import Base
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi, form_body, slack_signature

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
USER, EMAIL = "U0HEAD0001", "robert.hayes@riverton.gov"

RATE = 40  # requests per second offered to each app
SECONDS = 5.0  # one round
ROUNDS = 4  # per app, in turn: the p99 is taken over every round's requests
PROMPTS = 2000
ADMITTED = 250  # chat.postMessage calls per second the fake admits
CONCURRENCY = 8  # audiences sent to at once by the outbox drain (its default)
BATCH = 100  # deliveries claimed per round (the drain's default)


def _settings(tmp: Path, api: FakeSlackApi) -> Settings:
    return Settings(
        STATBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        STATBOT_SLACK_API_URL=api.url,
    )


async def _database(settings: Settings, *, org: bool) -> None:
    engine = create_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    if org:
        async with SqlUnitOfWorkFactory(session_factory(engine))() as work:
            await apply_org(work, load_org(str(ROOT / "examples" / "org.yaml")), now=SystemClock().now())
            await work.commit()
    await engine.dispose()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events"


def _bare_bolt(api: FakeSlackApi) -> web.Application:
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api.url), signing_secret=SECRET)

    @bolt.command("/stat")
    async def stat(ack: AsyncAck) -> None:
        await ack("ok")

    async def events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def _load(url: str, api: FakeSlackApi, label: str) -> dict[str, Any]:
    """Open loop: request i starts at i/RATE whatever the earlier ones are doing.

    Two figures per request: the ack latency (the HTTP answer to Slack) and the time to
    answer, until the person sees the answer: the ack itself when it carries it, else
    the response_url call the fake Slack records (its clock is time.monotonic)."""
    acks: list[float] = []
    started_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    errors = 0
    total = int(RATE * SECONDS)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:

        async def one(i: int) -> None:
            nonlocal errors
            key = f"{label}{i}"
            body = form_body(
                {
                    "command": "/stat",
                    "text": "status",
                    "user_id": USER,
                    "channel_id": "C0GENERAL1",
                    "team_id": "T111",
                    "trigger_id": f"{label}.{i}",
                    "response_url": api.response_url(key),
                }
            )
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **slack_signature(SECRET, body, int(time.time())),
            }
            started_at[key] = time.monotonic()
            async with session.post(url, data=body, headers=headers) as response:
                raw = await response.read()
                if response.status != 200:
                    errors += 1
            now = time.monotonic()
            acks.append(now - started_at[key])
            # A body is the answer: the bare app's plain "ok", statbot's message JSON.
            if raw and (not raw.startswith(b"{") or "text" in json.loads(raw)):
                answered_at[key] = now

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "p50": statistics.median(acks) * 1000,
        "p99": _pct(acks, 0.99),
        "throughput": len(acks) / elapsed,
        "errors": errors,
        "_acks": acks,
        "_started": started_at,
        "_answered": answered_at,
    }


def _pooled(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One app's rounds as one run: percentiles over every request of every round."""
    acks = [a for r in rounds for a in r["_acks"]]
    return {
        "p50": statistics.median(acks) * 1000,
        "p99": _pct(acks, 0.99),
        "throughput": statistics.mean(r["throughput"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "_started": {k: v for r in rounds for k, v in r["_started"].items()},
        "_answered": {k: v for r in rounds for k, v in r["_answered"].items()},
    }


def _answers(result: dict[str, Any], api: FakeSlackApi) -> dict[str, float]:
    """Time to answer per request: the ack's answer, else the first response_url call."""
    started: dict[str, float] = result["_started"]
    answered: dict[str, float] = dict(result["_answered"])
    for call in api.ok_calls("respond"):
        key = str(call.params["key"])
        if key in started and key not in answered:
            answered[key] = call.at
    times = [answered[k] - started[k] for k in started if k in answered]
    return {
        "p50": statistics.median(times) * 1000 if times else float("nan"),
        "p99": _pct(times, 0.99) if times else float("nan"),
        "answered": len(times),
        "in_ack": len(result["_answered"]),
        "both": len(
            [k for k in result["_answered"] if k in {str(c.params["key"]) for c in api.ok_calls("respond")}]
        ),
    }


async def bench_requests(tmp: Path) -> None:
    api = await FakeSlackApi(users={USER: EMAIL}).start()
    settings = _settings(tmp, api)
    await _database(settings, org=True)
    # As `statbot serve` builds it: the same runtime, production options.
    async with open_runtime(settings) as runtime:
        assert runtime.slack is not None
        statbot_runner, statbot_url = await _serve(runtime.web_app())
        bare_runner, bare_url = await _serve(_bare_bolt(api))
        try:
            await _load(bare_url, api, "warm-bare")  # warm both (auth.test, linking, caches)
            await _load(statbot_url, api, "warm-statbot")
            await runtime.slack.wait_idle()
            # Rounds in turn (bare, statbot, statbot, bare, ...): a moment of noise on the
            # machine falls on both sides alike instead of deciding one side's tail.
            bare_rounds: list[dict[str, Any]] = []
            ours_rounds: list[dict[str, Any]] = []
            for n in range(ROUNDS):
                order = [("bare", bare_url, bare_rounds), ("statbot", statbot_url, ours_rounds)]
                for label, url, rounds in order if n % 2 == 0 else order[::-1]:
                    rounds.append(await _load(url, api, f"{label}{n}-"))
                    await runtime.slack.wait_idle()
            bare, ours = _pooled(bare_rounds), _pooled(ours_rounds)
            bare_answer = _answers(bare, api)
            ours_answer = _answers(ours, api)
        finally:
            await statbot_runner.cleanup()
            await bare_runner.cleanup()
            await api.close()
    total = int(RATE * SECONDS) * ROUNDS
    print(
        f"/stat status at {RATE} req/s, {ROUNDS} rounds of {SECONDS:g} s each, taken in turn "
        "(signed, POST /slack/events):"
    )
    for name, r, a in (("bare bolt (static ack)", bare, bare_answer), ("statbot", ours, ours_answer)):
        print(
            f"  {name:24} ack p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  "
            f"answer p50 {a['p50']:6.1f} ms  p99 {a['p99']:6.1f} ms  "
            f"{r['throughput']:5.1f} req/s  errors {r['errors']:.0f}"
        )
    print(
        f"  statbot answers: {ours_answer['answered']}/{total} "
        f"({ours_answer['in_ack']} in the ack, "
        f"{ours_answer['answered'] - ours_answer['in_ack']} via response_url, {ours_answer['both']} twice)"
    )
    print(
        f"  ack ratio statbot/bare     p50 {ours['p50'] / bare['p50']:.2f}x  "
        f"p99 {ours['p99'] / bare['p99']:.2f}x  (the ack carries the answer when the turn is quick)"
    )
    print(
        f"  answer ratio statbot/bare  p50 {ours_answer['p50'] / bare_answer['p50']:.2f}x  "
        f"p99 {ours_answer['p99'] / bare_answer['p99']:.2f}x  (goal: within 2x at p50, 3x at p99)"
    )
    for q, goal in (("p50", 2.0), ("p99", 3.0)):
        report(f"/stat status ack {q} (vs bare bolt)", ours[q], unit="ms", reference=bare[q])
        report(
            f"/stat status time to answer {q} (vs bare bolt)",
            ours_answer[q],
            unit="ms",
            reference=bare_answer[q],
            goal=f"≤ {goal:g}×",
            met=ours_answer[q] <= goal * bare_answer[q],
        )


def _prompt(i: int) -> Card:
    checkin = CheckIn(
        unit_id=1,
        week="2026-W49",
        state="open",
        opened_at=SystemClock().now(),
        deadline_at=SystemClock().now(),
        id=i,
    )
    return Card(
        parts=(
            Heading(text=f"Weekly check-in · Unit {i} · 2026-W49"),
            paragraph("Hi, it is time for this week's numbers: missed pickups, tons collected."),
            Note(text="Due Fri 04 Dec 16:00 EST."),
            Buttons(buttons=(fill_button(checkin),)),
        ),
        summary=f"Weekly check-in for Unit {i} (2026-W49) is open",
    )


async def bench_deliveries(tmp: Path) -> None:
    api = await FakeSlackApi().start()
    api.limit("chat.postMessage", per_second=ADMITTED)
    settings = _settings(tmp, api)
    await _database(settings, org=False)
    async with open_runtime(settings) as runtime:
        clock = runtime.clock
        async with runtime.uow() as uow:
            for i in range(PROMPTS):
                person = await uow.people.add(
                    Person(
                        email=f"p{i}@riverton.gov",
                        name=f"Person {i}",
                        timezone="America/New_York",
                        slack_user_id=f"U{i:08d}",
                        slack_dm_channel=f"D{i:08d}",
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
            elapsed, states = await drain_all(runtime, PROMPTS, concurrency=CONCURRENCY, batch=BATCH)
        finally:
            await api.close()
    posted = Counter(c.params["channel"] for c in api.ok_calls("chat.postMessage"))
    duplicates = sum(n - 1 for n in posted.values() if n > 1)
    lost = PROMPTS - len(posted)
    refused = len([c for c in api.all_calls("chat.postMessage") if c.status == 429])
    floor = PROMPTS / ADMITTED
    print(f"{PROMPTS} check-in prompts, fake API admitting {ADMITTED} chat.postMessage/s (429 above):")
    ratio = elapsed / floor
    print(f"  delivered in {elapsed:.2f} s; floor {floor:.2f} s; ratio {ratio:.2f}x (goal: within 1.15x)")
    print(f"  lost {lost}, duplicates {duplicates}, 429 answers {refused}, outbox states {dict(states)}")
    report(
        f"Slack: {PROMPTS} prompts delivered (vs the rate-limit floor)",
        elapsed,
        unit="s",
        reference=floor,
        goal="≤ 1.15×, 0 lost, 0 twice",
        met=elapsed <= 1.15 * floor and lost == 0 and duplicates == 0,
    )


def run() -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        asyncio.run(bench_requests(Path(one)))
        asyncio.run(bench_deliveries(Path(two)))


if __name__ == "__main__":
    run()
