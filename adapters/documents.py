"""A session's brief or memo as files a person keeps: the Markdown the core keeps, and a
PDF made from it.

The PDF is drawn with fpdf2 (pure Python, no browser).  The Markdown is read by
markdown-it-py (CommonMark, raw HTML off) and drawn token by token with fpdf2's plain
text calls, so what people typed never reaches a parser of fpdf2's own (its HTML and
"markdown" modes would read ``<b>`` or ``--`` in a promise as markup): user text is
only ever text.  fpdf2's core fonts hold Latin-1 only, and briefs use “ ” — → ▼ and
names from anywhere, so DejaVu Sans is embedded; matplotlib (a dependency already, for
the charts) ships it, and it is found without importing matplotlib.  A character the
font lacks shows as � rather than vanishing, and no character can break the file.

fpdf2 and markdown-it are imported when a PDF is made: `statbot --help` and the start
of `serve` do not pay for them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import importlib.util
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.messages import Attachment
from bot.ports import UnitOfWorkFactory
from bot.sessions.documents import attachment, document_id
from bot.sessions.models import DocumentState

if TYPE_CHECKING:
    from fpdf import FPDF
    from markdown_it.token import Token

log = logging.getLogger(__name__)

PDF = "application/pdf"
MARKDOWN = "text/markdown; charset=utf-8"
_SAFE_URL = re.compile(r"(https?://|mailto:)\S+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DocumentFile:
    filename: str
    content: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class KeptDocument:
    """A sent brief or memo as kept: its attachment (names, title) and its Markdown."""

    attachment: Attachment
    body: str
    sent_at: dt.datetime | None


async def load_document(uow_factory: UnitOfWorkFactory, ref: str) -> KeptDocument | None:
    """The sent document ``ref`` names; None when there is none (a draft is never
    handed out: it still changes)."""
    number = document_id(ref)
    if number is None:
        return None
    async with uow_factory() as uow:
        document = await uow.session_documents.get(number)
        if document is None or document.state != DocumentState.SENT:
            return None
        session = await uow.sessions.get(document.session_id)
        unit = await uow.units.get(session.unit_id) if session is not None else None
    if unit is None:
        return None
    return KeptDocument(attachment(document, unit), document.body, document.sent_at)


async def document_files(document: KeptDocument) -> list[DocumentFile]:
    """The document's files in the attachment's order.  The PDF is drawn in a thread
    (it takes a fraction of a second of CPU, which the event loop should not wait on);
    when it cannot be made, the Markdown goes alone and the failure is logged."""
    files: list[DocumentFile] = []
    part = document.attachment
    for fmt in part.formats:
        filename = f"{part.filename}.{fmt}"
        if fmt == "md":
            files.append(DocumentFile(filename, document.body.encode("utf-8"), MARKDOWN))
            continue
        try:
            pdf = await asyncio.to_thread(
                markdown_pdf, document.body, title=part.title, created_at=document.sent_at
            )
        except Exception:
            log.exception("the PDF of %s could not be made; the Markdown goes without it", part.ref)
            continue
        files.append(DocumentFile(filename, pdf, PDF))
    return files


async def load_files(uow_factory: UnitOfWorkFactory, ref: str) -> list[DocumentFile] | None:
    """The files of the sent document ``ref`` names; None when there is none."""
    document = await load_document(uow_factory, ref)
    return None if document is None else await document_files(document)


# --- Markdown → PDF ----------------------------------------------------------------------

BODY_PT = 10.5
LINE_MM = 5.2
HEADING_PT = {1: 16.0, 2: 13.0}
OTHER_HEADING_PT = 11.5
INDENT_MM = 7.0
MARGIN_MM = 20.0
_FONTS = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}
SANS, MONO = "dejavu", "dejavu-mono"


@functools.cache
def font_folder() -> Path:
    """matplotlib's DejaVu fonts, found without importing matplotlib (slow to import)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("matplotlib is not installed: it ships the DejaVu fonts PDFs use")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    if not (folder / _FONTS[""]).is_file():
        raise FileNotFoundError(f"no {_FONTS['']} in matplotlib's fonts")
    return folder


