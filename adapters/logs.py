"""Logging, configured once at start-up for every entry point.

`statbot serve` writes one JSON object per line (for a log collector); the console and
the one-shot commands write short human lines.  Both go to stderr, so a command's own
output on stdout stays clean for pipes.  The standard library's loggers (aiohttp's
access log, slack-bolt, APScheduler, SQLAlchemy) are routed through the same
formatter, so every line has a time, a level and a logger.

Two things never reach a log line:
* secrets: the configured tokens, signing secret, app password and database password
  are replaced wherever they appear, and so is anything shaped like a Slack token;
* people's words: loggers in this code base never log message bodies, and the text of
  database errors (SQLAlchemy puts the bound parameters, i.e. user text, into it) is
  reduced to the error's class outside DEBUG.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, ExcInfo, Processor

LogFormat = Literal["json", "text"]
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MASK = "***"

# Slack tokens (bot, user, app-level, refresh) and anything after "password=".
_TOKEN = re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{6,}")
# Exceptions whose text can carry stored values (bound parameters, row contents).
_DATA_ERRORS = ("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite", "psycopg")
# Loggers that are chatty at INFO without telling an operator anything.
_QUIET = {
    "alembic": logging.WARNING,
    "apscheduler": logging.WARNING,
    "slack_bolt": logging.WARNING,
    "slack_sdk": logging.WARNING,
}


# SDK loggers that put request bodies (people's words) into their messages: below
# WARNING they are dropped, above it only the words before the first "(" or ":" stay.
_BODY_LOGGERS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "msrest")
WITHHELD = "(details withheld: they may hold message text)"


class _WithholdBodies(logging.Filter):
    """slack-bolt configures its loggers' levels itself (from the root at creation), so
    a level on "slack_bolt" does not hold; a filter on the handler does."""

    def __init__(self, keep_all: bool) -> None:
        super().__init__()
        self.keep_all = keep_all

    def filter(self, record: logging.LogRecord) -> bool:
        if self.keep_all or not record.name.startswith(_BODY_LOGGERS):
            return True
        if record.levelno < logging.WARNING:
            return False
        head = re.split(r"[(:{\n]", record.getMessage(), maxsplit=1)[0].strip()
        record.msg, record.args = f"{head} {WITHHELD}", None
        return True


class Redactor:
    """Replaces the given secrets (and token-shaped strings) in every rendered line."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return _TOKEN.sub(MASK, text)


def _is_data_error(exc: BaseException) -> bool:
    return any(type(e).__module__.startswith(_DATA_ERRORS) for e in _chain(exc))


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def format_exception(exc_info: ExcInfo, *, keep_text: bool) -> str:
    """The traceback; a database error's text is left out unless ``keep_text``."""
    kind, exc, tb = exc_info
    if exc is None or keep_text or not _is_data_error(exc):
        return "".join(traceback.format_exception(kind, exc, tb))
    frames = "".join(traceback.format_tb(tb))
    causes = " <- ".join(f"{type(e).__module__}.{type(e).__name__}" for e in _chain(exc))
    return f"Traceback (most recent call last):\n{frames}{causes} (text withheld: it may hold user data)"


def _exception_renderer(keep_text: bool) -> Processor:
    def render(_logger: Any, _name: str, event: EventDict) -> EventDict:
        exc_info = event.pop("exc_info", None)
        if exc_info:
            if exc_info is True:
                exc_info = sys.exc_info()
            elif isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            if exc_info[0] is not None:
                event["exception"] = format_exception(exc_info, keep_text=keep_text)
        return event

    return render


def _redact(redactor: Redactor) -> Processor:
    def redact(_logger: Any, _name: str, event: EventDict) -> EventDict:
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = redactor(value)
            elif value is not None and not isinstance(value, int | float | bool):
                event[key] = redactor(str(value))
        return event

    return redact


def _json_fields(_logger: Any, _name: str, event: EventDict) -> EventDict:
    # A collector reads these first: time, level, logger, message, then the context.
    ordered: EventDict = {
        "time": event.pop("time", None),
        "level": event.pop("level", None),
        "logger": event.pop("logger", None),
        "message": event.pop("event", ""),
    }
    ordered.update(event)
    return ordered


def configure_logging(
    *,
    fmt: LogFormat = "text",
    level: str = "INFO",
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> None:
    """Set up the root logger once; calling it again replaces the earlier set-up."""
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"log level {level!r}: use one of {', '.join(LEVELS)}")
    redactor = Redactor(secrets)
    keep_text = level == "DEBUG"
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
    ]
    tail: list[Processor]
    if fmt == "json":
        shared.append(structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"))
        tail = [_json_fields, structlog.processors.JSONRenderer()]
    else:
        shared.append(structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=True, key="timestamp"))
        tail = [structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0)]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _exception_renderer(keep_text),
            _redact(redactor),
            *tail,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_WithholdBodies(keep_all=keep_text))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIET.items():
        # Propagated records skip the root's level: each logger needs the stricter one.
        number = logging.getLevelNamesMapping()[level]
        logging.getLogger(name).setLevel(number if keep_text else max(quiet, number))
    # Python's warnings (deprecations from SDKs) become log lines with the same format.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def bind(**values: Any) -> None:
    """Attach fields (request id, platform, event kind) to every line of this task."""
    structlog.contextvars.bind_contextvars(**values)


def unbind_all() -> None:
    structlog.contextvars.clear_contextvars()


def context() -> MutableMapping[str, Any]:
    return structlog.contextvars.get_contextvars()
