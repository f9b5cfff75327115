"""Applying the org file to a real database."""

from __future__ import annotations

import datetime as dt

import yaml

from bot.checkins.models import Reading
from bot.clock import FakeClock
from bot.org.apply import apply_org
from bot.org.schema import parse_org
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG


def _example() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(EXAMPLE_ORG.read_text())


async def test_second_apply_changes_nothing(
    org_uow: SqlUnitOfWorkFactory, example_org, clock: FakeClock
) -> None:  # type: ignore[no-untyped-def]
    async with org_uow() as uow:
        diff = await apply_org(uow, example_org, now=clock.now())
        await uow.commit()
    assert diff.empty, [str(c) for c in diff.changes]


async def test_first_apply_stores_everything(org_uow: SqlUnitOfWorkFactory, example_org) -> None:  # type: ignore[no-untyped-def]
    async with org_uow() as uow:
        people = await uow.people.all()
        units = await uow.units.all()
        assert len(people) == len(example_org.people)
        assert {u.key for u in units} == {u.key for u in example_org.units}
        first = example_org.units[0]
        unit = await uow.units.by_key(first.key)
        assert unit is not None and unit.id is not None
        head = await uow.people.get(unit.head_id)
        assert head is not None and head.email == first.head
        metrics = await uow.metrics.for_unit(unit.id)
        assert [m.key for m in metrics] == [m.key for m in first.metrics]
        assert (await uow.org.settings()) is not None
        assert len(await uow.org.policies()) == len(example_org.escalation_policies)
        assert (await uow.audit.recent())[0].action == "org.apply"


async def test_removed_metric_is_retired_with_its_history(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    raw = _example()
    unit_key = raw["units"][0]["key"]
    gone = raw["units"][0]["metrics"].pop()
    async with org_uow() as uow:
        unit = await uow.units.by_key(unit_key)
        assert unit is not None and unit.id is not None
        metric = next(m for m in await uow.metrics.for_unit(unit.id) if m.key == gone["key"])
        assert metric.id is not None
        await uow.readings.add(
            Reading(
                unit_id=unit.id,
                metric_id=metric.id,
                week="2026-W47",
                value=5,
                updated_at=clock.now(),
                updated_by=None,
            )
        )
        await uow.commit()

    async with org_uow() as uow:
        diff = await apply_org(uow, parse_org(yaml.safe_dump(raw)), now=clock.now())
        await uow.commit()
    assert [str(c) for c in diff.changes] == [
        f"- retired metric {unit_key}/{gone['key']} (its readings are kept)"
    ]
    async with org_uow() as uow:
        assert gone["key"] not in [m.key for m in await uow.metrics.for_unit(unit.id)]
        kept = await uow.readings.for_unit_week(unit.id, "2026-W47")
        assert [r.value for r in kept] == [5]

    # Putting it back revives the same metric (same id, same history).
    async with org_uow() as uow:
        diff = await apply_org(uow, parse_org(EXAMPLE_ORG.read_text()), now=clock.now())
        await uow.commit()
        revived = next(m for m in await uow.metrics.for_unit(unit.id) if m.key == gone["key"])
    assert revived.id == metric.id
    assert [c.kind for c in diff.changes] == ["changed"]


async def test_changes_are_described_field_by_field(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    raw = _example()
    raw["units"][1]["metrics"][0]["target"] = 999
    raw["units"][1]["name"] = "Renamed unit"
    raw["people"].append({"email": "New.Person@Example.org", "name": "New Person"})
    async with org_uow() as uow:
        diff = await apply_org(uow, parse_org(yaml.safe_dump(raw)), now=clock.now())
        await uow.commit()
    text = [str(c) for c in diff.changes]
    key = raw["units"][1]["key"]
    assert "+ added person new.person@example.org" in text
    assert any(t.startswith(f"~ changed unit {key} (name: ") and "→ Renamed unit" in t for t in text)
    assert any(t.startswith(f"~ changed metric {key}/") and "target:" in t and "→ 999" in t for t in text)


async def test_person_removed_from_file_is_retired_not_deleted(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    raw = _example()
    used = {u[r] for u in raw["units"] for r in ("head", "deputy", "leader") if u.get(r)}
    used |= set(raw["organisation"].get("digest", {}).get("audience", []))
    spare = next(p for p in raw["people"] if p["email"].lower() not in used)
    raw["people"].remove(spare)
    async with org_uow() as uow:
        diff = await apply_org(uow, parse_org(yaml.safe_dump(raw)), now=clock.now())
        await uow.commit()
    assert [str(c) for c in diff.changes] == [f"- retired person {spare['email'].lower()}"]
    async with org_uow() as uow:
        person = await uow.people.by_email(spare["email"])
        assert person is not None and not person.active


async def test_dry_run_rolls_back(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    raw = _example()
    raw["organisation"]["name"] = "Another City"
    async with org_uow() as uow:
        diff = await apply_org(uow, parse_org(yaml.safe_dump(raw)), now=clock.now())
        await uow.rollback()
    assert not diff.empty
    async with org_uow() as uow:
        settings = await uow.org.settings()
        assert settings is not None and settings.name != "Another City"


async def test_apply_time_is_stored_as_aware_utc(org_uow: SqlUnitOfWorkFactory) -> None:
    async with org_uow() as uow:
        entry = (await uow.audit.recent())[0]
    assert entry.at.tzinfo is not None and entry.at.utcoffset() == dt.timedelta(0)


async def test_role_changes_name_people_by_email(org_uow: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    raw = _example()
    unit = next(u for u in raw["units"] if u.get("deputy"))
    old_deputy = unit.pop("deputy")
    async with org_uow() as uow:
        diff = await apply_org(uow, parse_org(yaml.safe_dump(raw)), now=clock.now())
    assert f"deputy: {old_deputy} → nobody" in str(diff.changes[0])