def markdown_pdf(markdown: str, *, title: str, created_at: dt.datetime | None = None) -> bytes:
    """The Markdown document as an A4 PDF: headings, paragraphs, numbered and bulleted
    lists (nested), bold, italic, code, links, quotes and rules.  The same text and
    ``created_at`` give the same bytes."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": False}).parse(_clean_text(markdown))
    writer = _Writer(_new_pdf(title, created_at))
    writer.blocks(tokens)
    return bytes(writer.pdf.output())


def _new_pdf(title: str, created_at: dt.datetime | None) -> FPDF:
    from fpdf import FPDF

    title = " ".join(_clean_text(title).split())

    class _Document(FPDF):
        def footer(self) -> None:
            # A printed page says what it is part of, and where.
            self.set_y(-12)
            self.set_font(SANS, "", 8)
            self.set_text_color(110)
            self.cell(0, 5, _fit(self, f"{title} · page {self.page_no()}/{{nb}}"), align="C")

    pdf = _Document(format="A4", unit="mm")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    pdf.set_title(title)
    pdf.set_creator("statbot")
    pdf.set_lang("en")
    pdf.set_creation_date(created_at or dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    _use_font(pdf, SANS, "")
    pdf.add_page()
    return pdf


def _use_font(pdf: FPDF, family: str, style: str, size: float = BODY_PT) -> None:
    # Each font is read when the document first uses it: reading one is most of the cost
    # of a short document, and a font never used is not embedded either.
    if f"{family}{style}" not in pdf.fonts:
        name = _FONTS[style] if family == SANS else "DejaVuSansMono.ttf"
        pdf.add_font(family, style, font_folder() / name)
    pdf.set_font(family, style, size)


def _clean_text(text: str) -> str:
    """Text any font and parser can take: composed (NFC), no control characters but
    line breaks, no lone surrogates."""
    text = unicodedata.normalize("NFC", text.encode("utf-8", "replace").decode("utf-8"))
    return "".join(
        ch if ch in "\n" or unicodedata.category(ch) != "Cc" else (" " if ch == "\t" else "") for ch in text
    )


def _fit(pdf: FPDF, text: str) -> str:
    """``text`` with what the current font cannot draw replaced (so it shows) or
    dropped (invisible marks and joiners, which would show as boxes)."""
    cmap: Mapping[int, Any] = getattr(pdf.current_font, "cmap", {})
    out: list[str] = []
    for ch in text:
        if ord(ch) in cmap or ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch)[0] not in ("M", "C", "Z"):
            out.append("\ufffd" if 0xFFFD in cmap else "?")
        elif unicodedata.category(ch)[0] == "Z":
            out.append(" ")
    return "".join(out)


@dataclass
class _List:
    ordered: bool
    number: int


@dataclass
class _Writer:
    pdf: FPDF
    bold: bool = False
    italic: bool = False
    mono: bool = False
    size: float = BODY_PT
    link: str | None = None
    lists: list[_List] = field(default_factory=list)
    quote: int = 0
    # Whether something was written on the page yet, and whether the line is open.
    started: bool = False
    open_line: bool = False

    # --- fonts and text ------------------------------------------------------------------

    def _font(self) -> None:
        if self.mono:
            _use_font(self.pdf, MONO, "", self.size * 0.92)
        else:
            _use_font(self.pdf, SANS, ("B" if self.bold else "") + ("I" if self.italic else ""), self.size)

    def _line_height(self) -> float:
        return LINE_MM * self.size / BODY_PT

    def text(self, text: str) -> None:
        if not text:
            return
        self._font()
        self.pdf.set_text_color(*((20, 70, 160) if self.link else (0, 0, 0)))
        # A word longer than the line is cut anywhere rather than overflowing the page.
        self.pdf.write(self._line_height(), _fit(self.pdf, text), link=self.link or "")
        self.open_line = True

    def end_line(self) -> None:
        if self.open_line:
            self.pdf.ln(self._line_height())
            self.open_line = False

    def space(self, mm: float) -> None:
        if self.started:
            self.pdf.ln(mm)
        self.started = True

    def _left(self) -> float:
        return MARGIN_MM + INDENT_MM * (len(self.lists) + self.quote)

    def _set_left(self) -> None:
        self.pdf.set_left_margin(self._left())
        self.pdf.set_x(self._left())

    # --- blocks --------------------------------------------------------------------------

    def blocks(self, tokens: Sequence[Token]) -> None:
        for token in tokens:
            self.block(token)
        self.end_line()

    def block(self, token: Token) -> None:
        match token.type:
            case "heading_open":
                self.end_line()
                level = int(token.tag[1:]) if token.tag[1:].isdigit() else 3
                self.space(4.0 if level <= 2 else 2.5)
                self.size, self.bold = HEADING_PT.get(level, OTHER_HEADING_PT), True
            case "heading_close":
                self.end_line()
                self.size, self.bold = BODY_PT, False
                self.pdf.ln(1.0)
            case "paragraph_open":
                if not token.hidden:  # a tight list's item is not a paragraph of its own
                    self.end_line()
                    self.space(2.0)
            case "paragraph_close":
                self.end_line()
            case "inline":
                self.inline(token.children or [])
            case "bullet_list_open" | "ordered_list_open":
                self.end_line()
                start = token.attrGet("start")
                number = int(start) if isinstance(start, int | str) and str(start).isdigit() else 1
                self.lists.append(_List(token.type == "ordered_list_open", number))
                self._set_left()
            case "bullet_list_close" | "ordered_list_close":
                self.end_line()
                if self.lists:
                    self.lists.pop()
                self._set_left()
            case "list_item_open":
                self.end_line()
                self.space(1.0)
                self._marker()
            case "list_item_close":
                self.end_line()
            case "blockquote_open":
                self.end_line()
                self.quote += 1
                self._set_left()
            case "blockquote_close":
                self.end_line()
                self.quote = max(self.quote - 1, 0)
                self._set_left()
            case "code_block" | "fence":
                self.end_line()
                self.space(2.0)
                self.mono = True
                for line in token.content.rstrip("\n").split("\n"):
                    self.text(line or " ")
                    self.end_line()
                self.mono = False
            case "hr":
                self.end_line()
                self.space(3.0)
                y = self.pdf.get_y()
                self.pdf.set_draw_color(160)
                self.pdf.line(self._left(), y, self.pdf.w - MARGIN_MM, y)
                self.pdf.ln(2.0)
            case "html_block":  # raw HTML is off; should one come, it is text
                self.end_line()
                self.space(2.0)
                self.text(token.content)

    def _marker(self) -> None:
        if not self.lists:
            return
        current = self.lists[-1]
        if current.ordered:
            marker, current.number = f"{current.number}.", current.number + 1
        else:
            marker = "•" if len(self.lists) % 2 else "◦"
        left = self._left()
        self.size, self.bold, self.italic, self.mono = BODY_PT, False, False, False
        self._font()
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_x(left - INDENT_MM)
        self.pdf.cell(INDENT_MM - 1.5, self._line_height(), _fit(self.pdf, marker), align="R")
        self.pdf.set_x(left)

    # --- inline --------------------------------------------------------------------------

    def inline(self, children: Sequence[Token]) -> None:
        for child in children:
            match child.type:
                case "text" | "html_inline":
                    self.text(child.content)
                case "softbreak":
                    self.text(" ")
                case "hardbreak":
                    self.end_line()
                case "strong_open" | "strong_close":
                    self.bold = child.type == "strong_open"
                case "em_open" | "em_close":
                    self.italic = child.type == "em_open"
                case "code_inline":
                    self.mono = True
                    self.text(child.content)
                    self.mono = False
                case "link_open":
                    href = str(child.attrGet("href") or "")
                    self.link = href if _SAFE_URL.fullmatch(href) else None
                case "link_close":
                    self.link = None
                case "image":
                    self.text(child.content or str(child.attrGet("src") or ""))
