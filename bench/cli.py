"""`statbot --help`: how long a person waits for the command line to answer.

Both sides run as fresh subprocesses of this interpreter, best of ``RUNS``, taken in
turn: ``statbot --help`` (the console script's entry, ``adapters.cli:main``) and a bare
typer app with the same commands and groups that imports nothing else (typer and rich
are what any typer CLI pays).  Goal: under 0.15 s.  The commands import what they need
inside themselves (SQLAlchemy, slack-bolt, matplotlib, Alembic); a module-level import
in adapters/cli.py shows here at once.

The modules are byte-compiled first, as an installed statbot's are (pip compiles a
wheel's modules; PYTHONDONTWRITEBYTECODE, set in some environments, would otherwise
make every run compile adapters/cli.py again, which costs more than all its imports).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parent.parent
RUNS = 9
GOAL = 0.15
# What the console script `statbot` runs (pyproject's [project.scripts]), without
# depending on where the virtualenv's script points.
STATBOT = "import sys; sys.argv[0] = 'statbot'; from adapters.cli import main; sys.exit(main())"


def _bare_app() -> str:
    """A typer app shaped like statbot's: the same groups and command names, no options."""
    import typer

    from adapters.cli import app

    def commands(instance: typer.Typer, var: str) -> list[str]:
        lines = []
        for n, command in enumerate(instance.registered_commands):
            assert command.callback is not None
            name = command.name or command.callback.__name__.replace("_", "-")
            lines += [
                f"@{var}.command({name!r})",
                f"def {var}_{n}() -> None:",
                f"    {(command.callback.__doc__ or name).splitlines()[0]!r}",
            ]
        return lines

    lines = [
        "import typer",
        "from rich.console import Console",
        f"app = typer.Typer(help={app.info.help!r}, no_args_is_help=True, add_completion=False)",
        "out = Console()",
        *commands(app, "app"),
    ]
    for n, group in enumerate(app.registered_groups):
        assert group.typer_instance is not None
        var = f"group{n}"
        lines += [
            f"{var} = typer.Typer(help={group.typer_instance.info.help!r}, no_args_is_help=True)",
            f"app.add_typer({var}, name={group.name!r})",
            *commands(group.typer_instance, var),
        ]
    return "\n".join([*lines, "app()", ""])


def _once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or b"Usage" not in done.stdout:
        raise RuntimeError(f"{argv[:2]} --help failed ({done.returncode}): {done.stderr[-500:]!r}")
    return elapsed


def run() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    compileall.compile_dir(ROOT / "adapters", maxlevels=0, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare_cli.py"
        bare.write_text(_bare_app())
        ours: list[float] = []
        reference: list[float] = []
        for _ in range(RUNS):
            ours.append(_once([sys.executable, "-c", STATBOT, "--help"], env))
            reference.append(_once([sys.executable, str(bare), "--help"], env))
    best, best_bare = min(ours), min(reference)
    median, median_bare = sorted(ours)[RUNS // 2], sorted(reference)[RUNS // 2]
    print(
        f"statbot --help: best {best * 1000:.0f} ms of {RUNS} (median {median * 1000:.0f} ms); "
        f"a bare typer app with the same commands: best {best_bare * 1000:.0f} ms "
        f"(median {median_bare * 1000:.0f} ms); goal < {GOAL * 1000:.0f} ms"
    )
    report(
        "statbot --help (vs a bare typer app, same commands)",
        best,
        unit="s",
        reference=best_bare,
        goal=f"< {GOAL:g} s",
        met=best < GOAL,
    )


if __name__ == "__main__":
    run()
