"""Typed cards and forms.

The core builds these; each platform renderer turns them into its own format with an
exhaustive match, so a part added here without a renderer fails the type check.  Every
model is plain data (JSON round-trips through pydantic) because deliveries store cards in
the outbox and send them later.  User text is kept raw here and escaped by each renderer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["green", "amber", "red", "none"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- spans: the pieces of a paragraph -------------------------------------------------


class Text(_Model):
    kind: Literal["text"] = "text"
    text: str
    style: Literal["plain", "bold", "italic", "code"] = "plain"


class Mention(_Model):
    """A person the message points at; renderers turn it into a real mention when they
    know the person's platform id and into the plain name otherwise."""

    kind: Literal["mention"] = "mention"
    email: str
    name: str


class Link(_Model):
    kind: Literal["link"] = "link"
    text: str
    url: str


Span = Annotated[Text | Mention | Link, Field(discriminator="kind")]


# --- card parts ------------------------------------------------------------------------


class Heading(_Model):
    kind: Literal["heading"] = "heading"
    text: str


class Paragraph(_Model):
    kind: Literal["paragraph"] = "paragraph"
    spans: tuple[Span, ...]


class Fact(_Model):
    label: str
    value: str
    status: Status = "none"


class Facts(_Model):
    kind: Literal["facts"] = "facts"
    facts: tuple[Fact, ...]


class Sparkline(_Model):
    """A small trend of weekly values, oldest first; None marks a week with no reading."""

    kind: Literal["sparkline"] = "sparkline"
    label: str
    values: tuple[float | None, ...]
    status: Status = "none"


class Image(_Model):
    """A chart or picture.  ``ref`` names a stored image (see the chart store); adapters
    turn it into an upload or a hosted URL.  ``alt_text`` is the text alternative."""

    kind: Literal["image"] = "image"
    ref: str
    alt_text: str
    title: str = ""


class Attachment(_Model):
    """A document that goes with the card as files (``filename`` + each format's
    extension).  ``ref`` names the stored document (``session-document:<id>``); adapters
    turn it into uploaded files or links to hosted ones.  ``command`` is what the reader
    types to see it again where neither is possible, so the card always says how."""

    kind: Literal["attachment"] = "attachment"
    ref: str
    filename: str
    title: str
    command: str
    formats: tuple[Literal["pdf", "md"], ...] = ("pdf", "md")

    def filenames(self) -> tuple[str, ...]:
        return tuple(f"{self.filename}.{fmt}" for fmt in self.formats)


class Button(_Model):
    """A one-click action.  It carries an action name and ids only: the handler reloads
    the state, so a stale button can never act on stale data."""

    label: str
    action: str
    ids: dict[str, str] = Field(default_factory=dict)
    style: Literal["default", "primary", "danger"] = "default"


class Buttons(_Model):
    kind: Literal["buttons"] = "buttons"
    buttons: tuple[Button, ...]


class Note(_Model):
    """Small print: context, hints, timestamps."""

    kind: Literal["note"] = "note"
    text: str


class Divider(_Model):
    kind: Literal["divider"] = "divider"


Part = Annotated[
    Heading | Paragraph | Facts | Sparkline | Image | Attachment | Buttons | Note | Divider,
    Field(discriminator="kind"),
]


class Card(_Model):
    kind: Literal["card"] = "card"
    parts: tuple[Part, ...]
    # A one-line summary: notification text, screen readers, and platforms' fallback.
    summary: str

    def plain_text(self) -> str:
        """The card as plain text (fallbacks, logs, tests)."""
        lines: list[str] = []
        for part in self.parts:
            match part:
                case Heading(text=text):
                    lines.append(text)
                case Paragraph(spans=spans):
                    lines.append("".join(_span_text(s) for s in spans))
                case Facts(facts=facts):
                    lines.extend(f"{f.label}: {f.value}" for f in facts)
                case Sparkline(label=label, values=values):
                    shown = ", ".join("—" if v is None else f"{v:g}" for v in values)
                    lines.append(f"{label}: {shown}")
                case Image(alt_text=alt):
                    lines.append(f"[chart: {alt}]")
                case Attachment():
                    lines.append(f"[attached: {', '.join(part.filenames())}]")
                case Buttons(buttons=buttons):
                    lines.append(" ".join(f"[{b.label}]" for b in buttons))
                case Note(text=text):
                    lines.append(text)
                case Divider():
                    lines.append("---")
        return "\n".join(lines)


def _span_text(span: Text | Mention | Link) -> str:
    match span:
        case Text(text=text, style="code"):
            return f"`{text}`"
        case Text(text=text):
            return text
        case Mention(name=name):
            return f"@{name}"
        case Link(text=text, url=url):
            return f"{text} <{url}>"


def paragraph(*spans: str | Text | Mention | Link) -> Paragraph:
    """Build a paragraph; bare strings become plain text spans."""
    return Paragraph(spans=tuple(Text(text=s) if isinstance(s, str) else s for s in spans))


# --- forms -----------------------------------------------------------------------------


class _Input(_Model):
    name: str
    label: str
    hint: str = ""
    optional: bool = False
    # What the person typed last time, kept verbatim so nothing typed is lost.
    value: str | None = None


class NumberInput(_Input):
    kind: Literal["number"] = "number"
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False


class TextInput(_Input):
    kind: Literal["text"] = "text"
    multiline: bool = False
    max_length: int = 3000


class DateInput(_Input):
    kind: Literal["date"] = "date"
    initial: dt.date | None = None


class Option(_Model):
    value: str
    label: str


class ChoiceInput(_Input):
    kind: Literal["choice"] = "choice"
    options: tuple[Option, ...]


Input = Annotated[NumberInput | TextInput | DateInput | ChoiceInput, Field(discriminator="kind")]


class Form(_Model):
    """A form the person fills in.  ``action`` names the handler for the submission and
    ``ids`` what it is about; ``errors`` maps input names to messages when a submission
    came back invalid."""

    kind: Literal["form"] = "form"
    action: str
    ids: dict[str, str] = Field(default_factory=dict)
    title: str
    submit_label: str = "Submit"
    intro: tuple[Part, ...] = ()
    inputs: tuple[Input, ...]
    errors: dict[str, str] = Field(default_factory=dict)


Message = Annotated[Card | Form, Field(discriminator="kind")]


class Reply(_Model):
    """What a turn answers.  ``private`` asks the platform to show it only to the person
    who asked (Slack ephemeral) when the turn happened in a shared channel."""

    messages: tuple[Message, ...] = ()
    private: bool = True
    # The button that caused this turn settled its item (acknowledged, snoozed, done,
    # answered): platforms that can should update the message it came from, so nobody
    # else clicks a stale button.
    settles_source: bool = False

    def settling(self) -> Reply:
        return self.model_copy(update={"settles_source": True})

    @classmethod
    def text(cls, text: str, *, private: bool = True) -> Reply:
        """A one-paragraph answer.  Words between backticks (`help`) are commands the
        person can type: they become code spans, which every platform shows as such."""
        return cls(messages=(Card(parts=(with_code(text),), summary=text.replace("`", "")),), private=private)


def with_code(text: str) -> Paragraph:
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick is just a character
        pieces = [*pieces[:-2], pieces[-2] + "`" + pieces[-1]]
    spans = [
        Text(text=piece, style="code" if index % 2 else "plain")
        for index, piece in enumerate(pieces)
        if piece
    ]
    return Paragraph(spans=tuple(spans) or (Text(text=""),))
