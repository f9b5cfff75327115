"""Cards and forms → terminal text.  Pure functions: nothing is printed here.

User text only ever goes into ``rich.text.Text`` objects (never into markup strings), so
a commitment titled ``[bold]x[/bold]`` or ``[red]`` shows literally.  The plain output
must read well without colour: statuses are a symbol and a word, buttons are numbered so
the person can type the number.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import assert_never

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text as RichText

from bot.messages.model import (
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
    Status,
    Text,
    TextInput,
)
from bot.messages.text import format_number, sparkline_text

_STATUS_MARK: dict[Status, tuple[str, str, str]] = {
    # symbol, word, colour
    "green": ("●", "good", "green"),
    "amber": ("◐", "watch", "yellow"),
    "red": ("○", "attention", "red"),
    "none": ("", "", ""),
}


def _status(status: Status) -> RichText:
    symbol, word, colour = _STATUS_MARK[status]
    return RichText(f"{symbol} {word}", style=colour) if symbol else RichText("")


def _span(span: Text | Mention | Link) -> RichText:
    match span:
        case Text(text=text, style=style):
            styles = {"plain": "", "bold": "bold", "italic": "italic", "code": "cyan"}
            return RichText(text, style=styles[style])
        case Mention(name=name):
            return RichText(f"@{name}", style="bold cyan")
        case Link(text=text, url=url):
            # The URL is shown as well: terminals without hyperlinks must still reveal it.
            shown = RichText("")
            shown.append(text or url, style=f"underline link {url}")
            if text:
                shown.append(f" ({url})", style="dim")
            return shown
        case _:
            assert_never(span)


def buttons_of(card: Card) -> list[Button]:
    """The card's buttons in display order; button n on screen is ``buttons_of(card)[n-1]``."""
    return [b for part in card.parts if isinstance(part, Buttons) for b in part.buttons]


def _renderables(parts: Iterable[Part], first_button: int = 1) -> list[RenderableType]:
    out: list[RenderableType] = []
    number = first_button
    for part in parts:
        match part:
            case Heading(text=text):
                out.append(RichText(text, style="bold"))
                out.append(RichText("═" * min(max(len(text), 3), 60), style="bold"))
            case Paragraph(spans=spans):
                out.append(RichText("").join(_span(s) for s in spans))
            case Facts(facts=facts):
                grid = Table.grid(padding=(0, 2))
                grid.add_column(no_wrap=True)
                grid.add_column()
                grid.add_column(no_wrap=True)
                for fact in facts:
                    grid.add_row(RichText(f"{fact.label}:"), RichText(fact.value), _status(fact.status))
                out.append(grid)
            case Sparkline(label=label, values=values, status=status):
                present = [v for v in values if v is not None]
                latest = format_number(present[-1]) if present else "no readings"
                line = RichText(f"{label}: ")
                line.append(sparkline_text(values), style="cyan")
                line.append(f" {latest}")
                if status != "none":
                    line.append("  ").append_text(_status(status))
                out.append(line)
            case Image(ref=ref, alt_text=alt, title=title):
                line = RichText("")
                if title:
                    line.append(f"{title} ", style="bold")
                line.append(f"[chart: {alt}] ({ref})")
                out.append(line)
            case Attachment(command=command):
                # The console keeps no files (the demo writes them to its folder); the
                # command shows the document in the chat.
                out.append(RichText(f"[attached: {', '.join(part.filenames())}]"))
                out.append(RichText(f"  type {command} to see it again", style="dim"))
            case Buttons(buttons=buttons):
                line = RichText("")
                for i, button in enumerate(buttons):
                    if i:
                        line.append("  ")
                    colour = {"default": "", "primary": "bold green", "danger": "bold red"}
                    line.append(f"[{number}] ", style="bold")
                    line.append(button.label, style=colour[button.style])
                    number += 1
                out.append(line)
            case Note(text=text):
                out.append(RichText(f"› {text}", style="dim"))
            case Divider():
                out.append(Rule(style="dim", characters="─"))
            case _:
                assert_never(part)
    return out


def _console(width: int) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        no_color=True,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )


def _plain(renderables: list[RenderableType], width: int) -> str:
    console = _console(width)
    for renderable in renderables:
        console.print(renderable)
    file = console.file
    assert isinstance(file, io.StringIO)
    lines = [line.rstrip() for line in file.getvalue().splitlines()]
    return "\n".join(lines).strip("\n")


def render_card(card: Card, *, width: int = 80, first_button: int = 1) -> str:
    """The card as plain terminal text (no colour codes), wrapped to ``width``; its
    buttons are numbered from ``first_button``."""
    return _plain(_renderables(card.parts, first_button), width)


def render_card_rich(card: Card, *, first_button: int = 1) -> RenderableType:
    """The card in a panel, with colour, for ``Console.print``."""
    return Panel(Group(*_renderables(card.parts, first_button)), box=box.ROUNDED, expand=False)


# --- forms -----------------------------------------------------------------------------


def render_form_intro(form: Form, *, width: int = 80) -> str:
    """What the console shows before asking the form's fields one by one."""
    parts: list[RenderableType] = [
        RichText(form.title, style="bold"),
        RichText("═" * min(max(len(form.title), 3), 60), style="bold"),
        *_renderables(form.intro),
    ]
    if form.errors:
        labels = {inp.name: inp.label for inp in form.inputs}
        parts.append(RichText("Please check:", style="bold red"))
        for name, message in form.errors.items():
            where = f"{labels[name]}: " if name in labels else ""
            parts.append(RichText(f"  ✗ {where}{message}", style="red"))
    return _plain(parts, width)


def _range_text(inp: NumberInput) -> str:
    unit = f" {inp.unit}" if inp.unit else ""
    lo, hi = inp.minimum, inp.maximum
    if lo is not None and hi is not None:
        return f"{format_number(lo)}–{format_number(hi)}{unit}"
    if lo is not None:
        return f"≥ {format_number(lo)}{unit}"
    if hi is not None:
        return f"≤ {format_number(hi)}{unit}"
    return inp.unit


def render_input_prompt(inp: Input, error: str | None = None) -> str:
    """The prompt for one field: error first, then label, expected form, current value,
    hint, numbered choices and whether it can be skipped.  Plain text: print it with
    ``markup=False`` (or wrap it in ``rich.text.Text``) since it holds user text."""
    lines: list[str] = []
    if error:
        lines.append(f"✗ {error}")
    current = inp.value
    match inp:
        case NumberInput():
            expected = _range_text(inp)
            if inp.integer:
                expected = f"whole number, {expected}" if expected else "whole number"
        case TextInput(max_length=max_length):
            expected = f"up to {max_length} characters" if max_length < 3000 else ""
        case DateInput(initial=initial):
            expected = "a date, e.g. 2026-03-14 or next Friday"
            if current is None and initial is not None:
                current = initial.isoformat()
        case ChoiceInput(options=options):
            expected = "type a number or the option"
            labels = {o.value: o.label for o in options}
            current = labels.get(current, current) if current is not None else None
        case _:
            assert_never(inp)
    head = inp.label
    if expected:
        head += f" ({expected})"
    if current:
        head += f" [{current}]"
    lines.append(head)
    if inp.hint:
        lines.append(f"  {inp.hint}")
    if isinstance(inp, ChoiceInput):
        for i, option in enumerate(inp.options, start=1):
            marker = " (current)" if inp.value == option.value else ""
            lines.append(f"  {i}) {option.label}{marker}")
    if inp.optional and not error:
        # Asked again with an error, it is needed this time: Enter would not skip it.
        lines.append("  (optional, Enter to skip)")
    return "\n".join(lines)
