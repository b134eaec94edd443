"""Issue 17 in the evidence: the drawn signature in evidence.pdf and the attestation, the
fields of each document in evidence.pdf and manifest.json; verify.py on such a bundle."""

import io
import json
import subprocess
import zipfile
from datetime import datetime

import evidence_factory as factory
import pdf_factory as pf
import o2s_esign_lib
import o2s_esign_lib.evidence as ev
import pikepdf
import pytest
import sigcheck
from o2s_esign_lib import verify

LIB = o2s_esign_lib
FILLED = datetime(2026, 11, 27, 14, 8, 30)


def _fields():
    return [
        {"name": "SignerA", "type": "signature", "page": 2, "rect": [60, 60, 260, 120],
         "signer": "A", "value": None, "filled_at": None},
        {"name": "CityB", "type": "text", "page": 1, "rect": [72.0, 200.0, 232.0, 218.0],
         "signer": "B", "value": "Paris – Évry", "filled_at": FILLED},
        {"name": "AgreeB", "type": "checkbox", "page": 1, "rect": [72, 230, 86, 244],
         "signer": "B", "value": True, "filled_at": FILLED},
    ]


def _pdf_text(data):
    proc = subprocess.run([sigcheck.require_tool("pdftotext"), "-enc", "UTF-8", "-", "-"],
                          input=data, capture_output=True, check=True, timeout=60)
    return proc.stdout.decode("utf-8")


def _images(data):
    sizes = []
    with pikepdf.open(io.BytesIO(data)) as doc:
        for page in doc.pages:
            for image in page.get_images(recursive=False).values():
                sizes.append((int(image.Width), int(image.Height)))
    return sizes


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    scenario = factory.two_signer_scenario(LIB, tmp_path_factory.mktemp("fields"))
    scenario.bundle.signers[0].signature_image = pf.signature_png(240, 80)
    scenario.bundle.signers[1].signature_image = b"\x89PNG broken"
    scenario.bundle.documents[0].fields = _fields()
    return scenario


@pytest.fixture(scope="module")
def built(scenario, tmp_path_factory):
    path = tmp_path_factory.mktemp("zip") / "evidence.zip"
    with open(path, "wb") as fh:
        result = ev.build_evidence_zip(fh, scenario.bundle, sealer=scenario.sealer)
    return path, result


def test_manifest_lists_the_fields(built):
    path, result = built
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest == result.manifest
    (doc,) = manifest["documents"]
    assert doc["fields"] == [
        {"name": "SignerA", "type": "signature", "page": 2, "rect": [60.0, 60.0, 260.0, 120.0],
         "signer": "A", "value": None, "filled_at": None},
        {"name": "CityB", "type": "text", "page": 1, "rect": [72.0, 200.0, 232.0, 218.0],
         "signer": "B", "value": "Paris – Évry", "filled_at": "2026-11-27T14:08:30.000000Z"},
        {"name": "AgreeB", "type": "checkbox", "page": 1, "rect": [72.0, 230.0, 86.0, 244.0],
         "signer": "B", "value": True, "filled_at": "2026-11-27T14:08:30.000000Z"},
    ]


def test_evidence_pdf_shows_the_fields_and_the_drawn_signature(built):
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        data = zf.read("evidence.pdf")
    text = _pdf_text(data)
    for expected in ("Fields on the document", "Paris – Évry", "checked", "Check box (AgreeB)",
                     "Signature (SignerA)", "72.0, 200.0, 232.0, 218.0",
                     "Signature drawn or typed", "(the image cannot be read)"):
        assert expected in text, expected
    assert (240, 80) in _images(data)  # signer A's PNG, at its own size


def test_attestation_shows_the_signers_own_drawing(scenario):
    data = ev.render_attestation_pdf(scenario.bundle, 0)
    assert (240, 80) in _images(data)
    assert "Signature drawn or typed" in _pdf_text(data)


def test_bundles_without_fields_or_image_are_unchanged(tmp_path):
    scenario = factory.two_signer_scenario(LIB, tmp_path)
    out = io.BytesIO()
    result = ev.build_evidence_zip(out, scenario.bundle, sealer=scenario.sealer)
    assert "fields" not in result.manifest["documents"][0]
    with zipfile.ZipFile(out) as zf:
        data = zf.read("evidence.pdf")
    assert _images(data) == []
    assert "Fields on the document" not in _pdf_text(data)


SIGNED = "signed/1-Lettre-de-mission-n-1-ete.pdf"


def test_verify_checks_the_signature_fields_where_the_manifest_places_them(built, tmp_path):
    path, _ = built
    out = io.StringIO()
    assert verify.main([str(path)], out=out) == 0, out.getvalue()
    assert factory.verify_statuses(out.getvalue())[f"field_positions:{SIGNED}"] == "PASS"
    assert "1 signature field(s) where the manifest places them" in out.getvalue()
    # a bundle whose manifest places signer A's field elsewhere
    moved = factory.two_signer_scenario(LIB, tmp_path)
    fields = _fields()
    fields[0] = {**fields[0], "rect": [60, 300, 260, 360]}
    moved.bundle.documents[0].fields = fields
    bad = tmp_path / "moved.zip"
    with open(bad, "wb") as fh:
        ev.build_evidence_zip(fh, moved.bundle, sealer=moved.sealer)
    out = io.StringIO()
    assert verify.main([str(bad)], out=out) == 1
    result = factory.verify_statuses(out.getvalue())
    assert result[f"field_positions:{SIGNED}"] == "FAIL"
    assert [n for n, v in result.items() if v == "FAIL"] == [f"field_positions:{SIGNED}"]
    assert "SignerA: at [60.0, 60.0, 260.0, 120.0] instead of" in out.getvalue()
    # wrong page
    fields[0] = {**_fields()[0], "page": 1}
    moved.bundle.documents[0].fields = fields
    with open(bad, "wb") as fh:
        ev.build_evidence_zip(fh, moved.bundle, sealer=moved.sealer)
    out = io.StringIO()
    assert verify.main([str(bad)], out=out) == 1
    assert "SignerA: on page 2 instead of 1" in out.getvalue()


def test_verify_reports_nothing_about_fields_for_older_bundles(tmp_path):
    scenario = factory.two_signer_scenario(LIB, tmp_path)
    path = tmp_path / "old.zip"
    with open(path, "wb") as fh:
        ev.build_evidence_zip(fh, scenario.bundle, sealer=scenario.sealer)
    out = io.StringIO()
    assert verify.main([str(path)], out=out) == 0, out.getvalue()
    assert "field_positions" not in out.getvalue()
