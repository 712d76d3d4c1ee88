"""The battlecard's page, laid out with reportlab: one A4 page where it fits (long lists and
texts are cut short so that it does), served by :mod:`plugins.competitor.pdf`.

Latin text is set in Helvetica and each run of other characters (Chinese names and notes)
in the CID font ``STSong-Light``, which PDF readers bring along, so nothing is embedded and
the file stays small. The labels are translated into the request's language; "generated
on" is in the caller's time zone.
"""

from __future__ import annotations

import decimal
import functools
import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.plugin_api import render, translator
from plugins.competitor.service.battlecard import Battlecard
from plugins.competitor.service.prices import one_place

_ = translator(__name__)

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
WIDTH = A4[0] - 2 * MARGIN - 12
"""The width of the page's frame inside its padding (6 points each side)."""
MAX_COMPARISONS = 6
MAX_SIDE_ITEMS = 5
FILL = 0.9
"""The share of a line a cut text is let fill: the words wrapped to the next line leave the
rest empty."""
NAME_LINES, ITEM_LINES, SUMMARY_LINES, POSITIONING_LINES = 2, 2, 2, 3
"""How many lines a product's name, a SWOT item, an intel summary and the positioning may
take (longer ones are cut short): the card stays on one page."""
PRICE_SHARES = (0.26, 0.17, 0.23, 0.17, 0.09, 0.08)
INTEL_SHARES = (0.13, 0.15, 0.72)
CELL_PADDING = 6
STATUS = {"ACTIVE": _("Active"), "WATCHING": _("Watching"), "ARCHIVED": _("Archived")}
THREAT = {
    "LOW": _("Low threat"),
    "MEDIUM": _("Medium threat"),
    "HIGH": _("High threat"),
    "CRITICAL": _("Critical threat"),
}
REASONS = {
    "PRICE": _("Price"),
    "PRODUCT_FIT": _("Product fit"),
    "RELATIONSHIP": _("Relationship"),
    "SERVICE": _("Service"),
    "TIMING": _("Timing"),
    "NO_DECISION": _("No decision"),
    "COMPETITOR": _("Competitor"),
    "OTHER": _("Other"),
}
KINDS = {
    "PRICE_CHANGE": _("Price change"),
    "PRODUCT_LAUNCH": _("Product launch"),
    "CAMPAIGN": _("Campaign"),
    "PARTNERSHIP": _("Partnership"),
    "LEADERSHIP": _("Leadership"),
    "WIN": _("Win"),
    "LOSS": _("Loss"),
    "OTHER": _("Other"),
}
TRENDS = {"UP": _("up"), "DOWN": _("down"), "FLAT": _("flat")}


@functools.cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _latin(char: str) -> bool:
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
        if char == "\n" or _latin(char) != latin:
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
    font = LATIN if _latin(char) else CJK_FONT
    return float(pdfmetrics.stringWidth(char, font, size))


def _fit(text: str, size: float, width: float, lines: int = 1) -> str:
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


class _Styles:
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


def _p(text: str, style: ParagraphStyle, color: Any = None) -> Paragraph:
    body = markup(text)
    if color is not None:
        body = f'<font color="#{color.hexval()[2:]}">{body}</font>'
    return Paragraph(body, style)


def _percent(value: decimal.Decimal | None, signed: bool = False) -> str:
    rounded = one_place(value)
    if rounded is None:
        return "\u2013"
    return f"{rounded:+}%" if signed else f"{rounded}%"


