"""Cards and forms → Slack Block Kit.  Pure functions: no client, no I/O.

Escaping (DESIGN.md §3).  Slack has no escape character for mrkdwn: a backslash stays
visible and the formatting still applies, and a zero-width space next to ``*``/``_``
is the documented way to *force* formatting mid-word (jsx-slack's "exact mode"), so it
cannot be used to neutralise it.  So user text is made literal in two ways:

* Wherever Slack accepts a ``plain_text`` object (header, button, input label and hint,
  option, modal title, context elements for notes and chart captions) the raw text goes
  in a plain_text object: Slack never parses mentions or formatting there, so the text
  shows exactly as typed.
* Where it must be ``mrkdwn`` (paragraphs with mentions, links and styles; fact fields;
  sparkline labels) every user character is escaped by ``_esc``: ``& < >`` become
  entities, which Slack requires and which stops ``<!channel>``/``<@U…>`` from pinging;
  the formatting characters ``* _ ~ ` `` (and their full-width forms, which Slack also
  honours) are replaced by look-alike code points (∗ ˍ ∼ ˋ), which never format; and a
  ``>`` that starts a line gets a soft hyphen in front so it does not open a quote.
  Every mrkdwn object is ``verbatim`` so Slack does not auto-link bare URLs, channel
  names or ``@here``.  The cost: a copied ``*`` is a ∗.  Styles the core asked for are
  real delimiters around the escaped text, wrapped in zero-width spaces so they format
  even when the span touches a word.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from adapters.slack.wire import INPUT_ACTION, button_action_id, encode_action
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
    Input,
    Link,
    Mention,
    Note,
    NumberInput,
    Paragraph,
    Part,
    Sparkline,
    Status,
    Text,
    TextInput,
)
from bot.messages.text import format_number, sparkline_text

# Slack's documented limits (https://docs.slack.dev/reference/block-kit/).
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
LABEL_TEXT = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
ALT_TEXT = 2000
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
INPUT_VALUE = 3000

ZWSP = "\u200b"
_SOFT_HYPHEN = "\u00ad"
_ELLIPSIS = "…"
_LOOKALIKES = {
    "*": "\u2217",  # ∗ asterisk operator
    "_": "\u02cd",  # ˍ modifier letter low macron
    "~": "\u223c",  # ∼ tilde operator
    "`": "\u02cb",  # ˋ modifier letter grave accent
    "＊": "\ufe61",  # ﹡ small asterisk
    "＿": "\u2e0f",  # ⸏ paragraphos
    "｀": "\u02cb",
    "～": "\u223c",
}
_STATUS_EMOJI: dict[Status, str] = {
    "green": ":large_green_circle:",
    "amber": ":large_yellow_circle:",
    "red": ":red_circle:",
    "none": "",
}
_STYLE_MARK = {"bold": "*", "italic": "_", "code": "`"}
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_SAFE_URL = re.compile(r"(https?://|mailto:)\S+", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOKEN = re.compile(r"\S+\s*|\s+")


# --- escaping --------------------------------------------------------------------------


def _esc_chars(raw: str, *, code: bool = False) -> Iterable[str]:
    """The escaped form of each character, so lengths can be counted before joining."""
    prev = "\n"
    for ch in raw:
        if ch == "&":
            out = "&amp;"
        elif ch == "<":
            out = "&lt;"
        elif ch == ">":
            out = _SOFT_HYPHEN + "&gt;" if prev == "\n" else "&gt;"
        elif ch == "＞" and prev == "\n":
            out = _SOFT_HYPHEN + ch
        elif code:
            # Inside a code span only a backtick can end it; the rest is inert.
            out = _LOOKALIKES[ch] if ch in "`｀" else ch
        else:
            out = _LOOKALIKES.get(ch, ch)
        yield out
        prev = ch


def _esc(raw: str, *, code: bool = False) -> str:
    """User text for a mrkdwn object: shown literally, never pinging, never formatting."""
    return "".join(_esc_chars(raw, code=code))


def escape_mrkdwn(raw: str) -> str:
    """Public for the adapter's own mrkdwn strings (e.g. chat.postMessage ``text``)."""
    return _esc(raw)


