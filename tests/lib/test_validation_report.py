"""lib/validation_report.py: the ETSI EN 319 102-1 style report (pyHanko's AdES validation) and
the document lock the company seal sets (a later change is reported)."""

import io
import json
import logging
from datetime import UTC, datetime

import pdf_factory as pf
import pdf_tamper
import pytest
import validation
from o2s_esign_lib import pdf, pki
from o2s_esign_lib import validation_report as vr
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm


def _signed(signer, company, tsa, pki_server, level):
    roots = [company.ca.cert, pki_server.root_cert]
    crl = pki.make_crl(company.ca)
    data = pdf.prepare_for_signing(pf.make_pdf(1), [pdf.SignatureSlot("Sig1", "Signer 1", "")])
    ident = pki.issue_one_time_identity(company.ca, name="Jeanne Martin", email="j@example.fr")
    use_tsa = tsa if level != "b_b" else None
    data = signer.sign(data, field_name="Sig1", identity=ident, level=level, tsa=use_tsa,
                       appearance=None, trust_roots=roots, extra_crls=[crl]).data
    return signer.seal(data, identity=company.seal, level=level, tsa=use_tsa, trust_roots=roots,
                       extra_crls=[crl]).data


@pytest.fixture(scope="module")
def sealed(signer, company, tsa, pki_server):
    return {level: _signed(signer, company, tsa, pki_server, level)
            for level in ("b_b", "b_t", "b_lta")}


def _report(data, company, pki_server, roots=None):
    return vr.validate_pdf_signatures(
        data, trust_roots=roots or [company.ca.cert], tsa_roots=[pki_server.root_cert],
        crls=[pki.make_crl(company.ca)])


@pytest.mark.parametrize("level,process", [("b_b", "basic"), ("b_t", "with_time"),
                                           ("b_lta", "lta")])
def test_every_signature_passes_with_the_process_of_its_level(sealed, company, pki_server,
                                                              level, process):
    results = _report(sealed[level], company, pki_server)
    signatures = [r for r in results if r.kind == "signature"]
    assert [r.field_name for r in signatures] == ["Sig1", "CompanySeal"]
    assert signatures[0].signer_name == "Jeanne Martin"
    assert signatures[1].signer_name.endswith("Electronic Seal")
    for r in results:
        assert (r.indication, r.sub_indication, r.message) == (vr.PASSED, None, ""), r
    for r in signatures:
        assert r.process == process and r.covers_document is True
        assert r.signing_time.endswith("Z")
        assert (r.timestamp_time is None) == (level == "b_b")
        assert "@" not in json.dumps(r.as_dict())  # names and dates only: no e-mail address
    doc_timestamps = [r for r in results if r.kind == "doc_timestamp"]
    assert len(doc_timestamps) == (2 if level == "b_lta" else 0)
    assert all(r.process == "timestamp" for r in doc_timestamps)


def test_the_seal_locks_the_document(sealed):
    """The seal's field locks every field with DocMDP "no changes" (PDF 2.0 lock dictionary)."""
    for level in ("b_t", "b_lta"):
        reader = PdfFileReader(io.BytesIO(sealed[level]), strict=False)
        seal = next(s for s in reader.embedded_signatures if s.field_name == "CompanySeal")
        assert seal.docmdp_level == MDPPerm.NO_CHANGES
        lock = seal.sig_field["/Lock"]
        assert lock["/Action"] == "/All" and lock["/P"] == 1


@pytest.mark.parametrize("level", ["b_t", "b_lta"])
def test_an_annotation_added_after_the_seal_is_reported(sealed, company, pki_server, level):
    tampered = pdf_tamper.add_annotation(sealed[level])
    assert tampered.startswith(sealed[level])  # the signed bytes are intact
    results = _report(tampered, company, pki_server)
    for r in (r for r in results if r.kind == "signature"):
        assert r.covers_document is False, r
        assert (r.indication, r.sub_indication) == (vr.FAILED, "HASH_FAILURE")
        assert "changed after this signature" in r.message
    seal = next(r for r in results if r.field_name == "CompanySeal")
    assert seal.docmdp_ok is False
    # pyHanko's own validation says the same: no longer covered, against the seal's lock
    reports = {r.field_name: r for r in validation.validate_pdf(
        tampered, trust_roots=[company.ca.cert, pki_server.root_cert])}
    assert reports["CompanySeal"].docmdp_ok is False
    assert reports["CompanySeal"].bottom_line is False
    assert reports["CompanySeal"].coverage == "ENTIRE_REVISION"


def test_a_signature_outside_the_trust_roots_is_indeterminate(sealed, company, pki_server):
    other = pki.create_company_pki("Someone Else", "FR")
    results = _report(sealed["b_t"], company, pki_server, roots=[other.ca.cert])
    signatures = [r for r in results if r.kind == "signature"]
    assert signatures and all(r.indication == vr.INDETERMINATE for r in signatures)
    assert all(r.sub_indication for r in signatures)


def test_time_stamp_roots_do_not_validate_signatures(sealed, company, pki_server):
    """The TSA's root anchors time-stamp tokens only, never a signature."""
    results = vr.validate_pdf_signatures(sealed["b_t"], trust_roots=[],
                                         tsa_roots=[pki_server.root_cert, company.ca.cert])
    assert all(r.indication != vr.PASSED for r in results if r.kind == "signature")


def test_unreadable_pdf_and_pyhanko_logs(company, pki_server, sealed, caplog):
    assert _report(b"%PDF-1.7 not really", company, pki_server) == []
    with caplog.at_level(logging.INFO):
        _report(pdf_tamper.add_annotation(sealed["b_t"]), company, pki_server)
    assert not [r for r in caplog.records if r.name.startswith("pyhanko")
                and r.levelno >= logging.WARNING]


def test_report_json(sealed, company, pki_server):
    results = _report(sealed["b_t"], company, pki_server)
    body = json.loads(vr.report_json("doc.pdf", "ab" * 32, results,
                                     datetime(2026, 12, 1, 10, 0, tzinfo=UTC)))
    assert body["format"] == vr.FORMAT and body["validated_at"] == "2026-12-01T10:00:00Z"
    assert [s["indication"] for s in body["signatures"]] == [vr.PASSED, vr.PASSED]
    assert set(body["processes"]) == set(vr.PROCESSES)
