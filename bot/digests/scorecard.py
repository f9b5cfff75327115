"""Who reported and how each unit's metrics stand: the scorecard (problems first), the
observations the metric detectors read, and the trends worth a chart."""

from __future__ import annotations

from dataclasses import dataclass

from bot.checkins.status import format_change, format_value, metric_status, target_text
from bot.digests.detectors.escalations import missed_checkin_escalations
from bot.digests.detectors.metrics import OFF_TARGET_WEEKS
from bot.digests.models import ChartSeries, MetricLine, ReportingEntry, TargetChangeFacts, UnitScore
from bot.digests.scope import Observation, Scope, ref, report_state
from bot.messages import Status
from bot.org.models import Metric

STATUS_RANK: dict[Status, int] = {"red": 0, "amber": 2, "none": 3, "green": 4}


@dataclass(slots=True)
class Scorecard:
    reporting: list[ReportingEntry]
    # Problems first: red units, then those that did not report, amber, no data, green.
    units: list[UnitScore]
    observations: list[Observation]
    # Trends worth a chart, most urgent first.
    charts: list[ChartSeries]


def _off_target(metric: Metric, value: float | None) -> bool:
    return metric_status(metric, value) in ("amber", "red")


def _change_text(metric: Metric, change: float) -> str:
    # No change is the card's to say.
    if change == 0:
        return ""
    return format_change(metric, change)


def _unit_rank(score: UnitScore) -> tuple[int, int, int, str]:
    # A unit that did not report is a problem as well: right after the red ones.
    rank = STATUS_RANK[score.status]
    if score.reported == "missing" and score.status != "red":
        rank = 1
    return (rank, -score.reds, -score.ambers, score.unit_name.lower())


def _target_changes(scope: Scope, metric: Metric, weeks: tuple[str, ...]) -> tuple[TargetChangeFacts, ...]:
    assert metric.id is not None
    return tuple(
        TargetChangeFacts(
            before=c.before, after=c.after, week=c.week, on=scope.day(c.recorded_at), measure=metric.measure
        )
        for c in scope.targets.changes(metric.id, weeks)
    )


def _chart(observation: Observation, weeks: tuple[str, ...]) -> ChartSeries:
    metric, unit = observation.metric, observation.unit
    changed = observation.target_changes
    return ChartSeries(
        unit_key=unit.key,
        unit_name=unit.name,
        metric_key=metric.key,
        metric_name=metric.name,
        measure=metric.measure,
        direction=metric.direction,
        target=metric.target,
        amber=metric.amber,
        weeks=weeks,
        values=observation.history,
        status=observation.status,
        off_target_weeks=observation.streak,
        targets=observation.targets if changed else (),
    )


def score(scope: Scope) -> Scorecard:
    data = scope.data
    week = data.week
    checkin_of = {c.unit_id: c for c in data.checkins if c.week == week}
    reading_of = {r.metric_id: r for r in data.readings if r.week == week}
    weeks = tuple(data.weeks)
    reporting: list[ReportingEntry] = []
    units: list[UnitScore] = []
    observations: list[Observation] = []
    charts: list[tuple[tuple[int, int], ChartSeries]] = []
    chased = missed_checkin_escalations(scope)
    for unit in scope.units:
        assert unit.id is not None
        head = scope.person(unit.head_id)
        checkin = checkin_of.get(unit.id)
        metrics = scope.metrics_of.get(unit.id, [])
        if checkin is None and not any(data.values.get(m.id or 0) for m in metrics):
            # Never asked that week and nothing on record (e.g. statbot was installed
            # since): there is nothing to report, least of all "did not report".
            continue
        state = report_state(checkin)
        escalation = chased.get(checkin.id) if checkin is not None and checkin.id is not None else None
        submitter = scope.person(checkin.submitted_by) if checkin and checkin.submitted_by else None
        reporting.append(
            ReportingEntry(
                unit_key=unit.key,
                unit_name=unit.name,
                state=state,
                head=ref(head),
                submitted_by=ref(submitter),
                submitted_at=checkin.submitted_at if checkin else None,
                excuse=checkin.excuse if checkin and state == "excused" else None,
                escalation_id=escalation.id if escalation is not None and state == "missing" else None,
                messages_sent=escalation.step if escalation is not None and state == "missing" else 0,
            )
        )
        lines: list[MetricLine] = []
        reds = ambers = 0
        for stored in metrics:
            assert stored.id is not None
            history = data.values.get(stored.id, {})
            spark = tuple(history.get(w) for w in weeks)
            # Each week is judged by the target that applied in it.
            judged = scope.targets.over(stored, weeks)
            metric = judged[-1]
            value = history.get(week)
            status = metric_status(metric, value)
            reds += status == "red"
            ambers += status == "amber"
            streak = 0
            for w, then in zip(reversed(weeks), reversed(judged), strict=True):
                if not _off_target(then, history.get(w)):
                    break
                streak += 1
            changes = _target_changes(scope, stored, weeks)
            before = history.get(scope.previous)
            change = None if value is None or before is None else value - before
            worse = change is not None and (change < 0 if metric.direction == "higher" else change > 0)
            reading = reading_of.get(stored.id)
            observation = Observation(
                unit=unit,
                head=head,
                metric=metric,
                value=value,
                before=before,
                change=change,
                worse=worse,
                status=status,
                streak=streak,
                history=spark,
                reading=reading,
                targets=tuple(m.target for m in judged),
                target_changes=changes,
            )
            observations.append(observation)
            # Built from checked values; skipping validation matters at thousands of lines.
            lines.append(
                MetricLine.model_construct(
                    metric_key=metric.key,
                    name=metric.name,
                    value=value,
                    value_text=format_value(metric, value),
                    target_text=target_text(metric),
                    status=status,
                    change=change,
                    change_text="" if change is None else _change_text(metric, change),
                    change_bad=worse,
                    sparkline=spark,
                    off_target_weeks=streak,
                    note=reading.note if reading else "",
                    confirmed_outlier=bool(reading and reading.confirmed_outlier),
                    target_changes=changes,
                )
            )
            if streak >= OFF_TARGET_WEEKS or status == "red":
                charts.append(((STATUS_RANK[status], -streak), _chart(observation, weeks)))
        reported = any(line.value is not None for line in lines)
        worst: Status = "red" if reds else "amber" if ambers else "green" if reported else "none"
        units.append(
            UnitScore(
                unit_key=unit.key,
                unit_name=unit.name,
                status=worst,
                reported=state,
                reds=reds,
                ambers=ambers,
                head=ref(head),
                metrics=tuple(lines),
            )
        )
    units.sort(key=_unit_rank)
    charts.sort(key=lambda pair: pair[0])
    return Scorecard(
        reporting=reporting,
        units=units,
        observations=observations,
        charts=[series for _, series in charts],
    )
