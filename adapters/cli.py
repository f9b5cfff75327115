"""The `statbot` command line (DESIGN.md §4)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from adapters.container import Container, NotMigratedError, open_container
from adapters.settings import Settings, SettingsError, load_settings
from bot.org.apply import apply_org
from bot.org.schema import OrgFileError, load_org
from storage import migrations

app = typer.Typer(
    help="statbot: weekly check-ins, commitments, escalations and the Monday digest, in chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
org_app = typer.Typer(help="The org file: units, people, metrics, policies.", no_args_is_help=True)
manifest_app = typer.Typer(help="Platform app manifests.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(manifest_app, name="manifest")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def not_yet(what: str) -> NoReturn:
    fail(f"{what} is not available yet in this version of statbot.", code=3)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def run_with(body: Callable[[Container], Awaitable[T]]) -> T:
    """Open the container, check the schema is current, run ``body``."""

    async def main() -> T:
        async with open_container(settings()) as container:
            await container.check_migrated()
            return await body(container)

    try:
        return asyncio.run(main())
    except NotMigratedError as exc:
        fail(str(exc))


def parse_instant(text: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at {text!r} is not an ISO-8601 date-time (e.g. 2026-11-30T08:00:00+00:00)", 2)
    if instant.tzinfo is None:
        fail(f"--at {text!r} has no time zone; add one, e.g. {text}+00:00 or {text}Z", 2)
    return instant.astimezone(dt.UTC)


# --- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (STATBOT_DATABASE_URL) to the latest schema."""
    url = settings().database_url
    try:
        migrations.upgrade(url)
    except Exception as exc:  # the driver's own message is the useful part
        fail(f"cannot migrate {url.split('@')[-1]}: {exc}")
    out.print(f"database at revision {migrations.head_revision()}")


# --- org -----------------------------------------------------------------------------------


