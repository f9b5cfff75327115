"""Golden files of every digest card, and of one item of each exception kind, on Slack
and the console, for the fixed week of tests/digest_state.py.

They pin the digest's words: the builder finds the facts, the cards write them.
Regenerate with STATBOT_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.digests.builder import build_digest
from bot.digests.cards import (
    cadence_card,
    charts_card,
    digest_text,
    exceptions_card,
    item_parts,
    promises_card,
    reporting_card,
    scorecard_card,
    summary_card,
)
from bot.digests.models import KIND_ORDER, Digest
from bot.digests.service import build_for_week
from bot.escalations.models import Escalation
from bot.messages import Card
from bot.messages.model import Image
from bot.org.context import load_context
from storage.uow import SqlUnitOfWorkFactory
from tests.digest_state import NOW, WEEK, org, prepare
from tests.digest_state import build as build_week
from tests.goldens import assert_card_golden, assert_text_golden
from tests.helpers import ny

__all__ = ["org"]  # the fixture


def _item_card(digest: Digest, kind: str) -> Card:
    items = [e for e in digest.exceptions if e.kind == kind]
    assert items, f"the prepared week has no {kind} item"
    return Card(parts=tuple(p for item in items for p in item_parts(item)), summary=kind)


async def test_digest_cards(org: SqlUnitOfWorkFactory) -> None:
    await prepare(org)
    async with org() as work:
        digest, cards = await build_for_week(work, WEEK, NOW)
    chart = [p for c in cards for p in c.parts if isinstance(p, Image)]
    named: dict[str, Card | None] = {
        "digest_summary": summary_card(digest),
        "digest_scorecard": scorecard_card(digest),
        "digest_charts": charts_card(digest, chart),
        "digest_exceptions": exceptions_card(digest),
        "digest_reporting": reporting_card(digest),
        "digest_promises": promises_card(digest),
        "digest_cadence": cadence_card(digest),
    }
    for name, card in named.items():
        assert card is not None, name
        assert_card_golden(name, card)
    assert [c.summary for c in cards] == [c.summary for c in named.values() if c is not None]
    assert_text_golden("digest_plain", digest_text(digest, chart_refs=chart))


@pytest.mark.parametrize("kind", KIND_ORDER)
async def test_each_exception_kind(org: SqlUnitOfWorkFactory, kind: str) -> None:
    await prepare(org)
    digest = await build_week(org)
    assert_card_golden(f"digest_item_{kind}", _item_card(digest, kind))


async def test_quiet_week_and_no_promises(org: SqlUnitOfWorkFactory) -> None:
    await prepare(org)
    digest = await build_week(org)
    quiet = digest.model_copy(update={"exceptions": (), "exception_counts": {}, "promises": ()})
    assert_card_golden("digest_summary_nothing_due", summary_card(quiet))
    assert exceptions_card(quiet) is None
    empty = digest.model_copy(update={"scorecard": (), "reporting": ()})
    assert_card_golden("digest_scorecard_empty", scorecard_card(empty))


async def test_item_variants(org: SqlUnitOfWorkFactory) -> None:
    """The other wordings: off target for the whole window, one day overdue, an
    unanswered follow-up not yet due, a snoozed escalation, and the severities a week
    later.  An escalation still running on a commitment that was kept is settled: it is
    not listed."""
    ids = (await prepare(org)).ids
    async with org() as work:
        context = await load_context(work)
        data = await work.digest_source.load(week=WEEK)
    metric = next(m for m in data.metrics if m.key == "missed_pickups")
    assert metric.id is not None
    data.values[metric.id] = dict.fromkeys(data.weeks, 200.0)
    by_id = {c.id: c for c in data.commitments}
    data.commitments = [
        dataclasses.replace(c, due_on=dt.date(2026, 11, 29))
        if c.id == ids["broken"]
        else dataclasses.replace(c, due_on=dt.date(2026, 12, 2))
        if c.id == ids["asked"]
        else c
        for c in data.commitments
    ]
    assert ids["kept"] in by_id
    fire = next(e for e in data.escalations if e.id == ids["esc.fire"])
    fire.state, fire.snoozed_until = "snoozed", ny(2026, 12, 2, 9)
    data.escalations.append(
        Escalation(
            kind="quiet_commitment",
            subject_id=ids["kept"],
            unit_id=by_id[ids["kept"]].unit_id,
            episode="1",
            policy={},
            state="active",
            step=2,
            next_step_at=None,
            created_at=ny(2026, 11, 20, 14),
            updated_at=ny(2026, 11, 28, 9),
            id=9001,
        )
    )
    for name, now in (("digest_items_variants", NOW), ("digest_items_variants_later", ny(2026, 12, 5, 9))):
        digest = build_digest(data, now=now, context=context)
        assert not any(e.escalation_id == 9001 for e in digest.exceptions)
        parts = tuple(p for item in digest.exceptions for p in item_parts(item))
        assert_card_golden(name, Card(parts=parts, summary=name))
