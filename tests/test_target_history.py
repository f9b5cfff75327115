"""Targets change, history must not: each week is judged by the target that applied in
that week — in `statbot org apply`, the digest, `status`, the check-in form and the export."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from bot.checkins import handlers
from bot.checkins import service as checkin_service
from bot.checkins.models import CheckIn, CheckInState, Reading
from bot.checkins.status import metric_status, target_text
from bot.digests.cards import digest_text, item_text
from bot.digests.charts import alt_text, render_trend_chart
from bot.digests.models import ChartSeries
from bot.digests.service import build_for_week
from bot.org.apply import apply_org
from bot.org.context import load_context
from bot.org.models import Metric
from bot.org.schema import parse_org
from bot.org.targets import MetricTarget, TargetHistory
from bot.weeks import previous_weeks
from storage.export import ReadingRow, export_tables
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG
from tests.helpers import ny

CREATED = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
# Wednesday of 2026-W48 in Riverton: the new target applies from W48 on.
CHANGED = ny(2026, 11, 25, 10, 0)
HEAD = "robert.hayes@riverton.gov"  # head of Sanitation


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE_ORG.read_text())
    return raw


def _with_target(target: float, **more: Any) -> dict[str, Any]:
    """The example org with Sanitation's missed pickups (lower is better, target 120,
    amber 30) given another target."""
    raw = _raw()
    sanitation = next(u for u in raw["units"] if u["key"] == "sanitation")
    missed = next(m for m in sanitation["metrics"] if m["key"] == "missed_pickups")
    missed["target"] = target
    missed.update(more)
    return raw


async def _apply(uow: SqlUnitOfWorkFactory, raw: dict[str, Any], now: dt.datetime) -> list[str]:
    async with uow() as work:
        diff = await apply_org(work, parse_org(yaml.safe_dump(raw)), now=now)
        await work.commit()
    return [str(c) for c in diff.changes]


async def _missed(uow: SqlUnitOfWorkFactory) -> Metric:
    async with uow() as work:
        unit = await work.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        return next(m for m in await work.metrics.for_unit(unit.id) if m.key == "missed_pickups")


async def _history(uow: SqlUnitOfWorkFactory, metric: Metric) -> list[MetricTarget]:
    async with uow() as work:
        entries = await work.metrics.targets([metric.id or 0])
    return sorted(entries, key=lambda e: e.id or 0)


@pytest.fixture
async def applied(uow: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    await _apply(uow, _raw(), CREATED)
    return uow


async def _readings(uow: SqlUnitOfWorkFactory, weeks: list[str], value: float) -> None:
    metric = await _missed(uow)
    async with uow() as work:
        for week in weeks:
            await work.readings.add(
                Reading(
                    unit_id=metric.unit_id,
                    metric_id=metric.id or 0,
                    week=week,
                    value=value,
                    updated_at=CREATED,
                    updated_by=None,
                )
            )
        await work.commit()


# --- statbot org apply ----------------------------------------------------------------------


async def test_apply_records_a_target_when_a_metric_is_added(applied: SqlUnitOfWorkFactory) -> None:
    metric = await _missed(applied)
    (entry,) = await _history(applied, metric)
    assert (entry.target, entry.amber, entry.direction) == (120, 30, "lower")
    assert entry.valid_from == "2026-W31"  # Sat 1 Aug 2026 (still Fri 31 Jul in Riverton)
    assert entry.recorded_at == CREATED


async def test_apply_records_each_target_change_and_says_so(applied: SqlUnitOfWorkFactory) -> None:
    metric = await _missed(applied)
    changes = await _apply(applied, _with_target(150), CHANGED)
    assert changes == [
        "~ changed metric sanitation/missed_pickups "
        "(target: 120 → 150; from 2026-W48; earlier weeks keep their target)"
    ]
    entries = await _history(applied, metric)
    assert [(e.target, e.valid_from) for e in entries] == [(120, "2026-W31"), (150, "2026-W48")]
    # The amber band and the direction judge a week too: each change is kept.
    later = ny(2026, 12, 2, 10, 0)
    await _apply(applied, _with_target(150, amber=10), later)
    entries = await _history(applied, metric)
    assert [(e.target, e.amber, e.valid_from) for e in entries][-1] == (150, 10, "2026-W49")


async def test_reapplying_an_unchanged_file_records_nothing(applied: SqlUnitOfWorkFactory) -> None:
    metric = await _missed(applied)
    await _apply(applied, _with_target(150), CHANGED)
    assert await _apply(applied, _with_target(150), CHANGED + dt.timedelta(days=1)) == []
    # A change of a word only is no change of target.
    raw = _with_target(150)
    next(u for u in raw["units"] if u["key"] == "sanitation")["metrics"][0]["name"] = "Missed pickups"
    assert (await _apply(applied, raw, CHANGED + dt.timedelta(days=2)))[0].startswith(
        "~ changed metric sanitation/missed_pickups (name: "
    )
    assert len(await _history(applied, metric)) == 2


async def test_a_dry_run_records_no_target(applied: SqlUnitOfWorkFactory) -> None:
    metric = await _missed(applied)
    async with applied() as work:
        await apply_org(work, parse_org(yaml.safe_dump(_with_target(150))), now=CHANGED)
        # no commit: a dry run
    assert len(await _history(applied, metric)) == 1


# --- the digest ------------------------------------------------------------------------------

WINDOW = [*previous_weeks("2026-W48", 11), "2026-W48"]  # 2026-W37 … 2026-W48


@pytest.fixture
async def loosened(applied: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    """130 missed pickups every week; the target was 120 (130 is amber: off target) and
    became 150 in 2026-W48 (130 is on target from then on)."""
    await _readings(applied, WINDOW, 130)
    await _apply(applied, _with_target(150), CHANGED)
    return applied


def _line(digest: Any, metric_key: str = "missed_pickups") -> Any:
    sanitation = next(u for u in digest.scorecard if u.unit_key == "sanitation")
    return next(m for m in sanitation.metrics if m.metric_key == metric_key)


async def test_a_week_before_the_change_is_judged_by_the_old_target(loosened: SqlUnitOfWorkFactory) -> None:
    # The digest of 2026-W47, printed after the target changed.
    async with loosened() as work:
        digest, _ = await build_for_week(work, "2026-W47", ny(2026, 11, 30, 9))
    line = _line(digest)
    assert (line.value_text, line.target_text, line.status, line.off_target_weeks) == (
        "130",
        "≤ 120",
        "amber",
        11,
    )
    (item,) = [e for e in digest.exceptions if e.unit_key == "sanitation"]
    assert item.kind == "off_target_streak"
    assert item_text(item) == (
        "Missed pickups reported to 311: 130 (target ≤ 120), off target 11 weeks running"
    )
    (chart,) = [c for c in digest.charts if c.metric_key == "missed_pickups"]
    assert chart.target == 120


async def test_the_week_of_the_change_is_judged_by_the_new_target_and_the_digest_says_so(
    loosened: SqlUnitOfWorkFactory,
) -> None:
    async with loosened() as work:
        digest, _ = await build_for_week(work, "2026-W48", ny(2026, 11, 30, 9))
    line = _line(digest)
    assert (line.target_text, line.status, line.off_target_weeks) == ("≤ 150", "green", 0)
    assert [(c.before, c.after, c.week, c.on) for c in line.target_changes] == [
        (120, 150, "2026-W48", dt.date(2026, 11, 25))
    ]
    text = digest_text(digest)
    assert "target changed from 120 to 150 on Wed 25 Nov" in text
    # Only the metric whose target changed says so.
    assert text.count("target changed") == 1
    assert not [e for e in digest.exceptions if e.unit_key == "sanitation"]


async def test_the_note_leaves_the_digest_once_the_change_is_out_of_its_window(
    loosened: SqlUnitOfWorkFactory,
) -> None:
    async with loosened() as work:
        before, _ = await build_for_week(work, "2026-W47", ny(2026, 11, 30, 9))
    assert "target changed" not in digest_text(before)
    assert _line(before).target_changes == ()


async def test_a_streak_counts_each_week_by_its_own_target(applied: SqlUnitOfWorkFactory) -> None:
    """Tightened from 120 to 100 in W48: 115 was on target before, is off target now —
    one week off target, not twelve."""
    await _readings(applied, WINDOW, 115)
    await _apply(applied, _with_target(100), CHANGED)
    async with applied() as work:
        digest, _ = await build_for_week(work, "2026-W48", ny(2026, 11, 30, 9))
    line = _line(digest)
    assert (line.target_text, line.status, line.off_target_weeks) == ("≤ 100", "amber", 1)
    assert not [e for e in digest.exceptions if e.kind == "off_target_streak" and e.unit_key == "sanitation"]


async def test_a_chart_steps_its_target_line_where_the_target_changed(applied: SqlUnitOfWorkFactory) -> None:
    # Tightened from 120 to 60 in W48: 130 is amber before and red from W48.
    await _readings(applied, WINDOW, 130)
    await _apply(applied, _with_target(60), CHANGED)
    async with applied() as work:
        digest, _ = await build_for_week(work, "2026-W48", ny(2026, 11, 30, 9))
    (chart,) = [c for c in digest.charts if c.metric_key == "missed_pickups"]
    assert chart.targets == (120,) * 11 + (60,)
    assert chart.target == 60 and chart.status == "red" and chart.off_target_weeks == 12
    png, alt = render_trend_chart([chart])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "against a target of 60 (lower is better); the target moved from 120 to 60 in 2026-W48" in alt


def test_a_chart_stored_before_targets_had_a_history_reads_as_before() -> None:
    series = ChartSeries(
        unit_key="u",
        unit_name="U",
        metric_key="m",
        metric_name="M",
        measure="count",
        direction="lower",
        target=120,
        amber=30,
        weeks=("2026-W47", "2026-W48"),
        values=(130, 140),
        status="amber",
        off_target_weeks=2,
    )
    assert "moved" not in alt_text([series])
    assert render_trend_chart([series])[0][:8] == b"\x89PNG\r\n\x1a\n"


# --- status, the check-in form, the export ---------------------------------------------------


async def test_status_judges_the_latest_value_by_the_target_of_its_week(
    applied: SqlUnitOfWorkFactory,
) -> None:
    # Nothing reported yet in W48: status shows W47's 130, which missed W47's target.
    await _readings(applied, WINDOW[:-1], 130)
    await _apply(applied, _with_target(150), CHANGED)
    async with applied() as work:
        head = await work.people.by_email(HEAD)
        assert head is not None
        reply = await handlers.status(work, head, "sanitation", ny(2026, 11, 27, 9))
    (card,) = reply.messages
    text = card.plain_text()  # type: ignore[union-attr]
    assert "130 (2026-W47) · target ≤ 120" in text
    facts = [f for p in card.parts if hasattr(p, "facts") for f in p.facts]  # type: ignore[union-attr]
    missed = next(f for f in facts if f.label == "Missed pickups reported to 311")
    assert missed.status == "amber"


async def test_a_late_check_in_is_judged_by_the_target_of_its_own_week(applied: SqlUnitOfWorkFactory) -> None:
    """2026-W47's check-in, still open when the target was tightened to 60 in W48: 130
    missed pickups is amber against W47's 120 (no explanation needed), not red."""
    await _apply(applied, _with_target(60), CHANGED)
    metric = await _missed(applied)
    async with applied() as work:
        context = await load_context(work)
        late = await work.checkins.add(
            CheckIn(
                unit_id=metric.unit_id,
                week="2026-W47",
                state=CheckInState.OPEN,
                opened_at=ny(2026, 11, 19, 9),
                deadline_at=ny(2026, 11, 20, 17),
            )
        )
        loaded = await checkin_service.load(work, context, late)
        current = await checkin_service.load(
            work,
            context,
            CheckIn(
                unit_id=metric.unit_id,
                week="2026-W48",
                state=CheckInState.OPEN,
                opened_at=CHANGED,
                deadline_at=CHANGED,
            ),
        )
    (missed,) = [c.metric for c in loaded.metrics if c.metric.key == "missed_pickups"]
    assert (target_text(missed), metric_status(missed, 130)) == ("≤ 120", "amber")
    (now_missed,) = [c.metric for c in current.metrics if c.metric.key == "missed_pickups"]
    assert (target_text(now_missed), metric_status(now_missed, 130)) == ("≤ 60", "red")


