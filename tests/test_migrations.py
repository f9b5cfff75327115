"""The Alembic history builds the schema the models describe, on each database."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from storage.engine import create_engine
from storage.migrations import alembic_config, head_revision, script_location, upgrade
from storage.records import Base
from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a fresh PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    import asyncio

    name = f"statbot_migrate_{uuid.uuid4().hex[:8]}"
    server = make_url(TEST_DATABASE_URL)

    async def admin(statement: str) -> None:
        engine = create_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}"'))


def _diff_and_tables(url: str) -> tuple[list[object], set[str], str | None]:
    import asyncio

    async def inspect_db() -> tuple[list[object], set[str], str | None]:
        engine = create_engine(url)
        async with engine.connect() as connection:

            def check(sync_connection):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return (
                    compare_metadata(context, Base.metadata),
                    set(inspect(sync_connection).get_table_names()),
                    context.get_current_revision(),
                )

            result = await connection.run_sync(check)
        await engine.dispose()
        return result

    return asyncio.run(inspect_db())


@pytest.mark.db  # rerun on PostgreSQL in CI: empty_database makes a fresh one there
def test_upgrade_head_from_empty_matches_models(empty_database: str) -> None:
    upgrade(empty_database)
    diff, tables, revision = _diff_and_tables(empty_database)
    assert revision == head_revision()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert diff == [], f"models and migrations differ; add an Alembic revision: {diff}"


@pytest.mark.db  # rerun on PostgreSQL in CI: empty_database makes a fresh one there
def test_upgrade_is_repeatable(empty_database: str) -> None:
    upgrade(empty_database)
    upgrade(empty_database)
    _, _, revision = _diff_and_tables(empty_database)
    assert revision == head_revision()


def test_the_folder_does_not_shadow_the_library() -> None:
    import alembic

    assert alembic.__file__ is not None, "alembic/ is imported as a namespace package"
    assert not Path(alembic.__file__).resolve().is_relative_to(ROOT / "alembic")


def test_revisions_are_numbered_in_the_top_level_folder() -> None:
    """New revisions go in alembic/versions/ as NNNN_slug.py with revision id 'NNNN'."""
    assert script_location() == ROOT / "alembic"
    assert not list((ROOT / "storage" / "alembic").rglob("*.py")), "move it to alembic/versions/"
    scripts = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    assert Path(scripts.dir) == script_location()
    numbers = []
    for revision in scripts.walk_revisions():
        assert revision.path is not None
        name = Path(revision.path).name
        assert re.fullmatch(r"\d{4}_\w+\.py", name), f"{name}: use `alembic revision --rev-id NNNN`"
        assert name.startswith(f"{revision.revision}_"), f"{name} holds revision {revision.revision!r}"
        numbers.append(int(revision.revision))
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert scripts.get_current_head() == head_revision()


def test_alembic_command_from_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`alembic upgrade head` with alembic.ini: the URL comes from STATBOT_DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STATBOT_DATABASE_URL", url)
    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")
    _, tables, revision = _diff_and_tables(url)
    assert revision == head_revision()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_state_checks_are_added_to_a_database_holding_data(empty_database: str) -> None:
    """0004 rebuilds the state tables on SQLite; rows (and the commitment history that
    points at commitments) survive, and from then on an unknown state is refused."""
    import asyncio
    import datetime as dt

    from sqlalchemy.exc import IntegrityError

    from storage import records

    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    upgrade(empty_database, "0003")

    async def fill() -> None:
        engine = create_engine(empty_database)
        async with engine.begin() as connection:

            async def insert(record: type[records.Base], **values: object) -> None:
                await connection.execute(record.__table__.insert().values(id=1, **values))  # type: ignore[attr-defined]

            person = {"email": "a@example.org", "name": "A", "timezone": "UTC", "roles": [], "active": True}
            await insert(records.PersonRecord, **person)
            await insert(
                records.UnitRecord,
                key="u",
                name="U",
                timezone="UTC",
                head_id=1,
                leader_id=1,
                checkin_weekday=0,
                checkin_time=dt.time(9),
                deadline_weekday=2,
                deadline_time=dt.time(17),
                restricted=False,
                active=True,
            )
            await insert(
                records.CheckInRecord,
                unit_id=1,
                week="2026-W49",
                state="open",
                opened_at=now,
                deadline_at=now,
                reminders_sent=0,
                late=False,
                draft={},
            )
            await insert(
                records.CommitmentRecord,
                unit_id=1,
                owner_id=1,
                text="Fix it",
                due_on=now.date(),
                status="done",
                origin="command",
                created_at=now,
                updated_at=now,
            )
            await insert(
                records.CommitmentUpdateRecord,
                commitment_id=1,
                at=now,
                by=1,
                status="done",
                due_on=now.date(),
                note="done",
            )
            await insert(
                records.EscalationRecord,
                kind="missed_checkin",
                subject_id=1,
                unit_id=1,
                episode="1",
                policy={},
                state="snoozed",
                step=1,
                created_at=now,
                updated_at=now,
                notified=[1],
            )
            await insert(
                records.DeliveryRecord,
                audience="person:1",
                payload={"a": 1},
                idempotency_key="k",
                state="sent",
                created_at=now,
                next_attempt_at=now,
                attempts=1,
            )
        await engine.dispose()

    asyncio.run(fill())
    upgrade(empty_database)
    diff, _, revision = _diff_and_tables(empty_database)
    assert revision == head_revision() and diff == []

    async def check() -> None:
        engine = create_engine(empty_database)
        async with engine.connect() as connection:

            def checks(sync_connection):  # type: ignore[no-untyped-def]
                inspector = inspect(sync_connection)
                return {
                    table: {c["name"] for c in inspector.get_check_constraints(table)}
                    for table in (
                        "checkins",
                        "commitments",
                        "commitment_updates",
                        "escalations",
                        "deliveries",
                    )
                }

            assert await connection.run_sync(checks) == {
                "checkins": {"ck_checkins_state"},
                "commitments": {"ck_commitments_status"},
                "commitment_updates": {"ck_commitment_updates_status"},
                "escalations": {"ck_escalations_state"},
                "deliveries": {"ck_deliveries_state"},
            }
            for table in ("checkins", "commitments", "commitment_updates", "escalations", "deliveries"):
                assert (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == 1
            row = (
                await connection.execute(text("SELECT commitment_id, status, note FROM commitment_updates"))
            ).one()
            assert tuple(row) == (1, "done", "done")
            with pytest.raises(IntegrityError):
                await connection.execute(text("UPDATE deliveries SET state = 'lost'"))
        await engine.dispose()

    asyncio.run(check())

    # And back: the constraints go, the rows (history included) stay.
    command.downgrade(alembic_config(empty_database), "0003")

    async def after_downgrade() -> None:
        engine = create_engine(empty_database)
        async with engine.connect() as connection:
            checks = await connection.run_sync(lambda c: inspect(c).get_check_constraints("deliveries"))
            assert checks == []
            for table in ("checkins", "commitments", "commitment_updates", "escalations", "deliveries"):
                assert (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == 1
        await engine.dispose()

    asyncio.run(after_downgrade())


@pytest.mark.db  # rerun on PostgreSQL in CI: empty_database makes a fresh one there
def test_target_history_starts_with_every_metrics_current_target(empty_database: str) -> None:
    """0007 gives each stored metric one history entry, its current target, amber band and
    direction, so the weeks already reported keep being judged as they were."""
    import asyncio
    import datetime as dt

    from bot.org.targets import TargetHistory
    from storage import records
    from storage.engine import session_factory
    from storage.uow import SqlUnitOfWorkFactory

    upgrade(empty_database, "0006")

    async def fill() -> None:
        engine = create_engine(empty_database)
        async with engine.begin() as connection:

            async def insert(record: type[records.Base], **values: object) -> None:
                await connection.execute(record.__table__.insert().values(**values))  # type: ignore[attr-defined]

            await insert(
                records.PersonRecord,
                id=1,
                email="a@example.org",
                name="A",
                timezone="UTC",
                roles=[],
                active=True,
            )
            await insert(
                records.UnitRecord,
                id=1,
                key="u",
                name="U",
                timezone="UTC",
                head_id=1,
                leader_id=1,
                checkin_weekday=4,
                checkin_time=dt.time(9),
                deadline_weekday=5,
                deadline_time=dt.time(17),
                restricted=False,
                active=True,
            )
            for metric_id, key, direction, target, amber, active in (
                (1, "backlog", "lower", 120.0, 30.0, True),
                (2, "rate", "higher", 92.5, 2.5, False),
            ):
                await insert(
                    records.MetricRecord,
                    id=metric_id,
                    unit_id=1,
                    key=key,
                    name=key,
                    measure="count",
                    direction=direction,
                    target=target,
                    amber=amber,
                    active=active,
                    position=metric_id,
                )
        await engine.dispose()

    asyncio.run(fill())
    upgrade(empty_database)
    diff, _, revision = _diff_and_tables(empty_database)
    assert revision == head_revision() and diff == []

    async def check() -> None:
        engine = create_engine(empty_database)
        async with SqlUnitOfWorkFactory(session_factory(engine))() as work:
            entries = sorted(await work.metrics.targets([1, 2]), key=lambda e: e.metric_id)
            metrics = {m.id: m for m in await work.metrics.all(active_only=False)}
        await engine.dispose()
        assert [(e.metric_id, e.target, e.amber, e.direction) for e in entries] == [
            (1, 120.0, 30.0, "lower"),
            (2, 92.5, 2.5, "higher"),
        ]
        assert all(re.fullmatch(r"\d{4}-W\d{2}", e.valid_from) for e in entries)
        assert all(e.recorded_at.tzinfo is not None for e in entries)
        # A week long before the history began is judged by the metric's target as it was.
        history = TargetHistory(entries)
        assert history.in_week(metrics[1], "2020-W01").target == 120.0

    asyncio.run(check())
    command.downgrade(alembic_config(empty_database), "0006")
    _, tables, _ = _diff_and_tables(empty_database)
    assert "metric_targets" not in tables and "metrics" in tables


@pytest.mark.db  # rerun on PostgreSQL in CI: empty_database makes a fresh one there
def test_stored_briefs_and_memos_get_version_zero_and_keep_everything(empty_database: str) -> None:
    """0009 adds the version every change of a brief or memo is conditional on; the briefs
    and memos already stored keep their words and edits and start at version 0."""
    import asyncio
    import datetime as dt

    from storage import records

    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    upgrade(empty_database, "0008")

    async def fill() -> None:
        engine = create_engine(empty_database)
        async with engine.begin() as connection:

            async def insert(record: type[records.Base], **values: object) -> None:
                await connection.execute(record.__table__.insert().values(**values))  # type: ignore[attr-defined]

            await insert(
                records.PersonRecord,
                id=1,
                email="a@example.org",
                name="A",
                timezone="UTC",
                roles=[],
                active=True,
            )
            await insert(
                records.UnitRecord,
                id=1,
                key="u",
                name="U",
                timezone="UTC",
                head_id=1,
                leader_id=1,
                checkin_weekday=4,
                checkin_time=dt.time(9),
                deadline_weekday=5,
                deadline_time=dt.time(17),
                restricted=False,
                active=True,
            )
            await insert(
                records.SessionRecord,
                id=1,
                unit_id=1,
                starts_at=now,
                minutes=60,
                chair_id=1,
                scheduled_chair_id=1,
                state="scheduled",
                created_at=now,
                updated_at=now,
                attendees=[],
            )
            for document_id, kind in ((1, "brief"), (2, "memo")):
                # The table as 0008 made it: the record's version column is left out.
                await insert(
                    records.SessionDocumentRecord,
                    id=document_id,
                    session_id=1,
                    kind=kind,
                    state="draft",
                    body=f"# The {kind}",
                    created_at=now,
                    updated_at=now,
                    edits={"added": ["Ask about trucks"]},
                )
        await engine.dispose()

    asyncio.run(fill())
    upgrade(empty_database)
    diff, _, revision = _diff_and_tables(empty_database)
    assert revision == head_revision() and diff == []

    async def check() -> list[tuple[object, ...]]:
        engine = create_engine(empty_database)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id, kind, body, edits, version FROM session_documents ORDER BY id")
            )
            found = [tuple(r) for r in rows]
        await engine.dispose()
        return found

    rows = asyncio.run(check())
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        (1, "brief", "# The brief", 0),
        (2, "memo", "# The memo", 0),
    ]
    assert all("Ask about trucks" in str(r[3]) for r in rows)


@pytest.mark.db  # rerun on PostgreSQL in CI: empty_database makes a fresh one there
def test_an_answers_promise_tracked_twice_keeps_both_and_one_stays_the_answers(empty_database: str) -> None:
    """0010 makes an answer's tracked promise unique.  A promise tracked twice before (two
    clicks of "Track this" at once) keeps both commitments: the first stays the answer's,
    the later one becomes an ordinary commitment, and a third can no longer be stored."""
    import asyncio
    import datetime as dt

    from sqlalchemy.exc import IntegrityError

    from storage import records

    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    upgrade(empty_database, "0009")

    async def insert(record: type[records.Base], **values: object) -> None:
        engine = create_engine(empty_database)  # one per call: each asyncio.run has its own loop
        try:
            async with engine.begin() as connection:
                await connection.execute(record.__table__.insert().values(**values))  # type: ignore[attr-defined]
        finally:
            await engine.dispose()

    def promise(commitment_id: int, origin: str) -> dict[str, object]:
        return dict(
            id=commitment_id, unit_id=1, owner_id=1, text="Clear the backlog", due_on=now.date(),
            status="open", origin=origin, created_at=now, updated_at=now,
        )  # fmt: skip

    async def fill() -> None:
        await insert(
            records.PersonRecord, id=1, email="a@example.org", name="A", timezone="UTC", roles=[], active=True
        )
        await insert(
            records.UnitRecord, id=1, key="u", name="U", timezone="UTC", head_id=1, leader_id=1,
            checkin_weekday=4, checkin_time=dt.time(9), deadline_weekday=5, deadline_time=dt.time(17),
            restricted=False, active=True,
        )  # fmt: skip
        await insert(records.CommitmentRecord, **promise(1, "followup"))
        for commitment_id in (2, 3):
            await insert(records.CommitmentRecord, **promise(commitment_id, "answer:1"))

    asyncio.run(fill())
    upgrade(empty_database)
    diff, _, revision = _diff_and_tables(empty_database)
    assert revision == head_revision() and diff == []

    async def check() -> list[tuple[object, ...]]:
        engine = create_engine(empty_database)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, origin FROM commitments ORDER BY id"))).all()
        await engine.dispose()
        with pytest.raises(IntegrityError):
            await insert(records.CommitmentRecord, **promise(4, "answer:1"))
        await insert(records.CommitmentRecord, **promise(5, "command"))  # other origins repeat freely
        await insert(records.CommitmentRecord, **promise(6, "command"))
        return [tuple(r) for r in rows]

    assert asyncio.run(check()) == [(1, "followup"), (2, "answer:1"), (3, "command")]
