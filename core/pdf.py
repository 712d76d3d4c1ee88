"""PDF layout shared by core's modules and plugins (a customer's profile, a competitor's
battlecard): reportlab fonts, colours, paragraph styles, table styles and list tables.

Latin text is set in Helvetica and each run of other characters (Chinese names and notes)
in the CID font ``STSong-Light``, which PDF readers bring along, so nothing is embedded and
the file stays small: :func:`markup` wraps those runs, :func:`paragraph` makes a paragraph
of plain text. Call :func:`register_fonts` before building a document.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, Table, TableStyle

CJK_FONT = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
ACCENT = colors.HexColor("#1d4e89")
RULE = colors.HexColor("#cbd2d9")
PANEL = colors.HexColor("#f0f4f8")
GOOD = colors.HexColor("#1b7a3a")
BAD = colors.HexColor("#b42318")

MARGIN = 14 * mm
PAGE_WIDTH = A4[0] - 2 * MARGIN - 12
"""The width of an A4 page's frame inside its padding (6 points each side)."""
FILL = 0.9
"""The share of a line a cut text is let fill: the words wrapped to the next line leave the
rest empty."""


@functools.cache
def register_fonts() -> None:
    """Register the CID font (once per process)."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def is_latin(char: str) -> bool:
    """Whether Helvetica (WinAnsi) has the character; every other one is set in the CID
    font."""
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def markup(text: str) -> str:
    """``text`` as paragraph markup: escaped, line breaks kept, each run of characters
    Helvetica lacks wrapped in the CID font."""
    parts: list[str] = []
    run: list[str] = []
    latin = True
    for char in text:
        if char == "\n" or is_latin(char) != latin:
            if run:
                parts.append(_run("".join(run), latin))
                run = []
            if char == "\n":
                parts.append("<br/>")
                continue
            latin = not latin
        run.append(char)
    if run:
        parts.append(_run("".join(run), latin))
    return "".join(parts)


def _run(text: str, latin: bool) -> str:
    return escape(text) if latin else f'<font face="{CJK_FONT}">{escape(text)}</font>'


def _char_width(char: str, size: float) -> float:
    font = LATIN if is_latin(char) else CJK_FONT
    return float(pdfmetrics.stringWidth(char, font, size))


def fit(text: str, size: float, width: float, lines: int = 1) -> str:
    """``text`` on one line, cut with an ellipsis to what ``lines`` lines of ``width``
    points hold at ``size`` points (keeping a tenth of each line for where it wraps)."""
    text = " ".join(text.split())
    room = width * lines * FILL
    if sum(_char_width(char, size) for char in text) <= room:
        return text
    kept: list[str] = []
    used = _char_width("\u2026", size)
    for char in text:
        used += _char_width(char, size)
        if used > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "\u2026"


class PdfStyles:
    """The paragraph styles of a document: body text, title, headings, table cells..."""

    def __init__(self) -> None:
        base = ParagraphStyle(
            "body", fontName=LATIN, fontSize=9, leading=12, textColor=INK, wordWrap="CJK"
        )
        self.body = base
        self.title = ParagraphStyle(
            "title", parent=base, fontName=LATIN_BOLD, fontSize=18, leading=22
        )
        self.tag = ParagraphStyle("tag", parent=base, fontSize=9, textColor=MUTED)
        self.heading = ParagraphStyle(
            "heading",
            parent=base,
            fontName=LATIN_BOLD,
            fontSize=11,
            leading=14,
            textColor=ACCENT,
            spaceBefore=9,
            spaceAfter=3,
        )
        self.label = ParagraphStyle("label", parent=base, fontSize=8, leading=10, textColor=MUTED)
        self.figure = ParagraphStyle(
            "figure", parent=base, fontName=LATIN_BOLD, fontSize=22, leading=26
        )
        self.small = ParagraphStyle("small", parent=base, fontSize=8, leading=10)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=10)
        self.number = ParagraphStyle("number", parent=self.cell, alignment=TA_RIGHT, wordWrap=None)
        self.footer = ParagraphStyle("footer", parent=base, fontSize=7.5, textColor=MUTED)
        self.bullet = ParagraphStyle("bullet", parent=base, leftIndent=9, bulletIndent=0)


def paragraph(text: str, style: ParagraphStyle, color: Any = None) -> Paragraph:
    """A paragraph of plain ``text`` (escaped, CJK runs in the CID font), in ``color``."""
    body = markup(text)
    if color is not None:
        body = f'<font color="#{color.hexval()[2:]}">{body}</font>'
    return Paragraph(body, style)


def list_table_style(header: bool = True, extra: Sequence[Any] = ()) -> TableStyle:
    """A list's table: a rule under the header row (when ``header``) and under each row,
    cells top-aligned with little padding, the first column flush left."""
    commands: list[Any] = []
    if header:
        commands += [
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ]
    else:
        commands.append(("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE))
    commands += [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (0, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        *extra,
    ]
    return TableStyle(commands)


def list_table(
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    *,
    header: Sequence[str] | None = None,
    styles: PdfStyles | None = None,
    extra: Sequence[Any] = (),
) -> Table:
    """A list as a table of ``rows`` (each a sequence of cells: paragraphs or other
    flowables), its columns ``widths`` points wide, ruled by :func:`list_table_style`.

    :param header: the column labels, set in the ``label`` style of ``styles``, in a row
        repeated atop each page the table runs onto; ``None`` for a list without one.
    :param extra: table style commands after the list's own.
    """
    data: list[list[Any]] = []
    if header is not None:
        label = (styles or PdfStyles()).label
        data.append([paragraph(text, label) for text in header])
    data += [list(row) for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=0 if header is None else 1)
    table.setStyle(list_table_style(header=header is not None, extra=extra))
    return table