def _esc_truncated(raw: str, limit: int) -> str:
    """Escaped, and cut (with …) so the escaped form fits ``limit``."""
    pieces = list(_esc_chars(raw))
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    out: list[str] = []
    used = len(_ELLIPSIS)
    for piece in pieces:
        if used + len(piece) > limit:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + _ELLIPSIS


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def _plain(text: str, limit: int, *, fallback: str = " ") -> PlainTextObject:
    """plain_text keeps user text literal; Slack refuses empty text objects."""
    return PlainTextObject(text=_truncate(text, limit) or fallback)


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


# --- splitting long text ---------------------------------------------------------------


def _cut_to_fit(raw: str, cost: Callable[[str], int], limit: int) -> list[str]:
    """Split raw text into pieces with cost(piece) <= limit, at whitespace when possible.

    ``cost`` must be subadditive (the cost of a join is at most the sum), which holds for
    escaping and for styling, so summing token costs is a safe upper bound."""
    if cost(raw) <= limit:
        return [raw]
    pieces: list[str] = []
    current, current_cost = "", 0
    for token in _TOKEN.findall(raw):
        token_cost = cost(token)
        if token_cost > limit:
            # One huge word: cut it by characters.
            if current:
                pieces.append(current)
                current, current_cost = "", 0
            start = 0
            while start < len(token):
                # Largest end with cost(token[start:end]) <= limit (cost grows with end).
                lo, hi = start + 1, len(token)
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if cost(token[start:mid]) <= limit:
                        lo = mid
                    else:
                        hi = mid - 1
                pieces.append(token[start:lo])
                start = lo
            continue
        if current and current_cost + token_cost > limit:
            pieces.append(current)
            current, current_cost = "", 0
        current += token
        current_cost += token_cost
    if current:
        pieces.append(current)
    return pieces


def _styled(raw: str, style: Literal["plain", "bold", "italic", "code"]) -> str:
    if style == "plain":
        return _esc(raw)
    mark = _STYLE_MARK[style]
    lines = []
    # Slack styles never cross a line break, so each line is styled on its own, with the
    # surrounding whitespace kept outside the delimiters (where Slack wants it).
    for line in raw.split("\n"):
        core = line.strip()
        if not core:
            lines.append(_esc(line))
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()) :]
        lines.append(f"{lead}{_wrap(_esc(core, code=style == 'code'), mark)}{trail}")
    return "\n".join(lines)


def _wrap(escaped: str, mark: str) -> str:
    # Zero-width spaces around the delimiters let the style apply even when the span
    # touches a word (Slack only formats at word boundaries).
    return f"{ZWSP}{mark}{ZWSP}{escaped}{ZWSP}{mark}{ZWSP}"


def _bold(escaped: str) -> str:
    return _wrap(escaped, "*")


