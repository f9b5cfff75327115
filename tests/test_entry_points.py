"""Entry points as real processes, the way cron or a user runs them, against the local
fake Slack Web API: `statbot tick` with and without platform credentials."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.org.schema import load_org
from tests.conftest import EXAMPLE_ORG
from tests.fakes.slack_api import FakeSlackApi
from tests.helpers import next_week

STATBOT = str(Path(sys.executable).with_name("statbot"))
# Next week's Thursday, 09:30 in New York (14:30 UTC; 09:30 or 10:30 local whatever
# the daylight saving): every unit of the example org has opened that week's check-in by
# then, inside working hours.
THURSDAY_AT = next_week(3, 14, 30)
THURSDAY = THURSDAY_AT.isoformat()
A_MINUTE_LATER = (THURSDAY_AT + dt.timedelta(minutes=1)).isoformat()
PLATFORM_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "STATBOT_SLACK_API_URL",
    "STATBOT_LOG_FORMAT",
)


async def statbot(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run `statbot ARGS` without blocking the loop the fake Slack API serves from."""
    process = await asyncio.create_subprocess_exec(
        STATBOT,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
    env["STATBOT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cron.db'}"
    return env


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    org = load_org(str(EXAMPLE_ORG))
    users = {f"U{n:08d}": p.email for n, p in enumerate(org.people, start=1)}
    fake = FakeSlackApi(users=users, channels={"citistat": "C0CITISTAT"})
    await fake.start()
    yield fake
    await fake.close()


async def prepared(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = await statbot("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 0, err
    code, _, err = await statbot("org", "apply", str(EXAMPLE_ORG), env=env, cwd=tmp_path)
    assert code == 0, err


async def test_tick_from_cron_delivers_prompts_on_slack(tmp_path: Path, slack_api: FakeSlackApi) -> None:
    env = {
        **base_env(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-cron-test",
        "SLACK_SIGNING_SECRET": "cron-secret",
        "STATBOT_SLACK_API_URL": slack_api.url,
    }
    await prepared(env, tmp_path)
    code, out, err = await statbot("tick", "--at", THURSDAY, env=env, cwd=tmp_path)
    assert code == 0, err
    posts = slack_api.ok_calls("chat.postMessage")
    org = load_org(str(EXAMPLE_ORG))
    assert len(posts) >= len(org.units) - 1  # one unit may be excused (its people away)
    prompted = {str(c.params["channel"]) for c in posts}
    assert all(channel.startswith("DU") for channel in prompted), prompted  # DMs of linked people
    assert any("Weekly check-in" in str(c.params.get("text")) for c in posts)
    assert f"deliveries: {len(posts)} sent, 0 to retry, 0 failed" in out
    assert "no Slack or Teams credentials" not in out
    # A second cron run a minute later owes nothing more: nothing is sent twice.
    code, out, err = await statbot("tick", "--at", A_MINUTE_LATER, env=env, cwd=tmp_path)
    assert code == 0, err
    assert len(slack_api.ok_calls("chat.postMessage")) == len(posts)
    assert "deliveries: 0 sent" in out


async def test_tick_without_credentials_keeps_the_prompts_in_the_outbox(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    await prepared(env, tmp_path)
    code, out, err = await statbot("tick", "--at", THURSDAY, env=env, cwd=tmp_path)
    assert code == 0, err
    assert "open check-ins: " in out
    waiting = out.split("no Slack or Teams credentials: ")[1].split()[0]
    assert int(waiting) >= 8
    assert f"{waiting} deliveries wait in the outbox" in out


PASSWORD = "hunter2-not-for-logs"


@pytest.mark.parametrize(
    "command",
    [
        ["tick"],
        ["org", "show"],
        ["db", "upgrade"],
        ["serve", "--port", "0"],
        ["digest"],
        ["export", "--out", "x"],
    ],
)
async def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, command: list[str]
) -> None:
    env = {
        **base_env(tmp_path),
        "STATBOT_DATABASE_URL": f"postgresql+asyncpg://statbot:{PASSWORD}@127.0.0.1:1/statbot",
    }
    code, out, err = await statbot(*command, env=env, cwd=tmp_path)
    assert code == 1
    assert err.strip().splitlines() == [
        "error: cannot reach the database postgresql+asyncpg://statbot:***@127.0.0.1:1/statbot (ConnectionRefusedError)"
    ], err
    assert PASSWORD not in out + err


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+asyncpg://statbot:{PASSWORD}@127.0.0.1:notaport/statbot",
        f"mysql://statbot:{PASSWORD}@db/statbot",
        f"postgres ql://u:{PASSWORD}@h/db",
    ],
)
async def test_a_malformed_database_url_never_echoes_the_password(tmp_path: Path, url: str) -> None:
    env = {**base_env(tmp_path), "STATBOT_DATABASE_URL": url}
    code, out, err = await statbot("tick", env=env, cwd=tmp_path)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: STATBOT_DATABASE_URL: ")
    assert PASSWORD not in out + err


# A password people write without percent-encoding: pieces of it must never be printed.
UNENCODED = ("hunter2", "for-logs-77")
ONE_LINE_COMMANDS = [["tick"], ["org", "show"], ["db", "upgrade"], ["serve", "--port", "0"]]
REFUSED_AT_1 = "error: cannot reach the database postgresql+asyncpg://statbot:***@127.0.0.1:1/statbot (ConnectionRefusedError)"


@pytest.mark.parametrize("command", ONE_LINE_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("mode", ["require", "disable"])
async def test_a_libpq_sslmode_is_understood(tmp_path: Path, command: list[str], mode: str) -> None:
    """``?sslmode=`` (what a hosted PostgreSQL's console hands out) reaches asyncpg as its
    ``ssl`` setting: the command gets as far as connecting, and says it cannot."""
    url = f"postgresql+asyncpg://statbot:{PASSWORD}@127.0.0.1:1/statbot?sslmode={mode}&connect_timeout=4"
    code, out, err = await statbot(
        *command, env={**base_env(tmp_path), "STATBOT_DATABASE_URL": url}, cwd=tmp_path
    )
    assert code == 1
    assert err.strip().splitlines() == [REFUSED_AT_1], err
    assert PASSWORD not in out + err


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("sslmode=sometimes", "sslmode='sometimes' is not one of disable, allow, prefer, require"),
        ("sslmode=verify-full&sslrootcert=/etc/ca.pem", "set the environment variable PGSSLROOTCERT"),
        ("sslmode=require&ssl=disable", "sslmode and ssl disagree"),
        ("keepalives=1", "the URL parameter 'keepalives' is not understood by asyncpg"),
    ],
)
async def test_a_database_url_parameter_asyncpg_cannot_take_is_one_line(
    tmp_path: Path, query: str, said: str
) -> None:
    url = f"postgresql+asyncpg://statbot:{PASSWORD}@127.0.0.1:1/statbot?{query}"
    code, out, err = await statbot(
        "tick", env={**base_env(tmp_path), "STATBOT_DATABASE_URL": url}, cwd=tmp_path
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("error: STATBOT_DATABASE_URL: ") and said in line, line
    assert PASSWORD not in out + err


@pytest.mark.parametrize("command", ONE_LINE_COMMANDS, ids=" ".join)
async def test_a_password_with_an_unencoded_at_is_refused_without_a_piece_of_it(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql+asyncpg://statbot:{UNENCODED[0]}@{UNENCODED[1]}@127.0.0.1:1/statbot"
    code, out, err = await statbot(
        *command, env={**base_env(tmp_path), "STATBOT_DATABASE_URL": url}, cwd=tmp_path
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("error: STATBOT_DATABASE_URL: ") and "%40" in line
    assert not [piece for piece in UNENCODED if piece in out + err]


@pytest.mark.parametrize("command", ONE_LINE_COMMANDS, ids=" ".join)
async def test_a_password_with_an_unencoded_slash_or_colon_is_masked_whole(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql+asyncpg://statbot:{UNENCODED[0]}/:{UNENCODED[1]}@127.0.0.1:1/statbot"
    code, out, err = await statbot(
        *command, env={**base_env(tmp_path), "STATBOT_DATABASE_URL": url}, cwd=tmp_path
    )
    assert code == 1
    assert err.strip().splitlines() == [REFUSED_AT_1], err
    assert not [piece for piece in UNENCODED if piece in out + err]


@pytest.mark.parametrize("command", ONE_LINE_COMMANDS, ids=" ".join)
async def test_sqlite_in_a_folder_that_does_not_exist_is_one_line(tmp_path: Path, command: list[str]) -> None:
    """One clear line and exit 1, every time: the traceback that followed it ("Event loop
    is closed", from aiosqlite's worker thread) came in some runs only, so several run."""
    folder = tmp_path / "no" / "such" / "folder"
    env = {**base_env(tmp_path), "STATBOT_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'statbot.db'}"}
    runs = await asyncio.gather(*(statbot(*command, env=env, cwd=tmp_path) for _ in range(4)))
    for code, out, err in runs:
        assert code == 1
        assert err.strip().splitlines() == [
            f"error: cannot open the SQLite database sqlite+aiosqlite:///{folder / 'statbot.db'}: "
            f"the folder {folder} does not exist"
        ], err
        assert "Traceback" not in out + err
    assert not folder.exists()


async def test_chat_as_a_process_takes_typed_lines_and_answers_as_the_bot(tmp_path: Path) -> None:
    """`statbot chat` (what `make run` opens without credentials), its input piped."""
    env = base_env(tmp_path)
    await prepared(env, tmp_path)
    typed = "\n".join(["/as luis.ortega@riverton.gov", "status sanitation", "session", "/quit"]) + "\n"
    process = await asyncio.create_subprocess_exec(
        STATBOT, "chat", env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(typed.encode()), timeout=120)
    text = " ".join(out.decode().split())
    assert process.returncode == 0, err.decode()
    assert "You are now Luis Ortega" in text
    assert "Sanitation · 20" in text and "target ≤ 120" in text  # the unit's status card
    assert "Upcoming stat sessions" in text
    assert "Bye. Everything you entered is stored." in text
    assert "Traceback" not in out.decode() + err.decode()


async def test_demo_as_a_process_writes_its_digests_briefs_and_memos(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    code, out, err = await statbot("demo", "--weeks", "3", "--out", "demo-out", env=env, cwd=tmp_path)
    assert code == 0, err
    written = {p.name for p in (tmp_path / "demo-out").rglob("*") if p.is_file()}
    assert any(n.startswith("digest-") and n.endswith(".txt") for n in written), written
    assert any(n.startswith("digest-") and n.endswith(".png") for n in written), written
    assert any(n.endswith("-brief.md") for n in written) and any(n.endswith("-brief.pdf") for n in written)
    assert "Traceback" not in out + err
