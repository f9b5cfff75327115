"""The `statbot` command line (DESIGN.md §4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

# Everything else is imported inside the commands that need it: SQLAlchemy, Alembic,
# slack-bolt and matplotlib together cost half a second, and `statbot --help` should not.
# Even rich: the consoles are made when a command first prints, and the help is click's
# plain text (typer's rich help imports rich's markdown renderer, a quarter of the time
# `statbot --help` took).
if TYPE_CHECKING:
    from rich.console import Console

    from adapters.runtime import Runtime
    from adapters.settings import Settings

app = typer.Typer(
    help="statbot: weekly check-ins, commitments, escalations and the Monday digest, in chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True, rich_markup_mode=None)
org_app = typer.Typer(
    help="The org file: units, people, metrics, policies.", no_args_is_help=True, rich_markup_mode=None
)
manifest_app = typer.Typer(help="Platform app manifests.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(manifest_app, name="manifest")

_consoles: dict[bool, Console] = {}


def _console(*, stderr: bool) -> Console:
    if stderr not in _consoles:
        from rich.console import Console

        _consoles[stderr] = Console(stderr=stderr, soft_wrap=True)
    return _consoles[stderr]


def out() -> Console:
    """The console for a command's output (stdout)."""
    return _console(stderr=False)


def err() -> Console:
    """The console for errors (stderr)."""
    return _console(stderr=True)


T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    err().print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def not_yet(what: str) -> NoReturn:
    fail(f"{what} is not available yet in this version of statbot.", code=3)


_logging_done = False


