"""Forged (properly signed) clicks and submissions never reveal or change what the
clicker may not see or do.

Every action kind statbot's buttons and modals carry (bot/actions.py, on the wire as
adapters/slack/wire.py writes them) is sent with ids from a restricted unit (Human
Resources) and from another unit (Sanitation), by people who may not see or act on
them: a unit head of another unit, an analyst (who may read every unrestricted unit but
not a restricted one), the head of a third unit.  They see refusals only: no restricted
text in any reply, modal or DM, no modal opened, and nothing changed in the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack import wire
from bot.actions import Action
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.commitments import service as commitments
from bot.escalations.jobs import sweep
from bot.sessions.models import (
    DocumentKind,
    DocumentState,
    ItemKind,
    SessionDocument,
    SessionItem,
    SessionState,
    StatSession,
)
from storage.uow import SqlUnitOfWorkFactory
from tests import test_slack_app as harness
from tests.fakes.slack_api import FakeSlackApi, interactive_body, state_for
from tests.helpers import ny
from tests.test_slack_app import HEAD, HEAD_EMAIL, Slack

SECRET_HR = "HRSECRET"
SECRET_SAN = "SANSECRET"
ANALYST, ANALYST_EMAIL = "U0JORDAN01", "jordan.kim@riverton.gov"
STREETS, STREETS_EMAIL = "U0KEVIN001", "kevin.obrien@riverton.gov"  # head of Streets
HR_HEAD_EMAIL, HR_LEADER_EMAIL = "carla.mendes@riverton.gov", "marcus.bell@riverton.gov"
SAN_LEADER_EMAIL = "luis.ortega@riverton.gov"


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi(
        users={HEAD: HEAD_EMAIL, ANALYST: ANALYST_EMAIL, STREETS: STREETS_EMAIL},
        channels={"citistat": "C0CITISTAT", "general": "C0GENERAL1"},
    )
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def slack(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock, api: FakeSlackApi
) -> AsyncIterator[Slack]:
    async for s in harness._slack(
        harness._settings(db_url, api), engine, clock, api, process_before_response=True
    ):
        yield s


async def _unit(org_uow: SqlUnitOfWorkFactory, key: str) -> Any:
    async with org_uow() as uow:
        unit = await uow.units.by_key(key)
    assert unit is not None and unit.id is not None
    return unit


async def _person(org_uow: SqlUnitOfWorkFactory, email: str) -> Any:
    async with org_uow() as uow:
        found = await uow.people.by_email(email)
    assert found is not None and found.id is not None
    return found


async def _secrets(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> dict[str, dict[str, str]]:
    """Each unit's commitment, follow-up question, check-in (with a draft) and escalation,
    every text marked; returns their ids per unit key."""
    clock.set(ny(2026, 12, 3, 9, 30))  # Thursday 2026-W49: both units' check-ins open
    await open_due_checkins(org_uow, clock)
    ids: dict[str, dict[str, str]] = {}
    for key, secret, head_email, leader_email in (
        ("hr", SECRET_HR, HR_HEAD_EMAIL, HR_LEADER_EMAIL),
        ("sanitation", SECRET_SAN, HEAD_EMAIL, SAN_LEADER_EMAIL),
    ):
        unit = await _unit(org_uow, key)
        head, leader = await _person(org_uow, head_email), await _person(org_uow, leader_email)
        async with org_uow() as uow:
            promise = await commitments.create(
                uow, head, unit, f"{secret} commitment text", dt.date(2026, 12, 4), clock.now()
            )
            followup, _ = await commitments.ask(
                uow, leader, unit, f"{secret} question text", dt.date(2026, 12, 9), clock.now()
            )
            checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
            assert checkin is not None and checkin.id is not None
            checkin.draft = {"new.text": f"{secret} draft text"}
            await uow.checkins.save(checkin)
            await uow.commit()
        assert promise.id is not None and followup.id is not None
        ids[key] = {"commitment": str(promise.id), "followup": str(followup.id), "checkin": str(checkin.id)}
    # The promises fall due and the check-ins are missed: the sweeps escalate both.
    end = ny(2026, 12, 8, 12)
    while clock.now() < end:
        await sweep(org_uow, clock)
        clock.set(min(clock.now() + dt.timedelta(hours=6), end))
    async with org_uow() as uow:
        active = await uow.escalations.active()
    for key in ids:
        unit = await _unit(org_uow, key)
        mine = [e for e in active if e.unit_id == unit.id]
        assert mine, f"no escalation for {key}"
        ids[key]["escalation"] = str(mine[0].id)
        by_commitment = [e for e in mine if e.kind != "checkin"]
        ids[key]["commitment_escalation"] = str((by_commitment or mine)[0].id)
        ids[key].update(
            await _sessions(org_uow, clock, key, secret, unit, await _person(org_uow, leader_email))
        )
    return ids


async def _sessions(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock, key: str, secret: str, unit: Any, leader: Any
) -> dict[str, str]:
    """A held session with a sent brief (a standing exception) and a draft memo, and a
    coming one with a draft brief; every text marked."""
    now = clock.now()
    async with org_uow() as uow:
        metric = (await uow.metrics.for_unit(unit.id))[0]
        held = await uow.sessions.add(
            StatSession(
                unit_id=unit.id,
                starts_at=now - dt.timedelta(hours=3),
                minutes=60,
                chair_id=leader.id,
                scheduled_chair_id=leader.id,
                state=SessionState.CLOSED,
                created_at=now,
                updated_at=now,
                closed_at=now - dt.timedelta(hours=1),
                closed_by=leader.id,
            )
        )
        coming = await uow.sessions.add(
            StatSession(
                unit_id=unit.id,
                starts_at=now + dt.timedelta(days=7),
                minutes=60,
                chair_id=leader.id,
                scheduled_chair_id=leader.id,
                state=SessionState.SCHEDULED,
                created_at=now,
                updated_at=now,
            )
        )
        exception = f"standing:{metric.id}:off_target"
        for session, kind, state, edits in (
            (held, DocumentKind.BRIEF, DocumentState.SENT, {"standing": [exception]}),
            (held, DocumentKind.MEMO, DocumentState.DRAFT, {}),
            (coming, DocumentKind.BRIEF, DocumentState.DRAFT, {"added": [], "dropped": []}),
        ):
            await uow.session_documents.add(
                SessionDocument(
                    session_id=session.id or 0,
                    kind=kind,
                    state=state,
                    body=f"# {secret} {kind}",
                    created_at=now,
                    updated_at=now,
                    sent_at=now if state == DocumentState.SENT else None,
                    edits=edits,
                )
            )
        await uow.session_items.add(
            SessionItem(
                session_id=held.id or 0,
                kind=ItemKind.NOTE,
                text=f"{secret} note",
                created_by=leader.id,
                created_at=now,
            )
        )
        await uow.commit()
    return {"session": str(held.id), "coming": str(coming.id), "exception": exception}


async def _state(org_uow: SqlUnitOfWorkFactory) -> Any:
    """Everything a forged action could change."""
    async with org_uow() as uow:
        units = {u.key: u for u in await uow.units.all()}
        state: dict[str, Any] = {}
        for key in ("hr", "sanitation"):
            unit = units[key]
            checkin = await uow.checkins.for_unit_week(unit.id, "2026-W49")
            assert checkin is not None
            state[key] = {
                "commitments": sorted(
                    (c.id, c.status, c.text, c.answer) for c in await uow.commitments.open_for_unit(unit.id)
                ),
                "checkin": (checkin.state, json.dumps(checkin.draft, sort_keys=True)),
                "readings": len(await uow.readings.for_unit_week(unit.id, "2026-W49")),
                "escalations": sorted(
                    (e.id, e.state, e.acted_by)
                    for e in await uow.escalations.active()
                    if e.unit_id == unit.id
                ),
            }
        sessions = [
            s.id or 0
            for s in await uow.sessions.between(
                dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
            )
        ]
        documents = []
        for kind in DocumentKind:
            documents += [
                (d.session_id, d.kind, d.state, d.body)
                for d in await uow.session_documents.for_sessions(sessions, kind)
            ]
        items = await uow.session_items.for_sessions(sessions)
        state["sessions"] = {
            "documents": sorted(documents),
            "items": sorted((i.session_id, i.kind, i.text) for i in items),
        }
    return state


def _forgeries(ids: dict[str, str], unit_key: str) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(kind, action, ids, typed values) for every action kind, with this unit's ids."""
    a = Action
    return [
        ("button", a.CHECKIN_OPEN, {"checkin": ids["checkin"]}, {}),
        ("button", a.FOLLOWUP_ASK, {"commitment": ids["commitment"]}, {}),
        ("button", a.FOLLOWUP_ASK, {"unit": unit_key, "commitment": ids["commitment"]}, {}),
        ("button", a.FOLLOWUP_ASK, {"unit": unit_key, "metric": "open_positions"}, {}),
        ("button", a.FOLLOWUP_ASK, {"escalation": ids["escalation"]}, {}),
        ("button", a.FOLLOWUP_ANSWER, {"commitment": ids["followup"]}, {}),
        ("button", a.FOLLOWUP_TRACK, {"commitment": ids["followup"]}, {}),
        ("button", a.DIGEST_SHOW, {"week": "2026-W49"}, {}),
        ("button", a.ESCALATION_ACK, {"escalation": ids["escalation"]}, {}),
        ("button", a.ESCALATION_SNOOZE, {"escalation": ids["escalation"], "days": "2"}, {}),
        ("button", a.ESCALATION_DONE, {"escalation": ids["commitment_escalation"]}, {}),
        ("form", a.CHECKIN_SUBMIT, {"checkin": ids["checkin"]}, {**harness.GOOD, "new.text": ""}),
        ("form", a.CHECKIN_SUBMIT, {"checkin": ids["checkin"]}, {"m.open_positions": "lots"}),
        ("form", a.CHECKIN_CONFIRM, {"checkin": ids["checkin"]}, {"ok.open_positions": "confirm"}),
        ("form", a.FOLLOWUP_ASK, {"commitment": ids["commitment"]}, {"question": "", "due": ""}),
        (
            "form",
            a.FOLLOWUP_ASK,
            {"commitment": ids["commitment"]},
            {"question": "Why?", "due": "2026-12-20"},
        ),
        ("form", a.FOLLOWUP_ASK, {"unit": unit_key}, {"question": "Why?", "due": ""}),
        ("form", a.FOLLOWUP_ANSWER, {"commitment": ids["followup"]}, {"answer": "forged answer"}),
        ("form", a.FOLLOWUP_ANSWER, {"commitment": ids["followup"]}, {"answer": ""}),
        ("button", a.BRIEF_SEND, {"session": ids["coming"]}, {}),
        ("button", a.MEMO_APPROVE, {"session": ids["session"]}, {}),
        (
            "button",
            a.DECISION_CHOOSE,
            {"session": ids["session"], "exception": ids["exception"], "choice": "accept"},
            {},
        ),
        (
            "form",
            a.DECISION_CHOOSE,
            {"session": ids["session"], "exception": ids["exception"], "choice": "accept"},
            {"text": "forged decision"},
        ),
    ]


