"""Database URLs as people paste them: libpq's parameters, passwords nobody encoded.

The one-line messages of the commands are tested as processes in test_entry_points.py;
here, what those messages are made of, and a real connection with libpq's parameters
(on PostgreSQL, when STATBOT_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.engine import (
    DatabaseUrlError,
    asyncpg_options,
    check_url,
    create_engine,
    database_password,
    masked_url,
    unreachable,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+asyncpg://statbot:s3cret@db:5432/statbot",
            "postgresql+asyncpg://statbot:***@db:5432/statbot",
        ),
        # The password ends at the last "@": an unencoded "@", ":" or "/" is masked whole.
        ("postgresql+asyncpg://statbot:s3@cr@et@db/statbot", "postgresql+asyncpg://statbot:***@db/statbot"),
        ("postgresql+asyncpg://statbot:s3/c:r?et@db/statbot", "postgresql+asyncpg://statbot:***@db/statbot"),
        (
            "postgresql+asyncpg://statbot@db/statbot?password=s3cret",
            "postgresql+asyncpg://statbot@db/statbot?password=***",
        ),
        ("postgresql+asyncpg://db/statbot", "postgresql+asyncpg://db/statbot"),
        ("sqlite+aiosqlite:///statbot.db", "sqlite+aiosqlite:///statbot.db"),
    ],
)
def test_masked_url_never_shows_a_piece_of_the_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_the_message_for_an_unreachable_database_leaves_the_parameters_out() -> None:
    url = "postgresql+asyncpg://statbot:s3cret@db:5432/statbot?sslmode=require&password=x"
    assert unreachable(url, ConnectionRefusedError()) == (
        "cannot reach the database postgresql+asyncpg://statbot:***@db:5432/statbot (ConnectionRefusedError)"
    )


def test_the_password_to_mask_in_logs_is_found_where_libpq_allows_it() -> None:
    assert database_password("postgresql+asyncpg://statbot:s3%40cret@db/statbot") == "s3@cret"
    assert database_password("postgresql+asyncpg://statbot@db/statbot?password=s3cret") == "s3cret"


def test_libpq_parameters_become_asyncpg_connect_arguments() -> None:
    url = make_url(
        "postgresql+asyncpg://statbot@db/statbot?sslmode=verify-full&connect_timeout=7"
        "&application_name=statbot&target_session_attrs=read-write"
    )
    target, connect = asyncpg_options(url)
    assert connect == {
        "ssl": "verify-full",
        "timeout": 7.0,
        "server_settings": {"application_name": "statbot"},
    }
    assert dict(target.query) == {"target_session_attrs": "read-write"}


@pytest.mark.parametrize(
    "query",
    [
        "sslmode=maybe",
        "ssl=require&sslmode=disable",
        "sslcert=/c.pem",
        "connect_timeout=soon",
        "options=-c%20x=1",
    ],
)
def test_what_asyncpg_cannot_take_is_refused(query: str) -> None:
    with pytest.raises(DatabaseUrlError):
        check_url(f"postgresql+asyncpg://statbot:s3cret@db/statbot?{query}")


async def test_sslmode_and_application_name_reach_a_real_postgresql(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (STATBOT_TEST_DATABASE_URL)")
    separator = "&" if "?" in db_url else "?"
    engine = create_engine(f"{db_url}{separator}sslmode=disable&application_name=statbot-url-test")
    try:
        async with engine.connect() as connection:
            name = (await connection.execute(text("SHOW application_name"))).scalar_one()
            ssl = (
                await connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert name == "statbot-url-test" and ssl is False
