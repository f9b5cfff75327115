"""Checking a request on POST /slack/events before bolt sees it.  Pure: no client, no I/O.

Slack signs every request: ``X-Slack-Signature`` is ``v0=`` + HMAC-SHA256 with the
signing secret over ``v0:{X-Slack-Request-Timestamp}:{raw body}``, and a timestamp more
than five minutes off is refused (a replay).  The check runs on the raw bytes, first;
only a request Slack signed is read any further, and a signed one that bolt could not
read (invalid UTF-8 or JSON, JSON nested too deeply, a ``payload=`` that is no JSON
object, a timestamp that is no number, a legacy ``interactive_message``, a payload whose
fields have types bolt or statbot cannot route: ``parse.payload_problem``) is refused
with 400 instead of reaching it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from adapters.bodies import too_deep
from adapters.slack import parse

MAX_AGE = 5 * 60


@dataclass(frozen=True)
class Refusal:
    status: int
    # Said in the log line and the response: never anything from the body.
    reason: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def is_ssl_check(raw: bytes) -> bool:
    """Slack's certificate probe when a Request URL is saved (``ssl_check=1``): answered
    200 and nothing else, as bolt does, signed or not.  It reads and changes nothing."""
    if len(raw) > 1024:
        return False
    fields = parse_qs(raw.decode("ascii", "replace"))
    return fields.get("ssl_check") == ["1"] and set(fields) <= {"ssl_check", "token"}


def check(
    raw: bytes, headers: Mapping[str, str], secret: str, *, now: Callable[[], float] = time.time
) -> str | Refusal:
    """The body as text when Slack signed it and bolt can read it, else why not."""
    timestamp = _header(headers, "x-slack-request-timestamp")
    signature = _header(headers, "x-slack-signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    # HMAC over the header as sent, so a signed request with a damaged timestamp is told
    # apart from a forged one.
    base = b"v0:" + timestamp.encode("utf-8", "replace") + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return Refusal(401, "bad signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        return Refusal(400, "timestamp is not a number")
    if abs(now() - int(timestamp)) > MAX_AGE:
        return Refusal(401, "stale timestamp")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    # The SDK's verifier has the last word (the same rule, as bolt applies it; it needs text).
    if not SignatureVerifier(secret).is_valid(text, timestamp, signature):
        return Refusal(401, "bad signature")
    try:
        body: Any = parse_body(text, _header(headers, "content-type"))
    except RecursionError:  # the JSON decoder's answer to deeply nested arrays
        return Refusal(400, "body is nested too deeply")
    except ValueError:  # json.JSONDecodeError is a ValueError
        return Refusal(400, "body is not valid JSON")
    if not isinstance(body, dict):
        return Refusal(400, "body is not a JSON object")
    if too_deep(body):
        return Refusal(400, "body is nested too deeply")
    if body.get("type") == "interactive_message":
        # Legacy attachment buttons: statbot never sends them, and bolt fails on some.
        return Refusal(400, "interactive_message is not supported")
    problem = parse.payload_problem(body)
    if problem is not None:
        return Refusal(400, problem)
    return text


def kind_of(text: str, headers: Mapping[str, str]) -> str:
    """What a checked request is, for a log line (never what a person typed)."""
    try:
        body = parse_body(text, _header(headers, "content-type"))
    except ValueError:
        return "unknown"
    if not isinstance(body, dict):
        return "unknown"
    return parse.event_kind(body)


__all__ = ["Refusal", "check", "kind_of"]
