"""The certificate PDF: readable text, a QR code that leads to the verification page, glyphs for
names in any script, metadata, and a small file."""

from __future__ import annotations

import io
import re
import struct
from datetime import date
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFontFile

from reporting import certificates as svc
from reporting.pdf import CertificateData, display_text, font_runs, render_certificate
from tests.reporting.certificate_helpers import approve, submitted_report

NAMES = {
    "greek": "Ελληνικές Κρουαζιέρες Α.Ε.",
    "cyrillic": "ООО «Байкал Тур»",
    "arabic": "شركة السفر العربية",
    "thai": "บริษัท สยาม ทัวร์ จำกัด",
    "cjk": "東京旅行株式会社",
}


def _data(company: str = "Nordic Tours AB", url: str = "https://portal.example/verify/ABCDEFGHJK23/"
          ) -> CertificateData:
    return CertificateData(
        organisation="The Code", title="Certificate of membership in good standing",
        company_name=company, country="Sweden",
        statement="has fulfilled its reporting obligations under The Code for 2030",
        valid_label="Valid from 15 March 2031 until 14 March 2032",
        number_label="Certificate number", number="TC-2030-000123", issued_label="Issued on",
        issued_on=date(2031, 3, 15), issued_on_text="15 March 2031",
        code_label="Verification code", code="ABCDEFGHJK23", verify_hint="Verify at",
        verify_url=url, author="The Code", subject="Certificate TC-2030-000123")


def _text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def _qr_texts(pdf: bytes) -> list[str]:
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def _subset_cmap(font_file: bytes) -> dict[int, int]:
    """Code → glyph id from the subset's (1, 0) cmap, which reportlab writes in format 6."""
    tables = {}
    for i in range(struct.unpack(">H", font_file[4:6])[0]):
        tag, _checksum, offset, _length = struct.unpack(">4sIII", font_file[12 + 16 * i:28 + 16 * i])
        tables[tag] = offset
    cmap = tables[b"cmap"]
    for j in range(struct.unpack(">H", font_file[cmap + 2:cmap + 4])[0]):
        _platform, _encoding, sub = struct.unpack(">HHI", font_file[cmap + 4 + 8 * j:cmap + 12 + 8 * j])
        start = cmap + sub
        fmt, _len, _lang, first, count = struct.unpack(">HHHHH", font_file[start:start + 10])
        assert fmt == 6, f"unexpected cmap format {fmt}"
        ids = struct.unpack(f">{count}H", font_file[start + 10:start + 10 + 2 * count])
        return {first + k: glyph for k, glyph in enumerate(ids)}
    raise AssertionError("no cmap")


def _embedded_glyph_sets(pdf: bytes) -> dict[str, set[str]]:
    """Font name → the characters whose glyphs are in its embedded subset, with an outline.

    Each code of the font's ToUnicode map is looked up in the embedded TrueType subset itself
    (its cmap, then loca/glyf): a character counts only if the file carries a non-empty glyph.
    """
    reader = PdfReader(io.BytesIO(pdf))
    out: dict[str, set[str]] = {}
    for ref in reader.pages[0]["/Resources"]["/Font"].values():
        font = ref.get_object()
        descriptor = font.get("/FontDescriptor")
        assert descriptor is not None and "/FontFile2" in descriptor, \
            f"{font['/BaseFont']} is not embedded"
        font_file = descriptor["/FontFile2"].get_data()
        glyph_pos = TTFontFile(io.BytesIO(font_file), validate=0).glyphPos  # from loca
        code_to_glyph = _subset_cmap(font_file)
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        body = cmap[cmap.index("beginbfchar"):cmap.index("endbfchar")]
        chars = set()
        for code, unicode in re.findall(r"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]{4,})>", body):
            glyph = code_to_glyph.get(int(code, 16), 0)
            if glyph and glyph_pos[glyph + 1] > glyph_pos[glyph]:
                chars.add(bytes.fromhex(unicode).decode("utf-16-be"))
        out[str(font["/BaseFont"])] = chars
    return out


