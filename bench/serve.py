"""Peak memory of `statbot serve` with a large organisation.

A real `statbot serve` subprocess (as the console script runs it) on a temporary SQLite
database, migrated with `statbot db upgrade`, with a generated 1,000-unit org (8 metrics
each) applied with `statbot org apply` and twelve weeks of readings; Slack points at the
tests' fake Web API.  The prepared database is cached under .bench/ (preparing it takes
half a minute).  A leader asks for the digest with a signed `/stat digest`, so the server
loads and builds the whole organisation's digest and sends its cards.  Then the server's
peak resident set (VmHWM in /proc/<pid>/status) is read.  Goal: under 200 MB.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import insert, select, update

from bench import report
from bot.weeks import previous_weeks, week_of
from storage.engine import create_engine
from storage.migrations import head_revision
from storage.records import MetricRecord, ReadingRecord, UnitRecord
from tests.fakes.slack_api import FakeSlackApi, form_body, slack_signature

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
UNITS = 1000
METRICS = 8
WEEKS = 12
GOAL_MB = 200.0
SECRET = "bench-signing-secret"
LEADER, LEADER_ID = "dana.whitfield@riverton.gov", "U0LEADER01"
STATBOT = "import sys; sys.argv[0] = 'statbot'; from adapters.cli import main; sys.exit(main())"


def org_file(path: Path) -> None:
    """The example org's settings, leaders and policies, with 1,000 generated units."""
    org: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "org.yaml").read_text())
    leaders = [p["email"] for p in org["people"] if "leader" in (p.get("roles") or [])]
    units = []
    for n in range(UNITS):
        head, deputy = f"head{n}@bench.gov", f"deputy{n}@bench.gov"
        org["people"] += [{"email": head, "name": f"Head {n}"}, {"email": deputy, "name": f"Deputy {n}"}]
        units.append(
            {
                "key": f"unit{n:04d}",
                "name": f"Unit {n:04d}",
                "head": head,
                "deputy": deputy,
                "leader": leaders[n % len(leaders)],
                "escalation_policy": org["escalation_policies"][0]["name"],
                "metrics": [
                    {
                        "key": f"m{m}",
                        "name": f"Metric {m}",
                        "measure": "count",
                        "direction": "higher" if m % 2 else "lower",
                        "target": 100,
                        "amber": 10,
                        "range": [0, 10000],
                    }
                    for m in range(METRICS)
                ],
            }
        )
    org["units"] = units
    # The example's stat sessions name its own units, which the generated org does not have.
    org.pop("sessions", None)
    path.write_text(yaml.safe_dump(org, sort_keys=False))


async def readings(url: str) -> None:
    """Twelve weeks of readings for every metric, up to last week, from units set up a
    year ago (a unit applied today has nothing to report for last week)."""
    last = _last_week()
    weeks = [*previous_weeks(last, WEEKS - 1), last]
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(UnitRecord).values(created_at=time_now() - dt.timedelta(days=365))
            )
            metrics = (await connection.execute(select(MetricRecord.id, MetricRecord.unit_id))).all()
            rows = [
                {
                    "unit_id": unit_id,
                    "metric_id": metric_id,
                    "week": week,
                    "value": float(50 + (metric_id * 7 + i * 13) % 100),
                    "updated_at": time_now(),
                    "updated_by": None,
                    "note": "",
                    "confirmed_outlier": False,
                }
                for metric_id, unit_id in metrics
                for i, week in enumerate(weeks)
            ]
            for start in range(0, len(rows), 20_000):
                await connection.execute(insert(ReadingRecord), rows[start : start + 20_000])
    finally:
        await engine.dispose()


def _last_week() -> str:
    return previous_weeks(week_of(time_now(), "America/New_York"), 1)[0]


def time_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _statbot(env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STATBOT, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError(f"statbot {' '.join(args)} failed ({process.returncode})")


def _memory(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a process, in MB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0]) / 1024
    return found


async def _wait_quiet(api: FakeSlackApi, seconds: float, limit: float) -> None:
    """Until the fake Slack has seen no call for ``seconds`` (the digest's cards are out)."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        if len(api.calls) == seen:
            return
        seen = len(api.calls)
        await asyncio.sleep(seconds)


async def measure(tmp: Path) -> tuple[dict[str, float], dict[str, float], float, int]:
    api = await FakeSlackApi(users={LEADER_ID: LEADER}).start()
    url = f"sqlite+aiosqlite:///{tmp / 'serve.db'}"
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "STATBOT_DATABASE_URL": url,
        "STATBOT_HOST": "127.0.0.1",
        "STATBOT_PORT": str(port),
        "STATBOT_LOG_LEVEL": "WARNING",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "STATBOT_SLACK_API_URL": api.url,
    }
    for name in ("SLACK_APP_TOKEN", "MicrosoftAppId", "MicrosoftAppPassword"):
        env.pop(name, None)
    try:
        # Cached like the digest bench's databases: by schema revision, and by week (the
        # readings end last week).
        CACHE.mkdir(exist_ok=True)
        cached = CACHE / f"serve-{UNITS}u-{head_revision()}-{_last_week()}.db"
        if cached.exists():
            shutil.copyfile(cached, tmp / "serve.db")
        else:
            org = tmp / "org.yaml"
            org_file(org)
            started = time.perf_counter()
            await _statbot(env, "db", "upgrade")
            await _statbot(env, "org", "apply", str(org))
            await readings(url)
            took = time.perf_counter() - started
            print(f"serve: {UNITS} units applied, {WEEKS} weeks of readings in {took:.0f} s")
            shutil.copyfile(tmp / "serve.db", cached)
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-c", STATBOT, "serve", "--no-scheduler",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as session:
                for _ in range(300):
                    try:
                        async with session.get(f"{base}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                idle = _memory(server.pid)
                body = form_body(
                    {
                        "command": "/stat",
                        "text": "digest",
                        "user_id": LEADER_ID,
                        "channel_id": "C0GENERAL1",
                        "team_id": "T111",
                        "trigger_id": "bench.digest",
                        "response_url": api.response_url("digest"),
                    }
                )
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    **slack_signature(SECRET, body, int(time.time())),
                }
                asked = time.perf_counter()
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as response:
                    await response.read()
                await _wait_quiet(api, 2.0, 120.0)
                answered = time.perf_counter() - asked
            peak = _memory(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 20)
            except TimeoutError:
                server.kill()
                await server.wait()
        return idle, peak, answered, len(api.ok_calls("respond")) + len(api.ok_calls("chat.postMessage"))
    finally:
        await api.close()


def run() -> None:
    if not Path("/proc/self/status").exists():
        print("serve memory: skipped (needs /proc)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        idle, peak, answered, messages = asyncio.run(measure(Path(tmp)))
    print(
        f"statbot serve, {UNITS} units: {idle['VmRSS']:.0f} MB resident once started; after a leader's "
        f"`/stat digest` ({messages} messages, {answered:.1f} s) peak {peak['VmHWM']:.0f} MB, "
        f"now {peak['VmRSS']:.0f} MB (goal: peak < {GOAL_MB:.0f} MB)"
    )
    report(
        f"statbot serve peak RSS, {UNITS} units + a digest",
        peak["VmHWM"],
        unit="MB",
        goal=f"< {GOAL_MB:.0f} MB",
        met=peak["VmHWM"] < GOAL_MB,
    )


if __name__ == "__main__":
    run()
