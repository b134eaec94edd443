# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 16: clean PDFs of producers not covered by the Odoo corpus test (Arabic text through
ReportLab, PDF/A-like output intent and XMP, pikepdf-written metadata) are signed as uploaded:
lib.convert leaves their bytes alone and poppler renders them."""
import io
import os
import shutil
import subprocess

import pikepdf
import pytest
from o2s_esign_lib import convert

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def reportlab_pdf(text, font="Helvetica"):
    from reportlab.pdfgen import canvas
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont(font, 14)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


def arabic_pdf():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
    return reportlab_pdf("عقد التأمين على الحياة", font="DejaVuSans")


def pikepdf_metadata_pdf():
    pdf = pikepdf.open(io.BytesIO(reportlab_pdf("Metadata")))
    with pdf.open_metadata() as meta:
        meta["dc:title"] = "Bulletin de souscription"
        meta["dc:creator"] = ["O2S"]
    pdf.docinfo["/Producer"] = "pikepdf"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pdfa_like_pdf():
    pdf = pikepdf.open(io.BytesIO(reportlab_pdf("PDF/A")))
    with pdf.open_metadata() as meta:
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
    icc = pdf.make_stream(b"\0" * 128, N=3)
    pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier="sRGB", DestOutputProfile=icc)])
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


PRODUCERS = {"pikepdf-metadata": pikepdf_metadata_pdf, "pdfa-like": pdfa_like_pdf}
if os.path.exists(FONT):
    PRODUCERS["reportlab-arabic"] = arabic_pdf


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_clean_producers_are_signed_as_uploaded(name, tmp_path):
    data = PRODUCERS[name]()
    result = convert.normalise(data, f"{name}.pdf", max_bytes=10 << 20)
    assert result.source_kind == "pdf" and not result.converted
    assert result.removed == () and not result.repaired and not result.decrypted
    assert result.pdf == data, "a clean PDF is signed byte for byte as uploaded"
    if shutil.which("pdftotext") and name == "reportlab-arabic":
        text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                              check=True).stdout.decode()
        # ReportLab draws unshaped logical order, which poppler reads back right to left
        assert sum("\u0600" <= char <= "\u06ff" for char in text) >= 15, text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "20", "-png", "-", str(tmp_path / "p")], input=data,
                       capture_output=True, check=True)
        assert list(tmp_path.glob("p*.png"))
