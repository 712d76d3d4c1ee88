"""The battlecard's page, laid out with reportlab: one A4 page where it fits (long lists and
texts are cut short so that it does), served by :mod:`plugins.competitor.pdf`.

Fonts, styles and table rules are core's (``core.plugin_api``: :class:`PdfStyles`,
:func:`paragraph`...), Chinese text set in the CID font ``STSong-Light``. The labels are
translated into the request's language; "generated on" is in the caller's time zone.
"""

from __future__ import annotations

import decimal
import io
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.plugin_api import (
    BAD,
    GOOD,
    MARGIN,
    PAGE_WIDTH,
    PANEL,
    PdfStyles,
    fit,
    list_table,
    markup,
    paragraph,
    register_fonts,
    render,
    translator,
)
from plugins.competitor.service.battlecard import Battlecard
from plugins.competitor.service.prices import one_place

_ = translator(__name__)

WIDTH = PAGE_WIDTH
MAX_COMPARISONS = 6
MAX_SIDE_ITEMS = 5
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


def _percent(value: decimal.Decimal | None, signed: bool = False) -> str:
    rounded = one_place(value)
    if rounded is None:
        return "\u2013"
    return f"{rounded:+}%" if signed else f"{rounded}%"


def _money(amount: decimal.Decimal | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return "\u2013"
    return f"{currency}\u00a0{amount:,.2f}"  # never broken between the two


def _figures(card: Battlecard, s: PdfStyles, locale: str) -> Table:
    """Three panels: our win rate and record, the price difference, the top loss reasons."""
    record = card.record
    win = [
        paragraph(render(_("Our win rate"), locale), s.label),
        paragraph(_percent(record.win_rate), s.figure),
        paragraph(
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
        paragraph(render(_("Price difference"), locale), s.label),
        paragraph(_percent(delta, signed=True), s.figure, tone),
        paragraph(render(meaning, locale), s.small),
    ]
    reasons: list[Flowable] = [paragraph(render(_("Why we lose"), locale), s.label)]
    for reason, count, _share in record.loss_reasons:
        label = render(REASONS.get(reason, _("Other")), locale)
        reasons.append(
            paragraph(
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
        reasons.append(paragraph(render(_("no deal lost to them"), locale), s.body))
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


def _comparisons(card: Battlecard, s: PdfStyles, locale: str) -> list[Flowable]:
    rows = card.prices.rows
    if not rows:
        return [paragraph(render(_("No prices recorded."), locale), s.body)]
    header = [
        render(_("Their product"), locale),
        render(_("Their price"), locale),
        render(_("Our product"), locale),
        render(_("Our price"), locale),
        render(_("Difference"), locale),
        render(_("Trend"), locale),
    ]
    data: list[list[Any]] = []
    name_width = PRICE_SHARES[0] * WIDTH - CELL_PADDING
    ours_width = PRICE_SHARES[2] * WIDTH - CELL_PADDING
    for row in rows[:MAX_COMPARISONS]:
        trend = TRENDS.get(row.trend or "")
        data.append(
            [
                paragraph(fit(row.product_name, 8, name_width, NAME_LINES), s.cell),
                paragraph(_money(row.their_amount, row.their_currency), s.number),
                paragraph(fit(row.our_product_name or "\u2013", 8, ours_width, NAME_LINES), s.cell),
                paragraph(_money(row.our_amount, row.our_currency), s.number),
                paragraph(_percent(row.difference_percent, signed=True), s.number),
                paragraph(render(trend, locale) if trend else "\u2013", s.cell),
            ]
        )
    table = list_table(
        data,
        [share * WIDTH for share in PRICE_SHARES],
        header=header,
        styles=s,
        extra=[("RIGHTPADDING", (0, 0), (-1, -1), 3)],
    )
    found: list[Flowable] = [table]
    if len(rows) > MAX_COMPARISONS:
        more = _("and {count} more products", count=len(rows) - MAX_COMPARISONS)
        found.append(paragraph(render(more, locale), s.small))
    return found


def _sides(card: Battlecard, s: PdfStyles, locale: str) -> Table:
    """Strengths and weaknesses side by side, one row per pair of items (so that a long
    list can go on to a next page rather than push the whole table there)."""

    def column(items: Sequence[Any]) -> list[Flowable]:
        cells: list[Flowable] = [
            Paragraph(
                markup(fit(item.text, 9, WIDTH / 2 - 10 - 9, ITEM_LINES)),
                s.bullet,
                bulletText="\u2022",
            )
            for item in items[:MAX_SIDE_ITEMS]
        ]
        if len(items) > MAX_SIDE_ITEMS:
            more = _("and {count} more", count=len(items) - MAX_SIDE_ITEMS)
            cells.append(paragraph(render(more, locale), s.small))
        if not items:
            cells.append(paragraph(render(_("none recorded"), locale), s.small))
        return cells

    strengths, weaknesses = column(card.sides.strengths), column(card.sides.weaknesses)
    rows: list[list[Any]] = [
        [
            paragraph(render(_("Strengths"), locale), s.heading, GOOD),
            paragraph(render(_("Weaknesses"), locale), s.heading, BAD),
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


def _intel(card: Battlecard, s: PdfStyles, locale: str) -> list[Flowable]:
    if not card.intel:
        return [paragraph(render(_("No intel logged."), locale), s.body)]
    summary_width = INTEL_SHARES[2] * WIDTH - CELL_PADDING
    data = [
        [
            paragraph(entry.occurred_on.isoformat(), s.cell),
            paragraph(render(KINDS.get(entry.kind, _("Other")), locale), s.cell),
            paragraph(fit(entry.summary, 8, summary_width, SUMMARY_LINES), s.cell),
        ]
        for entry in card.intel
    ]
    return [list_table(data, [share * WIDTH for share in INTEL_SHARES])]


def render_pdf(card: Battlecard, zone: ZoneInfo, locale: str) -> bytes:
    """The battlecard as a PDF: labels in ``locale``, its time in ``zone``."""
    register_fonts()
    s = PdfStyles()
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
    tags += [fit(value, 9, WIDTH / 2) for value in (card.country, card.website) if value]
    story: list[Flowable] = [
        paragraph(card.name, s.title),
        paragraph("  \u00b7  ".join(tags), s.tag),
        Spacer(1, 4),
    ]
    if card.positioning:
        story.append(paragraph(fit(card.positioning, 9, WIDTH, POSITIONING_LINES), s.body))
    story += [Spacer(1, 8), _figures(card, s, locale)]
    story.append(paragraph(render(_("Prices compared with ours"), locale), s.heading))
    story += _comparisons(card, s, locale)
    story += [Spacer(1, 2), _sides(card, s, locale)]
    story.append(paragraph(render(_("Latest intel"), locale), s.heading))
    story += _intel(card, s, locale)
    moment = card.generated_at.astimezone(zone)
    footer = paragraph(
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
