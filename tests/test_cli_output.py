"""`statbot digest` and `statbot org show` as a person reads them: piped, at 80 columns."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import EXAMPLE_ORG
from tests.test_entry_points import STATBOT, base_env, statbot


async def prepared(tmp_path: Path) -> dict[str, str]:
    env = {**base_env(tmp_path), "COLUMNS": "80"}
    for args in (("db", "upgrade"), ("org", "apply", str(EXAMPLE_ORG))):
        code, _, err = await statbot(*args, env=env, cwd=tmp_path)
        assert code == 0, err
    return env


async def test_digest_into_head_exits_quietly(tmp_path: Path) -> None:
    env = await prepared(tmp_path)
    process = await asyncio.create_subprocess_exec(
        STATBOT, "digest", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = await process.stdout.readline()
    process.stdout.feed_eof()
    transport = process._transport  # type: ignore[attr-defined]
    transport.get_pipe_transport(1).close()  # what `head -1` does once it has its line
    err = await asyncio.wait_for(process.stderr.read(), timeout=60)
    code = await process.wait()
    assert first.decode().startswith("Leadership digest")
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert code == 0


async def test_org_show_reads_at_80_columns_when_piped(tmp_path: Path) -> None:
    env = await prepared(tmp_path)
    code, out, err = await statbot("org", "show", env=env, cwd=tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert "Sanitation [sanitation]" in out
    assert "head Robert Hayes, deputy Maria Santos, leader Luis Ortega" in out
    assert "- Missed pickups reported to 311: target ≤ 120 (lower is better)" in out
    assert "- Tons of refuse collected: target ≥ 1,900 (higher is better)" in out
    assert "robert.hayes@riverton.gov Robert Hayes" in out
    assert "Escalation policies" in out and "standard (quiet after" in out
    assert not any(ch in out for ch in "┏┃│…")
