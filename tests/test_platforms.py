"""Several platforms in one organisation: each delivery goes out once, on the platform
where its recipient is reachable; the leadership channel may be named per platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.gateways import PlatformRouter, mark_unreachable, platform_for, route
from adapters.runtime import open_runtime
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.digests.service import post_now
from bot.messages import Card, paragraph
from bot.org.apply import apply_org
from bot.org.models import Person
from bot.org.schema import OrgFile, OrgFileError, load_org
from bot.ports import DeliveryError
from storage.engine import Engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG
from tests.helpers import ny, pid
from tests.test_escalations import _sanitation_checkin, run_until

TEAMS_CHANNEL = "19:leadership@thread.tacv2"


class FakeGateway:
    """Records what it was asked to send; can refuse everything."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Delivery] = []

    async def send(self, delivery: Delivery) -> str | None:
        self.sent.append(delivery)
        return f"{self.name}-{len(self.sent)}"

    def audiences(self) -> list[str]:
        return [d.audience for d in self.sent]


def org_with(tmp_path: Path, **organisation: Any) -> OrgFile:
    data = yaml.safe_load(EXAMPLE_ORG.read_text())
    data["organisation"].update(organisation)
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_org(str(path))


# --- the org file -------------------------------------------------------------------------


def test_a_plain_leadership_channel_is_slack(tmp_path: Path) -> None:
    org = org_with(tmp_path, leadership_channel="citistat")
    assert org.organisation.leadership_audiences() == ["channel:citistat"]


def test_the_leadership_channel_can_be_named_per_platform(tmp_path: Path) -> None:
    org = org_with(tmp_path, leadership_channel={"slack": "citistat", "teams": TEAMS_CHANNEL})
    assert org.organisation.leadership_audiences() == ["channel:citistat", f"channel:teams:{TEAMS_CHANNEL}"]
    only_teams = org_with(tmp_path, leadership_channel={"teams": TEAMS_CHANNEL})
    assert only_teams.organisation.leadership_audiences() == [f"channel:teams:{TEAMS_CHANNEL}"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "name a channel for slack, teams or both"),
        ({"slack": "citistat", "discord": "x"}, "discord"),
        ({"slack": ""}, "at least 1 character"),
    ],
)
def test_a_bad_leadership_channel_is_refused_by_its_place(tmp_path: Path, value: Any, problem: str) -> None:
    with pytest.raises(OrgFileError) as refused:
        org_with(tmp_path, leadership_channel=value)
    assert any(
        p.startswith("organisation.leadership_channel") and problem in p for p in refused.value.problems
    ), refused.value.problems


async def test_applying_a_plain_channel_again_changes_nothing(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, tmp_path: Path
) -> None:
    org = org_with(tmp_path, leadership_channel="citistat")
    async with uow() as work:
        await apply_org(work, org, now=clock.now())
        await work.commit()
    async with uow() as work:
        settings = await work.org.settings()
        assert settings is not None and settings.options["leadership_channel"] == "citistat"
        assert (await apply_org(work, org, now=clock.now())).empty


# --- routing ------------------------------------------------------------------------------


def test_slack_wins_when_a_person_is_on_both() -> None:
    both = Person(
        email="a@x.gov", name="A", timezone="UTC", slack_user_id="U1", teams_conversation={"id": "c"}
    )
    teams = Person(email="b@x.gov", name="B", timezone="UTC", teams_conversation={"id": "c"})
    nowhere = Person(email="c@x.gov", name="C", timezone="UTC")
    assert platform_for(both, {"slack", "teams"}) == "slack"
    assert platform_for(both, {"teams"}) == "teams"
    assert platform_for(teams, {"slack", "teams"}) == "teams"
    # Slack can still find someone by e-mail when sending; Teams cannot.
    assert platform_for(nowhere, {"slack", "teams"}) == "slack"
    assert platform_for(nowhere, {"teams"}) is None


async def _link(
    uow: SqlUnitOfWorkFactory, email: str, *, slack: str | None = None, teams: bool = False
) -> int:
    async with uow() as work:
        person = await work.people.by_email(email)
        assert person is not None and person.id is not None
        person.slack_user_id = slack
        person.teams_conversation = {"conversation": {"id": f"a:{email}"}} if teams else None
        await work.people.save(person)
        await work.commit()
        return person.id


SLACK_ONLY, TEAMS_ONLY, BOTH, NOWHERE = (
    "robert.hayes@riverton.gov",
    "priya.raman@riverton.gov",
    "maria.santos@riverton.gov",
    "dana.whitfield@riverton.gov",
)


async def _people(uow: SqlUnitOfWorkFactory) -> dict[str, int]:
    return {
        SLACK_ONLY: await _link(uow, SLACK_ONLY, slack="U0HEAD0001"),
        TEAMS_ONLY: await _link(uow, TEAMS_ONLY, teams=True),
        BOTH: await _link(uow, BOTH, slack="U0DEPUTY01", teams=True),
        NOWHERE: await pid(uow, NOWHERE),
    }