def settings(log_format: str = "text") -> Settings:
    """The settings, and logging set up from them once (``log_format`` unless
    STATBOT_LOG_FORMAT says otherwise)."""
    from adapters.settings import SettingsError, load_settings

    global _logging_done
    try:
        config = load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)
    if not _logging_done:
        from adapters.logs import configure_logging

        configure_logging(
            fmt=config.log_format or ("json" if log_format == "json" else "text"),
            level=config.log_level,
            secrets=config.secrets(),
        )
        _logging_done = True
    return config


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's event loop; a database that is not migrated or cannot be reached
    is one line on stderr, not a traceback."""
    import asyncio

    from adapters.container import NotMigratedError
    from storage.engine import DatabaseUnavailable, is_unavailable, unreachable

    try:
        return asyncio.run(main())
    except (NotMigratedError, DatabaseUnavailable) as exc:
        fail(str(exc))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        fail(unreachable(settings().database_url, exc))


def run_with(
    body: Callable[[Runtime], Awaitable[T]], *, config: Settings | None = None, platforms: bool = False
) -> T:
    """Open the runtime, check the schema is current, run ``body``."""
    from adapters.runtime import open_runtime

    async def main() -> T:
        async with open_runtime(config or settings(), platforms=platforms) as runtime:
            await runtime.check_migrated()
            return await body(runtime)

    return run(main)


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
    from storage import migrations
    from storage.engine import is_unavailable, masked_url, unreachable

    url = settings().database_url
    try:
        migrations.upgrade(url)
    except Exception as exc:
        if is_unavailable(exc):
            fail(unreachable(url, exc))
        # The driver's first line says what is wrong; its text never holds the password.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot migrate {masked_url(url)}: {first}")
    out().print(f"database at revision {migrations.head_revision()}")


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
    from bot.messages.text import counted
    from bot.org.apply import apply_org
    from bot.org.schema import OrgFileError, load_org

    config = settings()
    if file is None:
        if not config.org_file:
            fail("which org file? Give it (statbot org apply examples/org.yaml) or set STATBOT_ORG_FILE", 2)
        file = Path(config.org_file)
    try:
        org = load_org(str(file))
    except OrgFileError as exc:
        err().print(
            f"[bold red]{file} was refused; nothing was written.[/] {counted(len(exc.problems), 'problem')}:",
            highlight=False,
        )
        for problem in exc.problems:
            err().print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(1) from None

    async def body(runtime: Runtime) -> None:
        async with runtime.uow() as uow:
            diff = await apply_org(uow, org, now=runtime.clock.now())
            if dry_run:
                await uow.rollback()
            else:
                await uow.commit()
        verb = "would change" if dry_run else "changed"
        if not dry_run:
            await _link_people(runtime)
        if diff.empty:
            out().print(f"{file}: no changes ({len(org.units)} units, {len(org.people)} people).")
            return
        for change in diff.changes:
            colour = {"added": "green", "changed": "yellow", "retired": "red"}[change.kind]
            out().print(f"[{colour}]{change}[/]", highlight=False)
        out().print(
            f"{file}: {verb} — {diff.count('added')} added, {diff.count('changed')} changed, "
            f"{diff.count('retired')} retired" + (" (dry run: nothing written)" if dry_run else "")
        )

    run_with(body, config=config, platforms=True)


async def _link_people(runtime: Runtime) -> None:
    """Link people to each configured platform; say who cannot be reached anywhere."""
    from adapters.gateways import mark_unreachable

    if runtime.slack is not None:
        from adapters.slack.people import link_people

        client = runtime.slack.lookup_client(rate_limit_retries=5)
        report = await link_people(runtime.uow, client)
        for line in report.lines():
            out().print(line, markup=False, highlight=False)
    if runtime.teams is not None and runtime.slack is None:
        # Teams alone: people become reachable when the app is installed for them.
        for person in await runtime.teams.mark_unreachable():
            line = f"{person.email}: not reachable yet ({person.unreachable})"
            out().print(line, markup=False, highlight=False)
    if len(runtime.platforms) > 1:
        for person in await mark_unreachable(runtime.uow, runtime.platforms):
            out().print(
                f"{person.email}: reachable on no platform ({person.unreachable})",
                markup=False,
                highlight=False,
            )


@org_app.command("show")
def org_show() -> None:
    """Show the organisation as stored: units, people, metrics and policies."""
    import textwrap

    from bot.checkins.status import target_text

    def line(text: str = "") -> None:
        # Plain lines within 80 columns, the same on a terminal and when piped.
        indent = " " * (len(text) - len(text.lstrip()) + 4)
        for part in textwrap.wrap(text, width=80, subsequent_indent=indent) or [""]:
            out().print(part, markup=False, highlight=False, soft_wrap=True)

    async def body(runtime: Runtime) -> None:
        async with runtime.uow() as uow:
            settings_ = await uow.org.settings()
            if settings_ is None:
                fail("no organisation yet: run `statbot org apply FILE`")
            people = {p.id: p for p in await uow.people.all(active_only=False)}
            units = await uow.units.all()
            policies = await uow.org.policies()
            calendar = " / ".join(x for x in (settings_.holiday_country, settings_.holiday_subdivision) if x)
            line(f"{settings_.name} ({settings_.timezone}, holidays: {calendar or 'none'})")
            active = sum(p.active for p in people.values())
            line(f"{len(units)} units, {active} people, {len(policies)} escalation policies")
            days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            for unit in units:
                assert unit.id is not None
                line()
                line(f"{unit.name} [{unit.key}]" + (" (restricted)" if unit.restricted else ""))
                deputy = people[unit.deputy_id].name if unit.deputy_id else "none"
                head, leader = people[unit.head_id].name, people[unit.leader_id].name
                line(f"  head {head}, deputy {deputy}, leader {leader}")
                line(
                    f"  check-in {days[unit.checkin_weekday - 1]} {unit.checkin_time:%H:%M}, "
                    f"due {days[unit.deadline_weekday - 1]} {unit.deadline_time:%H:%M} ({unit.timezone})"
                )
                line(f"  escalation policy: {unit.escalation_policy or 'default'}")
                for m in await uow.metrics.for_unit(unit.id):
                    better = "higher" if m.direction == "higher" else "lower"
                    line(f"  - {m.name}: target {target_text(m)} ({better} is better)")
            line()
            line("People")
            for p in sorted(people.values(), key=lambda p: p.email):
                roles = f" — {', '.join(p.roles)}" if p.roles else ""
                gone = "" if p.active else " (retired)"
                line(f"  {p.email} {p.name}{roles}{gone}")
            line()
            line("Escalation policies")
            for policy in policies:
                quiet = policy.definition.get("quiet_after_days")
                chains = policy.definition.get("chains")
                what = [f"quiet after {quiet} days"] if quiet is not None else []
                if isinstance(chains, dict):
                    what.append("chains: " + ", ".join(str(k) for k in chains))
                line(f"  {policy.name}" + (f" ({'; '.join(what)})" if what else ""))

    run_with(body)


# --- running ------------------------------------------------------------------------------


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
    import asyncio
    import signal

    from aiohttp import web

    from adapters.runtime import NO_PLATFORM, TURN_GRACE, open_runtime
    from adapters.threads import DaemonThreads

    config = settings(log_format="json")
    host = host or config.host
    port = config.port if port is None else port

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        # botbuilder sends with `requests` in the loop's executor; a turn cut off at
        # shutdown leaves such a thread waiting on the Bot Connector, and the exit would
        # wait for it (msrest's timeout is 100 s) past docker stop's 10 s.
        loop.set_default_executor(DaemonThreads())
        async with open_runtime(config) as runtime:
            await runtime.check_migrated()
            # The request middleware logs each request once; aiohttp's own access log
            # would repeat it without the request id.  Requests in flight at shutdown
            # (a Teams turn runs inside its request) get TURN_GRACE.
            runner = web.AppRunner(runtime.web_app(), access_log=None, shutdown_timeout=TURN_GRACE)
            await runner.setup()
            scheduler = None
            try:
                await web.TCPSite(runner, host, port).start()
                # The port bound (``--port 0`` asks the system for a free one).
                bound = runner.addresses[0][1] if runner.addresses else port
                out().print(f"statbot listening on http://{host}:{bound}")
                if runtime.gateway is None:
                    out().print(f"{NO_PLATFORM}: deliveries wait in the outbox")
                if not no_scheduler:
                    # Before Socket Mode: a network that is down at start must not hold up the sweeps.
                    scheduler = runtime.scheduler()
                    scheduler.start()
                try:
                    await runtime.start_platforms()
                except RuntimeError as exc:
                    fail(str(exc))
                if runtime.slack is not None and config.slack_app_token is not None:
                    out().print("Slack: Socket Mode connected")
                await stop.wait()
                out().print("stopping")
            finally:
                # docker stop waits 10 s: stop taking work, finish what is in flight (bounded),
                # hand back unsent delivery claims; leaving the runtime closes the connections.
                await runtime.stop_serving(runner, scheduler)
        out().print("stopped")

    run(main)


@app.command()
def chat(
    as_: Annotated[str | None, typer.Option("--as", help="Act as this person (email).")] = None,
    plain: Annotated[bool, typer.Option("--plain", help="No colours or boxes.")] = False,
) -> None:
    """The console chat: the real bot in a terminal, as any person of the org."""
    from adapters.console.chat import ConsoleChat
    from adapters.runtime import open_runtime
    from bot.clock import FakeClock, SystemClock
    from storage.console_clock import ConsoleClockStore

    clock = FakeClock(SystemClock().now())

    async def ask(prompt: str) -> str:
        import asyncio

        return await asyncio.to_thread(input, prompt)

    async def main() -> None:
        # The console shows the bot's messages itself: no platform adapter.
        async with open_runtime(settings(), clock=clock, platforms=False) as runtime:
            await runtime.check_migrated()
            start = as_ or await _first_head(runtime)
            # The bot's clock of this database: a second session continues from it.
            store = ConsoleClockStore(runtime.container.engine)
            console = ConsoleChat(runtime.bot, runtime.uow, clock, ask=ask, plain=plain, clock_store=store)
            await console.run(start)

    run(main)


def _reader_left() -> None:
    import os
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


def _example_org() -> Path:
    """examples/org.yaml in the working directory, else next to the installed code (a
    checkout or the Docker image), so the demo runs from anywhere."""
    here = Path("examples/org.yaml")
    if here.exists():
        return here
    return Path(__file__).resolve().parent.parent / "examples" / "org.yaml"


async def _first_head(runtime: Runtime) -> str | None:
    async with runtime.uow() as uow:
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
    from adapters.runtime import open_runtime
    from adapters.settings import Settings
    from bot.clock import FakeClock, SystemClock
    from bot.org.schema import OrgFileError
    from storage import migrations

    settings()  # logging, and a bad environment is still reported
    if org_file is None:
        org_file = _example_org()
    if not org_file.exists():
        fail(f"{org_file}: no such org file (pass --org FILE)")
    with tempfile.TemporaryDirectory(prefix="statbot-demo-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        migrations.upgrade(url)

        async def main() -> dict[str, int]:
            # A database of its own; the demo shows the messages itself (no platform).
            clock = FakeClock(SystemClock().now())
            async with open_runtime(Settings(database_url=url), clock=clock, platforms=False) as runtime:
                return await run_demo(
                    runtime.uow, str(org_file), weeks, out_dir, out(), seed=seed, clock=clock, bot=runtime.bot
                )

        try:
            import asyncio

            stats = asyncio.run(main())
        except OrgFileError as exc:
            fail("the org file was refused:\n" + "\n".join(exc.problems))
    out().print("[bold]demo done[/]: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items())))
    if out_dir is not None:
        out().print(f"weekly summaries and digests are in {out_dir}/")


@app.command()
def tick(
    at: Annotated[str | None, typer.Option(help="Run as of this instant (ISO-8601 with zone).")] = None,
) -> None:
    """Run every sweep once: open check-ins, reminders, escalations, digests, deliveries."""
    from adapters.runtime import NO_PLATFORM, open_runtime
    from bot.clock import FakeClock, LaterOf, SystemClock

    instant = parse_instant(at) if at else None
    config = settings()

    async def main() -> None:
        # The same runtime as `serve`: the configured platforms send what the sweeps owe.
        async with open_runtime(config, clock=FakeClock(instant) if instant else None) as runtime:
            await runtime.check_migrated()
            # --at pretends the instant for what is due.  A past instant still leases in
            # real time (a server beside it must not take its leases for expired); a
            # future one may take over leases that have run out by then.
            leases = LaterOf(runtime.clock, SystemClock()) if instant else None
            report = await runtime.tick(lease_clock=leases)
            out().print(f"{runtime.clock.now().isoformat()}: {report}")
            if runtime.gateway is None:
                waiting = await runtime.pending_deliveries()
                noun = "delivery waits" if waiting == 1 else "deliveries wait"
                out().print(f"{NO_PLATFORM}: {waiting} {noun} in the outbox")

    run(main)


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

    async def body(runtime: Runtime) -> int:
        return await print_digest(runtime.container, week, post, out(), force=force)

    # `statbot digest | head`: the reader left, which is not an error.
    out().on_broken_pipe = _reader_left  # type: ignore[method-assign]
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

    async def body(runtime: Runtime) -> list[Path]:
        return await export_data(runtime.container, format, since_date, out_path)

    for path in run_with(body):
        out().print(f"wrote {path}")


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
    """Write the Teams app package: manifest.json (the bot id from MicrosoftAppId, personal
    and team scopes, the command list) and its two icons, to upload in Teams."""
    from adapters.teams.manifest import teams_package

    config = settings()
    try:
        package = teams_package(config.microsoft_app_id, public_url=config.public_url)
    except ValueError as exc:
        fail(str(exc), 2)
    out_file.write_bytes(package)
    out().print(f"wrote {out_file}", highlight=False)


def main() -> None:
    app()