async def test_export_gives_each_reading_the_target_of_its_week(
    loosened: SqlUnitOfWorkFactory, engine: Any
) -> None:
    tables = {t.name: t for t in await export_tables(engine)}
    rows = [r for r in tables["readings"].rows if isinstance(r, ReadingRow) and r.metric == "missed_pickups"]
    assert [(r.unit, r.week, r.value, r.target) for r in rows if r.unit == "sanitation"][-3:] == [
        ("sanitation", "2026-W46", 130, 120),
        ("sanitation", "2026-W47", 130, 120),
        ("sanitation", "2026-W48", 130, 150),
    ]


# --- the rule itself ----------------------------------------------------------------------


def _metric() -> Metric:
    return Metric(unit_id=1, key="m", name="M", measure="count", direction="lower", target=90, amber=5, id=7)


def _entry(target: float, week: str, at: dt.datetime, entry_id: int) -> MetricTarget:
    return MetricTarget(
        metric_id=7, target=target, amber=5, direction="lower", valid_from=week, recorded_at=at, id=entry_id
    )


def test_each_week_gets_the_latest_target_recorded_for_it() -> None:
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    history = TargetHistory(
        [
            _entry(100, "2026-W40", at, 1),
            _entry(95, "2026-W45", at, 2),
            # Changed twice in one week: the later one judges that week.
            _entry(80, "2026-W47", at, 3),
            _entry(90, "2026-W47", at + dt.timedelta(hours=1), 4),
        ]
    )
    metric = _metric()
    targets = [history.in_week(metric, w).target for w in ("2026-W30", "2026-W44", "2026-W45", "2026-W47")]
    assert targets == [100, 100, 95, 90]  # before the first entry: the first entry
    assert history.in_week(metric, "2026-W48") is metric
    assert TargetHistory().in_week(metric, "2026-W01") is metric
    assert [(c.before, c.after) for c in history.changes(7, ["2026-W45", "2026-W46", "2026-W47"])] == [
        (100, 95),
        (95, 80),
        (80, 90),
    ]
