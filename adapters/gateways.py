"""Routing deliveries to the platform where their audience is reachable.

One organisation may use Slack and Teams at once (one process, one database).  A
delivery is owed to a person or a channel, not to a platform, so it goes out once, on
one platform:

* a channel audience names its platform (``channel:citistat`` is Slack's, as before
  several platforms existed; ``channel:teams:<team>/<channel>`` is Teams');
* a person gets it on the first platform of ``PREFERENCE`` where they are linked: Slack,
  then Teams.  Slack comes first because the bot reaches a Slack user by e-mail without
  anything on their side (``org apply`` links them, a DM channel never expires), while
  Teams needs the conversation reference stored when they installed the app or wrote to
  the bot, which goes stale if they remove it.  A person linked nowhere yet goes to
  Slack when Slack is configured (it can still find them by e-mail when sending) and
  otherwise waits in the outbox's retries; ``org apply`` and the digest list them as
  unreachable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping

from bot.deliveries.models import Delivery
from bot.org.models import Person
from bot.ports import ChatGateway, DeliveryError, UnitOfWorkFactory

PREFERENCE = ("slack", "teams")
# How often the person → platform table is re-read when a delivery names someone unknown.
PEOPLE_REFRESH = 5.0


def linked_on(person: Person) -> list[str]:
    """The platforms this person can be sent to today, in order of preference."""
    linked = {
        "slack": bool(person.slack_user_id or person.slack_dm_channel),
        "teams": bool(person.teams_conversation),
    }
    return [p for p in PREFERENCE if linked[p]]


def platform_for(person: Person, configured: Collection[str]) -> str | None:
    """Where a delivery to ``person`` goes, given the platforms this statbot runs."""
    for platform in linked_on(person):
        if platform in configured:
            return platform
    return "slack" if "slack" in configured else None


def unreachable_reason(person: Person, configured: Collection[str]) -> str | None:
    """Why nothing can reach this person on any configured platform, or None."""
    if any(p in configured for p in linked_on(person)):
        return None
    reasons = {
        "slack": "Slack: no user with this e-mail",
        "teams": "Teams: the app is not installed for them",
    }
    return "; ".join(reasons[p] for p in PREFERENCE if p in configured) or None


class PlatformRouter:
    """A ChatGateway over several platform gateways."""

    def __init__(self, gateways: Mapping[str, ChatGateway], uow: UnitOfWorkFactory) -> None:
        self.gateways = dict(gateways)
        self.uow = uow
        self._platform: dict[int, str | None] = {}
        self._loaded_at = -1e9
        self._lock = asyncio.Lock()

    async def send(self, delivery: Delivery) -> str | None:
        platform = await self.platform_of(delivery.audience)
        gateway = self.gateways.get(platform or "")
        if gateway is None:
            # The person may install the app, or the operator configure the platform:
            # the outbox retries with backoff and keeps the error for the operator.
            where = platform or "any configured platform"
            raise DeliveryError(f"{delivery.audience} cannot be reached on {where} yet")
        return await gateway.send(delivery)

    async def platform_of(self, audience: str) -> str | None:
        channel = Delivery.channel_of(audience)
        if channel is not None:
            return channel[0]
        kind, _, ident = audience.partition(":")
        if kind != "person" or not ident.isdigit():
            raise DeliveryError(f"unknown audience {audience!r}", permanent=True)
        person_id = int(ident)
        if person_id not in self._platform:
            await self._load(person_id)
        if person_id not in self._platform:
            raise DeliveryError(f"{audience}: no such active person", permanent=True)
        return self._platform[person_id]

    async def _load(self, person_id: int) -> None:
        # One query for everyone (a prompt sweep sends to the whole org), at most every
        # few seconds; in between, someone new (added by `org apply`) is read alone.
        async with self._lock:
            if person_id in self._platform:
                return  # loaded by a concurrent send while this one waited
            async with self.uow() as uow:
                if time.monotonic() - self._loaded_at >= PEOPLE_REFRESH:
                    people = list(await uow.people.all())
                    self._loaded_at = time.monotonic()
                else:
                    found = await uow.people.get(person_id)
                    people = [found] if found is not None else []
            for p in people:
                if p.id is not None and p.active:
                    self._platform[p.id] = platform_for(p, self.gateways)


def route(gateways: Mapping[str, ChatGateway], uow: UnitOfWorkFactory) -> ChatGateway | None:
    """The gateway for the configured platforms, or None when none is configured (the
    outbox then keeps the deliveries until one is).  Even a single platform goes through
    the router: the org may name a channel on a platform this process does not run, and
    that delivery must wait for it instead of failing on the wrong platform."""
    if not gateways:
        return None
    return PlatformRouter(gateways, uow)


async def mark_unreachable(uow_factory: UnitOfWorkFactory, configured: Collection[str]) -> list[Person]:
    """With several platforms, a person is unreachable only when no platform reaches
    them; store that reason (one platform's linker stores its own).  Returns the people
    reachable nowhere."""
    nowhere: list[Person] = []
    async with uow_factory() as uow:
        for person in await uow.people.all():
            reason = unreachable_reason(person, configured)
            if reason is not None:
                nowhere.append(person)
            if len(configured) > 1 and person.unreachable != reason:
                person.unreachable = reason
                await uow.people.save(person)
        await uow.commit()
    return nowhere
