"""The built wheel is complete: installed in a fresh virtualenv, `statbot db upgrade` migrates.

The wheel is built from what the Dockerfile copies into its build stage, so a source the
image forgets fails here too.  The fresh virtualenv gets the project only from the wheel;
its third-party dependencies come from the environment running the tests (a .pth line), so
nothing is downloaded but the build backend.  The checkout is never on its sys.path.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from storage.migrations import head_revision
from storage.records import Base

ROOT = Path(__file__).resolve().parents[1]


def _dockerfile_sources() -> list[str]:
    """The sources the Dockerfile copies from the build context (COPY without --from)."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not line.upper().startswith("COPY "):
            continue
        words = shlex.split(line)
        if any(w.startswith("--from") for w in words):
            continue
        sources += [w for w in words[1:-1] if not w.startswith("--")]
    assert sources, "the Dockerfile copies nothing"
    return sources


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "STATBOT_"))}
    return env | extra


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in _dockerfile_sources():
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    dist = work / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist, source],
        cwd=work,
        env=_clean_env(),
    )
    if built.returncode != 0:
        output = built.stdout + built.stderr
        if "No matching distribution found for setuptools" in output:
            pytest.skip("cannot fetch the build backend (setuptools) from the package index: offline?")
        pytest.fail(f"pip wheel failed:\n{output}")
    (found,) = dist.glob("statbot-*.whl")
    return found


def test_wheel_ships_the_migrations_inside_storage(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "storage/_alembic/env.py" in names
    assert "storage/_alembic/script.py.mako" in names
    for revision in (ROOT / "alembic" / "versions").glob("*.py"):
        assert f"storage/_alembic/versions/{revision.name}" in names
    # A top-level alembic/ in the wheel would be installed over the alembic library.
    assert not [n for n in names if n.startswith(("alembic/", "tests/"))]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with statbot installed from the wheel only."""
    where = tmp_path_factory.mktemp("installed")
    venv = where / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=where, env=_clean_env())
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel],
        cwd=where,
        env=_clean_env(),
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # Third-party dependencies from the running environment, after the venv's own packages
    # (a path in a .pth file is appended, and its own .pth files, e.g. an editable
    # install's finder, are not run).
    site = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], where, _clean_env()
    )
    deps = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    Path(site.stdout.strip(), "statbot_test_deps.pth").write_text("\n".join(deps) + "\n")
    return venv


def test_db_upgrade_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    python = venv / "bin" / "python"
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(
        [
            python,
            "-c",
            "import alembic, bot, adapters.cli, storage.migrations as m;"
            "print(bot.__file__, adapters.cli.__file__, m.__file__, m.script_location(), alembic.__file__, sep='\\n')",
        ],
        cwd=work,
        env=_clean_env(),
    )
    assert where.returncode == 0, where.stderr
    bot_file, cli_file, migrations_file, scripts, alembic_file = where.stdout.split("\n")[:5]
    for path in (bot_file, cli_file, migrations_file, scripts):
        assert Path(path).resolve().is_relative_to(venv.resolve()), f"{path} is not the installed copy"
    assert Path(scripts).name == "_alembic"
    assert not Path(alembic_file).resolve().is_relative_to(venv.resolve()), "alembic library shadowed"

    database = work / "statbot.db"
    upgraded = _run(
        [venv / "bin" / "statbot", "db", "upgrade"],
        cwd=work,
        env=_clean_env(STATBOT_DATABASE_URL=f"sqlite+aiosqlite:///{database}"),
    )
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr

    with closing(sqlite3.connect(database)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert versions == [head_revision()]


def _pins(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.split()[0]
    return pins


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))])
def test_lock_pins_every_declared_dependency(lock: str, extras: tuple[str, ...]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in extras:
        declared += project["optional-dependencies"][extra]
    pins = _pins(ROOT / lock)
    for line in declared:
        requirement = Requirement(line)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"{lock} pins {requirement.name}=={pinned}, outside {requirement.specifier}: run `make lock`"
        )


def _dockerfile_instruction(name: str) -> str:
    """The text after the Dockerfile's (last) ``name`` instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = [line[len(name) :].strip() for line in text.splitlines() if line.startswith(f"{name} ")]
    assert found, f"the Dockerfile has no {name}"
    return found[-1]


def test_the_image_command_migrates_applies_the_org_and_serves_healthy(venv: Path, tmp_path: Path) -> None:
    """The Docker image's CMD and HEALTHCHECK as the image runs them (no Docker engine
    here): from the installed wheel, in a folder holding only the example org, as the
    image's working directory does; then `docker stop`'s SIGTERM."""
    import json
    import signal
    import socket
    import time

    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples", app / "examples")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    env = _clean_env(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        STATBOT_DATABASE_URL=f"sqlite+aiosqlite:///{app / 'statbot.db'}",
        STATBOT_HOST="127.0.0.1",
        STATBOT_PORT=port,
    )
    command = json.loads(_dockerfile_instruction("CMD"))
    check = _dockerfile_instruction("HEALTHCHECK").split(" CMD ", 1)[1].removesuffix("|| exit 1").strip()
    server = subprocess.Popen(
        command, cwd=app, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0]
            healthy = subprocess.run(["sh", "-c", check], cwd=app, env=env, capture_output=True, timeout=10)
            if healthy.returncode == 0:
                break
            assert time.monotonic() < deadline, healthy.stderr
            time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)  # `exec statbot serve`: the signal reaches statbot
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "added unit sanitation" in output and f"statbot listening on http://127.0.0.1:{port}" in output
    assert "Traceback" not in output
