"""The Slack renderer: golden Block Kit, escaping, Slack's limits, modal forms.

Goldens live in tests/golden/slack/; regenerate with STATBOT_UPDATE_GOLDEN=1 and review
the diff."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.render import (
    fallback_text,
    form_errors,
    render_card,
    render_card_messages,
    render_form,
    split_blocks,
)
from adapters.slack.wire import read_form_values
from bot.messages.model import (
    Attachment,
    Button,
    Buttons,
    Card,
    ChoiceInput,
    DateInput,
    Divider,
    Fact,
    Facts,
    Form,
    Heading,
    Image,
    Link,
    Mention,
    Note,
    NumberInput,
    Option,
    Paragraph,
    Sparkline,
    Text,
    TextInput,
    paragraph,
)

GOLDEN = Path(__file__).parent / "golden" / "slack"
NASTY = "<!channel> & <@U123> *bold* _it_ ~x~ `code`"
LOOKALIKES = {"\u2217": "*", "\u02cd": "_", "\u223c": "~", "\u02cb": "`"}


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STATBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with STATBOT_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == data


def unescape(mrkdwn: str) -> str:
    """What a reader sees of escaped user text (entities, look-alikes, invisible marks)."""
    out = mrkdwn.replace("\u00ad", "").replace("\u200b", "")
    for fake, real in LOOKALIKES.items():
        out = out.replace(fake, real)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def texts(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every text object in the blocks as (type, text)."""
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                found.append((node["type"], node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def check_limits(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        elif kind == "header":
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75
                assert len(element["value"]) <= 2000
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in block["elements"])


def every_part_card() -> Card:
    return Card(
        summary="Riverton 311 — week 48: 2 metrics off target",
        parts=(
            Heading(text="Riverton 311 — week 48"),
            paragraph(
                "Hi ",
                Mention(email="ana@riverton.gov", name="Ana Ortiz"),
                " and ",
                Mention(email="bo@riverton.gov", name="Bo Chen"),
                ", here is the week. ",
                Text(text="Two metrics", style="bold"),
                " are ",
                Text(text="off target", style="italic"),
                "; see ",
                Link(text="the dashboard", url="https://stat.riverton.gov/311?week=48&x=1"),
                " or run ",
                Text(text="/stat status 311", style="code"),
                ".",
            ),
            Facts(
                facts=(
                    Fact(label="Calls answered", value="412", status="green"),
                    Fact(label="Median wait", value="6 min", status="amber"),
                    Fact(label="Backlog", value="38", status="red"),
                    Fact(label="Staff", value="12"),
                )
            ),
            Sparkline(label="Calls answered", values=(380, 395, None, 401, 412), status="green"),
            Image(ref="chart-311-48", alt_text="Calls answered, last 8 weeks", title="Calls"),
            Image(ref="chart-local", alt_text="Backlog, last 8 weeks"),
            Attachment(
                ref="session-document:7",
                filename="session-3-sanitation-brief",
                title="Brief for session #3: Sanitation",
                command="brief 3",
            ),
            Buttons(
                buttons=(
                    Button(
                        label="Acknowledge",
                        action="escalation.ack",
                        ids={"escalation": "e-17"},
                        style="primary",
                    ),
                    Button(label="Snooze", action="escalation.snooze", ids={"escalation": "e-17"}),
                    Button(label="Close", action="escalation.close", style="danger"),
                )
            ),
            Note(text="Sent Monday 08:00 (America/New_York)"),
            Divider(),
        ),
    )


MENTIONS = {"ana@riverton.gov": "U0ANA"}
IMAGES = {"chart-311-48": "https://stat.riverton.gov/charts/chart-311-48.png"}
ATTACHED = {"session-document:7"}


def checkin_form(*, errors: bool = False) -> Form:
    typed: dict[str, str | None] = (
        {
            "calls": "about 400",
            "wait": "6.5",
            "comment": "Phones <down> on *Tuesday*",
            "due": "next friday",
            "cause": "staffing",
        }
        if errors
        else {"calls": None, "wait": None, "comment": None, "due": None, "cause": None}
    )
    return Form(
        action="checkin.submit",
        ids={"checkin": "c-311-48"},
        title="Riverton 311 check-in, week 48",
        submit_label="Send",
        intro=(paragraph("Numbers for ", Text(text="week 48", style="bold"), ", please."),),
        inputs=(
            NumberInput(
                name="calls",
                label="Calls answered",
                unit="calls",
                minimum=0,
                maximum=5000,
                integer=True,
                hint="Count every call a person picked up.",
                value=typed["calls"],
            ),
            NumberInput(
                name="wait",
                label="Median wait",
                unit="min",
                minimum=0,
                value=typed["wait"],
            ),
            TextInput(
                name="comment",
                label="What happened?",
                multiline=True,
                max_length=1000,
                optional=True,
                value=typed["comment"],
            ),
            DateInput(
                name="due",
                label="Back on target by",
                initial=dt.date(2026, 12, 4),
                value=typed["due"],
            ),
            ChoiceInput(
                name="cause",
                label="Main cause",
                options=(
                    Option(value="staffing", label="Staffing"),
                    Option(value="demand", label="Demand"),
                    Option(value="systems", label="Systems"),
                ),
                optional=True,
                value=typed["cause"],
            ),
        ),
        errors=(
            {"calls": "Enter a whole number of calls, like 412.", "due": "I can't read that date."}
            if errors
            else {}
        ),
    )


def input_blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


# --- goldens ---------------------------------------------------------------------------


def test_golden_card_with_every_part() -> None:
    blocks = render_card(every_part_card(), mention_ids=MENTIONS, image_urls=IMAGES, attached=ATTACHED)
    check_limits(blocks)
    assert_golden("card_every_part", blocks)


def test_golden_checkin_form() -> None:
    view = render_form(checkin_form(), callback_id="statbot:form", private_metadata='{"c":"1"}')
    assert_golden("form_checkin", view)


def test_golden_checkin_form_with_errors_keeps_what_was_typed() -> None:
    view = render_form(checkin_form(errors=True), callback_id="statbot:form")
    assert_golden("form_checkin_errors", view)


def test_golden_long_card_splits_into_messages() -> None:
    messages = render_card_messages(long_card())
    assert_golden("card_long_messages", messages)


# --- behaviour of the card ---------------------------------------------------------------


def test_every_part_kind_shows_up() -> None:
    blocks = render_card(every_part_card(), mention_ids=MENTIONS, image_urls=IMAGES, attached=ATTACHED)
    kinds = [b["type"] for b in blocks]
    assert kinds == [
        "header",
        "section",  # paragraph
        "section",  # facts
        "section",  # sparkline
        "image",
        "context",  # image without a URL
        "context",  # attached document
        "actions",
        "context",  # note
        "divider",
    ]
    paragraph_text = blocks[1]["text"]["text"]
    assert "<@U0ANA>" in paragraph_text
    assert "Bo Chen" in paragraph_text and "<@" not in paragraph_text.replace("<@U0ANA>", "")
    assert "<https://stat.riverton.gov/311?week=48&amp;x=1|the dashboard>" in paragraph_text
    facts = [f["text"] for f in blocks[2]["fields"]]
    assert ":large_green_circle: 412" in facts[0]
    assert ":large_yellow_circle:" in facts[1] and ":red_circle:" in facts[2]
    assert ":" not in facts[3].split("\n")[-1]
    assert "▁" in blocks[3]["text"]["text"] and "412" in blocks[3]["text"]["text"]
    assert blocks[4]["image_url"] == IMAGES["chart-311-48"]
    assert blocks[4]["alt_text"] == "Calls answered, last 8 weeks"
    assert blocks[5]["elements"][0]["text"] == "chart: Backlog, last 8 weeks"
    assert blocks[6]["elements"][0] == {
        "type": "plain_text",
        "text": "📎 session-3-sanitation-brief.pdf, session-3-sanitation-brief.md in the thread below. "
        "Type “brief 3” to see it again.",
    }


def test_a_document_whose_files_do_not_come_says_how_to_read_it() -> None:
    blocks = render_card(every_part_card())
    (line,) = [
        e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if "📎" in e["text"]
    ]
    assert line == "📎 Brief for session #3: Sanitation: Type “brief 3” to see it again."


def test_buttons_carry_action_and_ids_only() -> None:
    blocks = render_card(every_part_card())
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    ack, snooze, close = actions["elements"]
    assert ack["action_id"] == "statbot:escalation.ack:0"
    assert json.loads(ack["value"]) == {"a": "escalation.ack", "ids": {"escalation": "e-17"}}
    assert ack["style"] == "primary" and close["style"] == "danger" and "style" not in snooze
    assert snooze["text"] == {"type": "plain_text", "text": "Snooze"}


def test_many_buttons_split_into_actions_blocks_with_unique_ids() -> None:
    card = Card(
        summary="many",
        parts=(
            Buttons(buttons=tuple(Button(label=f"B{i}", action="pick") for i in range(30))),
            Buttons(buttons=(Button(label="x" * 100, action="more"),)),
        ),
    )
    blocks = render_card(card)
    check_limits(blocks)
    assert [len(b["elements"]) for b in blocks] == [25, 5, 1]
    ids = [e["action_id"] for b in blocks for e in b["elements"]]
    assert len(set(ids)) == 31 and ids[-1] == "statbot:more:30"
    assert blocks[-1]["elements"][0]["text"]["text"].endswith("…")


def test_button_value_too_long_is_refused_before_slack_sees_it() -> None:
    button = Button(label="b", action="a", ids={"k": "v" * 2000})
    card = Card(summary="x", parts=(Buttons(buttons=(button,)),))
    with pytest.raises(ValueError, match="2000"):
        render_card(card)


def test_fallback_text_is_escaped_summary() -> None:
    card = Card(summary="<!here> Backlog & wait", parts=())
    assert fallback_text(card) == "&lt;!here&gt; Backlog &amp; wait"


# --- escaping ----------------------------------------------------------------------------


def test_user_text_never_pings_nor_formats() -> None:
    card = Card(summary=NASTY, parts=(paragraph(NASTY),))
    (block,) = render_card(card)
    text = block["text"]["text"]
    assert block["text"]["verbatim"] is True  # no auto-linking of @here, #channel, URLs
    assert "<!" not in text and "<@" not in text
    assert not set("*_~`") & set(text)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in text
    assert unescape(text) == NASTY


def test_real_mention_survives_next_to_escaped_text() -> None:
    card = Card(
        summary="x",
        parts=(paragraph(NASTY, " ", Mention(email="ana@riverton.gov", name="<!channel>")),),
    )
    (block,) = render_card(card, mention_ids=MENTIONS)
    text = block["text"]["text"]
    assert text.endswith(" <@U0ANA>")
    assert text.count("<") == 1  # the real mention is the only Slack control sequence


def test_unknown_or_bogus_mention_renders_escaped_name() -> None:
    card = Card(summary="x", parts=(paragraph(Mention(email="x@y", name="<!channel> *Al*")),))
    for ids in ({}, {"x@y": "<!channel>"}, {"x@y": "U1|x"}):
        (block,) = render_card(card, mention_ids=ids)
        text = block["text"]["text"]
        assert "<" not in text and "*" not in text
        assert unescape(text) == "<!channel> *Al*"


def test_requested_styles_format_around_escaped_text() -> None:
    card = Card(
        summary="x",
        parts=(
            paragraph(
                Text(text="*all* & <!here>", style="bold"),
                Text(text="snake_case `x`", style="code"),
                Text(text=" it ", style="italic"),
            ),
        ),
    )
    (block,) = render_card(card)
    text = block["text"]["text"].replace("\u200b", "")
    assert text.startswith("*∗all∗ &amp; &lt;!here&gt;*")
    # Inside code only a backtick could end the span; underscores stay real.
    assert "`snake_case ˋxˋ`" in text
    assert text.endswith(" _it_ ")


def test_links_only_for_web_urls() -> None:
    card = Card(
        summary="x",
        parts=(
            paragraph(
                Link(text="a", url="!channel"),
                " ",
                Link(text="b", url="@U123"),
                " ",
                Link(text="c|<x>", url="https://ok.example/a|b"),
            ),
        ),
    )
    (block,) = render_card(card)
    text = block["text"]["text"]
    assert "<!" not in text and "<@" not in text
    assert "a (!channel)" in text
    assert "<https://ok.example/a%7Cb|c|&lt;x&gt;>" in text


def test_quote_marker_at_line_start_is_neutralised() -> None:
    card = Card(summary="x", parts=(paragraph("line\n> not a quote"),))
    (block,) = render_card(card)
    assert block["text"]["text"] == "line\n\u00ad&gt; not a quote"


def test_user_text_in_facts_and_plain_text_places() -> None:
    card = Card(
        summary="x",
        parts=(
            Heading(text=NASTY),
            Facts(facts=(Fact(label=NASTY, value=NASTY, status="red"),)),
            Sparkline(label=NASTY, values=(1, 2)),
            Note(text=NASTY),
            Buttons(buttons=(Button(label="<!here> *go*", action="go"),)),
        ),
    )
    blocks = render_card(card)
    for kind, text in texts(blocks):
        if kind == "mrkdwn":
            user_part = re.sub(r"  `[▁-█·]+`  ", " ", text.replace("\u200b*\u200b", ""))
            user_part = user_part.replace(":red_circle:", "")
            assert "<" not in user_part and not set("*_~`") & set(user_part), text
        # plain_text is never parsed by Slack: it keeps the text exactly as typed.
        if kind == "plain_text":
            assert text in (NASTY, "<!here> *go*")


@settings(max_examples=150, deadline=None)
@given(
    # Characters the escaping itself produces are left out so the text can be read back.
    st.text(st.characters(exclude_characters="\u00ad\u200b∗ˍ∼ˋ﹡⸏＊＿｀～"), min_size=1, max_size=4000),
    st.sampled_from(["plain", "bold", "italic", "code"]),
)
def test_any_text_stays_literal_and_within_limits(raw: str, style: Any) -> None:
    card = Card(summary=raw, parts=(Paragraph(spans=(Text(text=raw, style=style),)),))
    blocks = render_card(card)
    check_limits(blocks)
    joined = "".join(b["text"]["text"] for b in blocks)
    assert "<" not in joined
    assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", joined, flags=re.DOTALL)
    if style == "plain":
        assert not set("*_~`") & set(joined)
        # Slack drops blank sections, so only whitespace may go missing.
        assert "".join(unescape(joined).split()) == "".join(raw.split())


# --- limits ------------------------------------------------------------------------------


def long_card() -> Card:
    return Card(
        summary="Long digest",
        parts=(
            Heading(text="Digest " + "very long title " * 20),
            Facts(facts=tuple(Fact(label=f"Metric {i}", value=str(i)) for i in range(70))),
            Heading(text="Notes"),
            *(paragraph(f"Paragraph {i}: " + "word " * 50) for i in range(60)),
            Divider(),
            paragraph("x & y " * 1500),
        ),
    )


def test_long_card_respects_every_limit() -> None:
    messages = render_card_messages(long_card())
    assert len(messages) >= 2
    for blocks in messages:
        assert 0 < len(blocks) <= 50
        check_limits(blocks)
    every = [b for m in messages for b in m]
    assert every == render_card(long_card())  # nothing lost or reordered
    header = every[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    fields = [f for b in every if b["type"] == "section" for f in b.get("fields", [])]
    assert len(fields) == 70
    # The long last paragraph became several sections, cut between words.
    tail = [b["text"]["text"] for b in every[every.index({"type": "divider"}) + 1 :]]
    assert len(tail) >= 3 and "".join(tail) == ("x &amp; y " * 1500)


def test_huge_word_is_cut_without_breaking_entities() -> None:
    raw = "&<>" * 3000
    blocks = render_card(Card(summary="x", parts=(paragraph(raw),)))
    check_limits(blocks)
    for block in blocks:
        assert re.fullmatch(r"(?:&amp;|&lt;|\u00ad?&gt;)+", block["text"]["text"])
    assert unescape("".join(b["text"]["text"] for b in blocks)) == raw


def test_split_keeps_groups_together() -> None:
    def group(n: int) -> list[dict[str, Any]]:
        return [{"type": "header", "text": {"type": "plain_text", "text": f"h{n}"}}] + [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{n}.{i}"}} for i in range(29)
        ]

    messages = split_blocks(group(1) + group(2) + group(3))
    assert [len(m) for m in messages] == [30, 30, 30]
    assert all(m[0]["type"] == "header" for m in messages)
    huge = split_blocks(group(1) * 4)  # headers every 30 → 4 groups of 30
    assert all(len(m) <= 50 for m in huge)
    one_group = split_blocks([{"type": "section"}] * 120)
    assert [len(m) for m in one_group] == [50, 50, 20]
    assert split_blocks([]) == []


# --- forms -------------------------------------------------------------------------------


def test_modal_shape_and_limits() -> None:
    view = render_form(checkin_form(), callback_id="statbot:form", private_metadata="m")
    assert view["type"] == "modal" and view["callback_id"] == "statbot:form"
    assert view["private_metadata"] == "m"
    assert len(view["title"]["text"]) <= 24 and view["title"]["text"].endswith("…")
    assert view["submit"]["text"] == "Send"
    inputs = input_blocks(view)
    assert list(inputs) == ["calls", "wait", "comment", "due", "cause"]
    assert {b["element"]["action_id"] for b in inputs.values()} == {"value"}
    calls = inputs["calls"]
    assert calls["label"]["text"] == "Calls answered (calls)"
    assert calls["element"]["type"] == "number_input"
    assert calls["element"]["is_decimal_allowed"] is False
    assert (calls["element"]["min_value"], calls["element"]["max_value"]) == ("0", "5000")
    assert "0–5000 calls" in calls["hint"]["text"]
    assert inputs["wait"]["element"]["is_decimal_allowed"] is True
    assert "max_value" not in inputs["wait"]["element"]
    assert inputs["comment"]["optional"] is True and "optional" not in calls
    assert inputs["comment"]["element"]["multiline"] is True
    assert inputs["comment"]["element"]["max_length"] == 1000
    assert inputs["due"]["element"] == {
        "type": "datepicker",
        "action_id": "value",
        "initial_date": "2026-12-04",
    }
    assert [o["value"] for o in inputs["cause"]["element"]["options"]] == [
        "staffing",
        "demand",
        "systems",
    ]


def test_modal_keeps_what_was_typed() -> None:
    view = render_form(checkin_form(errors=True), callback_id="cb")
    inputs = input_blocks(view)
    # Slack's number_input refuses "about 400": a text box keeps it instead.
    assert inputs["calls"]["element"] == {
        "type": "plain_text_input",
        "action_id": "value",
        "initial_value": "about 400",
    }
    assert inputs["calls"]["hint"]["text"].startswith("⚠ Enter a whole number")
    assert inputs["wait"]["element"]["type"] == "number_input"
    assert inputs["wait"]["element"]["initial_value"] == "6.5"
    assert inputs["comment"]["element"]["initial_value"] == "Phones <down> on *Tuesday*"
    assert inputs["due"]["element"]["type"] == "plain_text_input"
    assert inputs["due"]["element"]["initial_value"] == "next friday"
    assert inputs["cause"]["element"]["initial_option"]["value"] == "staffing"
    summary = [b for b in view["blocks"] if b["type"] == "section"][-1]["text"]["text"]
    assert "Enter a whole number of calls, like 412." in summary
    assert "I can't read that date." in summary


@pytest.mark.parametrize(
    ("value", "element"),
    [
        ("412", "number_input"),
        (" 412 ", "number_input"),
        ("4.5", "plain_text_input"),  # integer wanted
        ("-1", "plain_text_input"),  # below minimum
        ("6000", "plain_text_input"),  # above maximum
        ("1e3", "plain_text_input"),
        ("1,200", "plain_text_input"),
        ("", "number_input"),
    ],
)
def test_number_input_falls_back_only_when_slack_would_refuse(value: str, element: str) -> None:
    form = Form(
        action="a",
        title="t",
        inputs=(NumberInput(name="n", label="N", minimum=0, maximum=5000, integer=True, value=value),),
    )
    block = input_blocks(render_form(form, callback_id="cb"))["n"]
    assert block["element"]["type"] == element
    if value.strip():
        assert block["element"]["initial_value"] == value.strip()


def test_form_limits_are_reported_not_sent() -> None:
    with pytest.raises(ValueError, match="private_metadata"):
        render_form(checkin_form(), callback_id="cb", private_metadata="x" * 3001)
    big = Form(
        action="a",
        title="t",
        inputs=tuple(TextInput(name=f"f{i}", label=f"F{i}") for i in range(101)),
    )
    with pytest.raises(ValueError, match="100"):
        render_form(big, callback_id="cb")


def test_form_errors_are_keyed_by_block_id() -> None:
    form = checkin_form(errors=True)
    assert form_errors(form) == {
        "calls": "Enter a whole number of calls, like 412.",
        "due": "I can't read that date.",
    }
    stray = form.model_copy(update={"errors": {"_form": "Week already closed.", "due": "Bad."}})
    assert form_errors(stray) == {"calls": "Week already closed.", "due": "Bad."}


def test_read_form_values_from_the_real_payload() -> None:
    # tests/golden/slack/payload_view_submission.json is a copy of bolt-python's
    # tests/scenario_tests_async/test_view_submission.py body (slackapi/bolt-python@a2f21ae).
    payload = json.loads((GOLDEN / "payload_view_submission.json").read_text())
    assert read_form_values(payload["view"]["state"]["values"]) == {"hspI": "test"}


def test_read_form_values_for_every_element_kind() -> None:
    state = {
        "calls": {"value": {"type": "number_input", "value": "412"}},
        "wait": {"value": {"type": "plain_text_input", "value": "about 6"}},
        "comment": {"value": {"type": "plain_text_input", "value": None}},
        "due": {"value": {"type": "datepicker", "selected_date": "2026-12-04"}},
        "cause": {
            "value": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "D"}, "value": "demand"},
            }
        },
        "other": {"value": {"type": "static_select", "selected_option": None}},
        "empty": {},
    }
    assert read_form_values(state) == {
        "calls": "412",
        "wait": "about 6",
        "comment": "",
        "due": "2026-12-04",
        "cause": "demand",
        "other": "",
        "empty": "",
    }


