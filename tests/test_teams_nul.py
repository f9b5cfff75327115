"""A NUL character (\\x00) in anything sent from Teams never reaches the database.

PostgreSQL refuses NUL in text and JSON (SQLite stores it).  On Teams a NUL in a form
field failed the whole turn there ("Something went wrong", the typed numbers lost), and
the text parser used NUL as its own mention mark, so ``commit Fix the\\x00 hotline`` was
stored as "Fix the@hotline".  The Teams edge now strips NUL from every string of an
activity, as Slack's does: text, ids, card values.  Text of nothing but NULs gets "I
could not read that…"; a form field of nothing but NULs comes back on the form with its
error and everything else typed kept.  Run on SQLite and, with STATBOT_TEST_DATABASE_URL,
on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text as sql

from adapters.teams import parse
from bot.cards import UNREADABLE, UNREADABLE_FIELD
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import ny, pid
from tests.test_teams_app import (
    BOT,
    GOOD,
    HEAD,
    HEAD_EMAIL,
    Teams,
    _find,
    _invoke,
    _walk,
    connector,
    teams,
)

__all__ = ["connector", "teams"]
N = "\x00"


async def _open_commitments(org_uow: SqlUnitOfWorkFactory) -> list[str]:
    head = await pid(org_uow, HEAD_EMAIL)
    async with org_uow() as uow:
        return sorted(c.text for c in await uow.commitments.open_for_owner(head))


async def _no_nul_stored(org_uow: SqlUnitOfWorkFactory) -> None:
    """None of what a Teams turn writes (commitments, check-in drafts, processed activity
    ids, people's stored conversation references) holds a NUL."""
    async with org_uow() as uow:
        session = uow.session  # type: ignore[attr-defined]
        stored: list[Any] = []
        for query in (
            "select text from commitments",
            "select draft from checkins",
            "select event_id from processed_events",
            "select teams_conversation from people where teams_conversation is not null",
        ):
            stored.extend((await session.execute(sql(query))).scalars().all())
    assert stored
    assert not [s for s in stored if N in (s if isinstance(s, str) else json.dumps(s))]


def _shown(teams: Teams, conversation: str = f"a:dm-{HEAD}") -> str:
    return json.dumps([p.cards for p in teams.connector.to(conversation)], ensure_ascii=False)


async def test_a_dm_with_nuls_is_stored_without_them(teams: Teams, org_uow: SqlUnitOfWorkFactory) -> None:
    await teams.say(HEAD, f"commit Fix the{N} hotline{N} by 2026-12-20")
    assert "Fix the hotline" in _shown(teams)
    # The NUL was never taken for a mention mark: no "Fix the@hotline".
    assert await _open_commitments(org_uow) == ["Fix the hotline"]
    await _no_nul_stored(org_uow)


async def test_a_channel_command_with_nuls_around_the_mention_reads_as_typed(
    teams: Teams, org_uow: SqlUnitOfWorkFactory
) -> None:
    await teams.say(
        HEAD,
        f"<at>stat{N}bot</at> commit Call{N} the <at>depot</at>{N} by 2026-12-20",
        personal=False,
        entities=[{"type": "mention", "text": "<at>statbot</at>", "mentioned": BOT}],
    )
    assert await _open_commitments(org_uow) == ["Call the @depot"]


async def test_ids_and_names_with_nuls_are_stored_without_them(
    teams: Teams, org_uow: SqlUnitOfWorkFactory
) -> None:
    activity = teams.activity(HEAD, text="status")
    activity["id"] = f"m{N}1"
    activity["from"]["name"] = f"Rob{N}ert"
    activity["conversation"]["tenantId"] = f"tenant{N}-1"
    response = await teams.post(activity)
    assert response.status == 201
    assert len(teams.connector.to(f"a:dm-{HEAD}")) == 1
    await _no_nul_stored(org_uow)


async def test_text_of_nothing_but_nuls_is_refused_with_a_clear_message(
    teams: Teams, org_uow: SqlUnitOfWorkFactory
) -> None:
    await teams.say(HEAD, f"{N}{N}")
    await teams.say(
        HEAD,
        f"<at>statbot</at> {N}",
        personal=False,
        entities=[{"type": "mention", "text": "<at>statbot</at>", "mentioned": BOT}],
    )
    # Not the help an empty message gets: the person learns what happened.
    for conversation in (f"a:dm-{HEAD}", "19:chan@thread.tacv2;messageid=1"):
        (reply,) = teams.connector.to(conversation)
        assert UNREADABLE in json.dumps(reply.cards, ensure_ascii=False)
    assert await _open_commitments(org_uow) == []


async def _form(teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> dict[str, Any]:
    """The check-in form's submit data, as the card opened from the prompt carries it."""
    await teams.say(HEAD, "help")
    clock.set(ny(2026, 12, 3, 9, 30))
    await open_due_checkins(org_uow, clock)
    await drain(org_uow, teams.runtime.gateway, clock)
    prompt = teams.connector.to(f"a:dm-{HEAD}")[-1]
    opened = await (
        await teams.post(_invoke(teams, HEAD, _find(prompt.cards, "Action.Execute")["data"]))
    ).json()  # type: ignore[index]
    submit = _find(opened["value"], "Action.Execute")
    assert submit is not None
    data: dict[str, Any] = submit["data"]
    return data


async def _stored(org_uow: SqlUnitOfWorkFactory) -> tuple[str, list[float]]:
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
        readings = await uow.readings.for_unit_week(unit.id, "2026-W49")
    assert checkin is not None
    return checkin.state, sorted(r.value for r in readings)


async def test_nuls_in_a_form_are_stripped_and_the_rest_is_stored(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    data = await _form(teams, org_uow, clock)
    typed = {
        **GOOD,
        "in.m.missed_pickups": f"11{N}0",
        "in.new.text": f"Repaint{N} the trucks",
        "in.new.due": "2026-12-18",
    }
    response = await teams.post(_invoke(teams, HEAD, {**data, **typed}))
    assert response.status == 200
    assert "Recorded" in json.dumps(await response.json(), ensure_ascii=False)
    assert await _stored(org_uow) == ("submitted", sorted(float(v) for v in GOOD.values()))
    assert await _open_commitments(org_uow) == ["Repaint the trucks"]
    await _no_nul_stored(org_uow)


def _field(card: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
    """The input with id ``name`` and the text shown right after it (its error, if any)."""
    body = card["body"]
    index = next(i for i, e in enumerate(body) if e.get("id") == name)
    after = json.dumps(body[index + 1 : index + 3], ensure_ascii=False)
    return body[index], after


async def test_a_form_field_of_nothing_but_nuls_comes_back_with_its_error_and_the_rest_kept(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    data = await _form(teams, org_uow, clock)
    typed = {**GOOD, "in.new.text": f"{N}{N}", "in.new.due": "2026-12-18"}
    response = await teams.post(_invoke(teams, HEAD, {**data, **typed}))
    assert response.status == 200
    card = (await response.json())["value"]
    # The same form in place of the clicked card: the error under the field, the rest as typed.
    field, after = _field(card, "in.new.text")
    assert "value" not in field and UNREADABLE_FIELD in after
    assert _field(card, "in.m.missed_pickups")[0]["value"] == 110
    assert _field(card, "in.new.due")[0]["value"] == "2026-12-18"
    assert [e for e in _walk(card, "Action.Execute") if e["data"]["action"] == "checkin.submit"]
    # Nothing was taken.
    state, readings = await _stored(org_uow)
    assert state != "submitted" and readings == []
    # Corrected, it is stored.
    fixed = await teams.post(_invoke(teams, HEAD, {**data, **typed, "in.new.text": "Repaint the trucks"}))
    assert "Recorded" in json.dumps(await fixed.json(), ensure_ascii=False)
    assert await _open_commitments(org_uow) == ["Repaint the trucks"]
    await _no_nul_stored(org_uow)


async def test_a_required_number_of_nothing_but_nuls_by_action_submit_gets_the_form_back(
    teams: Teams, org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    """Action.Submit: the card stays as it was in the chat, the form comes back as a new
    message with the field's error and what else was typed."""
    data = await _form(teams, org_uow, clock)
    await teams.say(HEAD, "", value={**data, **GOOD, "in.m.tons_collected": N})
    card = teams.connector.to(f"a:dm-{HEAD}")[-1].cards[0]
    _, after = _field(card, "in.m.tons_collected")
    assert UNREADABLE_FIELD in after
    assert _field(card, "in.m.missed_pickups")[0]["value"] == 110
    assert (await _stored(org_uow))[1] == []


def test_no_parsed_activity_carries_a_nul() -> None:
    base = {
        "channelId": "msteams",
        "serviceUrl": f"https://smba{N}.example/",
        "from": {"id": f"29:x{N}", "name": f"A{N}"},
        "recipient": {"id": "28:statbot", "name": "statbot"},
        "conversation": {"id": f"a:1{N}", "conversationType": "personal"},
    }
    text = parse.parse({**base, "type": "message", "id": f"1{N}", "text": f"st{N}atus"})
    submit = parse.parse(
        {
            **base,
            "type": "message",
            "id": "2",
            "value": {
                "statbot": "form",
                "action": f"followup.answer{N}",
                "ids": {f"commitment{N}": f"3{N}"},
                "in.answer": f"because{N}",
                "in.promise": N,
            },
        }
    )
    assert isinstance(text, parse.TextMessage) and text.text == "status" and not text.emptied
    assert isinstance(submit, parse.Submission)
    assert submit.values == {"answer": "because", "promise": ""} and submit.emptied == ("promise",)
    assert N not in json.dumps([text.__dict__, submit.__dict__, parse.without_nuls(base)], default=str)
    # A mention mark cannot be forged by typing one.
    assert parse.command_text(f"ask Ana{N}Ortiz{N} why", {"statbot"}) == "ask AnaOrtiz why"
