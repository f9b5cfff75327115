"""The sweeps the scheduler (or `statbot tick`) runs.  Each is safe to run twice, late,
or in two processes: the database decides who does what."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checkins.service import open_due_checkins, send_due_reminders
from bot.clock import Clock
from bot.deliveries.service import DrainResult, drain
from bot.ports import ChatGateway, UnitOfWorkFactory


@dataclass(slots=True)
class SweepReport:
    opened: int = 0
    reminded: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"opened {self.opened} check-in(s), sent {self.reminded} reminder(s); "
            f"deliveries: {self.sent} sent, {self.retried} to retry, {self.failed} failed"
        )


async def run_all(uow: UnitOfWorkFactory, clock: Clock, gateway: ChatGateway | None) -> SweepReport:
    report = SweepReport()
    report.opened = await open_due_checkins(uow, clock)
    report.reminded = await send_due_reminders(uow, clock)
    if gateway is not None:
        result: DrainResult = await drain(uow, gateway, clock)
        report.sent, report.retried, report.failed = result.sent, result.retried, result.failed
    return report