async def test_each_delivery_goes_to_one_platform_exactly_once(
    org_uow: SqlUnitOfWorkFactory, engine: Engine, db_url: str, clock: FakeClock
) -> None:
    ids = await _people(org_uow)
    card = Card(parts=(paragraph("Weekly check-in"),), summary="Weekly check-in")
    async with org_uow() as work:
        for email, person_id in ids.items():
            await enqueue(
                work, audience=Delivery.to_person(person_id), message=card, key=email, now=clock.now()
            )
        await enqueue(work, audience="channel:citistat", message=card, key="slack channel", now=clock.now())
        await enqueue(
            work,
            audience=f"channel:teams:{TEAMS_CHANNEL}",
            message=card,
            key="teams channel",
            now=clock.now(),
        )
        await work.commit()
    slack, teams = FakeGateway("slack"), FakeGateway("teams")
    async with open_runtime(
        Settings(database_url=db_url), clock=clock, engine=engine, gateways={"slack": slack, "teams": teams}
    ) as runtime:
        assert isinstance(runtime.gateway, PlatformRouter)
        first = await drain(runtime.uow, runtime.gateway, clock)
        again = await drain(runtime.uow, runtime.gateway, clock)
    assert (first.sent, first.failed, again.sent) == (6, 0, 0)
    person = Delivery.to_person
    assert sorted(slack.audiences()) == sorted(
        [person(ids[SLACK_ONLY]), person(ids[BOTH]), person(ids[NOWHERE]), "channel:citistat"]
    )
    assert sorted(teams.audiences()) == sorted([person(ids[TEAMS_ONLY]), f"channel:teams:{TEAMS_CHANNEL}"])


async def test_without_the_recipients_platform_the_delivery_waits(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    ids = await _people(org_uow)
    card = Card(parts=(paragraph("Hello"),), summary="Hello")
    async with org_uow() as work:
        await enqueue(work, audience=Delivery.to_person(ids[NOWHERE]), message=card, key="n", now=clock.now())
        await enqueue(work, audience="channel:citistat", message=card, key="c", now=clock.now())
        await work.commit()
    teams = FakeGateway("teams")
    # Teams alone: nobody reaches the unlinked person, and Slack's channel has no gateway.
    router = PlatformRouter({"teams": teams, "other": FakeGateway("other")}, org_uow)
    result = await drain(org_uow, router, clock)
    assert (result.sent, result.retried, result.failed) == (0, 2, 0)
    async with org_uow() as work:
        (waiting,) = await work.deliveries.for_audience(Delivery.to_person(ids[NOWHERE]))
    assert waiting.state == "pending" and "cannot be reached" in (waiting.last_error or "")
    with pytest.raises(DeliveryError) as unknown:
        await router.send(
            Delivery(
                audience="robot:1",
                payload={},
                idempotency_key="x",
                state="pending",
                created_at=clock.now(),
                next_attempt_at=clock.now(),
            )
        )
    assert unknown.value.permanent


async def test_people_reachable_nowhere_are_marked_and_listed_in_the_digest(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    ids = await _people(org_uow)
    nowhere = {p.email for p in await mark_unreachable(org_uow, ["slack", "teams"])}
    assert NOWHERE in nowhere and SLACK_ONLY not in nowhere and TEAMS_ONLY not in nowhere
    async with org_uow() as work:
        stored = await work.people.get(ids[NOWHERE])
        linked = await work.people.get(ids[TEAMS_ONLY])
    assert stored is not None and stored.unreachable == (
        "Slack: no user with this e-mail; Teams: the app is not installed for them"
    )
    assert linked is not None and linked.unreachable is None
    await _sanitation_checkin(org_uow, clock)  # a week in which a unit was asked
    clock.set(ny(2026, 12, 7, 8, 30))
    result = await post_now(org_uow, clock, "2026-W49")
    assert result.posted
    async with org_uow() as work:
        digest = [
            Card.model_validate(d.payload).plain_text()
            for d in await work.deliveries.for_audience("channel:citistat")
        ]
    assert any(NOWHERE in text and "Teams: the app is not installed" in text for text in digest)


async def test_the_channel_steps_of_an_escalation_reach_every_named_platform(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, tmp_path: Path
) -> None:
    org = org_with(tmp_path, leadership_channel={"slack": "citistat", "teams": TEAMS_CHANNEL})
    async with uow() as work:
        await apply_org(work, org, now=clock.now())
        await work.commit()
    await _sanitation_checkin(uow, clock)
    await run_until(uow, clock, ny(2026, 12, 19, 12))
    async with uow() as work:
        slack = [
            d
            for d in await work.deliveries.for_audience("channel:citistat")
            if d.idempotency_key.startswith("escalation:")
        ]
        teams = [
            d
            for d in await work.deliveries.for_audience(f"channel:teams:{TEAMS_CHANNEL}")
            if d.idempotency_key.startswith("escalation:")
        ]
    assert len(slack) >= 1
    assert [d.payload for d in teams] == [d.payload for d in slack]
    assert [d.created_at for d in teams] == [d.created_at for d in slack]


async def test_a_channel_named_on_a_platform_not_running_waits_for_it(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    card = Card(parts=(paragraph("Digest"),), summary="Digest")
    async with org_uow() as work:
        await enqueue(work, audience="channel:citistat", message=card, key="s", now=clock.now())
        await enqueue(work, audience=f"channel:teams:{TEAMS_CHANNEL}", message=card, key="t", now=clock.now())
        await work.commit()
    teams = FakeGateway("teams")
    # Only Teams runs here: the Slack channel's delivery waits instead of failing on Teams.
    gateway = route({"teams": teams}, org_uow)
    assert gateway is not None
    result = await drain(org_uow, gateway, clock)
    assert (result.sent, result.retried, result.failed) == (1, 1, 0)
    assert teams.audiences() == [f"channel:teams:{TEAMS_CHANNEL}"]
    async with org_uow() as work:
        (waiting,) = await work.deliveries.for_audience("channel:citistat")
    assert waiting.state == "pending" and "cannot be reached on slack" in (waiting.last_error or "")
