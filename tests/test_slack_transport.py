"""POST /slack/events before bolt: the signature on the raw bytes first, then the body.

Driven over HTTP against the real aiohttp server and bolt app (as `serve` builds them),
signed as Slack signs: an unsigned, forged or stale request gets 401; a signed one that
cannot be read gets 400; a valid request statbot has no listener for gets 200 (Slack
retries anything else).  Each refusal is one log line without a traceback or the body.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import quote

import pytest

from adapters.slack import transport
from tests import test_slack_app as harness
from tests.fakes.slack_api import interactive_body, slack_signature
from tests.test_slack_app import SECRET, Slack, fixture_json

# The harness of the Slack contract tests: the fake Web API and statbot as `serve` builds it.
api = harness.api
slack = harness.slack

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Each body carries this marker, so a log line that quotes the body is caught.
MARK = "SECRET-WORDS-7731"


def _malformed() -> list[tuple[str, bytes, str, str | None]]:
    """(name, body, content type, timestamp header or None for now)."""
    interactive = {
        "type": "interactive_message",
        "callback_id": "legacy",
        "actions": [{"name": MARK, "type": "button", "value": "1"}],
        "user": {"id": "U0HEAD0001"},
        "team": {"id": "T111"},
        "channel": {"id": "C0GENERAL1"},
        "response_url": "http://127.0.0.1:1/respond/x",
    }
    return [
        ("invalid JSON", ('{"type": "event_callback", "x": "' + MARK + '"').encode(), JSON, None),
        ("payload that is not JSON", ("payload={bad" + quote(MARK)).encode(), FORM, None),
        ("invalid UTF-8", b'{"type": "event_callback", "x": "\xff\xfe' + MARK.encode() + b'"}', JSON, None),
        ("JSON that is not an object", json.dumps([MARK]).encode(), JSON, None),
        ("non-numeric timestamp", json.dumps({"type": "event_callback", "x": MARK}).encode(), JSON, "12ab"),
        ("interactive_message", interactive_body(interactive), FORM, None),
    ]


MALFORMED = _malformed()


def _signed_headers(
    body: bytes, timestamp: str | None, content_type: str, secret: str = SECRET
) -> dict[str, str]:
    import hashlib
    import hmac

    stamp = timestamp or str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "timestamp"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
async def test_signed_but_malformed_gets_400_and_one_log_line(
    slack: Slack,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
    content_type: str,
    timestamp: str | None,
) -> None:
    caplog.set_level(logging.INFO)
    response = await slack.client.post(
        "/slack/events", data=body, headers=_signed_headers(body, timestamp, content_type)
    )
    assert response.status == 400, name
    assert MARK not in await response.text()
    (line,) = _refusals(caplog)
    assert line.name == "adapters.slack.app" and line.exc_info is None
    assert "400" in line.getMessage() and MARK not in line.getMessage()
    assert [c.method for c in slack.api.calls if c.method != "auth.test"] == []


@pytest.mark.parametrize(
    ("name", "body", "content_type", "timestamp"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
@pytest.mark.parametrize("how", ["unsigned", "forged"])
async def test_unsigned_or_forged_malformed_gets_401_before_any_parsing(
    slack: Slack,
    caplog: pytest.LogCaptureFixture,
    how: str,
    name: str,
    body: bytes,
    content_type: str,
    timestamp: str | None,
) -> None:
    if how == "unsigned":
        headers = {"Content-Type": content_type}
    else:
        headers = _signed_headers(body, timestamp, content_type, secret="not-the-secret")
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401, name
    (line,) = _refusals(caplog)
    assert line.exc_info is None and "401" in line.getMessage() and MARK not in line.getMessage()


async def test_slacks_certificate_probe_gets_200_and_does_nothing(slack: Slack, api: Any) -> None:
    body = b"ssl_check=1&token=legacy-verification-token"
    for headers in ({"Content-Type": FORM}, _signed_headers(body, None, FORM)):
        response = await slack.client.post("/slack/events", data=body, headers=headers)
        assert response.status == 200 and await response.text() == ""
    assert api.calls == []
    # Anything more than the probe is still checked.
    response = await slack.client.post(
        "/slack/events", data=b"ssl_check=1&command=%2Fstat", headers={"Content-Type": FORM}
    )
    assert response.status == 401


async def test_a_stale_signed_request_gets_401(slack: Slack) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "reaction_added"}}).encode()
    stale = str(int(time.time()) - 6 * 60)
    response = await slack.client.post("/slack/events", data=body, headers=_signed_headers(body, stale, JSON))
    assert response.status == 401


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    body = fixture_json("slack_event_message_im.json")
    body["event"] = {"type": kind, "event_ts": "1700000000.000100", **fields}
    body["event_id"] = f"Ev.{kind}"
    return body


def _interaction(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "token": "xxx",
        "action_ts": "1610198080.300836",
        "team": {"id": "T111", "domain": "riverton"},
        "user": {"id": "U0HEAD0001", "username": "robert", "team_id": "T111"},
        "is_enterprise_install": False,
        "enterprise": None,
        "trigger_id": "111.222.xxx",
        **fields,
    }


UNHANDLED = [
    (
        "reaction_added",
        _event("reaction_added", user="U0HEAD0001", reaction="thumbsup", item={"type": "message"}),
    ),
    ("tokens_revoked", _event("tokens_revoked", tokens={"bot": ["UBOT"]})),
    ("pin_added", _event("pin_added", user="U0HEAD0001", channel_id="C0GENERAL1", item={})),
    ("channel_created", _event("channel_created", channel={"id": "C0NEW00001", "name": "new"})),
    ("shortcut", _interaction("shortcut", callback_id="do-something")),
    (
        "message_action",
        _interaction(
            "message_action",
            callback_id="save-this",
            channel={"id": "C0GENERAL1"},
            message={"type": "message", "text": "hi", "ts": "1.2"},
            response_url="http://127.0.0.1:1/respond/x",
        ),
    ),
    (
        "block_actions of another app's button",
        {
            **fixture_json("slack_block_actions.json"),
            "actions": [{"action_id": "other:thing", "block_id": "b", "type": "button", "value": "1"}],
        },
    ),
]


@pytest.mark.parametrize(("name", "body"), UNHANDLED, ids=[u[0] for u in UNHANDLED])
async def test_valid_but_unhandled_requests_get_200_not_404(
    slack: Slack, caplog: pytest.LogCaptureFixture, name: str, body: dict[str, Any]
) -> None:
    if body["type"] == "event_callback":
        raw, kind = json.dumps(body).encode(), JSON
    else:
        raw, kind = interactive_body(body), FORM
    response = await slack.post(raw, kind)
    assert response.status == 200, name
    assert _refusals(caplog) == []
    assert [c.method for c in slack.api.calls if c.method != "auth.test"] == []


def test_the_check_reads_nothing_it_has_not_verified() -> None:
    body = b"payload={bad"
    # A forged request is refused on its signature: the body is never decoded.
    assert transport.check(body, {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=0"}, SECRET) == (
        transport.Refusal(401, "bad signature")
    )
    headers = slack_signature(SECRET, body, int(time.time()))
    assert transport.check(body, headers, SECRET) == transport.Refusal(400, "body is not valid JSON")
    good = b'{"type": "event_callback", "event": {"type": "reaction_added"}}'
    assert transport.check(good, slack_signature(SECRET, good, int(time.time())), SECRET) == good.decode()