def test_modal_round_trip_returns_what_was_typed() -> None:
    form = checkin_form(errors=True)
    view = render_form(form, callback_id="cb")
    # What Slack sends back when the person submits without touching anything.
    state: dict[str, dict[str, Any]] = {}
    for block_id, block in input_blocks(view).items():
        element = block["element"]
        action: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "datepicker":
            action["selected_date"] = element.get("initial_date")
        elif element["type"] == "static_select":
            action["selected_option"] = element.get("initial_option")
        else:
            action["value"] = element.get("initial_value")
        state[block_id] = {element["action_id"]: action}
    assert read_form_values(state) == {inp.name: inp.value or "" for inp in form.inputs}


def test_empty_parts_never_produce_empty_text_objects() -> None:
    card = Card(
        summary="",
        parts=(
            Heading(text="  "),
            Paragraph(spans=()),
            paragraph("   "),
            Facts(facts=(Fact(label="", value=""),)),
            Facts(facts=()),
            Sparkline(label="Calls", values=()),
            Note(text=""),
            Buttons(buttons=()),
        ),
    )
    blocks = render_card(card)
    check_limits(blocks)
    assert all(text.strip() for _, text in texts(blocks))
    assert [b["type"] for b in blocks] == ["section", "section"]
    assert blocks[1]["text"]["text"].endswith("no readings")
