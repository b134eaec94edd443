"""Tests of o2s_esign/lib/pdf.py: hashing, intake checks on hostile PDFs, preparation."""

import io
import subprocess
import time

import pdf_factory as pf
import pytest
import sigcheck
from o2s_esign_lib import pdf
from o2s_esign_lib.errors import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

MAX = 30 * 1024 * 1024
GOOD = pf.make_pdf(3)
BAD = pf.bad_pdfs(GOOD)
LABELS_FR = {
    "title": "Page de signatures", "document_label": "Document",
    "document_name": "Lettre de mission 2026 – été", "reference_label": "Référence",
    "reference": "ESIGN/2026/0042", "signer_label": "Signataire",
    "intro": "Cette page a été ajoutée pour recevoir les signatures électroniques.",
}
SLOTS = [
    pdf.SignatureSlot("Sig1", "Jeanne Martin-Égé", "pour le compte de la SCI Les Œillets"),
    pdf.SignatureSlot("Sig2", "Paul Durand", "Conseiller, Cabinet Dupré"),
]


def test_revision_prefixes_ok():
    assert pdf.revision_prefixes_ok(b"abc", b"abcdef")
    assert pdf.revision_prefixes_ok(b"abc", b"abc")
    assert not pdf.revision_prefixes_ok(b"abc", b"abXdef")
    assert not pdf.revision_prefixes_ok(b"abcdef", b"abc")


@pytest.mark.parametrize("name", sorted(BAD))
def test_inspect_rejects_hostile_input(name):
    data, code = BAD[name]
    start = time.perf_counter()
    with pytest.raises(PdfError) as info:
        pdf.inspect_pdf(data, max_bytes=MAX)
    elapsed = time.perf_counter() - start
    assert info.value.code == code, info.value.params
    assert elapsed < 2.0, f"{name} took {elapsed:.2f}s"


def test_inspect_too_large_and_page_cap():
    with pytest.raises(PdfError) as info:
        pdf.inspect_pdf(GOOD, max_bytes=len(GOOD) - 1)
    assert info.value.code == "too_large"
    assert info.value.params == {"size": len(GOOD), "max_bytes": len(GOOD) - 1}
    with pytest.raises(PdfError) as info:
        pdf.inspect_pdf(GOOD, max_bytes=MAX, max_pages=2)
    assert info.value.code == "too_many_pages"


@pytest.mark.parametrize("data,pages,version", [
    (GOOD, 3, "1.3"),
    (pf.objstm_pdf(), 1, "1.5"),
    (pf.raw_pages_pdf(1, count=10**9), 1, "1.7"),          # lying /Count, one real page
    (pf.raw_pages_pdf(300, fan_out=7), 300, "1.7"),        # multi-level tree
    (pf.make_pdf(1, image_bytes=400_000), 1, "1.3"),
])
def test_inspect_accepts_good_pdfs(data, pages, version):
    info = pdf.inspect_pdf(data, max_bytes=MAX)
    assert info == pdf.PdfInfo(page_count=pages, pdf_version=version, has_signatures=False)


def test_inspect_is_fast_on_a_large_page_tree():
    data = pf.raw_pages_pdf(2000, fan_out=10)
    start = time.perf_counter()
    assert pdf.inspect_pdf(data, max_bytes=MAX).page_count == 2000
    assert time.perf_counter() - start < 3.0


def _fields(data):
    reader = PdfFileReader(io.BytesIO(data))
    result = {}
    for name, value, ref in enumerate_sig_fields(reader):
        field = ref.get_object()
        widget = field if "/Rect" in field else field["/Kids"][0].get_object()
        page = widget.raw_get("/P")
        page_ix = next(i for i in range(reader.root["/Pages"]["/Count"])
                       if reader.find_page_for_modification(i)[0].idnum == page.idnum)
        result[name] = (value, page_ix, [float(x) for x in widget["/Rect"]])
    return reader, result


def _text(data):
    out = subprocess.run([sigcheck.require_tool("pdftotext"), "-", "-"], input=data,
                         capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_prepare_signature_page():
    out = pdf.prepare_for_signing(GOOD, SLOTS, placement="signature_page", labels=LABELS_FR)
    assert out.startswith(GOOD) and len(out) > len(GOOD)
    info = pdf.inspect_pdf(out, max_bytes=MAX)
    assert info.page_count == 4 and not info.has_signatures
    reader, fields = _fields(out)
    assert reader.total_revisions == 2
    assert set(fields) == {"Sig1", "Sig2"}
    for value, page_ix, rect in fields.values():
        assert value is None and page_ix == 3
        assert rect[2] - rect[0] > 200 and rect[3] - rect[1] > 80
    # boxes do not overlap and sit one under the other
    assert fields["Sig1"][2][1] > fields["Sig2"][2][3]
    text = _text(out)
    for expected in ("Page de signatures", "Lettre de mission 2026 – été", "ESIGN/2026/0042",
                     "Jeanne Martin-Égé", "pour le compte de la SCI Les Œillets",
                     "Signataire 2", "Cabinet Dupré"):
        assert expected in text


def test_prepare_many_slots_spill_over_pages():
    slots = [pdf.SignatureSlot(f"S{i}", f"Signataire n°{i}", "") for i in range(9)]
    out = pdf.prepare_for_signing(GOOD, slots, labels=LABELS_FR)
    assert pdf.inspect_pdf(out, max_bytes=MAX).page_count == 3 + 3
    _, fields = _fields(out)
    assert sorted({page for _, page, _ in fields.values()}) == [3, 4, 5]


def test_prepare_last_page_band():
    out = pdf.prepare_for_signing(GOOD, SLOTS, placement="last_page", labels=LABELS_FR)
    assert out.startswith(GOOD)
    assert pdf.inspect_pdf(out, max_bytes=MAX).page_count == 3
    _, fields = _fields(out)
    for _, page_ix, rect in fields.values():
        assert page_ix == 2 and rect[3] < 842 / 3
    assert fields["Sig1"][2][2] <= fields["Sig2"][2][0]
    text = _text(out)
    assert "Jeanne Martin-Égé" in text and "Line 19 of page 3" in text


def test_prepare_last_page_falls_back_when_too_small():
    small = pf.make_pdf(1, pagesize=(300, 200))
    out = pdf.prepare_for_signing(small, SLOTS, placement="last_page")
    assert pdf.inspect_pdf(out, max_bytes=MAX).page_count == 2


def test_prepare_rejects_duplicates_and_existing_fields():
    out = pdf.prepare_for_signing(GOOD, SLOTS[:1])
    with pytest.raises(PdfError) as info:
        pdf.prepare_for_signing(out, SLOTS[:1])
    assert info.value.code == "field_exists"
    with pytest.raises(ValueError):
        pdf.prepare_for_signing(GOOD, [SLOTS[0], SLOTS[0]])
    with pytest.raises(ValueError):
        pdf.prepare_for_signing(GOOD, [])
    with pytest.raises(PdfError) as info:
        pdf.prepare_for_signing(pf.encrypted_pdf(), SLOTS)
    assert info.value.code == "encrypted"
