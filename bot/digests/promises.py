"""Promised vs delivered: every commitment that fell due in the covered week, and whether
it was kept (on time or late), dropped, or not kept."""

from __future__ import annotations

from bot.commitments.models import Commitment, answered_followup
from bot.digests.models import ExceptionItem, History, Outcome, PromiseItem, PromiseRef
from bot.digests.scope import Scope, ref
from bot.org.models import Metric, Unit
from bot.weeks import week_of

# Broken promises first.
OUTCOME_ORDER: tuple[Outcome, ...] = ("not_kept", "dropped", "kept_late", "kept")


def _outcome(scope: Scope, c: Commitment) -> Outcome:
    closed_on = scope.day(c.closed_at) if c.closed_at else None
    if c.status == "done":
        return "kept" if closed_on is None or closed_on <= c.due_on else "kept_late"
    if c.status == "dropped":
        return "dropped"
    return "not_kept"


def _promise(scope: Scope, c: Commitment, unit: Unit) -> PromiseItem:
    assert c.id is not None
    closed_on = scope.day(c.closed_at) if c.closed_at else None
    outcome = _outcome(scope, c)
    return PromiseItem(
        commitment_id=c.id,
        unit_key=unit.key,
        unit_name=unit.name,
        text=c.text,
        owner=ref(scope.person(c.owner_id)),
        due_on=c.due_on,
        outcome=outcome,
        closed_on=closed_on,
    )


def promises(scope: Scope) -> list[PromiseItem]:
    found = []
    for c in scope.data.commitments:
        unit = scope.unit_by_id.get(c.unit_id)
        # Follow-ups are questions; the promises their answers made are commitments.
        if unit is None or c.id is None or c.origin == "followup":
            continue
        if scope.starts_on <= c.due_on <= scope.ends_on:
            found.append(_promise(scope, c, unit))
    found.sort(key=lambda p: (OUTCOME_ORDER.index(p.outcome), p.due_on))
    return found


def with_history(scope: Scope, item: ExceptionItem) -> ExceptionItem:
    """The item with its history with the leaders (see ``Histories``)."""
    return Histories(scope).of(item)


class Histories:
    """Each item's history with the leaders: how often they asked about it (a metric
    item: questions asked about that metric), the last answer, and whether the promise
    that answer carried was kept.

    The metrics, questions and answers' promises are indexed once per digest: a digest
    lists dozens of items and a large organisation has thousands of metrics and
    commitments, too many to scan for each item."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        # (unit key, metric key) → the first such metric, as a scan in load order finds it.
        self._metrics: dict[tuple[str, str], Metric] = {}
        for m in scope.data.metrics:
            unit = scope.unit_by_id.get(m.unit_id)
            if unit is not None:
                self._metrics.setdefault((unit.key, m.key), m)
        # Metric id → the questions asked about it, and follow-up id → the first promise
        # its answer made, both in load order.
        self._asked: dict[int | None, list[Commitment]] = {}
        self._promised: dict[int, Commitment] = {}
        for c in scope.data.commitments:
            if c.origin == "followup":
                self._asked.setdefault(c.metric_id, []).append(c)
            answered = answered_followup(c.origin)
            if answered is not None:
                self._promised.setdefault(answered, c)

    def of(self, item: ExceptionItem) -> ExceptionItem:
        """The item with its history, or the item itself when it has none."""
        scope = self.scope
        if item.metric_key is None or item.commitment_id is not None:
            return item
        metric = self._metrics.get((item.unit_key, item.metric_key))
        if metric is None:
            return item
        zone = scope.context.organisation.timezone
        asked = sorted(self._asked.get(metric.id, ()), key=lambda c: c.created_at)
        asked = [c for c in asked if c.created_at < scope.now]
        if not asked:
            return item
        answered = [c for c in asked if c.answer]
        last = answered[-1] if answered else None
        promise = None
        if last is not None and last.id is not None:
            p = self._promised.get(last.id)
            if p is not None:
                assert p.id is not None
                due = p.status == "open" and p.due_on >= scope.today
                promise = PromiseRef(
                    commitment_id=p.id,
                    text=p.text,
                    due_on=p.due_on,
                    outcome="open" if due else _outcome(scope, p),
                )
        history = History(
            asked=len(asked),
            since_week=week_of(asked[0].created_at, zone),
            last_answer=(last.answer or "")[:200] if last else None,
            last_answer_week=week_of(last.closed_at or last.updated_at, zone) if last else None,
            promise=promise,
        )
        return item.model_copy(update={"history": history})