@org_app.command("apply")
def org_apply(
    file: Annotated[
        Path | None,
        typer.Argument(help="The org file (YAML), e.g. examples/org.yaml; default: STATBOT_ORG_FILE."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and show the changes; write nothing.")
    ] = False,
) -> None:
    """Validate the org file and apply it idempotently, printing what changed."""
    if file is None:
        configured = settings().org_file
        if not configured:
            fail("which org file? Give it (statbot org apply examples/org.yaml) or set STATBOT_ORG_FILE", 2)
        file = Path(configured)
    try:
        org = load_org(str(file))
    except OrgFileError as exc:
        err.print(
            f"[bold red]{file} was refused; nothing was written.[/] {len(exc.problems)} problem(s):",
            highlight=False,
        )
        for problem in exc.problems:
            err.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(1) from None

    async def body(container: Container) -> None:
        async with container.uow() as uow:
            diff = await apply_org(uow, org, now=container.clock.now())
            if dry_run:
                await uow.rollback()
            else:
                await uow.commit()
        verb = "would change" if dry_run else "changed"
        if not dry_run and container.settings.slack_enabled:
            await _link_slack_people(container)
        if diff.empty:
            out.print(f"{file}: no changes ({len(org.units)} units, {len(org.people)} people).")
            return
        for change in diff.changes:
            colour = {"added": "green", "changed": "yellow", "retired": "red"}[change.kind]
            out.print(f"[{colour}]{change}[/]", highlight=False)
        out.print(
            f"{file}: {verb} — {diff.count('added')} added, {diff.count('changed')} changed, "
            f"{diff.count('retired')} retired" + (" (dry run: nothing written)" if dry_run else "")
        )

    run_with(body)


async def _link_slack_people(container: Container) -> None:
    """Find each person's Slack user by e-mail; say who cannot be found."""
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.people import link_people

    token = container.settings.slack_bot_token
    assert token is not None
    client = AsyncWebClient(token=token.get_secret_value(), base_url=container.settings.slack_api_url)
    # users.lookupByEmail is rate limited (Tier 3): a large org waits instead of failing.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    report = await link_people(container.uow, client)
    for line in report.lines():
        out.print(line, markup=False, highlight=False)


@org_app.command("show")
def org_show() -> None:
    """Show the organisation as stored: units, people, metrics and policies."""

    async def body(container: Container) -> None:
        async with container.uow() as uow:
            settings_ = await uow.org.settings()
            if settings_ is None:
                fail("no organisation yet: run `statbot org apply FILE`")
            people = {p.id: p for p in await uow.people.all(active_only=False)}
            units = await uow.units.all()
            calendar = " / ".join(x for x in (settings_.holiday_country, settings_.holiday_subdivision) if x)
            out.print(f"[bold]{settings_.name}[/] ({settings_.timezone}, holidays: {calendar or 'none'})")
            table = Table("unit", "head", "deputy", "leader", "zone", "metrics")
            for unit in units:
                assert unit.id is not None
                metrics = await uow.metrics.for_unit(unit.id)
                deputy = people[unit.deputy_id].name if unit.deputy_id else "—"
                table.add_row(
                    unit.key + (" (restricted)" if unit.restricted else ""),
                    people[unit.head_id].name,
                    deputy,
                    people[unit.leader_id].name,
                    unit.timezone,
                    "\n".join(f"{m.name} → {m.target:g}" for m in metrics),
                )
            out.print(table)
            active = [p for p in people.values() if p.active]
            out.print(
                f"{len(active)} people, {len(units)} units, "
                f"{len(await uow.org.policies())} escalation policies"
            )

    run_with(body)


# --- not built yet ---------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default STATBOT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default STATBOT_PORT).")] = None,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Do not run the sweeps in this process.")
    ] = False,
) -> None:
    """Run the HTTP server (Slack, Teams, /healthz, /metrics) and the scheduler.

    Slack events arrive on POST /slack/events, or over Socket Mode when SLACK_APP_TOKEN
    is set.  Run several replicas with --no-scheduler on all but one, or let each run the
    sweeps: the database makes sure every item is handled once."""
    from aiohttp import web

    from adapters.gateways import build_gateway
    from adapters.metrics import Metrics
    from adapters.scheduler import build_scheduler
    from adapters.server import build_web_app
    from bot.conversation import StatBot

    config = settings()

    async def main() -> None:
        async with open_container(config) as container:
            await container.check_migrated()
            metrics = Metrics()
            bot = StatBot(container.uow, container.clock)
            slack = None
            if config.slack_enabled:
                from adapters.slack.app import SlackAdapter

                slack = SlackAdapter.create(container, bot, metrics)
            gateway = build_gateway(slack=slack.gateway if slack else None)
            runner = web.AppRunner(build_web_app(container, metrics, slack=slack))
            await runner.setup()
            site = web.TCPSite(runner, host or config.host, config.port if port is None else port)
            await site.start()
            out.print(
                f"statbot listening on http://{host or config.host}:{config.port if port is None else port}"
            )
            if gateway is None:
                out.print("no Slack or Teams credentials: deliveries wait in the outbox")
            scheduler = None
            if not no_scheduler:
                # Before Socket Mode: a network that is down at start must not hold up the sweeps.
                scheduler = build_scheduler(container.uow, container.clock, gateway, metrics)
                scheduler.start()
            if slack is not None and config.slack_app_token is not None:
                try:
                    await slack.start_socket_mode()
                except RuntimeError as exc:
                    if scheduler is not None:
                        scheduler.shutdown(wait=False)
                    await slack.close()
                    await runner.cleanup()
                    fail(str(exc))
                out.print("Slack: Socket Mode connected")
            try:
                await asyncio.Event().wait()
            finally:
                if scheduler is not None:
                    scheduler.shutdown(wait=False)
                if slack is not None:
                    await slack.close()
                await runner.cleanup()

    try:
        asyncio.run(main())
    except NotMigratedError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        out.print("stopped")


@app.command()
def chat(
    as_: Annotated[str | None, typer.Option("--as", help="Act as this person (email).")] = None,
    plain: Annotated[bool, typer.Option("--plain", help="No colours or boxes.")] = False,
) -> None:
    """The console chat: the real bot in a terminal, as any person of the org."""
    from adapters.console.chat import ConsoleChat
    from bot.clock import FakeClock, SystemClock
    from bot.conversation import StatBot

    clock = FakeClock(SystemClock().now())

    async def ask(prompt: str) -> str:
        return await asyncio.to_thread(input, prompt)

    async def main() -> None:
        async with open_container(settings(), clock) as container:
            await container.check_migrated()
            start = as_ or await _first_head(container)
            console = ConsoleChat(StatBot(container.uow, clock), container.uow, clock, ask=ask, plain=plain)
            await console.run(start)

    try:
        asyncio.run(main())
    except NotMigratedError as exc:
        fail(str(exc))


def _example_org() -> Path:
    """examples/org.yaml in the working directory, else next to the installed code (a
    checkout or the Docker image), so the demo runs from anywhere."""
    here = Path("examples/org.yaml")
    if here.exists():
        return here
    return Path(__file__).resolve().parent.parent / "examples" / "org.yaml"


async def _first_head(container: Container) -> str | None:
    async with container.uow() as uow:
        units = await uow.units.all()
        if not units:
            return None
        head = await uow.people.get(units[0].head_id)
        return head.email if head else None


