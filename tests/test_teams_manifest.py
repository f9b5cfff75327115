"""`statbot manifest teams --out FILE.zip`: the Teams app package."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app

runner = CliRunner()
APP_ID = "8f0c2a51-3b9e-4c1d-9a77-2e5d6f4b1c90"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_package_holds_the_manifest_and_two_icons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.setenv("STATBOT_PUBLIC_URL", "https://stat.riverton.gov")
    out = tmp_path / "statbot-teams.zip"
    result = runner.invoke(app, ["manifest", "teams", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert _png_size(package.read("color.png")) == (192, 192)
        assert _png_size(package.read("outline.png")) == (32, 32)
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal", "team"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert {"help", "status", "commit", "report"} <= set(titles) and len(titles) <= 10
    assert all(len(c["description"]) <= 128 for c in bot["commandLists"][0]["commands"])
    assert manifest["validDomains"] == ["stat.riverton.gov"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_without_an_app_id_it_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.delenv("MICROSOFTAPPID", raising=False)
    out = tmp_path / "x.zip"
    result = runner.invoke(app, ["manifest", "teams", "--out", str(out)])
    assert result.exit_code == 2
    assert "MicrosoftAppId" in result.output and not out.exists()


def test_org_apply_with_teams_lists_who_has_not_installed_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import EXAMPLE_ORG

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("STATBOT_TEAMS_EMULATOR", "1")
    for name in ("SLACK_BOT_TOKEN", "MicrosoftAppId", "MICROSOFTAPPID"):
        monkeypatch.delenv(name, raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["org", "apply", str(EXAMPLE_ORG)])
    assert result.exit_code == 0, result.output
    assert (
        "robert.hayes@riverton.gov: not reachable yet (Teams: the app is not installed for them)"
        in result.output
    )
