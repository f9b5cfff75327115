"""What `statbot digest` does, and the digest files `statbot demo` writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from adapters.console.render import render_card, render_card_rich
from adapters.container import Container
from bot.clock import Clock
from bot.digests.models import AUDIENCE
from bot.digests.service import build_for_week, last_week, post_now
from bot.messages.text import counted
from bot.org.context import NoOrganisationError, load_context
from bot.ports import UnitOfWorkFactory
from bot.weeks import parse_week, week_of


async def print_digest(
    container: Container, week: str | None, post: bool, console: Console, *, force: bool = False
) -> int:
    """Print the digest of ``week`` (default: last week) as cards, or with ``post`` put it
    in the outbox now.  A week already posted (by the Monday sweep or an earlier --post)
    is not sent again: it says when it was posted, and ``force`` re-sends it.  Returns the
    exit code: 0 done, 1 no organisation, 2 a bad week."""
    now = container.clock.now()
    factory = container.uow
    async with factory() as uow:
        try:
            context = await load_context(uow)
        except NoOrganisationError as exc:
            console.print(str(exc), markup=False, highlight=False)
            return 1
        try:
            target = parse_week(week) if week else last_week(context, now)
        except ValueError as exc:
            console.print(f"--week: {exc}", markup=False, highlight=False)
            return 2
        current = week_of(now, context.organisation.timezone)
        if target > current:
            console.print(
                f"--week {target} has not started yet (this week is {current}).",
                markup=False,
                highlight=False,
            )
            return 2
        if post:
            latest = last_week(context, now)
            units = await uow.units.all(active_only=False)
            first = min((u.created_at for u in units if u.created_at), default=None)
            first_week = week_of(first, context.organisation.timezone) if first else None
            if target > latest:
                console.print(
                    f"--week {target} has not ended yet; the latest week to post is {latest}.",
                    markup=False,
                    highlight=False,
                )
                return 2
            if first_week is not None and target < first_week:
                console.print(
                    f"--week {target} is before statbot knew any unit (from {first_week}).",
                    markup=False,
                    highlight=False,
                )
                return 2
        if not post:
            _, cards = await build_for_week(uow, target, now)
            for card in cards:
                if console.is_terminal:
                    console.print(render_card_rich(card))
                else:
                    # Piped or mailed by cron: plain text, wrapped, never cut at a width.
                    console.print(render_card(card, width=100), markup=False, highlight=False, soft_wrap=True)
            return 0
    result = await post_now(factory, container.clock, target, force=force)
    async with factory() as uow:
        record = await uow.digests.get(AUDIENCE, target)
    if record is not None and "skipped" in record.content and not force:
        message = (
            f"Nothing to post for {target}: no unit was asked for its numbers that week "
            "(statbot did not know the units yet)."
        )
    elif result.posted:
        message = (
            f"Posted the digest of {target}: {counted(result.deliveries, 'message')} in the outbox; "
            "the sender delivers them."
        )
    else:
        when = f"{result.posted_at:%a %d %b %Y %H:%M} UTC" if result.posted_at else "earlier"
        message = (
            f"The digest of {target} was already posted ({when}); nothing was sent again. "
            "Add --force to send it again."
        )
    console.print(message, markup=False, highlight=False)
    return 0


async def write_digest_files(
    uow_factory: UnitOfWorkFactory, clock: Clock, week: str, out_dir: Path
) -> list[Path]:
    """Write ``digest-<week>.txt`` and its chart PNGs into ``out_dir`` (for `statbot demo`).
    The posted digest is written as it was posted; a week not posted yet is built now."""
    from bot.digests.cards import digest_text
    from bot.digests.charts import render_trend_chart
    from bot.messages.model import Image

    files: dict[str, bytes] = {}
    async with uow_factory() as uow:
        record = await uow.digests.get(AUDIENCE, week)
        posted = record.posted if record is not None else None
        if posted is not None and posted.digest is not None:
            digest = posted.digest
            images: list[Image] = []
            for ref in posted.charts:
                chart = await uow.digest_source.chart(ref)
                if chart is not None and ref.endswith("-all"):
                    files[f"{ref}.png"] = chart.png
                    images.append(Image(ref=ref, alt_text=chart.alt_text, title=chart.title))
        else:
            digest, cards = await build_for_week(uow, week, clock.now())
            images = [p for card in cards for p in card.parts if isinstance(p, Image)]
            if digest.charts and images:
                png, _ = render_trend_chart(digest.charts, title=f"Needs attention · {week}")
                files[f"{images[0].ref}.png"] = png
    files = {f"digest-{week}.txt": digest_text(digest, chart_refs=images).encode(), **files}
    return await asyncio.to_thread(_write_files, out_dir, files)


def _write_files(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written
