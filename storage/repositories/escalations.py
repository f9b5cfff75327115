"""Escalation chains: started once per subject and episode, stepped by claims."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select, update

from bot.escalations.models import RUNNING, Escalation, EscalationState
from storage.records import EscalationRecord
from storage.repositories.base import Repo, insert_ignore, rowcount, values_of


class EscalationRepo(Repo[Escalation, EscalationRecord]):
    domain, record = Escalation, EscalationRecord

    async def start_if_absent(self, escalation: Escalation) -> Escalation | None:
        new_id = await insert_ignore(self.session, EscalationRecord, values_of(escalation))
        if new_id is None:
            return None
        escalation.id = new_id
        return escalation

    async def for_subject(self, kind: str, subject_id: int) -> list[Escalation]:
        return await self._all(EscalationRecord.kind == kind, EscalationRecord.subject_id == subject_id)

    async def due(self, now: dt.datetime) -> list[Escalation]:
        return await self._all(
            or_(
                and_(
                    EscalationRecord.state == EscalationState.ACTIVE,
                    EscalationRecord.next_step_at <= now,
                ),
                and_(
                    EscalationRecord.state == EscalationState.SNOOZED,
                    EscalationRecord.snoozed_until <= now,
                ),
            ),
            order=EscalationRecord.next_step_at,
        )

    async def claim_step(self, escalation_id: int, step: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(EscalationRecord)
            .where(
                EscalationRecord.id == escalation_id,
                EscalationRecord.step == step,
                EscalationRecord.state.in_(RUNNING),
            )
            .values(step=step + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def postpone_step(self, escalation_id: int, step: int, until: dt.datetime) -> bool:
        result = await self.session.execute(
            update(EscalationRecord)
            .where(
                EscalationRecord.id == escalation_id,
                EscalationRecord.step == step,
                EscalationRecord.state.in_(RUNNING),
            )
            .values(next_step_at=until, state=EscalationState.ACTIVE)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def started_since(self, since: dt.datetime, unit_ids: Sequence[int]) -> list[Escalation]:
        if not unit_ids:
            return []
        return await self._all(
            EscalationRecord.created_at >= since, EscalationRecord.unit_id.in_(sorted(set(unit_ids)))
        )

    async def active(self) -> list[Escalation]:
        return await self._all(EscalationRecord.state.in_(RUNNING))

    async def known(self, subject_ids: Sequence[int]) -> set[tuple[str, int, str]]:
        if not subject_ids:
            return set()
        rows = await self.session.execute(
            select(EscalationRecord.kind, EscalationRecord.subject_id, EscalationRecord.episode).where(
                EscalationRecord.subject_id.in_(sorted(set(subject_ids)))
            )
        )
        return {(kind, subject_id, episode) for kind, subject_id, episode in rows.all()}
