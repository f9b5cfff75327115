"""The `statbot` command line, run as a user would (in a subprocess-free runner)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from adapters.cli import app
from tests.conftest import EXAMPLE_ORG
from tests.fakes.slack_api import FakeSlackApi

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "cli.db"
    monkeypatch.setenv("STATBOT_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    return tmp_path


def test_apply_twice_reports_no_changes_the_second_time(sqlite_env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG)])
    assert first.exit_code == 0, first.output
    assert "+ added unit" in first.output and "added" in first.output
    second = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG)])
    assert second.exit_code == 0
    assert "no changes" in second.output
    shown = runner.invoke(app, ["org", "show"])
    assert shown.exit_code == 0 and "City of" in shown.output


def test_dry_run_writes_nothing(sqlite_env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    dry = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG), "--dry-run"])
    assert dry.exit_code == 0 and "dry run: nothing written" in dry.output
    real = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG)])
    assert "+ added unit" in real.output


def test_three_mistakes_are_all_named_and_nothing_is_written(sqlite_env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    raw = yaml.safe_load(EXAMPLE_ORG.read_text())
    raw["units"][2]["metrics"][0]["target"] = "lots"
    raw["units"][0]["head"] = "nobody@nowhere.example"
    raw["organisation"]["timezone"] = "Mars/Olympus_Mons"
    bad = sqlite_env / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    result = runner.invoke(app, ["org", "apply", str(bad)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "nothing was written" in output
    assert "3 problems" in output
    assert "units[2].metrics[0].target: must be a number" in output
    assert "units[0].head: nobody@nowhere.example is not one of the people" in output
    assert "organisation.timezone:" in output
    shown = runner.invoke(app, ["org", "show"])
    assert shown.exit_code == 1 and "no organisation yet" in shown.output


def test_unmigrated_database_says_what_to_do(sqlite_env: Path) -> None:
    result = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG)])
    assert result.exit_code == 1
    assert "statbot db upgrade" in result.output


def test_bad_database_url_is_one_clear_line(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATBOT_DATABASE_URL", "mysql://root@localhost/statbot")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "STATBOT_DATABASE_URL: database driver 'mysql' is not supported" in " ".join(result.output.split())


def test_missing_org_file(sqlite_env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["org", "apply", "missing.yaml"])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "chat", "demo", "db", "org", "tick", "digest", "export", "manifest"):
        assert command in result.output


@pytest.fixture
def slack_api_in_thread() -> Iterator[FakeSlackApi]:
    """The fake Slack Web API on its own loop, since the CLI runs its own asyncio.run."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    api = FakeSlackApi(users={"U0HEAD0001": "robert.hayes@riverton.gov"})
    asyncio.run_coroutine_threadsafe(api.start(), loop).result(timeout=10)
    yield api
    asyncio.run_coroutine_threadsafe(api.close(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def test_apply_links_slack_people_and_names_the_missing(
    sqlite_env: Path, monkeypatch: pytest.MonkeyPatch, slack_api_in_thread: FakeSlackApi
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("STATBOT_SLACK_API_URL", slack_api_in_thread.url)
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG)])
    assert result.exit_code == 0, result.output
    assert "Slack: 1 newly linked, 1 already linked" in result.output
    assert (
        "Slack: no user with e-mail kevin.obrien@riverton.gov (they will get no Slack messages)"
        in result.output
    )
    assert [c.method for c in slack_api_in_thread.calls].count("users.lookupByEmail") >= 20


def test_manifest_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = runner.invoke(app, ["manifest", "slack"])
    assert missing.exit_code == 2 and "STATBOT_PUBLIC_URL is not set" in missing.output
    monkeypatch.setenv("STATBOT_PUBLIC_URL", "https://statbot.riverton.gov")
    result = runner.invoke(app, ["manifest", "slack"])
    assert result.exit_code == 0
    manifest = json.loads(result.output)
    assert (
        manifest["settings"]["event_subscriptions"]["request_url"]
        == "https://statbot.riverton.gov/slack/events"
    )
    assert manifest["features"]["slash_commands"][0]["command"] == "/stat"


def test_bad_public_url_and_force_without_post(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATBOT_PUBLIC_URL", "notaurl")
    result = runner.invoke(app, ["manifest", "slack"])
    assert result.exit_code == 2 and "STATBOT_PUBLIC_URL: 'notaurl' is not an http(s) URL" in result.output
    monkeypatch.delenv("STATBOT_PUBLIC_URL")
    forced = runner.invoke(app, ["digest", "--force"])
    assert forced.exit_code == 2 and "--force only makes sense with --post" in forced.output


def test_org_apply_uses_statbot_org_file(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner.invoke(app, ["db", "upgrade"])
    missing = runner.invoke(app, ["org", "apply"])
    assert missing.exit_code == 2 and "set STATBOT_ORG_FILE" in missing.output
    monkeypatch.setenv("STATBOT_ORG_FILE", str(EXAMPLE_ORG))
    result = runner.invoke(app, ["org", "apply"])
    assert result.exit_code == 0 and "+ added unit sanitation" in result.output