def _money(amount: decimal.Decimal | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return "\u2013"
    return f"{currency}\u00a0{amount:,.2f}"  # never broken between the two


def _figures(card: Battlecard, s: _Styles, locale: str) -> Table:
    """Three panels: our win rate and record, the price difference, the top loss reasons."""
    record = card.record
    win = [
        _p(render(_("Our win rate"), locale), s.label),
        _p(_percent(record.win_rate), s.figure),
        _p(
            render(
                _(
                    "won {won}, lost {lost} of {met} deals met",
                    won=record.won,
                    lost=record.lost,
                    met=record.met,
                ),
                locale,
            ),
            s.small,
        ),
    ]
    delta = card.prices.delta
    if delta is None:
        meaning = _("no product compares with ours in the same currency")
    elif one_place(delta) == 0:
        meaning = _("they cost the same as ours on average")
    elif delta > 0:
        meaning = _("they are dearer than we are on average")
    else:
        meaning = _("they are cheaper than we are on average")
    tone = None if delta is None or one_place(delta) == 0 else (GOOD if delta > 0 else BAD)
    price = [
        _p(render(_("Price difference"), locale), s.label),
        _p(_percent(delta, signed=True), s.figure, tone),
        _p(render(meaning, locale), s.small),
    ]
    reasons: list[Flowable] = [_p(render(_("Why we lose"), locale), s.label)]
    for reason, count, _share in record.loss_reasons:
        label = render(REASONS.get(reason, _("Other")), locale)
        reasons.append(
            _p(
                render(
                    _(
                        "{reason}: {count} of {lost} lost",
                        reason=label,
                        count=count,
                        lost=record.lost,
                    ),
                    locale,
                ),
                s.body,
            )
        )
    if not record.loss_reasons:
        reasons.append(_p(render(_("no deal lost to them"), locale), s.body))
    table = Table([[win, price, reasons]], colWidths=[WIDTH / 3] * 3)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEAFTER", (0, 0), (1, 0), 0.5, colors.white),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _comparisons(card: Battlecard, s: _Styles, locale: str) -> list[Flowable]:
    rows = card.prices.rows
    if not rows:
        return [_p(render(_("No prices recorded."), locale), s.body)]
    header = [
        render(_("Their product"), locale),
        render(_("Their price"), locale),
        render(_("Our product"), locale),
        render(_("Our price"), locale),
        render(_("Difference"), locale),
        render(_("Trend"), locale),
    ]
    data: list[list[Any]] = [[_p(h, s.label) for h in header]]
    name_width = PRICE_SHARES[0] * WIDTH - CELL_PADDING
    ours_width = PRICE_SHARES[2] * WIDTH - CELL_PADDING
    for row in rows[:MAX_COMPARISONS]:
        trend = TRENDS.get(row.trend or "")
        data.append(
            [
                _p(_fit(row.product_name, 8, name_width, NAME_LINES), s.cell),
                _p(_money(row.their_amount, row.their_currency), s.number),
                _p(_fit(row.our_product_name or "\u2013", 8, ours_width, NAME_LINES), s.cell),
                _p(_money(row.our_amount, row.our_currency), s.number),
                _p(_percent(row.difference_percent, signed=True), s.number),
                _p(render(trend, locale) if trend else "\u2013", s.cell),
            ]
        )
    table = Table(data, colWidths=[share * WIDTH for share in PRICE_SHARES], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    found: list[Flowable] = [table]
    if len(rows) > MAX_COMPARISONS:
        more = _("and {count} more products", count=len(rows) - MAX_COMPARISONS)
        found.append(_p(render(more, locale), s.small))
    return found


def _sides(card: Battlecard, s: _Styles, locale: str) -> Table:
    """Strengths and weaknesses side by side, one row per pair of items (so that a long
    list can go on to a next page rather than push the whole table there)."""

    def column(items: Sequence[Any]) -> list[Flowable]:
        cells: list[Flowable] = [
            Paragraph(
                markup(_fit(item.text, 9, WIDTH / 2 - 10 - 9, ITEM_LINES)),
                s.bullet,
                bulletText="\u2022",
            )
            for item in items[:MAX_SIDE_ITEMS]
        ]
        if len(items) > MAX_SIDE_ITEMS:
            more = _("and {count} more", count=len(items) - MAX_SIDE_ITEMS)
            cells.append(_p(render(more, locale), s.small))
        if not items:
            cells.append(_p(render(_("none recorded"), locale), s.small))
        return cells

    strengths, weaknesses = column(card.sides.strengths), column(card.sides.weaknesses)
    rows: list[list[Any]] = [
        [
            _p(render(_("Strengths"), locale), s.heading, GOOD),
            _p(render(_("Weaknesses"), locale), s.heading, BAD),
        ]
    ]
    for index in range(max(len(strengths), len(weaknesses))):
        rows.append(
            [
                strengths[index] if index < len(strengths) else "",
                weaknesses[index] if index < len(weaknesses) else "",
            ]
        )
    table = Table(rows, colWidths=[WIDTH / 2, WIDTH / 2], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _intel(card: Battlecard, s: _Styles, locale: str) -> list[Flowable]:
    if not card.intel:
        return [_p(render(_("No intel logged."), locale), s.body)]
    summary_width = INTEL_SHARES[2] * WIDTH - CELL_PADDING
    data = [
        [
            _p(entry.occurred_on.isoformat(), s.cell),
            _p(render(KINDS.get(entry.kind, _("Other")), locale), s.cell),
            _p(_fit(entry.summary, 8, summary_width, SUMMARY_LINES), s.cell),
        ]
        for entry in card.intel
    ]
    table = Table(data, colWidths=[share * WIDTH for share in INTEL_SHARES])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return [table]


def render_pdf(card: Battlecard, zone: ZoneInfo, locale: str) -> bytes:
    """The battlecard as a PDF: labels in ``locale``, its time in ``zone``."""
    _register_fonts()
    s = _Styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=13 * mm,
        bottomMargin=16 * mm,
        title=render(_("Battlecard: {name}", name=card.name), locale),
        author="CRM",
        subject=render(_("Competitor battlecard"), locale),
    )
    tags = [
        render(_("Battlecard"), locale),
        render(STATUS.get(card.status, card.status), locale),
        render(THREAT.get(card.threat_level, card.threat_level), locale),
    ]
    tags += [_fit(value, 9, WIDTH / 2) for value in (card.country, card.website) if value]
    story: list[Flowable] = [
        _p(card.name, s.title),
        _p("  \u00b7  ".join(tags), s.tag),
        Spacer(1, 4),
    ]
    if card.positioning:
        story.append(_p(_fit(card.positioning, 9, WIDTH, POSITIONING_LINES), s.body))
    story += [Spacer(1, 8), _figures(card, s, locale)]
    story.append(_p(render(_("Prices compared with ours"), locale), s.heading))
    story += _comparisons(card, s, locale)
    story += [Spacer(1, 2), _sides(card, s, locale)]
    story.append(_p(render(_("Latest intel"), locale), s.heading))
    story += _intel(card, s, locale)
    moment = card.generated_at.astimezone(zone)
    footer = _p(
        render(
            _(
                "Generated on {moment} ({zone}). Figures count the deals you may see.",
                moment=moment.strftime("%Y-%m-%d %H:%M"),
                zone=zone.key,
            ),
            locale,
        ),
        s.footer,
    )

    def on_page(canvas: Canvas, doc: Any) -> None:
        footer.wrap(WIDTH, 12 * mm)
        footer.drawOn(canvas, MARGIN + 6, 9 * mm)

    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