def _span_atoms(span: Text | Mention | Link, mention_ids: Mapping[str, str]) -> list[str]:
    """Rendered mrkdwn pieces of one span, each short enough for a section on its own."""
    match span:
        case Text(text=text, style=style):
            pieces = _cut_to_fit(text, lambda s: len(_styled(s, style)), SECTION_TEXT)
            return [_styled(p, style) for p in pieces]
        case Mention(email=email, name=name):
            user_id = mention_ids.get(email, "")
            if _SLACK_USER_ID.fullmatch(user_id):
                return [f"<@{user_id}>"]
            return [_esc_truncated(name, SECTION_TEXT)]
        case Link(text=text, url=url):
            # Only real web/mail URLs become links: a "url" like "!channel" or "@U123"
            # would otherwise turn into a ping.
            safe_url = url.replace("&", "&amp;").replace("|", "%7C")
            if _SAFE_URL.fullmatch(url) and "<" not in url and ">" not in url:
                label = _esc_truncated(text, SECTION_TEXT // 2) if text else ""
                rendered = f"<{safe_url}|{label}>" if label else f"<{safe_url}>"
                if len(rendered) <= SECTION_TEXT:
                    return [rendered]
            shown = f"{text} ({url})" if text else url
            return [_esc(p) for p in _cut_to_fit(shown, lambda s: len(_esc(s)), SECTION_TEXT)]
        case _:
            assert_never(span)


def _pack(atoms: Iterable[str], limit: int) -> list[str]:
    """Join atoms (each <= limit) into as few strings <= limit as possible, in order."""
    out: list[str] = []
    current = ""
    for atom in atoms:
        if current and len(current) + len(atom) > limit:
            out.append(current)
            current = ""
        current += atom
    if current:
        out.append(current)
    return out


# --- cards -----------------------------------------------------------------------------


@dataclass
class _Context:
    mention_ids: Mapping[str, str]
    image_urls: Mapping[str, str]
    attached: Collection[str] = ()
    button_index: int = 0
    blocks: list[Block] = field(default_factory=list)


def _fact_field(fact: Fact) -> MarkdownTextObject:
    label = _esc_truncated(fact.label, 900)
    emoji = _STATUS_EMOJI[fact.status]
    value = _esc_truncated(fact.value, FIELD_TEXT - len(label) - len(emoji) - 10) or "—"
    head = f"{_bold(label)}\n" if label.strip() else ""
    return _mrkdwn(f"{head}{emoji + ' ' if emoji else ''}{value}")


def _sparkline_block(part: Sparkline) -> SectionBlock:
    present = [v for v in part.values if v is not None]
    latest = format_number(present[-1]) if present else "no readings"
    emoji = _STATUS_EMOJI[part.status]
    label = _esc_truncated(part.label, 1000)
    spark = sparkline_text(part.values[-200:])
    text = f"{_bold(label)}  `{spark}`  {latest}" if spark else f"{_bold(label)}  {latest}"
    return SectionBlock(text=_mrkdwn(f"{emoji} {text}" if emoji else text))


def _context_plain(text: str) -> list[ContextBlock]:
    if not text.strip():
        return []  # Slack refuses empty text objects
    pieces = _cut_to_fit(text, len, CONTEXT_TEXT)
    return [
        ContextBlock(elements=[PlainTextObject(text=p) for p in pieces[i : i + CONTEXT_ELEMENTS]])
        for i in range(0, len(pieces), CONTEXT_ELEMENTS)
    ]


def _button_element(button: Button, index: int) -> ButtonElement:
    value = encode_action(button.action, button.ids)
    if len(value) > BUTTON_VALUE:
        # Cannot be split or cut without breaking the handler; buttons carry ids only, so
        # this is a bug in the card, and failing here beats Slack refusing the message.
        raise ValueError(f"button {button.label!r}: value over {BUTTON_VALUE} characters")
    return ButtonElement(
        text=_plain(button.label, BUTTON_TEXT),
        action_id=button_action_id(button.action, index),
        value=value,
        style=None if button.style == "default" else button.style,
    )


def _render_part(part: Part, ctx: _Context) -> None:
    out = ctx.blocks
    match part:
        case Heading(text=text):
            if text.strip():
                out.append(HeaderBlock(text=_plain(" ".join(text.split()), HEADER_TEXT)))
        case Paragraph(spans=spans):
            atoms = [a for span in spans for a in _span_atoms(span, ctx.mention_ids)]
            out.extend(SectionBlock(text=_mrkdwn(t)) for t in _pack(atoms, SECTION_TEXT) if t.strip())
        case Facts(facts=facts):
            fields = [_fact_field(f) for f in facts]
            out.extend(
                SectionBlock(fields=fields[i : i + SECTION_FIELDS])
                for i in range(0, len(fields), SECTION_FIELDS)
            )
        case Sparkline():
            out.append(_sparkline_block(part))
        case Image(ref=ref, alt_text=alt, title=title):
            url = ctx.image_urls.get(ref)
            if url:
                out.append(
                    ImageBlock(
                        image_url=url,
                        alt_text=_truncate(alt, ALT_TEXT) or "chart",
                        title=_plain(title, ALT_TEXT) if title else None,
                    )
                )
            else:
                # The adapter uploads the file itself; the card still says what it shows.
                caption = f"{title} — chart: {alt}" if title else f"chart: {alt}"
                out.extend(_context_plain(caption))
        case Attachment(ref=ref):
            out.extend(_context_plain(attachment_text(part, attached=ref in ctx.attached)))
        case Buttons(buttons=buttons):
            elements = []
            for button in buttons:
                elements.append(_button_element(button, ctx.button_index))
                ctx.button_index += 1
            out.extend(
                ActionsBlock(elements=elements[i : i + ACTIONS_ELEMENTS])
                for i in range(0, len(elements), ACTIONS_ELEMENTS)
            )
        case Note(text=text):
            out.extend(_context_plain(text))
        case Divider():
            out.append(DividerBlock())
        case _:
            assert_never(part)


def attachment_text(part: Attachment, *, attached: bool) -> str:
    """What the card says of its document: the files the adapter puts in the message's
    thread, and in any case the command that shows it again."""
    again = f"Type “{part.command}” to see it again."
    if attached:
        return f"📎 {', '.join(part.filenames())} in the thread below. {again}"
    return f"📎 {part.title}: {again}"


def _render_parts(
    parts: Iterable[Part],
    mention_ids: Mapping[str, str] | None,
    image_urls: Mapping[str, str] | None,
    attached: Collection[str] = (),
) -> list[dict[str, Any]]:
    ctx = _Context(mention_ids=mention_ids or {}, image_urls=image_urls or {}, attached=attached)
    for part in parts:
        _render_part(part, ctx)
    return [block.to_dict() for block in ctx.blocks]


def render_card(
    card: Card,
    *,
    mention_ids: Mapping[str, str] | None = None,
    image_urls: Mapping[str, str] | None = None,
    attached: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Block Kit blocks for a card, every text within Slack's per-field limits.

    ``mention_ids`` maps e-mails to Slack user ids (unknown people show by name);
    ``image_urls`` maps image refs to hosted URLs (others become a caption, and the
    adapter uploads the file); ``attached`` names the documents (attachment refs) whose
    files the adapter uploads into the message's thread.  The result may hold more than
    50 blocks: send it through ``split_blocks`` (or use ``render_card_messages``)."""
    return _render_parts(card.parts, mention_ids, image_urls, attached)


def split_blocks(blocks: list[dict[str, Any]], limit: int = MESSAGE_BLOCKS) -> list[list[dict[str, Any]]]:
    """Split blocks into messages of at most ``limit`` blocks.

    A header or a divider starts a logical group; a group moves to the next message whole
    when it fits there, and only a group longer than ``limit`` is cut."""
    if limit < 1:
        raise ValueError("limit must be positive")
    groups: list[list[dict[str, Any]]] = []
    for block in blocks:
        if not groups or block.get("type") in ("header", "divider"):
            groups.append([])
        groups[-1].append(block)
    messages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for group in groups:
        if len(current) + len(group) <= limit:
            current.extend(group)
            continue
        if current:
            messages.append(current)
            current = []
        while len(group) > limit:
            messages.append(group[:limit])
            group = group[limit:]
        current = list(group)
    if current:
        messages.append(current)
    return messages


def render_card_messages(
    card: Card,
    *,
    mention_ids: Mapping[str, str] | None = None,
    image_urls: Mapping[str, str] | None = None,
    attached: Collection[str] = (),
) -> list[list[dict[str, Any]]]:
    """The card as one or more messages' ``blocks``, each within Slack's 50-block limit."""
    return split_blocks(render_card(card, mention_ids=mention_ids, image_urls=image_urls, attached=attached))


def fallback_text(card: Card) -> str:
    """The ``text`` of chat.postMessage: shown in notifications, read by screen readers."""
    return _esc_truncated(card.summary, SECTION_TEXT)


# --- forms -----------------------------------------------------------------------------


def _range_text(inp: NumberInput) -> str:
    unit = f" {inp.unit}" if inp.unit else ""
    lo, hi = inp.minimum, inp.maximum
    if lo is not None and hi is not None:
        return f"{format_number(lo)}–{format_number(hi)}{unit}"
    if lo is not None:
        return f"≥ {format_number(lo)}{unit}"
    if hi is not None:
        return f"≤ {format_number(hi)}{unit}"
    return ""


def _number_fits(inp: NumberInput, value: str) -> bool:
    """Whether Slack's number_input accepts ``value`` as its initial value."""
    if not _PLAIN_NUMBER.fullmatch(value):
        return False
    if inp.integer and "." in value:
        return False
    number = float(value)
    if inp.minimum is not None and number < inp.minimum:
        return False
    return inp.maximum is None or number <= inp.maximum


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _typed_text(value: str) -> PlainTextInputElement:
    # Keeps what the person typed when the proper element would refuse it; the hint (and
    # the submission error) says what is expected.
    return PlainTextInputElement(action_id=INPUT_ACTION, initial_value=_truncate(value, INPUT_VALUE))


def _input_element(inp: Input, value: str | None) -> InputInteractiveElement:
    match inp:
        case NumberInput():
            if value is not None and not _number_fits(inp, value):
                return _typed_text(value)
            return NumberInputElement(
                action_id=INPUT_ACTION,
                is_decimal_allowed=not inp.integer,
                initial_value=value,
                min_value=None if inp.minimum is None else format_number(inp.minimum),
                max_value=None if inp.maximum is None else format_number(inp.maximum),
            )
        case TextInput(multiline=multiline, max_length=max_length):
            limit = min(max_length, INPUT_VALUE)
            if value is not None and len(value) > limit:
                # A longer kept value would make Slack refuse the whole view.
                limit = INPUT_VALUE
            return PlainTextInputElement(
                action_id=INPUT_ACTION,
                multiline=multiline or None,
                max_length=limit,
                initial_value=None if value is None else _truncate(value, INPUT_VALUE),
            )
        case DateInput(initial=initial):
            if value is not None and not _is_iso_date(value):
                return _typed_text(value)
            initial_date = value or (initial.isoformat() if initial else None)
            return DatePickerElement(action_id=INPUT_ACTION, initial_date=initial_date)
        case ChoiceInput(options=options):
            if not options or len(options) > SELECT_OPTIONS:
                raise ValueError(f"choice {inp.name!r}: needs 1–{SELECT_OPTIONS} options")
            rendered = []
            initial_option = None
            for option in options:
                if len(option.value) > OPTION_VALUE:
                    raise ValueError(f"choice {inp.name!r}: option value over {OPTION_VALUE}")
                slack_option = Option(value=option.value, text=_plain(option.label, OPTION_TEXT))
                rendered.append(slack_option)
                if value == option.value:
                    initial_option = slack_option
            return StaticSelectElement(
                action_id=INPUT_ACTION, options=rendered, initial_option=initial_option
            )
        case _:
            assert_never(inp)


def _input_block(inp: Input, error: str | None) -> InputBlock:
    label = inp.label or inp.name
    hint_parts = []
    if error:
        hint_parts.append(f"⚠ {error}")
    if inp.hint:
        hint_parts.append(inp.hint)
    if isinstance(inp, NumberInput):
        if inp.unit:
            label = f"{label} ({inp.unit})"
        if range_text := _range_text(inp):
            hint_parts.append(f"Range: {range_text}")
    value = inp.value.strip() if inp.value is not None else None
    hint = " · ".join(hint_parts)
    return InputBlock(
        block_id=inp.name,
        label=_plain(label, LABEL_TEXT),
        element=_input_element(inp, value or None),
        hint=_plain(hint, LABEL_TEXT) if hint else None,
        optional=True if inp.optional else None,
    )


def _input_errors(form: Form) -> dict[str, str]:
    """Errors keyed by input names; errors about no known input go to the first input,
    since Slack only shows (and only accepts) errors for blocks of the view."""
    names = [inp.name for inp in form.inputs]
    known = {k: v for k, v in form.errors.items() if k in names}
    stray = [v for k, v in form.errors.items() if k not in names]
    if stray and names:
        first = names[0]
        known[first] = " ".join([*([known[first]] if first in known else []), *stray])
    return known


def render_form(
    form: Form,
    *,
    callback_id: str,
    private_metadata: str = "",
    mention_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A modal view (for views.open / views.update / response_action "update").

    Input values come back under ``view.state.values[input.name]["value"]``.  Raises
    ValueError when the form cannot be a modal: more than 100 blocks (forms are small:
    split the form), private_metadata over 3000 characters (cutting it would corrupt it)."""
    if len(private_metadata) > PRIVATE_METADATA:
        raise ValueError(f"private_metadata over {PRIVATE_METADATA} characters")
    blocks = _render_parts(form.intro, mention_ids, None)
    errors = _input_errors(form)
    if form.errors:
        lines = "\n".join(f"• {_esc_truncated(msg, 500)}" for msg in form.errors.values())
        text = _truncate(f":warning: *Please check:*\n{lines}", SECTION_TEXT)
        blocks.append(SectionBlock(text=_mrkdwn(text)).to_dict())
    blocks.extend(_input_block(inp, errors.get(inp.name)).to_dict() for inp in form.inputs)
    if not blocks:
        raise ValueError(f"form {form.title!r} has nothing to show")
    if len(blocks) > MODAL_BLOCKS:
        raise ValueError(f"form {form.title!r} needs {len(blocks)} blocks; a modal takes 100")
    view = View(
        type="modal",
        callback_id=callback_id,
        title=_plain(form.title, VIEW_TITLE, fallback="statbot"),
        submit=_plain(form.submit_label, VIEW_TITLE, fallback="Submit"),
        close=_plain("Cancel", VIEW_TITLE),
        blocks=blocks,
        private_metadata=private_metadata or None,
    )
    result: dict[str, Any] = view.to_dict()
    return result


def form_errors(form: Form) -> dict[str, str]:
    """block_id → message for ``ack(response_action="errors", errors=...)``."""
    return _input_errors(form)
