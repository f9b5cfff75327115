"""Org people ↔ Slack users, linked by e-mail and cached in the database.

A person's Slack user id and DM channel are stored on the person (``slack_user_id``,
``slack_dm_channel``), so every replica and every restart reuses them; Slack is asked
only the first time (users.info / users.lookupByEmail / conversations.open).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Card, Mention, Paragraph
from bot.org.models import Person
from bot.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

NOT_FOUND = {"users_not_found", "user_not_found"}


@dataclass
class LinkReport:
    """What ``link_people`` did: ``missing`` are org e-mails no Slack user has."""

    linked: list[str] = field(default_factory=list)
    already: int = 0
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Slack: {len(self.linked)} newly linked, {self.already} already linked"]
        out += [
            f"Slack: no user with e-mail {email} (they will get no Slack messages)" for email in self.missing
        ]
        out += [f"Slack: {error}" for error in self.errors]
        return out


async def link_people(uow_factory: UnitOfWorkFactory, client: AsyncWebClient) -> LinkReport:
    """Link every active person without a Slack id by e-mail (users.lookupByEmail)."""
    report = LinkReport()
    async with uow_factory() as uow:
        people = list(await uow.people.all())
    for person in people:
        if person.slack_user_id:
            report.already += 1
            continue
        try:
            response = await client.users_lookupByEmail(email=person.email)
        except SlackApiError as exc:
            error = str(exc.response.get("error", exc.response.status_code))
            if error in NOT_FOUND:
                report.missing.append(person.email)
                await _mark(uow_factory, person, "no Slack user with this e-mail")
            else:
                report.errors.append(f"{person.email}: {error}")
            continue
        user = response.get("user") or {}
        user_id = user.get("id")
        if not isinstance(user_id, str):
            report.missing.append(person.email)
            await _mark(uow_factory, person, "no Slack user with this e-mail")
            continue
        async with uow_factory() as uow:
            stored = await uow.people.get(person.id) if person.id is not None else None
            if stored is not None:
                stored.slack_user_id = user_id
                stored.unreachable = None
                await uow.people.save(stored)
                await uow.commit()
        report.linked.append(person.email)
    return report


async def _mark(uow_factory: UnitOfWorkFactory, person: Person, reason: str) -> None:
    """Remember why the person cannot be reached, for `org apply` and the digest."""
    async with uow_factory() as uow:
        stored = await uow.people.get(person.id) if person.id is not None else None
        if stored is not None and stored.unreachable != reason:
            stored.unreachable = reason
            await uow.people.save(stored)
            await uow.commit()


class SlackPeople:
    """Finds the Person behind a Slack user, and the DM channel of a Person."""

    def __init__(self, uow_factory: UnitOfWorkFactory, client: AsyncWebClient) -> None:
        self.uow = uow_factory
        self.client = client

    async def person_for(self, user_id: str) -> Person | None:
        """The active org person for a Slack user id, linked by e-mail on first contact."""
        async with self.uow() as uow:
            person = await uow.people.by_slack_id(user_id)
        if person is not None:
            return person if person.active else None
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        email = profile.get("email")
        if not isinstance(email, str) or not email:
            return None
        async with self.uow() as uow:
            person = await uow.people.by_email(email)
            if person is None or not person.active:
                return None
            person.slack_user_id, person.unreachable = user_id, None
            await uow.people.save(person)
            await uow.commit()
        return person

    async def emails_for(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Slack user id → e-mail for the mentioned users the org knows."""
        out: dict[str, str] = {}
        for user_id in user_ids:
            person = await self.person_for(user_id)
            if person is not None:
                out[user_id] = person.email
        return out

    async def slack_id(self, person: Person) -> str | None:
        if person.slack_user_id:
            return person.slack_user_id
        try:
            response = await self.client.users_lookupByEmail(email=person.email)
        except SlackApiError as exc:
            if exc.response.get("error") in NOT_FOUND:
                return None
            raise
        user_id = (response.get("user") or {}).get("id")
        if not isinstance(user_id, str):
            return None
        person.slack_user_id = user_id
        await self._save(person)
        return user_id

    async def dm_channel(self, person: Person) -> str | None:
        """The person's DM channel with the bot (conversations.open, then cached)."""
        if person.slack_dm_channel:
            return person.slack_dm_channel
        user_id = await self.slack_id(person)
        if user_id is None:
            return None
        response = await self.client.conversations_open(users=user_id)
        channel = (response.get("channel") or {}).get("id")
        if not isinstance(channel, str):
            return None
        person.slack_dm_channel = channel
        await self._save(person)
        return channel

    async def _save(self, person: Person) -> None:
        if person.id is None:
            return
        async with self.uow() as uow:
            stored = await uow.people.get(person.id)
            if stored is None:
                return
            stored.slack_user_id = person.slack_user_id
            stored.slack_dm_channel = person.slack_dm_channel
            if stored.slack_user_id:
                stored.unreachable = None
            await uow.people.save(stored)
            await uow.commit()

    async def mention_ids(self, cards: Iterable[Card]) -> dict[str, str]:
        """E-mail → Slack id for the people the cards mention and the org has linked."""
        emails = {
            span.email
            for card in cards
            for part in card.parts
            if isinstance(part, Paragraph)
            for span in part.spans
            if isinstance(span, Mention)
        }
        if not emails:
            return {}
        out: dict[str, str] = {}
        async with self.uow() as uow:
            for email in emails:
                person = await uow.people.by_email(email)
                if person is not None and person.slack_user_id:
                    out[email] = person.slack_user_id
        return out
