"""The hostile-input corpus kept in tests/fixtures/hostile: complete, intact, and every bad PDF
refused by the signing core's check with the reason the manifest gives. (The Odoo side, through
the wizard, the API and the signing page: o2s_esign/tests/test_esign_hostile.py.)"""

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from o2s_esign_lib import convert, pdf
from o2s_esign_lib.errors import PdfError

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
PDF_CASES = [case for case in MANIFEST["cases"] if case["kind"] == "pdf"]


def test_corpus_is_complete():
    cases = MANIFEST["cases"]
    assert len(cases) >= 30
    assert len({case["id"] for case in cases}) == len(cases)
    assert {case["kind"] for case in cases} >= {
        "pdf", "file_name", "subject", "message", "reason", "typed_name", "signer_name", "phone",
        "email"}
    for case in cases:
        assert case["expect"] in ("refused", "cleaned", "escaped", "neutralised", "decrypted",
                                  "repaired"), case["id"]
        if case["expect"] == "refused":
            assert case["message"], case["id"]
    codes = {case["code"] for case in PDF_CASES}
    assert codes == {"empty", "corrupt", "encrypted", "not_pdf", "too_many_pages",
                     "active_content", "decompression_bomb"}
    assert (CORPUS / "README.md").exists()
    # every file of the folder is a case: nothing stale is left behind
    stored = {str(path.relative_to(CORPUS)) for path in (CORPUS / "pdf").iterdir()}
    assert stored == {case["file"] for case in PDF_CASES}


@pytest.mark.parametrize("case", PDF_CASES, ids=[case["id"] for case in PDF_CASES])
def test_bad_pdf_is_refused_by_the_core(case):
    raw = (CORPUS / case["file"]).read_bytes()
    data = gzip.decompress(raw) if case["file"].endswith(".gz") else raw
    assert hashlib.sha256(data).hexdigest() == case["sha256"]
    assert len(data) == case["size"]
    with pytest.raises(PdfError) as caught:
        pdf.inspect_pdf(data, max_bytes=20 * 1024 * 1024)
    assert caught.value.code == case["code"]


#: the refusals whose code changes once a file is read for what it is (issue 16)
NORMALISE_CODES = {"pdf-png-named-pdf": "image_corrupt"}


@pytest.mark.parametrize("case", PDF_CASES, ids=[case["id"] for case in PDF_CASES])
def test_bad_pdf_is_made_signable_or_refused(case):
    """What the intake does with each file (lib.convert): the refused ones are refused for
    the same reason; the others become a PDF the checks accept, with nothing active left."""
    raw = (CORPUS / case["file"]).read_bytes()
    data = gzip.decompress(raw) if case["file"].endswith(".gz") else raw
    convert._cache.clear()
    if case["expect"] == "refused":
        with pytest.raises(PdfError) as caught:
            convert.normalise(data, case["id"] + ".pdf", max_bytes=20 * 1024 * 1024)
        assert caught.value.code == NORMALISE_CODES.get(case["id"], case["code"])
        return
    result = convert.normalise(data, case["id"] + ".pdf", max_bytes=20 * 1024 * 1024)
    assert result.converted
    assert {"neutralised": bool(result.removed), "decrypted": result.decrypted,
            "repaired": result.repaired}[case["expect"]], result
    pdf.inspect_pdf(result.pdf, max_bytes=20 * 1024 * 1024)  # nothing active is left
