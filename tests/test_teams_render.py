"""The Teams renderer: golden Adaptive Cards, escaping, mentions through entities, the
message size limit, forms with errors, chart images.

Goldens live in tests/golden/teams/; regenerate with STATBOT_UPDATE_GOLDEN=1 and review
the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.teams import parse, wire
from adapters.teams.gateway import INLINE_IMAGE_BYTES, image_url
from adapters.teams.render import (
    MESSAGE_BYTES,
    escape_markdown,
    render_card,
    render_card_messages,
    render_form,
)
from bot.messages.model import Button, Buttons, Card, Mention, Paragraph, Text, paragraph
from tests.test_render_slack import checkin_form, every_part_card, long_card

GOLDEN = Path(__file__).parent / "golden" / "teams"
MENTIONS = {"ana@riverton.gov": "29:ana"}
IMAGES = {"chart-311-48": "https://stat.riverton.gov/charts/chart-311-48.png"}
DOCUMENTS = {
    "session-document:7": [
        ("session-3-sanitation-brief.pdf", "https://stat.riverton.gov/documents/7-0123abcd.pdf"),
        ("session-3-sanitation-brief.md", "https://stat.riverton.gov/documents/7-0123abcd.md"),
    ]
}
NASTY = "<at>Everyone</at> **bold** _it_ [x](https://evil.example) # h `code` <b>"


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STATBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with STATBOT_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, f"{path} differs: review, then STATBOT_UPDATE_GOLDEN=1"


def walk(node: Any, kind: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if kind is None or node.get("type") == kind:
            found.append(node)
        for value in node.values():
            found.extend(walk(value, kind))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value, kind))
    return found


def size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def test_golden_card_with_every_part() -> None:
    card = render_card(every_part_card(), mention_ids=MENTIONS, images=IMAGES, documents=DOCUMENTS)
    assert_golden("card_every_part", card)


def test_golden_checkin_form() -> None:
    assert_golden("checkin_form", render_form(checkin_form()))


def test_golden_checkin_form_with_errors_keeps_what_was_typed() -> None:
    assert_golden("checkin_form_errors", render_form(checkin_form(errors=True)))


def test_card_is_schema_1_5_with_a_fallback() -> None:
    card = render_card(every_part_card(), mention_ids=MENTIONS, images=IMAGES)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["fallbackText"] == every_part_card().summary


def test_mentions_are_entities_and_only_for_known_people() -> None:
    card = render_card(every_part_card(), mention_ids=MENTIONS, images=IMAGES)
    entities = card["msteams"]["entities"]
    assert entities == [
        {"type": "mention", "text": "<at>Ana Ortiz</at>", "mentioned": {"id": "29:ana", "name": "Ana Ortiz"}}
    ]
    text = " ".join(b["text"] for b in walk(card, "TextBlock"))
    assert "<at>Ana Ortiz</at>" in text and "@Bo Chen" in text and "<at>Bo" not in text


def test_user_text_is_never_a_mention_nor_markdown() -> None:
    card = render_card(
        Card(
            summary=NASTY,
            parts=(paragraph(NASTY), paragraph(NASTY, Mention(email="ana@riverton.gov", name="Ana"))),
        ),
        mention_ids=MENTIONS,
    )
    rich, block = card["body"]
    # Without mentions: TextRuns, which Teams never reads as markdown; <at> broken.
    assert rich["type"] == "RichTextBlock"
    run = rich["inlines"][0]["text"]
    assert "<at>" not in run and run.replace("\u2060", "") == NASTY
    # With a mention: a TextBlock, the user text escaped, one real mention.
    assert block["type"] == "TextBlock"
    assert block["text"].count("<at>") == 1 and block["text"].endswith("<at>Ana</at>")
    assert "\\*\\*bold\\*\\*" in block["text"] and "\\[x\\](https://evil.example)" in block["text"]
    assert len(card["msteams"]["entities"]) == 1
    assert "<at>" not in card["fallbackText"]


def test_user_text_in_headings_facts_and_notes_stays_literal() -> None:
    from bot.messages.model import Fact, Facts, Heading, Note

    card = render_card(
        Card(
            summary="s",
            parts=(Heading(text=NASTY), Facts(facts=(Fact(label=NASTY, value=NASTY),)), Note(text=NASTY)),
        )
    )
    heading, facts, note = card["body"]
    # Headings and notes are TextRuns: literal, never markdown, never a mention.
    for block in (heading, note):
        assert block["type"] == "RichTextBlock"
        assert block["inlines"][0]["text"].replace("\u2060", "") == NASTY
        assert "<at>" not in block["inlines"][0]["text"]
    # FactSet is read as markdown: escaped.
    for value in (facts["facts"][0]["title"], facts["facts"][0]["value"]):
        assert "<at>" not in value and "\\*\\*bold\\*\\*" in value and "\\`code\\`" in value
    assert escape_markdown("# not a heading\n- not a list") == "\\# not a heading\n\\- not a list"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_stays_literal(raw: str) -> None:
    card = render_card(Card(summary=raw, parts=(paragraph(raw),)))
    (rich,) = card["body"]
    shown = rich["inlines"][0]["text"].replace("\u2060", "")
    assert shown == (raw.replace("\u2060", "") or shown)
    escaped = escape_markdown(raw)
    assert "<at" not in escaped.lower() or "<\u2060" in escaped


def test_buttons_are_action_execute_with_action_and_ids_only() -> None:
    card = render_card(
        Card(
            summary="b",
            parts=(
                Buttons(
                    buttons=(
                        Button(
                            label="Acknowledge",
                            action="escalation.ack",
                            ids={"escalation": "7"},
                            style="primary",
                        ),
                    )
                ),
            ),
        )
    )
    (action,) = walk(card, "Action.Execute")
    assert action["data"] == {"statbot": "button", "action": "escalation.ack", "ids": {"escalation": "7"}}
    assert action["style"] == "positive"
    assert wire.read_data(action["data"]) == ("button", "escalation.ack", {"escalation": "7"}, {})


def test_long_card_splits_under_the_message_limit_keeping_parts_whole() -> None:
    cards = render_card_messages(long_card())
    assert len(cards) >= 2
    assert all(size(c) <= MESSAGE_BYTES for c in cards)
    assert [c["fallbackText"] for c in cards] == [
        f"Long digest ({i}/{len(cards)})" for i in range(1, len(cards) + 1)
    ]
    facts = [c for c in cards if walk(c, "FactSet")]
    assert len(facts) == 1 and len(walk(facts[0], "FactSet")[0]["facts"]) == 70
    # Nothing lost: every paragraph appears once, in order.
    runs = [r["text"] for c in cards for r in walk(c, "TextRun")]
    numbered = [r.split(":")[0] for r in runs if r.startswith("Paragraph ")]
    assert numbered == [f"Paragraph {i}" for i in range(60)]


def test_a_huge_paragraph_is_cut_to_fit() -> None:
    card = Card(summary="big", parts=(Paragraph(spans=(Text(text="word " * 20_000),)),))
    cards = render_card_messages(card)
    assert len(cards) >= 4 and all(size(c) <= MESSAGE_BYTES for c in cards)
    assert "".join(r["text"] for c in cards for r in walk(c, "TextRun")) == "word " * 20_000


def test_mentions_follow_their_part_when_split() -> None:
    parts = tuple(
        paragraph(f"{i} " + "x " * 2000, Mention(email="ana@riverton.gov", name="Ana")) for i in range(8)
    )
    cards = render_card_messages(Card(summary="m", parts=parts), mention_ids=MENTIONS)
    assert len(cards) >= 2
    for c in cards:
        assert c["msteams"]["entities"] == [
            {"type": "mention", "text": "<at>Ana</at>", "mentioned": {"id": "29:ana", "name": "Ana"}}
        ]


def test_form_errors_sit_next_to_their_fields_and_typed_values_are_kept() -> None:
    card = render_form(checkin_form(errors=True))
    body = card["body"]
    ids = [e.get("id") for e in body]
    calls = ids.index("in.calls")
    # "about 400" cannot live in Input.Number: it is kept as typed in a text input.
    assert body[calls]["type"] == "Input.Text" and body[calls]["value"] == "about 400"
    error = body[calls + 2]["inlines"][0]
    assert error["color"] == "Attention" and "whole number" in error["text"]
    wait = body[ids.index("in.wait")]
    assert wait["type"] == "Input.Number" and wait["value"] == 6.5
    due = body[ids.index("in.due")]
    assert due["type"] == "Input.Text" and due["value"] == "next friday"
    assert body[ids.index("in.comment")]["value"] == "Phones <down> on *Tuesday*"
    (submit,) = card["actions"]
    assert submit["type"] == "Action.Execute" and submit["title"] == "Send"
    assert submit["data"] == {"statbot": "form", "action": "checkin.submit", "ids": {"checkin": "c-311-48"}}


def test_submitted_values_read_back_as_strings() -> None:
    data = {**wire.form_data("checkin.submit", {"checkin": "9"}), "in.calls": 412, "in.cause": "staffing"}
    activity = {
        "type": "message",
        "id": "1",
        "value": data,
        "from": {"id": "29:x"},
        "conversation": {"id": "a:1"},
    }
    parsed = parse.parse(activity)
    assert isinstance(parsed, parse.Submission)
    assert parsed.values == {"calls": "412", "cause": "staffing"} and parsed.ids == {"checkin": "9"}


def test_mention_markup_and_the_stat_word_are_removed() -> None:
    assert parse.command_text("<at>statbot</at> stat status sanitation", {"statbot"}) == "status sanitation"
    assert (
        parse.command_text("<at>statbot</at>&nbsp;commit Fix it by Friday", {"statbot"})
        == "commit Fix it by Friday"
    )
    assert parse.command_text("/stat help", set()) == "help"
    assert parse.command_text("statistics are fun", set()) == "statistics are fun"
    assert parse.command_text("ask <at>Ana Ortiz</at> why", {"statbot"}) == "ask @Ana Ortiz why"


def test_small_charts_are_inline_and_large_ones_hosted() -> None:
    small = image_url("r1", b"\x89PNG" + b"0" * 100, "https://stat.example.gov")
    assert small is not None and small.startswith("data:image/png;base64,")
    big = image_url("r 2", b"0" * INLINE_IMAGE_BYTES, "https://stat.example.gov/", lambda ref: "sig")
    assert big == "https://stat.example.gov/teams/charts/r%202/sig.png"
    assert image_url("r2", b"0" * INLINE_IMAGE_BYTES, None, lambda ref: "sig") is None
    assert image_url("r2", b"0" * INLINE_IMAGE_BYTES, "https://stat.example.gov", None) is None


def test_an_attached_document_links_its_hosted_files_or_says_how_to_read_it() -> None:
    linked = render_card(every_part_card(), documents=DOCUMENTS)
    runs = [r for b in walk(linked, "RichTextBlock") for r in b["inlines"] if "selectAction" in r]
    assert [(r["text"], r["selectAction"]["url"]) for r in runs] == list(DOCUMENTS["session-document:7"])
    # Without hosted files (no public URL), or with a link that is not a web address.
    for documents in ({}, {"session-document:7": [("x.pdf", "javascript:alert(1)")]}):
        card = render_card(every_part_card(), documents=documents)
        assert not [r for b in walk(card, "RichTextBlock") for r in b["inlines"] if "selectAction" in r]
        texts = [r["text"] for b in walk(card, "RichTextBlock") for r in b["inlines"]]
        assert "📎 Brief for session #3: Sanitation: Type “brief 3” to see it again." in texts