def _covered(ids: dict[str, str]) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """Asking about a unit the clicker may ask about (Streets), with this unit's commitment
    id: the question form may open, but never prefilled with the other unit's text."""
    a = Action
    cover = {"unit": "streets", "commitment": ids["commitment"]}
    return [
        ("button", a.FOLLOWUP_ASK, cover, {}),
        ("form", a.FOLLOWUP_ASK, cover, {"question": "", "due": ""}),
    ]


def _modal(action: str, ids: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": wire.FORM_CALLBACK,
        "private_metadata": wire.form_metadata(action, ids),
        "blocks": [
            {
                "type": "input",
                "block_id": name,
                "element": {"type": "plain_text_input", "action_id": wire.INPUT_ACTION},
            }
            for name in values
        ],
    }


ATTACKS = [
    # (who, whose ids, secret that must not show)
    ("sanitation head, HR ids", HEAD, "hr", SECRET_HR),
    ("analyst, HR ids", ANALYST, "hr", SECRET_HR),
    ("streets head, sanitation ids", STREETS, "sanitation", SECRET_SAN),
]


@pytest.mark.parametrize(("who", "user", "unit_key", "secret"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_every_forged_action_is_refused_and_reveals_nothing(
    slack: Slack,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    who: str,
    user: str,
    unit_key: str,
    secret: str,
) -> None:
    all_ids = await _secrets(org_uow, clock)
    before = await _state(org_uow)
    async with org_uow() as uow:
        last_delivery = await uow.deliveries.last_id()
    forgeries = _forgeries(all_ids[unit_key], unit_key)
    covered = _covered(all_ids[unit_key])
    # Every action kind is forged at least once.
    assert {f[1] for f in forgeries} == set(Action)
    for kind, action, ids, values in [*forgeries, *covered]:
        may_ask_cover = user == ANALYST and (kind, action, ids, values) in covered
        seen_before = len(slack.api.calls)
        if kind == "button":
            button = {
                "action_id": wire.button_action_id(action, 0),
                "type": "button",
                "value": wire.encode_action(action, ids),
            }
            response = await slack.click(button, user=user, channel=f"D{user}")
            body = await response.text()
        else:
            view = _modal(action, ids, values)
            payload = harness.fixture_json("slack_view_submission.json")
            payload["user"]["id"] = user
            payload["trigger_id"] = slack.next_id("trig.forged.")
            payload["view"] = {
                **view,
                "id": slack.next_id("VFORGED"),
                "hash": "h",
                "previous_view_id": None,
                "state": {"values": state_for(view, values)},
            }
            response = await slack.post(interactive_body(payload), "application/x-www-form-urlencoded")
            body = await response.text()
        assert response.status == 200, (action, ids)
        shown = body + json.dumps([c.params for c in slack.api.calls[seen_before:]], ensure_ascii=False)
        assert secret not in shown, (who, action, ids, shown)
        opened = [c for c in slack.api.calls[seen_before:] if c.method in ("views.open", "views.push")]
        if not may_ask_cover:
            assert opened == [], (who, action, ids)  # no form of theirs
            assert "checkin.submit" not in body and "followup" not in body, (who, action, ids)
        # The person was told something (a refusal), in the DM or the ack's view.
        said = [c for c in slack.api.calls[seen_before:] if c.method in ("chat.postMessage", "respond")]
        assert said or body or (may_ask_cover and opened), (who, action, ids)
    assert await _state(org_uow) == before
    # Nothing was queued for anyone (a question asked, an answer sent to a leader).
    async with org_uow() as uow:
        assert await uow.deliveries.since(last_delivery) == []
