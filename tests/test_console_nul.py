"""A NUL character (\\x00) typed or pasted into the console never reaches the database.

On PostgreSQL (which refuses NUL in text) a line holding one made the turn fail with
"Something went wrong".  The console strips NUL from every line and every form field, as
the Slack and Teams edges do: a line of nothing but NULs is said to be unreadable, and a
form field of nothing but NULs is asked again with that reason, what the other fields
hold kept.  Run on SQLite and, with STATBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from sqlalchemy import text as sql

from bot.cards import UNREADABLE, UNREADABLE_FIELD
from bot.clock import FakeClock
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, pid
from tests.test_console import Script, console, make_chat

__all__ = ["console"]
N = "\x00"
HEAD_EMAIL = "robert.hayes@riverton.gov"


async def _open_commitments(org_uow: SqlUnitOfWorkFactory) -> list[str]:
    head = await pid(org_uow, HEAD_EMAIL)
    async with org_uow() as uow:
        return sorted(c.text for c in await uow.commitments.open_for_owner(head))


async def _readings(org_uow: SqlUnitOfWorkFactory) -> list[float]:
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        return sorted(r.value for r in await uow.readings.for_unit_week(unit.id, "2026-W49"))


async def _no_nul_stored(org_uow: SqlUnitOfWorkFactory) -> None:
    async with org_uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        stored: list[Any] = []
        for query in ("select text from commitments", "select draft from checkins"):
            stored.extend((await session.execute(sql(query))).scalars().all())
    assert stored
    assert not [s for s in stored if N in (s if isinstance(s, str) else json.dumps(s))]


async def test_a_command_with_nuls_is_stored_without_them(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    script = Script(f"commit Fix the{N} hotline{N} by 2026-12-20", f"commit{N}ments", "/quit")
    await make_chat(org_uow, clock, console, script).run(HEAD_EMAIL)
    out = console.export_text()
    assert "Something went wrong" not in out
    assert "Fix the hotline" in out
    assert await _open_commitments(org_uow) == ["Fix the hotline"]


async def test_a_line_of_nothing_but_nuls_is_refused_with_a_clear_message(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    script = Script(f"{N}{N}", "/quit")
    await make_chat(org_uow, clock, console, script).run(HEAD_EMAIL)
    out = console.export_text()
    # Not silence, as for an empty line: the person learns what happened.
    assert UNREADABLE in " ".join(out.split())
    assert await _open_commitments(org_uow) == []


async def test_nuls_in_a_form_are_stripped_and_the_rest_is_stored(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script(
        "report",
        f"11{N}0",
        "1950",
        "26",
        "92",
        f"Repaint{N} the trucks",
        "2026-12-18",
        "",
        "/quit",
    )
    await make_chat(org_uow, clock, console, script).run(HEAD_EMAIL)
    out = console.export_text()
    assert "Something went wrong" not in out
    assert "Thanks! Recorded Sanitation's numbers for 2026-W49." in out
    assert await _readings(org_uow) == [26.0, 92.0, 110.0, 1950.0]
    assert await _open_commitments(org_uow) == ["Repaint the trucks"]
    await _no_nul_stored(org_uow)


async def test_a_form_field_of_nothing_but_nuls_is_asked_again_with_the_rest_kept(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, console: Console
) -> None:
    clock.set(ny(2026, 12, 3, 9, 30))
    script = Script(
        "report",
        "110",
        N,  # tons collected: nothing readable; asked again
        "1950",
        "26",
        "92",
        f"{N} {N}",  # the new commitment: asked again
        "Repaint the trucks",
        "2026-12-18",
        "",
        "/quit",
    )
    await make_chat(org_uow, clock, console, script).run(HEAD_EMAIL)
    prompts = [p for p in script.prompts if UNREADABLE_FIELD in p]
    assert len(prompts) == 2
    assert "Tons" in prompts[0]
    assert await _readings(org_uow) == [26.0, 92.0, 110.0, 1950.0]
    assert await _open_commitments(org_uow) == ["Repaint the trucks"]
    await _no_nul_stored(org_uow)