@app.command()
def demo(
    weeks: Annotated[int, typer.Option(min=1, max=52, help="How many weeks to simulate.")] = 6,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write each week's summary and digest (text + PNG) here.")
    ] = None,
    org_file: Annotated[
        Path | None, typer.Option("--org", help="The org file to simulate (default: the example city).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the simulated people.")] = 7,
) -> None:
    """Simulate N weeks of the example org on a fresh database with a moving clock.

    Uses a new SQLite database in a temporary folder (your STATBOT_DATABASE_URL is not
    touched) and prints the conversation: prompts, answers, validation messages,
    reminders, late flags, deputies standing in, escalations and the Monday digest."""
    import tempfile

    from adapters.demo import run_demo
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWorkFactory

    if org_file is None:
        org_file = _example_org()
    if not org_file.exists():
        fail(f"{org_file}: no such org file (pass --org FILE)")
    with tempfile.TemporaryDirectory(prefix="statbot-demo-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        migrations.upgrade(url)

        async def main() -> dict[str, int]:
            engine = create_engine(url)
            try:
                return await run_demo(
                    SqlUnitOfWorkFactory(session_factory(engine)),
                    str(org_file),
                    weeks,
                    out_dir,
                    out,
                    seed=seed,
                )
            finally:
                await engine.dispose()

        try:
            stats = asyncio.run(main())
        except OrgFileError as exc:
            fail("the org file was refused:\n" + "\n".join(exc.problems))
    out.print("[bold]demo done[/]: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items())))
    if out_dir is not None:
        out.print(f"weekly summaries and digests are in {out_dir}/")


@app.command()
def tick(
    at: Annotated[str | None, typer.Option(help="Run as of this instant (ISO-8601 with zone).")] = None,
) -> None:
    """Run every sweep once: open check-ins, reminders, escalations, digests, deliveries."""
    from adapters.gateways import build_gateway
    from bot.clock import FakeClock
    from bot.sweeps import run_all

    instant = parse_instant(at) if at else None

    async def body(container: Container) -> None:
        clock = FakeClock(instant) if instant else container.clock
        gateway = build_gateway()
        report = await run_all(container.uow, clock, gateway)
        out.print(f"{clock.now().isoformat()}: {report}")
        if gateway is None:
            async with container.uow() as uow:
                waiting = await uow.deliveries.pending_count()
            out.print(f"no Slack or Teams credentials: {waiting} delivery(ies) wait in the outbox")

    run_with(body)


@app.command()
def digest(
    week: Annotated[str | None, typer.Option(help="The week, e.g. 2026-W48 (default: last week).")] = None,
    post: Annotated[
        bool, typer.Option("--post", help="Put it in the outbox now instead of printing it.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --post: send again a week already posted.")
    ] = False,
) -> None:
    """Print the leadership digest for a week, or post it."""
    from adapters.digest_print import print_digest

    if force and not post:
        fail("--force only makes sense with --post (it sends a posted week again)", 2)

    async def body(container: Container) -> int:
        return await print_digest(container, week, post, out, force=force)

    code = run_with(body)
    if code:
        raise typer.Exit(code)


@app.command()
def export(
    format: Annotated[
        str, typer.Option("--format", help="csv (one file per table) or xlsx (one workbook).")
    ] = "csv",
    since: Annotated[str | None, typer.Option(help="Only data from this date on (YYYY-MM-DD).")] = None,
    out_path: Annotated[Path, typer.Option("--out", help="Folder (or .xlsx file) to write.")] = Path(
        "export"
    ),
) -> None:
    """Export readings with their revisions, check-ins, and commitments with their updates."""
    from adapters.export import export_data

    if format not in ("csv", "xlsx"):
        fail(f"--format {format!r}: choose csv or xlsx", 2)
    since_date = None
    if since:
        try:
            since_date = dt.date.fromisoformat(since)
        except ValueError:
            fail(f"--since {since!r} is not a date; write it like 2026-11-01", 2)

    async def body(container: Container) -> list[Path]:
        return await export_data(container, format, since_date, out_path)

    for path in run_with(body):
        out.print(f"wrote {path}")


@manifest_app.command("slack")
def manifest_slack() -> None:
    """Print the Slack app manifest (JSON) to create the app from.

    Over HTTP every URL points at STATBOT_PUBLIC_URL/slack/events; with SLACK_APP_TOKEN
    set the manifest asks for Socket Mode instead and needs no public URL."""
    import json

    from adapters.slack.manifest import slack_manifest

    config = settings()
    try:
        manifest = slack_manifest(config.public_url, socket_mode=config.slack_app_token is not None)
    except ValueError as exc:
        fail(str(exc), 2)
    typer.echo(json.dumps(manifest, indent=2))


@manifest_app.command("teams")
def manifest_teams(
    out_file: Annotated[Path, typer.Option("--out", help="The .zip to write.")] = Path("statbot-teams.zip"),
) -> None:
    """Write the Teams app package."""
    not_yet("statbot manifest teams")


def main() -> None:
    app()
