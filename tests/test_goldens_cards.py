"""Golden files of the escalation and commitment cards, on Slack and the console, for the
fixed week of tests/digest_state.py.  Regenerate with STATBOT_UPDATE_GOLDEN=1 and review
the diff."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.commitments.cards import commitments_card
from bot.escalations.cards import escalation_card
from bot.escalations.models import Escalation
from bot.escalations.subject import subject_of
from bot.org.models import Person
from storage.uow import SqlUnitOfWorkFactory
from tests.digest_state import NOW, org, org_maps, prepare
from tests.goldens import assert_card_golden
from tests.helpers import ny

__all__ = ["org"]  # the fixture

# (escalation kind, the prepared item it is about, unit, who this step notifies, how many
# people were asked before)
ESCALATIONS = [
    ("missed_checkin", "checkin.fire", "fire", "owner", 0),
    ("missed_checkin", "checkin.fire", "fire", "leader", 2),
    ("overdue_commitment", "overdue", "sanitation", "owner", 0),
    ("overdue_commitment", "overdue", "sanitation", "deputy", 1),
    ("quiet_commitment", "quiet", "streets", "owner", 0),
    ("quiet_commitment", "quiet", "streets", "channel", 3),
    ("unanswered_followup", "asked", "housing", "owner", 0),
    ("unanswered_followup", "asked", "housing", "leader", 1),
]


@pytest.mark.parametrize(("kind", "item", "unit_key", "notify", "asked"), ESCALATIONS)
async def test_escalation_card(
    org: SqlUnitOfWorkFactory, kind: str, item: str, unit_key: str, notify: str, asked: int
) -> None:
    ids = (await prepare(org)).ids
    units, _, people = await org_maps(org)
    unit = units[unit_key]
    chain: list[Person] = [p for p in (people.get(e) for e in _emails(unit_key)) if p][:asked]
    async with org() as work:
        escalation = await work.escalations.add(
            Escalation(
                kind=kind,
                subject_id=ids[item],
                unit_id=unit.id or 0,
                episode="golden",
                policy={"name": "standard"},
                state="active",
                step=asked,
                next_step_at=NOW,
                created_at=ny(2026, 11, 27, 14),
                updated_at=ny(2026, 11, 28, 9),
                notified=[p.id or 0 for p in chain],
            )
        )
        subject = await subject_of(work, escalation, NOW)
        await work.commit()
    assert subject is not None
    recipient = chain[-1] if chain else subject.owner
    card = escalation_card(escalation, subject, notify, recipient, chain, NOW)
    assert_card_golden(f"escalation_{kind}_{notify}", card)


def _emails(unit_key: str) -> list[str]:
    # The people a chain reaches in order: head, deputy, the unit's leader, an analyst.
    return {
        "fire": ["thomas.reilly@riverton.gov", "dana.whitfield@riverton.gov"],
        "sanitation": ["robert.hayes@riverton.gov"],
        "streets": ["kevin.obrien@riverton.gov", "priya.raman@riverton.gov", "dana.whitfield@riverton.gov"],
        "housing": ["monique.jackson@riverton.gov"],
    }[unit_key]


async def test_commitment_cards(org: SqlUnitOfWorkFactory) -> None:
    await prepare(org)
    units, _, people = await org_maps(org)
    today = dt.date(2026, 11, 30)
    async with org() as work:
        open_items = [c for u in units.values() for c in await work.commitments.open_for_unit(u.id or 0)]
        # Sorted here: equal due dates may come in either order from the database.
        overdue = sorted(await work.commitments.overdue(today), key=lambda c: (c.due_on, c.id or 0))
    open_items.sort(key=lambda c: c.id or 0)
    owners = {p.id: p for p in people.values() if p.id is not None}
    by_id = {u.id: u for u in units.values()}
    assert_card_golden(
        "commitments_open", commitments_card("Open commitments", open_items, owners, by_id, today)
    )
    assert_card_golden(
        "commitments_overdue", commitments_card("Overdue commitments", overdue, owners, by_id, today)
    )
    # Due today and due in two days show as such.
    assert_card_golden(
        "commitments_due_soon",
        commitments_card("Your open commitments", open_items, owners, by_id, dt.date(2026, 12, 3)),
    )
    assert_card_golden(
        "commitments_none", commitments_card("Your open commitments", [], owners, by_id, today)
    )
