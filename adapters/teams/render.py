"""Cards and forms → Adaptive Cards (schema 1.5) for Teams.  Pure, golden-tested; no botbuilder.

User text is shown literally: headings, notes, hints, errors and paragraphs without
mentions become RichTextBlocks of TextRuns (never parsed as markdown); the two places
Teams reads as markdown (a paragraph with a mention, which needs a TextBlock, and
FactSet) get the markdown characters backslash-escaped.  ``<at>`` in user text
is broken with a word joiner, so it can never become a mention: mentions are built only
from Mention spans, as ``<at>name</at>`` plus an entity in ``msteams.entities`` naming the
person's Teams id (people without a Teams id are shown by name).

Teams refuses a message over about 28 KB: ``render_card_messages`` splits a long card
(a digest) into several cards, each under ``MESSAGE_BYTES``, keeping a part whole.
Images are given as URLs by the caller (``images``: ref → data URI or hosted URL), and
so are the files of an attached document (``documents``: ref → file names and their
hosted URLs): a bot cannot simply attach a file in a personal chat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.teams import wire
from bot.messages import (
    Attachment,
    Button,
    Buttons,
    Card,
    ChoiceInput,
    DateInput,
    Divider,
    Facts,
    Form,
    Heading,
    Image,
    Input,
    Link,
    Mention,
    Note,
    NumberInput,
    Paragraph,
    Part,
    Sparkline,
    Text,
    TextInput,
)
from bot.messages.model import Status

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERB = "statbot"
# Teams refuses messages over ~28 KB (the whole activity); leave room for the envelope.
MESSAGE_BYTES = 24_000
BUTTON_TITLE = 40
# Characters that start markdown anywhere, and those that do only at the start of a line.
_MARKDOWN = re.compile(r"([\\`*_\[\]~])")
_LINE_START = re.compile(r"^(\s*)([#>+\-]|\d+\.)", re.MULTILINE)
_AT_TAG = re.compile(r"<(/?)(at)", re.IGNORECASE)
_WJ = "\u2060"
_BARS = "▁▂▃▄▅▆▇█"
_STATUS_COLOR: dict[Status, str] = {
    "green": "Good",
    "amber": "Warning",
    "red": "Attention",
    "none": "Default",
}
_STATUS_MARK: dict[Status, str] = {"green": "🟢 ", "amber": "🟡 ", "red": "🔴 ", "none": ""}
_SAFE_URL = re.compile(r"(https?://|mailto:)\S+", re.IGNORECASE)


def no_mention(raw: str) -> str:
    """``<at>`` in user text, broken so Teams never reads it as a mention."""
    return _AT_TAG.sub(lambda m: "<" + m.group(1) + _WJ + m.group(2), raw)


def escape_markdown(raw: str) -> str:
    """User text for a TextBlock or FactSet: markdown characters escaped, no mentions."""
    escaped = _MARKDOWN.sub(r"\\\1", no_mention(raw))
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _rich(text: str, *, wrap_block: dict[str, Any] | None = None, **run: Any) -> dict[str, Any]:
    """Literal text (a RichTextBlock's TextRun is never read as markdown)."""
    block: dict[str, Any] = {
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": no_mention(text) or " ", **run}],
    }
    block.update(wrap_block or {})
    return block


# An attached document's files as links: (file name, URL).
DocumentLinks = Mapping[str, Sequence[tuple[str, str]]]


@dataclass
class _Ctx:
    mention_ids: Mapping[str, str]
    images: Mapping[str, str]
    documents: DocumentLinks = field(default_factory=dict)
    entities: list[dict[str, Any]] = field(default_factory=list)


def _mention_markup(span: Mention, ctx: _Ctx) -> str:
    teams_id = ctx.mention_ids.get(span.email.lower())
    name = escape_markdown(span.name).replace("<", "")
    if teams_id is None:
        return "@" + name
    text = f"<at>{name}</at>"
    entity = {"type": "mention", "text": text, "mentioned": {"id": teams_id, "name": span.name}}
    if entity not in ctx.entities:
        ctx.entities.append(entity)
    return text


def _markdown_span(span: Text | Mention | Link, ctx: _Ctx) -> str:
    match span:
        case Text(text=text, style="bold"):
            return f"**{escape_markdown(text)}**" if text.strip() else escape_markdown(text)
        case Text(text=text, style="italic"):
            return f"_{escape_markdown(text)}_" if text.strip() else escape_markdown(text)
        case Text(text=text, style="code"):
            return f"`{no_mention(text).replace('`', 'ˋ')}`" if text else ""
        case Text(text=text):
            return escape_markdown(text)
        case Mention():
            return _mention_markup(span, ctx)
        case Link(text=text, url=url):
            if _SAFE_URL.fullmatch(url):
                return f"[{escape_markdown(text)}]({url.replace(')', '%29')})"
            return escape_markdown(f"{text} ({url})")


def _text_run(span: Text | Link) -> dict[str, Any]:
    match span:
        case Text(text=text, style=style):
            run: dict[str, Any] = {"type": "TextRun", "text": no_mention(text)}
            if style == "bold":
                run["weight"] = "Bolder"
            elif style == "italic":
                run["italic"] = True
            elif style == "code":
                run["fontType"] = "Monospace"
            return run
        case Link(text=text, url=url):
            run = {"type": "TextRun", "text": no_mention(text)}
            if _SAFE_URL.fullmatch(url):
                run["selectAction"] = {"type": "Action.OpenUrl", "url": url}
            else:
                run["text"] = no_mention(f"{text} ({url})")
            return run


def _paragraph(part: Paragraph, ctx: _Ctx) -> dict[str, Any]:
    if any(isinstance(s, Mention) for s in part.spans):
        text = "".join(_markdown_span(s, ctx) for s in part.spans)
        return {"type": "TextBlock", "text": text or " ", "wrap": True}
    runs = [_text_run(s) for s in part.spans if not isinstance(s, Mention)]
    return {"type": "RichTextBlock", "inlines": runs or [{"type": "TextRun", "text": " "}]}


def sparkline_text(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(
        "·" if v is None else _BARS[min(len(_BARS) - 1, int((v - low) / span * (len(_BARS) - 1)))]
        for v in values
    )


def _attachment(part: Attachment, links: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The document's files as links when the bot hosts them, and in any case the
    command that shows it again in the chat."""
    again = f"Type “{part.command}” to see it again."
    safe = [(name, url) for name, url in links if _SAFE_URL.fullmatch(url)]
    if not safe:
        return _rich(f"📎 {part.title}: {again}", isSubtle=True)
    inlines: list[dict[str, Any]] = [{"type": "TextRun", "text": "📎 "}]
    for index, (name, url) in enumerate(safe):
        if index:
            inlines.append({"type": "TextRun", "text": " · "})
        link = {"type": "Action.OpenUrl", "url": url}
        inlines.append({"type": "TextRun", "text": no_mention(name), "selectAction": link})
    inlines.append({"type": "TextRun", "text": f" — {again}", "isSubtle": True})
    return {"type": "RichTextBlock", "inlines": inlines}


def _button(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": button.label[:BUTTON_TITLE],
        "verb": VERB,
        "data": wire.button_data(button.action, button.ids),
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def _part(part: Part, ctx: _Ctx) -> list[dict[str, Any]]:
    match part:
        case Heading(text=text):
            return [_rich(text, weight="Bolder", size="Medium")]
        case Paragraph():
            return [_paragraph(part, ctx)]
        case Facts(facts=facts):
            return [
                {
                    "type": "FactSet",
                    "facts": [
                        {
                            "title": escape_markdown(f.label),
                            "value": _STATUS_MARK[f.status] + escape_markdown(f.value),
                        }
                        for f in facts
                    ],
                }
            ]
        case Sparkline(label=label, values=values, status=status):
            return [
                {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "width": "stretch",
                            "items": [_rich(label)],
                        },
                        {
                            "type": "Column",
                            "width": "auto",
                            "items": [
                                {
                                    "type": "TextBlock",
                                    "text": sparkline_text(values),
                                    "fontType": "Monospace",
                                    "color": _STATUS_COLOR[status],
                                }
                            ],
                        },
                    ],
                }
            ]
        case Image(ref=ref, alt_text=alt, title=title):
            url = ctx.images.get(ref)
            if url is None:
                return [_rich(f"[chart: {alt}]", isSubtle=True)]
            items: list[dict[str, Any]] = []
            if title:
                items.append(_rich(title, weight="Bolder"))
            items.append({"type": "Image", "url": url, "altText": alt, "size": "Stretch"})
            return items
        case Attachment():
            return [_attachment(part, ctx.documents.get(part.ref, ()))]
        case Buttons(buttons=buttons):
            return [{"type": "ActionSet", "actions": [_button(b) for b in buttons]}]
        case Note(text=text):
            return [_rich(text, isSubtle=True, size="Small")]
        case Divider():
            return [
                {
                    "type": "Container",
                    "separator": True,
                    "spacing": "Medium",
                    "items": [{"type": "TextBlock", "text": " ", "size": "Small"}],
                }
            ]


def _envelope(body: list[dict[str, Any]], summary: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": no_mention(summary),
        "body": body or [_rich(summary)],
        "msteams": {"width": "Full"},
    }
    if entities:
        card["msteams"]["entities"] = entities
    return card


def _size(obj: Any) -> int:
    return len(json.dumps(obj, ensure_ascii=False).encode("utf-8"))


def render_card(
    card: Card,
    *,
    mention_ids: Mapping[str, str] | None = None,
    images: Mapping[str, str] | None = None,
    documents: DocumentLinks | None = None,
) -> dict[str, Any]:
    """One Adaptive Card for the whole card (may exceed the message size: see
    ``render_card_messages``).  ``mention_ids``: e-mail (lower case) → Teams user id."""
    ctx = _Ctx(mention_ids or {}, images or {}, documents or {})
    body = [element for part in card.parts for element in _part(part, ctx)]
    return _envelope(body, card.summary, ctx.entities)


def split_card(
    card: Card,
    *,
    mention_ids: Mapping[str, str] | None = None,
    images: Mapping[str, str] | None = None,
    documents: DocumentLinks | None = None,
    limit: int = MESSAGE_BYTES,
) -> list[Card]:
    """The card cut into the cards of its messages, each under ``limit`` bytes of JSON
    once rendered, a part kept whole; the summary numbered (``… (2/3)``) when cut.  The
    adapter settles a split card message by message with these."""
    groups: list[list[Part]] = []
    parts: list[Part] = []
    body: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    for part in (piece for whole in card.parts for piece in _pieces(whole)):
        ctx = _Ctx(mention_ids or {}, images or {}, documents or {})
        elements = _part(part, ctx)
        trial = _envelope([*body, *elements], card.summary, _merge(entities, ctx.entities))
        if body and _size(trial) > limit:
            groups.append(parts)
            parts, body, entities = [], [], []
        parts.append(part)
        body.extend(elements)
        entities = _merge(entities, ctx.entities)
    if parts or not groups:
        groups.append(parts)
    total = len(groups)
    return [
        card.model_copy(
            update={
                "parts": tuple(group),
                "summary": card.summary if total == 1 else f"{card.summary} ({index}/{total})",
            }
        )
        for index, group in enumerate(groups, start=1)
    ]


def render_card_messages(
    card: Card,
    *,
    mention_ids: Mapping[str, str] | None = None,
    images: Mapping[str, str] | None = None,
    documents: DocumentLinks | None = None,
    limit: int = MESSAGE_BYTES,
) -> list[dict[str, Any]]:
    """The card as one or more Adaptive Cards, each under ``limit`` bytes of JSON."""
    pieces = split_card(card, mention_ids=mention_ids, images=images, documents=documents, limit=limit)
    return [render_card(p, mention_ids=mention_ids, images=images, documents=documents) for p in pieces]


# A paragraph longer than this is cut into several (at spaces when it can be), so no
# single element can exceed a message.
PARAGRAPH_CHARS = 6000


def _pieces(part: Part) -> list[Part]:
    if not isinstance(part, Paragraph) or sum(len(_span_len(s)) for s in part.spans) <= PARAGRAPH_CHARS:
        return [part]
    pieces: list[Paragraph] = []
    current: list[Text | Mention | Link] = []
    size = 0
    for span in part.spans:
        if isinstance(span, Text) and len(span.text) > PARAGRAPH_CHARS:
            rest = span.text
            while rest:
                room = PARAGRAPH_CHARS - size
                cut = rest.rfind(" ", 0, room) + 1 if len(rest) > room else len(rest)
                cut = cut if cut > 0 else room
                current.append(span.model_copy(update={"text": rest[:cut]}))
                size += cut
                rest = rest[cut:]
                if size >= PARAGRAPH_CHARS or (rest and cut < room):
                    pieces.append(Paragraph(spans=tuple(current)))
                    current, size = [], 0
            continue
        if size + len(_span_len(span)) > PARAGRAPH_CHARS and current:
            pieces.append(Paragraph(spans=tuple(current)))
            current, size = [], 0
        current.append(span)
        size += len(_span_len(span))
    if current:
        pieces.append(Paragraph(spans=tuple(current)))
    return list(pieces)


def _span_len(span: Text | Mention | Link) -> str:
    match span:
        case Text(text=text):
            return text
        case Mention(name=name):
            return name
        case Link(text=text, url=url):
            return text + url


def _merge(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return a + [e for e in b if e not in a]


# --- forms -----------------------------------------------------------------------------


def _range_text(inp: NumberInput) -> str:
    if inp.minimum is not None and inp.maximum is not None:
        return f"{inp.minimum:g}–{inp.maximum:g}"
    if inp.minimum is not None:
        return f"at least {inp.minimum:g}"
    if inp.maximum is not None:
        return f"at most {inp.maximum:g}"
    return ""


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _input(inp: Input) -> dict[str, Any]:
    base: dict[str, Any] = {"id": wire.input_id(inp.name), "label": inp.label, "isRequired": not inp.optional}
    if not inp.optional:
        base["errorMessage"] = f"{inp.label} is required"
    match inp:
        case NumberInput():
            placeholder = " ".join(x for x in (inp.unit, _range_text(inp)) if x)
            if inp.value is not None and not _is_number(inp.value):
                # What was typed is kept as typed: Input.Number cannot hold it.
                element = {"type": "Input.Text", **base, "value": inp.value}
            else:
                element = {"type": "Input.Number", **base}
                if inp.minimum is not None:
                    element["min"] = inp.minimum
                if inp.maximum is not None:
                    element["max"] = inp.maximum
                if inp.value is not None:
                    element["value"] = float(inp.value) if "." in inp.value else int(float(inp.value))
            if placeholder:
                element["placeholder"] = placeholder
            return element
        case TextInput():
            element = {
                "type": "Input.Text",
                **base,
                "isMultiline": inp.multiline,
                "maxLength": inp.max_length,
            }
            if inp.value is not None:
                element["value"] = inp.value
            return element
        case DateInput():
            value = inp.value if inp.value is not None else (inp.initial.isoformat() if inp.initial else None)
            if value is not None and not _ISO_DATE.fullmatch(value):
                return {"type": "Input.Text", **base, "value": value, "placeholder": "YYYY-MM-DD"}
            element = {"type": "Input.Date", **base}
            if value is not None:
                element["value"] = value
            return element
        case ChoiceInput(options=options):
            element = {
                "type": "Input.ChoiceSet",
                **base,
                "style": "compact",
                "choices": [{"title": o.label, "value": o.value} for o in options],
            }
            if inp.value is not None:
                element["value"] = inp.value
            return element


def render_form(
    form: Form, *, mention_ids: Mapping[str, str] | None = None, images: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The form as an Adaptive Card with inputs; errors next to their fields."""
    ctx = _Ctx(mention_ids or {}, images or {})
    body: list[dict[str, Any]] = [_rich(form.title, weight="Bolder", size="Medium")]
    for part in form.intro:
        body.extend(_part(part, ctx))
    known = {inp.name for inp in form.inputs}
    general = [message for name, message in form.errors.items() if name not in known]
    for message in general:
        body.append(_rich(message, color="Attention"))
    for inp in form.inputs:
        body.append(_input(inp))
        if inp.hint:
            body.append(_rich(inp.hint, isSubtle=True, size="Small", wrap_block={"spacing": "None"}))
        error = form.errors.get(inp.name)
        if error:
            body.append(_rich(error, color="Attention", wrap_block={"spacing": "None"}))
    card = _envelope(body, form.title, ctx.entities)
    card["actions"] = [
        {
            "type": "Action.Execute",
            "title": form.submit_label[:BUTTON_TITLE],
            "verb": VERB,
            "data": wire.form_data(form.action, form.ids),
        }
    ]
    return card


def attachment(card: Mapping[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": dict(card)}
