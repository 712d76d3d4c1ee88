"""A customer's profile laid out with reportlab (:mod:`core.pdf`'s fonts and styles): the
name and number, a table of details, then one table per section. Pages follow as the
sections need them; each names the customer and the time it was made at its foot."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer

from core.customers.hookspecs import CustomerProfileSection
from core.customers.profile import CustomerProfile
from core.i18n import _, render
from core.pdf import (
    MARGIN,
    PAGE_WIDTH,
    PdfStyles,
    fit,
    list_table,
    paragraph,
    register_fonts,
)

DASH = "\u2013"
CELL_LINES = 4
"""How many lines a cell may take (a longer text is cut short)."""


def _section(section: CustomerProfileSection, s: PdfStyles) -> list[Flowable]:
    story: list[Flowable] = [paragraph(section.title, s.heading)]
    if not section.rows:
        return [*story, paragraph(section.empty or DASH, s.body)]
    count = max(len(section.columns), 1)
    width = PAGE_WIDTH / count
    rows = [
        [paragraph(fit(cell or DASH, 8, width - 6, CELL_LINES), s.cell) for cell in row]
        for row in section.rows
    ]
    return [*story, list_table(rows, [width] * count, header=section.columns, styles=s)]


def render_profile(profile: CustomerProfile, zone: ZoneInfo, locale: str) -> bytes:
    """The profile as a PDF: labels in ``locale`` (already rendered), its time in ``zone``."""
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
        title=render(_("Customer profile: {name}", name=profile.name), locale),
        author="CRM",
        subject=render(_("Customer profile"), locale),
    )
    story: list[Flowable] = [
        paragraph(profile.name, s.title),
        paragraph(f"{render(_('Customer profile'), locale)}  \u00b7  {profile.number}", s.tag),
        Spacer(1, 6),
    ]
    if profile.details:
        story.append(
            list_table(
                [
                    [paragraph(label, s.label), paragraph(value, s.body)]
                    for label, value in profile.details
                ],
                [PAGE_WIDTH * 0.25, PAGE_WIDTH * 0.75],
            )
        )
    for section in profile.sections:
        story += _section(section, s)
    moment = profile.generated_at.astimezone(zone)
    footer = paragraph(
        render(
            _(
                "{number} {name}, generated on {moment} ({zone}).",
                number=profile.number,
                name=profile.name,
                moment=moment.strftime("%Y-%m-%d %H:%M"),
                zone=zone.key,
            ),
            locale,
        ),
        s.footer,
    )

    def on_page(canvas: Canvas, doc: Any) -> None:
        footer.wrap(PAGE_WIDTH, 12 * mm)
        footer.drawOn(canvas, MARGIN + 6, 9 * mm)

    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
