"""Running Alembic from code (the CLI and the tests), without an alembic.ini.

The migration scripts live at the top of the repository, in ``alembic/`` beside
``alembic.ini`` (the ``alembic init`` layout).  A built wheel carries the same folder inside
this package, as ``storage/_alembic`` (see ``[tool.setuptools.package-dir]`` in
pyproject.toml), so ``statbot db upgrade`` works from an installed package too.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

_HERE = Path(__file__).resolve().parent
#: Where an installed wheel keeps the scripts, and where a checkout (or an editable install) does.
INSTALLED_SCRIPTS = _HERE / "_alembic"
CHECKOUT_SCRIPTS = _HERE.parent / "alembic"


def script_location() -> Path:
    """The folder holding env.py and versions/: the installed copy, else the checkout's."""
    for folder in (INSTALLED_SCRIPTS, CHECKOUT_SCRIPTS):
        if (folder / "env.py").is_file() and (folder / "versions").is_dir():
            return folder
    raise RuntimeError(
        f"no Alembic scripts in {INSTALLED_SCRIPTS} or {CHECKOUT_SCRIPTS}: "
        "reinstall statbot, or run it from a checkout"
    )


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if url is not None:
        # ConfigParser interpolation would choke on a % in a password.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url``.  Runs its own event loop: call it from sync code."""
    command.upgrade(alembic_config(url), revision)


def upgrade_on(connection: Connection, revision: str = "head") -> None:
    """Migrate through an open (sync-facing) connection, e.g. inside run_sync."""
    command.upgrade(alembic_config(connection=connection), revision)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
