"""Posting the Monday digest: once per audience and week, however often the sweep runs.

The digest record (unique per audience and week) is inserted first; only the sweep whose
insert wins enqueues the deliveries, in the same transaction, so two sweeps racing, a
replica, or a bot back from downtime on Tuesday post it once.  A digest more than
MAX_LATE after its time is not posted any more: by then it is news nobody needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.calendar import local_moment
from bot.clock import Clock
from bot.deliveries.models import Delivery, DeliveryKey
from bot.deliveries.service import enqueue
from bot.digests.builder import build_digest
from bot.digests.cards import digest_cards
from bot.digests.charts import alt_text, render_trend_chart
from bot.digests.models import AUDIENCE as AUDIENCE
from bot.digests.models import Digest, DigestRecord, PostedDigest, without_units
from bot.digests.ports import StoredChart
from bot.messages import Card
from bot.messages.model import Image
from bot.org.context import OrgContext, load_context
from bot.org.models import Person, Unit
from bot.org.schema import weekday_number
from bot.permissions import can_read
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.weeks import shift_week, week_of_date

MAX_LATE = dt.timedelta(days=6)


def digest_slot(context: OrgContext, now: dt.datetime) -> tuple[str, dt.datetime]:
    """The week a digest posted in the current week covers (the previous ISO week in the
    organisation's zone), and the instant it falls due."""
    tz = context.organisation.timezone
    today = now.astimezone(ZoneInfo(tz)).date()
    monday = today - dt.timedelta(days=today.weekday())
    schedule = context.organisation.digest
    day = monday + dt.timedelta(days=weekday_number(schedule.day) - 1)
    return shift_week(week_of_date(monday), -1), local_moment(day, schedule.time, tz)


def last_week(context: OrgContext, now: dt.datetime) -> str:
    today = now.astimezone(ZoneInfo(context.organisation.timezone)).date()
    return shift_week(week_of_date(today), -1)


@dataclass(slots=True)
class _Variant:
    """One version of the digest: everything, or without some restricted units."""

    digest: Digest
    chart: Image | None
    audiences: list[str]


def _chart_ref(week: str, hidden: tuple[str, ...], tag: str) -> str:
    name = "all" if not hidden else hashlib.sha1(",".join(hidden).encode()).hexdigest()[:10]
    return f"digest-{week}-{name}{tag}"


def _variants(
    digest: Digest,
    *,
    units: Sequence[Unit],
    people: Iterable[Person],
    channels: Sequence[str],
    tag: str = "",
) -> dict[tuple[str, ...], _Variant]:
    """Who gets which version: the channel never sees restricted units; each person sees
    the restricted units they may read."""
    restricted = [u for u in units if u.restricted and u.key in digest.restricted_units]
    wanted: list[tuple[str, tuple[str, ...]]] = []
    for channel in channels:
        wanted.append((channel, tuple(sorted(u.key for u in restricted))))
    for person in people:
        assert person.id is not None
        hidden = tuple(sorted(u.key for u in restricted if not can_read(person, u)))
        wanted.append((Delivery.to_person(person.id), hidden))
    out: dict[tuple[str, ...], _Variant] = {}
    for audience, hidden in wanted:
        if hidden not in out:
            version = without_units(digest, hidden)
            chart = (
                Image(
                    ref=_chart_ref(digest.week, hidden, tag),
                    alt_text=alt_text(version.charts),
                    title="Metrics needing attention",
                )
                if version.charts
                else None
            )
            out[hidden] = _Variant(version, chart, [])
        out[hidden].audiences.append(audience)
    return out


async def _render_charts(uow: UnitOfWork, variants: Iterable[_Variant], now: dt.datetime) -> None:
    for variant in variants:
        if variant.chart is None:
            continue
        png, alt = render_trend_chart(variant.digest.charts, title=f"Needs attention · {variant.digest.week}")
        await uow.digest_source.save_chart(
            StoredChart(
                ref=variant.chart.ref, png=png, alt_text=alt, created_at=now, title=variant.chart.title
            )
        )


async def _enqueue_all(
    uow: UnitOfWork, variants: Iterable[_Variant], week: str, now: dt.datetime, tag: str = ""
) -> int:
    count = 0
    for variant in variants:
        cards = digest_cards(variant.digest, chart_refs=[variant.chart] if variant.chart else [])
        for audience in variant.audiences:
            for n, card in enumerate(cards):
                key = DeliveryKey.digest(week, audience, n, tag)
                count += await enqueue(uow, audience=audience, message=card, key=key, now=now)
    return count


async def _audience(uow: UnitOfWork, context: OrgContext, people: Iterable[Person]) -> list[Person]:
    by_email = {p.email.lower(): p for p in people if p.active}
    return [by_email[e] for e in context.organisation.digest.audience if e in by_email]


def _posted(digest: Digest, variants: Iterable[_Variant]) -> PostedDigest:
    # What this digest flagged goes with it, for next week's cadence ("did a leader act
    # on it?").
    return PostedDigest.of(digest, [v.chart.ref for v in variants if v.chart is not None])


async def post_week(uow: UnitOfWork, context: OrgContext, week: str, now: dt.datetime) -> int | None:
    """Build, store and enqueue the digest of ``week``; None when it exists already."""
    data = await uow.digest_source.load(week=week)
    digest = build_digest(data, now=now, context=context)
    schedule = context.organisation.digest
    variants = _variants(
        digest,
        units=data.units,
        people=await _audience(uow, context, data.people.values()),
        channels=context.organisation.leadership_audiences() if schedule.post_to_channel else [],
    )
    if not digest.scorecard and not digest.reporting:
        # No unit existed during that week (statbot was installed since): nothing to
        # say.  The record still marks the week as done so sweeps stop rebuilding it.
        empty = DigestRecord.of(AUDIENCE, week, now, PostedDigest.skip("no units"))
        return 0 if await uow.digests.add_if_absent(empty) else None
    record = DigestRecord.of(AUDIENCE, week, now, _posted(digest, variants.values()), posted_at=now)
    if not await uow.digests.add_if_absent(record):
        return None
    await _render_charts(uow, variants.values(), now)
    return await _enqueue_all(uow, variants.values(), week, now)


async def build_for_week(uow: UnitOfWork, week: str, now: dt.datetime) -> tuple[Digest, list[Card]]:
    """The full digest of ``week`` (every unit) and its cards, as of ``now``; for the CLI."""
    context = await load_context(uow)
    data = await uow.digest_source.load(week=week)
    digest = build_digest(data, now=now, context=context)
    chart = (
        Image(
            ref=_chart_ref(week, (), ""), alt_text=alt_text(digest.charts), title="Metrics needing attention"
        )
        if digest.charts
        else None
    )
    return digest, digest_cards(digest, chart_refs=[chart] if chart else [])


@dataclass(slots=True)
class PostResult:
    week: str
    posted: bool
    # When it was posted before (nothing was sent again), or now.
    posted_at: dt.datetime | None
    deliveries: int = 0


async def post_now(
    uow_factory: UnitOfWorkFactory, clock: Clock, week: str, *, force: bool = False
) -> PostResult:
    """Post the digest of ``week`` now.  A week already posted is not sent again unless
    ``force``; then it is rebuilt and re-sent under new idempotency keys."""
    now = clock.now()
    async with uow_factory() as uow:
        context = await load_context(uow)
        existing = await uow.digests.get(AUDIENCE, week)
        if existing is None:
            count = await post_week(uow, context, week, now)
            if count is not None:
                await uow.commit()
                return PostResult(week, True, now, count)
            existing = await uow.digests.get(AUDIENCE, week)
        if not force:
            return PostResult(week, False, existing.posted_at if existing else None)
        assert existing is not None
        tag = f":resend-{now:%Y%m%dT%H%M%S}"
        data = await uow.digest_source.load(week=week)
        digest = build_digest(data, now=now, context=context)
        schedule = context.organisation.digest
        variants = _variants(
            digest,
            units=data.units,
            people=await _audience(uow, context, data.people.values()),
            channels=context.organisation.leadership_audiences() if schedule.post_to_channel else [],
            tag=tag,
        )
        await _render_charts(uow, variants.values(), now)
        count = await _enqueue_all(uow, variants.values(), week, now, tag)
        existing.posted_at = now
        existing.content = _posted(digest, variants.values()).to_content()
        await uow.digests.save(existing)
        await uow.commit()
        return PostResult(week, True, now, count)
