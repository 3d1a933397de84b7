"""The certificate PDF: a pure renderer (data in, bytes out), A4 landscape, one page.

Text is drawn in runs: each run uses the first of the bundled TrueType fonts that has glyphs for
its characters (DejaVu Sans for Latin, Greek and Cyrillic; Noto Sans Thai; Noto Sans Arabic;
Droid Sans Fallback for CJK), so a company name in any of these scripts shows its letters, not
boxes. reportlab embeds only the glyphs used (subsetting), which keeps the file small.
reportlab does not shape text, so a line with right-to-left letters is first put into display
form: Arabic letters joined into their contextual forms (arabic-reshaper) and the line reordered
by the Unicode bidirectional algorithm (python-bidi), see :func:`display_text`.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import arabic_reshaper
from bidi import get_display
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# Tried in this order for every character; the first that has the glyph draws it.
REGULAR_FONTS = [
    ("CertSans", "DejaVuSans.ttf"),
    ("CertThai", "NotoSansThai-Regular.ttf"),
    ("CertArabic", "NotoSansArabic-Regular.ttf"),
    ("CertCJK", "DroidSansFallbackFull.ttf"),
]
BOLD_FONTS = [("CertSansBold", "DejaVuSans-Bold.ttf"), *REGULAR_FONTS[1:]]

INK = HexColor("#1f2a44")
ACCENT = HexColor("#0b6e4f")
MUTED = HexColor("#555f6d")


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on the certificate; labels come translated from the caller."""

    organisation: str  # "The Code"
    title: str  # "Certificate of membership in good standing"
    company_name: str
    country: str
    statement: str  # "has fulfilled its reporting obligations under The Code for 2026"
    valid_label: str  # "Valid from 1 March 2027 until 29 February 2028"
    number_label: str  # "Certificate number"
    number: str
    issued_label: str  # "Issued on"
    issued_on: date
    issued_on_text: str
    code_label: str  # "Verification code"
    code: str
    verify_hint: str  # "Verify at"
    verify_url: str
    author: str
    subject: str


@cache
def _registered(fonts: tuple[tuple[str, str], ...]) -> list[tuple[str, TTFont]]:
    out = []
    for name, filename in fonts:
        try:
            font = pdfmetrics.getFont(name)
        except KeyError:
            font = TTFont(name, str(FONT_DIR / filename))
            pdfmetrics.registerFont(font)
        out.append((name, font))
    return out


# Hebrew, Arabic, Syriac, Thaana, NKo … and the Arabic presentation forms.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def display_text(text: str) -> str:
    """The line as it must be drawn left to right: unchanged unless it holds right-to-left
    letters; then Arabic is reshaped into joined forms and the line is put in visual order."""
    if not _RTL.search(text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def font_runs(text: str, *, bold: bool = False) -> list[tuple[str, str]]:
    """Split ``text`` (in display order, see :func:`display_text`) into (font name, substring)
    runs by glyph coverage."""
    text = display_text(text)
    fonts = _registered(tuple(BOLD_FONTS if bold else REGULAR_FONTS))
    runs: list[tuple[str, str]] = []
    for char in text:
        chosen = fonts[0][0]
        if not char.isspace():
            for name, font in fonts:
                if ord(char) in font.face.charToGlyph:
                    chosen = name
                    break
        if runs and runs[-1][0] == chosen:
            runs[-1] = (chosen, runs[-1][1] + char)
        else:
            runs.append((chosen, char))
    return runs


def _width(runs: list[tuple[str, str]], size: float) -> float:
    return sum(pdfmetrics.stringWidth(part, name, size) for name, part in runs)


def _centred(canvas: Canvas, text: str, y: float, size: float, *, bold: bool = False,
             colour=INK, max_width: float | None = None) -> None:
    runs = font_runs(text, bold=bold)
    width = _width(runs, size)
    if max_width and width > max_width:  # long legal names shrink to fit the page
        size = size * max_width / width
        width = max_width
    x = (canvas._pagesize[0] - width) / 2
    canvas.setFillColor(colour)
    for name, part in runs:
        canvas.setFont(name, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, name, size)


def _left(canvas: Canvas, text: str, x: float, y: float, size: float, *, bold: bool = False,
          colour=INK) -> None:
    canvas.setFillColor(colour)
    for name, part in font_runs(text, bold=bold):
        canvas.setFont(name, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, name, size)


def render_certificate(data: CertificateData) -> bytes:
    buffer = io.BytesIO()
    width, height = landscape(A4)
    # The canvas's initial font must be one of ours, or an unembedded Helvetica is referenced.
    initial = _registered(tuple(REGULAR_FONTS))[0][0]
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, invariant=1,
                    initialFontName=initial)
    canvas.setTitle(f"{data.title} {data.number}")
    canvas.setAuthor(data.author)
    canvas.setSubject(data.subject)
    canvas.setCreator(data.organisation)

    # frame
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setLineWidth(0.8)
    canvas.rect(32, 32, width - 64, height - 64)

    _centred(canvas, data.organisation, height - 95, 30, bold=True, colour=ACCENT)
    _centred(canvas, data.title, height - 135, 18, colour=MUTED)
    _centred(canvas, data.company_name, height - 215, 30, bold=True, max_width=width - 140)
    _centred(canvas, data.country, height - 245, 14, colour=MUTED)
    _centred(canvas, data.statement, height - 290, 15)
    _centred(canvas, data.valid_label, height - 320, 15, bold=True)

    # footer: number, issue date and code on the left, QR on the right
    _left(canvas, f"{data.number_label}: {data.number}", 70, 140, 12, bold=True)
    _left(canvas, f"{data.issued_label}: {data.issued_on_text}", 70, 118, 11)
    _left(canvas, f"{data.code_label}: {data.code}", 70, 96, 11)
    _left(canvas, f"{data.verify_hint}: {data.verify_url}", 70, 74, 9, colour=MUTED)

    # The QR modules are drawn straight onto the canvas as one filled path, one rectangle per
    # run of dark modules in a row: renderPDF would add an unembedded Helvetica to the page's
    # resources, and the widget's draw() builds (and its getBounds() re-encodes) thousands of
    # validated shape objects, which was most of the rendering time.
    encoder = QrCodeWidget(data.verify_url, barLevel="M").qr
    encoder.make()
    border, side = 2, 120
    count = encoder.getModuleCount()
    box = side / (count + 2 * border)
    left, top = width - 70 - side, 60 + side
    path = canvas.beginPath()
    for r, row in enumerate(encoder.modules):
        c = 0
        for dark, run in itertools.groupby(bool(m) for m in row):
            n = len(list(run))
            if dark:
                path.rect(left + (c + border) * box, top - (r + border + 1) * box, n * box, box)
            c += n
    canvas.setFillColor(HexColor("#000000"))
    canvas.drawPath(path, stroke=0, fill=1)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
