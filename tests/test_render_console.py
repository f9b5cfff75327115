"""The console renderer: what a person in a terminal reads and types.

The golden text lives in tests/golden/console/; regenerate with STATBOT_UPDATE_GOLDEN=1."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

from rich.console import Console

from adapters.console.render import (
    buttons_of,
    render_card,
    render_card_rich,
    render_form_intro,
    render_input_prompt,
)
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
    Sparkline,
    Text,
    TextInput,
    paragraph,
)

GOLDEN = Path(__file__).parent / "golden" / "console"
MARKUP = "[bold]x[/bold] [red] [link=https://evil.example]y[/link] :fire:"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("STATBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with STATBOT_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text + "\n"


def every_part_card(title: str = "Riverton 311 — week 48") -> Card:
    return Card(
        summary="week 48",
        parts=(
            Heading(text=title),
            paragraph(
                "Hi ",
                Mention(email="ana@riverton.gov", name="Ana Ortiz"),
                ", ",
                Text(text="two metrics", style="bold"),
                " are off target; see ",
                Link(text="the dashboard", url="https://stat.riverton.gov/311"),
                " or run ",
                Text(text="status 311", style="code"),
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
            Image(ref="chart-311-48", alt_text="Calls answered, last 8 weeks"),
            Attachment(
                ref="session-document:7",
                filename="session-3-sanitation-brief",
                title="Brief for session #3: Sanitation",
                command="brief 3",
            ),
            Buttons(
                buttons=(
                    Button(label="Acknowledge", action="ack", style="primary"),
                    Button(label="Snooze", action="snooze"),
                )
            ),
            Note(text="Sent Monday 08:00"),
            Divider(),
            Buttons(buttons=(Button(label="Close", action="close", style="danger"),)),
        ),
    )


def rich_output(card: Card) -> str:
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system="truecolor")
    console.print(render_card_rich(card))
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_golden_card_with_every_part() -> None:
    assert_golden("card_every_part", render_card(every_part_card()))


def test_every_part_is_readable_without_colour() -> None:
    lines = render_card(every_part_card()).splitlines()
    assert lines[0] == "Riverton 311 — week 48"
    assert set(lines[1]) == {"═"}
    assert lines[2:4] == [
        "Hi @Ana Ortiz, two metrics are off target; see the dashboard",
        "(https://stat.riverton.gov/311) or run status 311.",
    ]
    assert lines[4].split() == ["Calls", "answered:", "412", "●", "good"]
    assert lines[5].split() == ["Median", "wait:", "6", "min", "◐", "watch"]
    assert lines[6].split() == ["Backlog:", "38", "○", "attention"]
    assert lines[7].split() == ["Staff:", "12"]
    # Facts are aligned: values start in the same column.
    assert lines[4].index("412") == lines[5].index("6 min") == lines[6].index("38")
    assert lines[8] == "Calls answered: ▁▄·▆█ 412  ● good"
    assert lines[9] == "[chart: Calls answered, last 8 weeks] (chart-311-48)"
    assert lines[10:12] == [
        "[attached: session-3-sanitation-brief.pdf, session-3-sanitation-brief.md]",
        "  type brief 3 to see it again",
    ]
    assert lines[12] == "[1] Acknowledge  [2] Snooze"
    assert lines[13] == "› Sent Monday 08:00"
    assert set(lines[14]) == {"─"} and len(lines[14]) == 80
    assert lines[15] == "[3] Close"
    assert "\x1b" not in "\n".join(lines)


def test_numbers_typed_map_to_buttons_in_display_order() -> None:
    card = every_part_card()
    assert [b.action for b in buttons_of(card)] == ["ack", "snooze", "close"]
    text = render_card(card)
    for number, button in enumerate(buttons_of(card), start=1):
        assert f"[{number}] {button.label}" in text


def test_wraps_to_width() -> None:
    text = render_card(every_part_card(), width=40)
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "https://stat.riverton.gov/311" in text.replace("\n", "")


def test_rich_markup_in_user_text_is_literal() -> None:
    card = Card(
        summary=MARKUP,
        parts=(
            Heading(text=MARKUP),
            paragraph(MARKUP, Mention(email="a@b", name="[red]Al")),
            Facts(facts=(Fact(label=MARKUP, value="[red]", status="red"),)),
            Sparkline(label="[bold]s", values=(1, 2)),
            Image(ref="[b]r", alt_text="[i]alt", title="[u]t"),
            Buttons(buttons=(Button(label="[blink]go", action="go"),)),
            Note(text=MARKUP),
        ),
    )
    plain = render_card(card, width=200)
    assert plain.count(MARKUP) == 4  # heading, paragraph, fact label, note
    for literal in ("@[red]Al", "[red]", "[bold]s", "[u]t [chart: [i]alt] ([b]r)", "[blink]go"):
        assert literal in plain
    coloured = rich_output(card)
    assert "[bold]x[/bold]" in coloured and "[blink]go" in coloured and ":fire:" in coloured


def test_rich_panel_shows_every_part_in_colour() -> None:
    out = rich_output(every_part_card())
    assert "\x1b[" in out  # coloured
    for piece in (
        "Riverton 311",
        "412",
        "▁▄·▆█",
        "[chart:",
        "[attached:",
        "Acknowledge",
        "Sent Monday",
        "Close",
    ):
        assert piece in out


def checkin_form() -> Form:
    return Form(
        action="checkin.submit",
        title="Riverton 311 check-in, week 48",
        intro=(paragraph("Numbers for ", Text(text="week 48", style="bold"), ", please."),),
        inputs=(
            NumberInput(
                name="calls",
                label="Calls answered",
                unit="%",
                minimum=0,
                maximum=100,
                hint="Share of calls a person picked up.",
                value="412",
            ),
            NumberInput(name="staff", label="Staff", minimum=1, integer=True),
            TextInput(name="comment", label="What happened?", optional=True, max_length=500),
            DateInput(name="due", label="Back on target by", initial=dt.date(2026, 12, 4)),
            ChoiceInput(
                name="cause",
                label="Main cause",
                options=(
                    Option(value="staffing", label="Staffing"),
                    Option(value="demand", label="Demand"),
                ),
                value="demand",
            ),
        ),
        errors={"calls": "Must be between 0 and 100.", "_form": "Week 48 closes tonight."},
    )


def test_form_intro_has_title_intro_and_errors() -> None:
    text = render_form_intro(checkin_form())
    lines = text.splitlines()
    assert lines[0] == "Riverton 311 check-in, week 48"
    assert "Numbers for week 48, please." in lines
    assert "  ✗ Calls answered: Must be between 0 and 100." in lines
    assert "  ✗ Week 48 closes tonight." in lines
    ok = render_form_intro(checkin_form().model_copy(update={"errors": {}}))
    assert "✗" not in ok and "Please check" not in ok


def test_number_prompt_shows_error_range_unit_hint_and_current_value() -> None:
    calls = checkin_form().inputs[0]
    prompt = render_input_prompt(calls, "Must be between 0 and 100.")
    assert prompt.splitlines() == [
        "✗ Must be between 0 and 100.",
        "Calls answered (0–100 %) [412]",
        "  Share of calls a person picked up.",
    ]
    assert render_input_prompt(calls, None).splitlines()[0] == "Calls answered (0–100 %) [412]"
    staff = checkin_form().inputs[1]
    assert render_input_prompt(staff, None) == "Staff (whole number, ≥ 1)"


def test_other_prompts() -> None:
    _, _, comment, due, cause = checkin_form().inputs
    assert render_input_prompt(comment, None) == (
        "What happened? (up to 500 characters)\n  (optional, Enter to skip)"
    )
    assert render_input_prompt(due, None).startswith("Back on target by (a date, e.g.")
    assert render_input_prompt(due, None).endswith("[2026-12-04]")
    assert render_input_prompt(cause, "Pick one of the options.").splitlines() == [
        "✗ Pick one of the options.",
        "Main cause (type a number or the option) [Demand]",
        "  1) Staffing",
        "  2) Demand (current)",
    ]


def test_prompt_keeps_markup_literal() -> None:
    inp = TextInput(name="t", label="[bold]Title", value="[red]typed")
    assert render_input_prompt(inp, "[blink]bad") == "✗ [blink]bad\n[bold]Title [[red]typed]"
