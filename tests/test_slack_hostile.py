"""POST /slack/events: a signed payload of a shape bolt or statbot cannot read gets 400.

The signature check on the raw bytes keeps strangers out (test_slack_transport.py).  Past
it, bolt reads payloads without checking their types: ``actions`` a string, ``view`` a
string, ``event.type`` a number, an IM message whose ``user`` is a number, deeply nested
JSON made it raise — a 500 with bolt's "Failed to run a middleware function", or
aiohttp's own traceback.  Driven over HTTP against the real server and bolt app, signed
as Slack signs: each such payload gets 400 (413 when too large) with one log line, no
traceback and nothing of the body; the server goes on answering; a well-formed payload
of a type statbot ignores still gets 200.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack import parse
from bot.clock import FakeClock
from storage.uow import SqlUnitOfWorkFactory
from tests import test_slack_app as harness
from tests.fakes.slack_api import FakeSlackApi, form_body, interactive_body
from tests.test_slack_app import HEAD, Slack, fixture_json

api = harness.api
slack = harness.slack

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Each body carries this marker, so a log line that quotes the body is caught.
MARK = "SECRET-WORDS-9041"


def _event(**event: Any) -> tuple[bytes, str]:
    body = fixture_json("slack_event_message_im.json")
    body["event"] = {"type": "message", "channel_type": "im", "user": HEAD, "text": MARK, **event}
    return json.dumps(body).encode(), JSON


def _callback(**fields: Any) -> tuple[bytes, str]:
    body = fixture_json("slack_event_message_im.json")
    body.update(fields)
    return json.dumps(body).encode(), JSON


def _interaction(kind: str, **fields: Any) -> tuple[bytes, str]:
    payload = {
        "type": kind,
        "user": {"id": HEAD, "name": MARK},
        "team": {"id": "T111"},
        "trigger_id": "111.222.hostile",
        "response_url": "http://127.0.0.1:1/respond/x",
        **fields,
    }
    return interactive_body(payload), FORM


def _clicks(actions: Any, **fields: Any) -> tuple[bytes, str]:
    return _interaction("block_actions", actions=actions, **fields)


def _view(**view: Any) -> dict[str, Any]:
    return {
        "id": "V1",
        "hash": "h1",
        "type": "modal",
        "callback_id": "statbot_form",
        "private_metadata": json.dumps({"a": "checkin.submit", "ids": {"checkin": "1"}}),
        "state": {"values": {"m.missed_pickups": {"value": {"type": "plain_text_input", "value": MARK}}}},
        **view,
    }


def _submission(**view: Any) -> tuple[bytes, str]:
    return _interaction("view_submission", view=_view(**view))


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"text": MARK}
    for _ in range(depth):
        node = {"a": node}
    return node


BUTTON = {"action_id": "statbot:checkin.open:0", "value": json.dumps({"a": "checkin.open", "ids": {}})}
OTHER = {"action_id": "other:1", "value": "1"}

# (name, (body, content type), status)
HOSTILE: list[tuple[str, tuple[bytes, str], int]] = [
    ("block_actions without actions", _interaction("block_actions"), 400),
    ("block_actions with actions a string", _clicks(MARK), 400),
    ("block_actions with actions empty", _clicks([]), 400),
    ("block_actions with an action a string", _clicks([MARK]), 400),
    ("block_actions with a numeric action_id", _clicks([{**BUTTON, "action_id": 7}]), 400),
    ("block_actions with a numeric value", _clicks([{**BUTTON, "value": 5}]), 400),
    ("block_actions with user a number", _clicks([BUTTON], user=5), 400),
    ("block_actions with team a number", _clicks([BUTTON], team=5), 400),
    ("block_actions with channel a list", _clicks([BUTTON], channel=[MARK]), 400),
    ("block_actions with authorizations a string", _clicks([BUTTON], authorizations=MARK), 400),
    ("block_actions with authorizations of numbers", _clicks([BUTTON], authorizations=[5]), 400),
    ("block_actions with response_urls a string", _clicks([BUTTON], response_urls=MARK), 400),
    ("block_actions with view a string", _clicks([BUTTON], view=MARK), 400),
    ("view_submission without a view", _interaction("view_submission"), 400),
    ("view_submission with view a string", _interaction("view_submission", view=MARK), 400),
    ("view_submission without view.type", _interaction("view_submission", view={"callback_id": "x"}), 400),
    ("view_submission with a numeric callback_id", _submission(callback_id=5), 400),
    ("view_submission with numeric private_metadata", _submission(private_metadata=5), 400),
    ("view_submission with state a string", _submission(state=MARK), 400),
    ("view_submission with state.values a list", _submission(state={"values": [MARK]}), 400),
    ("view_submission with an input a string", _submission(state={"values": {"m.x": MARK}}), 400),
    (
        "view_submission with an input's action a number",
        _submission(state={"values": {"m.x": {"v": 5}}}),
        400,
    ),
    ("view_closed without view.type", _interaction("view_closed", view={"callback_id": "statbot_form"}), 400),
    ("event_callback with event a string", _callback(event=MARK), 400),
    ("event_callback with event null", _callback(event=None), 400),
    (
        "event_callback without an event",
        (json.dumps({"type": "event_callback", "x": MARK}).encode(), JSON),
        400,
    ),
    ("event_callback with a numeric event.type", _event(type=5), 400),
    ("event_callback with an event without a type", _callback(event={"text": MARK}), 400),
    ("an IM message whose user is a number", _event(user=123), 400),
    ("an IM message whose text is a list", _event(text=[MARK]), 400),
    ("an IM message whose channel is a number", _event(channel=9), 400),
    ("an IM message whose subtype is an object", _event(subtype={"x": MARK}), 400),
    (
        "a reaction on an item whose channel is a number",
        _event(type="reaction_added", item={"channel": 5}),
        400,
    ),
    ("event_id a number", _callback(event_id=5), 400),
    (
        "a JSON command whose command is a number",
        (json.dumps({"command": 5, "text": MARK}).encode(), JSON),
        400,
    ),
    (
        "a JSON command whose text is a list",
        (json.dumps({"command": "/stat", "text": [MARK]}).encode(), JSON),
        400,
    ),
    ("type a number", (json.dumps({"type": 5, "text": MARK}).encode(), JSON), 400),
    ("type null", (json.dumps({"type": None, "text": MARK}).encode(), JSON), 400),
    ("an empty JSON object", (b"{}", JSON), 400),
    ("an empty body", (b"", FORM), 400),
    ("a form that is neither command nor payload", (form_body({"foo": MARK}), FORM), 400),
    ("block_suggestion with a numeric action_id", _interaction("block_suggestion", action_id=5), 400),
    ("shortcut with a numeric callback_id", _interaction("shortcut", callback_id=5), 400),
    ("url_verification without a challenge", (json.dumps({"type": "url_verification"}).encode(), JSON), 400),
    ("workflow_step_edit without its step", _interaction("workflow_step_edit", callback_id="x"), 400),
    ("deeply nested JSON", (b"[" * 100_000 + b"]" * 100_000, JSON), 400),
    ("a deeply nested payload", (b"payload=" + b"%5B" * 50_000 + b"%5D" * 50_000, FORM), 400),
    ("deeply nested objects", _callback(event={"type": "reaction_added", "item": _nested(200)}), 400),
    ("a huge body", _event(text=MARK * 200_000), 413),
]
IDS = [h[0] for h in HOSTILE]


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def _sent(slack: Slack) -> list[str]:
    return [c.method for c in slack.api.calls if c.method != "auth.test"]


@pytest.mark.parametrize(("name", "request_", "status"), HOSTILE, ids=IDS)
async def test_a_signed_payload_of_a_bad_shape_gets_400_and_one_log_line(
    slack: Slack,
    caplog: pytest.LogCaptureFixture,
    name: str,
    request_: tuple[bytes, str],
    status: int,
) -> None:
    body, content_type = request_
    caplog.set_level(logging.INFO)
    response = await slack.post(body, content_type)
    assert response.status == status, name
    assert MARK not in await response.text()
    (line,) = _refusals(caplog)
    assert line.name == "adapters.slack.app" and line.exc_info is None
    assert f"({status})" in line.getMessage()
    assert "Traceback" not in caplog.text and MARK not in caplog.text
    assert _sent(slack) == []
    # The server goes on: a valid command is answered.
    answered = await slack.command("help")
    assert answered.status == 200 and slack.responses()


WELL_FORMED: list[tuple[str, tuple[bytes, str]]] = [
    ("a message_changed event", _event(subtype="message_changed", message={"user": HEAD, "text": "x"})),
    ("app_home_opened without a user", _callback(event={"type": "app_home_opened"})),
    ("a click on another app's button", _clicks([OTHER])),
    ("a click inside a home tab", _clicks([OTHER], view={"type": "home", "callback_id": "", "id": "V2"})),
    ("a statbot modal closed", _interaction("view_closed", view=_view())),
    ("a block_suggestion", _interaction("block_suggestion", action_id="other", value="a")),
    (
        "a command statbot does not own",
        (form_body({"command": "/other", "text": "x", "user_id": HEAD}), FORM),
    ),
]


@pytest.mark.parametrize(("name", "request_"), WELL_FORMED, ids=[w[0] for w in WELL_FORMED])
async def test_a_well_formed_payload_statbot_ignores_still_gets_200(
    slack: Slack, caplog: pytest.LogCaptureFixture, name: str, request_: tuple[bytes, str]
) -> None:
    body, content_type = request_
    response = await slack.post(body, content_type)
    assert response.status == 200, name
    assert not [r for r in _refusals(caplog) if r.name.startswith("adapters")]


# Payloads that got past statbot's own check would reach bolt: switched off here, they
# show the last resort behind it.
PAST_THE_CHECK = ["block_actions with actions a string", "view_submission with view a string",
                  "event_callback with event a string", "an IM message whose user is a number",
                  "block_suggestion with a numeric action_id"]  # fmt: skip


@pytest.fixture(params=[True, False], ids=["after the listener", "production acks"])
async def either_mode(
    request: pytest.FixtureRequest,
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    api: FakeSlackApi,
) -> AsyncIterator[Slack]:
    settings = harness._settings(db_url, api)
    async for s in harness._slack(settings, engine, clock, api, process_before_response=request.param):
        yield s


@pytest.mark.parametrize("name", PAST_THE_CHECK)
async def test_what_bolt_cannot_read_past_the_check_is_still_a_400_with_one_line(
    either_mode: Slack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(parse, "payload_problem", lambda body: None)
    body, content_type = dict((h[0], h[1]) for h in HOSTILE)[name]
    caplog.set_level(logging.INFO)
    response = await either_mode.post(body, content_type)
    assert response.status == 400, name
    (line,) = _refusals(caplog)
    assert line.exc_info is None and "(400)" in line.getMessage()
    assert "Traceback" not in caplog.text and MARK not in caplog.text


async def test_a_bug_in_a_listener_is_still_a_500_with_its_traceback(
    slack: Slack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort turns bolt's failures on a payload into 400s, not statbot's own
    bugs: those keep their traceback for whoever runs statbot."""

    def broken(body: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(parse, "parse_command", broken)
    response = await slack.command("help")
    assert response.status == 500
    (line,) = _refusals(caplog)
    assert line.levelno == logging.ERROR and line.exc_info is not None
