"""A session document as a PDF: what a reader sees in it (read back with pypdf), people's
text shown as typed whatever it holds, and fpdf2 loaded only when a PDF is made."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from adapters.documents import markdown_pdf

BRIEF = """# Brief for session #3: Sanitation, Tue 01 Dec 10:00 EST

Chaired by Zoë Šťastná. The last session was Tue 17 Nov 10:00 EST; the numbers are those up to 2026-W48.

## What was promised at the last session

1. **Hire two drivers (Robert Hayes)** — kept: done Wed 25 Nov, due Fri 27 Nov
2. **Publish the route map** — late: due Wed 25 Nov, open 5 days past it

## Standing exceptions (off target 3 weeks or more)

3. **Tons of refuse collected** — moved the wrong way (▼ 260) to 1,700 in 2026-W48

## Suggested questions

4. **The promise “Publish the route map” due Wed 25 Nov is late: when will it be done?**

- The data: [the overtime sheet](https://files.riverton.gov/overtime.xlsx) → `route 7`

_1 item dropped from the draft._
"""


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_brief_reads_as_written_with_its_headings_lists_and_links() -> None:
    pdf = markdown_pdf(
        BRIEF,
        title="Brief for session #3: Sanitation",
        created_at=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC),
    )
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    reader, text = read(pdf)
    said = words(text)
    for line in (
        "Brief for session #3: Sanitation, Tue 01 Dec 10:00 EST",
        "Chaired by Zoë Šťastná.",
        "1. Hire two drivers (Robert Hayes) — kept: done Wed 25 Nov, due Fri 27 Nov",
        "2. Publish the route map — late",
        "3. Tons of refuse collected — moved the wrong way (▼ 260) to 1,700",
        "4. The promise “Publish the route map” due Wed 25 Nov is late",
        "• The data: the overtime sheet → route 7",
        "1 item dropped from the draft.",
    ):
        assert line in said, line
    # No Markdown is left over: it became the layout.
    assert "**" not in text and "##" not in text and "](" not in text and "_1 item" not in text
    assert reader.metadata is not None and reader.metadata.title == "Brief for session #3: Sanitation"
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("Bold" in f for f in fonts) and any("Oblique" in f for f in fonts)
    links = [a.get_object()["/A"]["/URI"] for a in reader.pages[0].get("/Annots", [])]
    assert links == ["https://files.riverton.gov/overtime.xlsx"]
    # Printed, each page says what it belongs to.
    assert "Brief for session #3: Sanitation · page 1/1" in said


def test_the_same_document_gives_the_same_file() -> None:
    at = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    assert markdown_pdf(BRIEF, title="t", created_at=at) == markdown_pdf(BRIEF, title="t", created_at=at)


def test_a_long_document_runs_over_pages_and_a_long_word_stays_on_the_page() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 8
    body = "\n".join(
        f"{n}. **Item {n}** — {word if n == 7 else 'a promise kept on time'}" for n in range(1, 90)
    )
    reader, text = read(markdown_pdf(f"# Long\n\n{body}\n", title="Long"))
    assert len(reader.pages) >= 2
    assert f"page 2/{len(reader.pages)}" in text
    assert word in "".join(text.split())  # cut across lines, nothing lost
    assert "89. Item 89 — a promise kept on time" in words(text)


HOSTILE = [
    "<b>not bold</b> <script>alert(1)</script> &amp;",
    "**not bold** __not italic__ --not underlined-- ~~not struck~~ `not code`",
    "[not a link](javascript:alert(1)) <https://evil.example>",
    "# not a heading",
    "\\ \\\\ \\* trailing backslash \\",
    "Zoë Šťastná, Ngũgĩ, Łódź, Ærø, İstanbul, Ελλάδα, Москва — “quoted” ‘single’ → ▼ ▲ ≥ ≤ … €",
    "ﬁ ligature, e\u0301 combining, \u200bzero\u200dwidth, \u202eright-to-left\u202c, \ufeffBOM",
    "中文 العربية עברית 😀 🇺🇸 \U0001f9d1\u200d\U0001f692",
    "tab\there, vertical\x0btab, escape\x1b[31m, bell\x07",
    "W" * 600,
    " " * 300 + "spaces",
]


def _escaped(text: str) -> str:
    # As the core writes people's words into the kept Markdown (bot/sessions/brief_cards.py).
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, f"\\{ch}")
    return text


def test_hostile_text_never_breaks_the_file_and_shows_as_typed() -> None:
    body = "# Brief\n\n" + "\n".join(
        f"{n}. **{_escaped(t)}** — {_escaped(t)}" for n, t in enumerate(HOSTILE, 1)
    )
    _, text = read(markdown_pdf(body, title=HOSTILE[0] + HOSTILE[6]))
    flat = "".join(text.split())
    for typed in HOSTILE[:6]:
        assert "".join(typed.split()) in flat, typed
    assert "Ελλάδα" in text and "Москва" in text and "€" in text
    # A character the font lacks shows as � instead of vanishing, and control
    # characters are dropped (a tab becomes a space).
    assert "�" in text and "\x1b" not in text and "\x07" not in text
    assert "tab here" in words(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200))
def test_any_text_makes_a_readable_pdf(raw: str) -> None:
    for body in (raw, f"# {raw}\n\n1. **{raw}** — {raw}\n\n- _{raw}_ `{raw}`\n\n> {raw}\n"):
        reader, _ = read(markdown_pdf(body, title=raw))
        assert len(reader.pages) >= 1


def test_starting_statbot_does_not_load_fpdf() -> None:
    # Imports are kept lazy for start-up time: fpdf2 loads only when a PDF is made.
    probe = (
        "import sys, adapters.cli, adapters.runtime, adapters.slack.app, adapters.teams.app,"
        " adapters.documents, adapters.demo; print(sorted(m for m in ('fpdf', 'markdown_it') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
