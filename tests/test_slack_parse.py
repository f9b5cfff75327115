"""Slack payloads → typed events: what is read, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import parse, wire

FIXTURES = Path(__file__).parent / "fixtures" / "slack"


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("commitments <@U0HEAD0001|robert>", "commitments robert.hayes@riverton.gov"),
        ("commitments <@U0OTHER001|ana>", "commitments @ana"),
        ("commitments <@U0OTHER001>", "commitments @U0OTHER001"),
        ("commitments <mailto:ana@riverton.gov|ana@riverton.gov>", "commitments ana@riverton.gov"),
        ("update 4 see <https://example.org/x|the plan>", "update 4 see https://example.org/x"),
        ("ask sanitation what about <#C123ABC|citistat>?", "ask sanitation what about #citistat?"),
        ("ask parks <!here> why &lt;late&gt; &amp; slow", "ask parks @here why <late> & slow"),
        ("  status  ", "status"),
    ],
)
def test_plain_text_turns_slack_markup_into_what_was_meant(typed: str, meant: str) -> None:
    assert parse.plain_text(typed, {"U0HEAD0001": "robert.hayes@riverton.gov"}) == meant


@given(st.text())
def test_plain_text_never_fails(text: str) -> None:
    assert isinstance(parse.plain_text(text), str)


def test_direct_message_from_the_docs_fixture() -> None:
    message = parse.parse_message(_json("slack_event_message_im.json"))
    assert message is not None
    assert (message.user_id, message.channel_id, message.key) == (
        "U2147483697",
        "D024BE91L",
        "event:Ev0PV52K21",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": "message_changed"},
        {"bot_id": "B1"},
        {"channel_type": "channel"},
        {"user": None},
        {"text": None},
    ],
)
def test_messages_that_are_not_a_person_writing_to_the_bot_are_ignored(change: dict[str, Any]) -> None:
    body = _json("slack_event_message_im.json")
    body["event"].update(change)
    assert parse.parse_message(body) is None


def test_home_opened_only_for_the_home_tab() -> None:
    body = _json("slack_event_app_home_opened_bolt_tests.json")
    assert parse.parse_home(body) is None  # tab: messages
    body["event"]["tab"] = "home"
    opened = parse.parse_home(body)
    assert opened is not None and opened.user_id == "W111"


def test_button_value_round_trip() -> None:
    body = _json("slack_block_actions.json")
    action = {
        "action_id": "statbot:checkin.open:0",
        "action_ts": "1.2",
        "value": json.dumps({"a": "checkin.open", "ids": {"checkin": "4"}}),
    }
    click = parse.parse_button(body, action)
    assert click is not None
    assert (click.action, click.ids, click.channel_id, click.in_dm) == (
        "checkin.open",
        {"checkin": "4"},
        "C111",
        False,
    )
    assert click.key == "action:111.222.valid"


def test_what_render_writes_parse_reads() -> None:
    """render.py and parse.py share wire.py, not each other: a rendered button reads back."""
    from adapters.slack.render import render_card
    from bot.messages import Button, Buttons, Card

    card = Card(
        parts=(Buttons(buttons=(Button(label="Ack", action="escalation.ack", ids={"escalation": "7"}),)),),
        summary="s",
    )
    (element,) = [e for b in render_card(card) if b["type"] == "actions" for e in b["elements"]]
    assert element["action_id"].startswith(wire.ACTION_PREFIX)
    click = parse.parse_button(_json("slack_block_actions.json"), {**element, "action_ts": "1.2"})
    assert click is not None and (click.action, click.ids) == ("escalation.ack", {"escalation": "7"})


@given(st.one_of(st.text(), st.none(), st.integers(), st.dictionaries(st.text(), st.text())))
def test_any_button_value_is_read_or_refused(value: Any) -> None:
    body = _json("slack_block_actions.json")
    raw = value if isinstance(value, str) or value is None else json.dumps(value)
    click = parse.parse_button(body, {"value": raw})
    assert click is None or isinstance(click.action, str)


def test_submission_reads_values_and_metadata() -> None:
    body = _json("slack_view_submission.json")
    body["view"]["private_metadata"] = wire.form_metadata("checkin.submit", {"checkin": "9"})
    submission = parse.parse_submission(body)
    assert submission is not None
    assert (submission.action, submission.ids, submission.values) == (
        "checkin.submit",
        {"checkin": "9"},
        {"hspI": "test"},
    )
    assert not submission.stacked
    # A re-sent payload is recognised; a new click on Submit of the same view (same id and
    # hash, as after field errors or Back) is a new submission.
    assert parse.parse_submission(body) == submission
    again = parse.parse_submission({**body, "trigger_id": "333.444.next"})
    assert again is not None and again.key != submission.key


def test_submission_without_trigger_is_told_apart_by_what_was_typed() -> None:
    body = _json("slack_view_submission.json")
    body.pop("trigger_id")
    body["view"]["private_metadata"] = wire.form_metadata("checkin.submit", {"checkin": "9"})
    first = parse.parse_submission(body)
    body["view"]["state"]["values"]["hspI"]["maBWU"]["value"] = "fixed"
    fixed = parse.parse_submission(body)
    assert first is not None and fixed is not None
    assert first.key != fixed.key
    assert parse.parse_submission(body) == fixed


def test_foreign_modal_is_not_read() -> None:
    # The docs fixture's private_metadata is free text ("This is for you!").
    assert parse.parse_submission(_json("slack_view_submission.json")) is None


def test_command_from_the_bolt_fixture() -> None:
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl((FIXTURES / "slack_slash_command.form.txt").read_text()))
    command = parse.parse_command(fields)
    assert command is not None
    assert (command.user_id, command.text, command.key) == ("W111", "Hi", "command:111.111.xxx")
    assert parse.parse_command({"text": "status"}) is None