def test_pdf_is_one_a4_landscape_page_with_company_number_validity_and_code():
    pdf = render_certificate(_data())
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    text = _text(pdf)
    for expected in ("Nordic Tours AB", "TC-2030-000123", "Valid from 15 March 2031 until 14 March "
                     "2032", "ABCDEFGHJK23", "The Code", "Sweden", "for 2030",
                     "Issued on: 15 March 2031", "has fulfilled its reporting obligations",
                     "https://portal.example/verify/ABCDEFGHJK23/"):
        assert expected in text


def test_pdf_metadata_names_title_author_and_subject():
    meta = PdfReader(io.BytesIO(render_certificate(_data()))).metadata
    assert meta.title == "Certificate of membership in good standing TC-2030-000123"
    assert meta.author == "The Code"
    assert meta.subject == "Certificate TC-2030-000123"


def test_qr_code_decodes_to_the_verification_url():
    url = "https://portal.example/verify/ABCDEFGHJK23/"
    assert _qr_texts(render_certificate(_data(url=url))) == [url]


@pytest.mark.parametrize("script", sorted(NAMES))
def test_non_latin_names_are_drawn_with_embedded_glyphs(script):
    name = NAMES[script]
    pdf = render_certificate(_data(company=name))
    embedded = set().union(*_embedded_glyph_sets(pdf).values())
    # Arabic is drawn in its joined (presentation) forms: those are the glyphs that must be there.
    missing = {ch for ch in display_text(name) if not ch.isspace()} - embedded
    assert missing == set()
    assert len(pdf) < 100_000


def test_arabic_names_are_joined_and_right_to_left():
    # Regression: reportlab does not shape, so Arabic came out as isolated letters left to right.
    name = NAMES["arabic"]
    shown = display_text(name)
    # every letter is replaced by a contextual form (U+FE70–U+FEFF) ...
    assert all("\ufe70" <= ch <= "\ufeff" for ch in shown if not ch.isspace())
    # ... and the words run right to left: the first word of the name is drawn last
    first_word = display_text(name.split()[0])
    assert shown.endswith(first_word)
    assert len(display_text("سلام")) == 3  # lam + alef become one ligature


def test_lines_without_right_to_left_letters_are_left_untouched():
    for name in (*(n for k, n in NAMES.items() if k != "arabic"), "Nordic Tours AB (2030)"):
        assert display_text(name) == name


def test_mixed_latin_and_arabic_keeps_latin_readable():
    shown = display_text("Tours شركة السفر")
    assert "Tours" in shown and shown.index("Tours") == 0


def test_every_character_gets_a_font_that_has_its_glyph():
    text = "Nordic Ελλάδα Москва สยาม 東京"
    font_of = {}
    for name, part in font_runs(text):
        for char in part:
            font_of.setdefault(char, name)
    assert {font_of[c] for c in "NordicΕλλάδαМосква"} == {"CertSans"}
    assert {font_of[c] for c in "สยาม"} == {"CertThai"}
    assert {font_of[c] for c in "東京"} == {"CertCJK"}
    assert "".join(part for _, part in font_runs(text)) == text


def test_pdf_with_all_scripts_at_once_stays_under_100_kb():
    pdf = render_certificate(_data(company=" ".join(NAMES.values())))
    assert len(pdf) < 100_000


@pytest.mark.django_db
def test_stored_certificate_qr_leads_to_its_public_page(company_b, staff_reviewer, settings,
                                                         client, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://portal.thecode.example"
    certificate = approve(submitted_report(company_b), staff_reviewer,
                          django_capture_on_commit_callbacks)
    with certificate.pdf.open("rb") as handle:
        pdf = handle.read()
    assert _qr_texts(pdf) == [f"https://portal.thecode.example/verify/{certificate.code}/"]
    text = _text(pdf)
    assert certificate.number in text and certificate.code in text
    assert "Thailand" in text
    thai = {ch for ch in company_b.legal_name if not ch.isspace()}
    assert thai <= set().union(*_embedded_glyph_sets(pdf).values())
    assert certificate.pdf_size == len(pdf) < 100_000
    assert svc.verification_url(certificate.code) == _qr_texts(pdf)[0]
    # following the decoded URL opens the public page of this certificate
    page = client.get(urlsplit(_qr_texts(pdf)[0]).path)
    assert page.status_code == 200
    assert certificate.number in page.content.decode() and "This certificate is valid." in \
        page.content.decode()
