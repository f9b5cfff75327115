"""The organisation's settings and escalation policies (from the org file)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.org.models import OrgSettings, StoredPolicy
from storage.records import OrgSettingsRecord, PolicyRecord
from storage.repositories.base import copy_onto, to_domain, values_of


class OrgRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def settings(self) -> OrgSettings | None:
        row = (await self.session.scalars(select(OrgSettingsRecord).limit(1))).first()
        return None if row is None else to_domain(row, OrgSettings)

    async def save_settings(self, settings: OrgSettings) -> None:
        row = (await self.session.scalars(select(OrgSettingsRecord).limit(1))).first()
        if row is None:
            row = OrgSettingsRecord(**values_of(settings))
            self.session.add(row)
        else:
            copy_onto(row, settings)
        await self.session.flush()
        settings.id = row.id

    async def policies(self) -> list[StoredPolicy]:
        rows = (await self.session.scalars(select(PolicyRecord).order_by(PolicyRecord.name))).all()
        return [to_domain(r, StoredPolicy) for r in rows]

    async def save_policy(self, policy: StoredPolicy) -> None:
        row = (
            await self.session.scalars(select(PolicyRecord).where(PolicyRecord.name == policy.name))
        ).first()
        if row is None:
            row = PolicyRecord(name=policy.name, definition=policy.definition)
            self.session.add(row)
        else:
            copy_onto(row, policy)
        await self.session.flush()
        policy.id = row.id

    async def delete_policy(self, name: str) -> None:
        await self.session.execute(delete(PolicyRecord).where(PolicyRecord.name == name))
