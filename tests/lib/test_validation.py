"""Tests of tests/support/validation.py on documents signed through PadesSigner."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pdf_factory as pf
import pytest
import validation
from o2s_esign_lib import pdf, pki, signing
from o2s_esign_lib.errors import PdfError

APPEARANCE = signing.Appearance("X", ["Signé électroniquement", "par X"], "https://e.example/v/1")


@pytest.fixture(scope="module")
def chain_doc(signer, company, tsa, roots):
    """Three signers (b_t, b_lt, b_t) then the company seal at b_lta."""
    slots = [pdf.SignatureSlot(f"Sig{i}", f"Signer {i}", "") for i in (1, 2, 3)]
    data = pdf.prepare_for_signing(pf.make_pdf(1), slots)
    crl = pki.make_crl(company.ca)
    for n, level in enumerate(["b_t", "b_lt", "b_t"], start=1):
        ident = pki.issue_one_time_identity(company.ca, name=f"Signer {n}",
                                            email=f"signer{n}@example.fr")
        data = signer.sign(data, field_name=f"Sig{n}", identity=ident, level=level, tsa=tsa,
                           appearance=APPEARANCE, trust_roots=roots, extra_crls=[crl]).data
    return signer.seal(data, identity=company.seal, level="b_lta", tsa=tsa, trust_roots=roots,
                       extra_crls=[crl]).data


def test_report_of_a_fully_signed_document(chain_doc, roots):
    reports = validation.validate_pdf(chain_doc, trust_roots=roots)
    kinds = [(r.field_name, r.kind) for r in reports]
    assert kinds[:4] == [("Sig1", "signature"), ("Sig2", "signature"), ("Sig3", "signature"),
                         ("CompanySeal", "signature")]
    assert [k for _, k in kinds[4:]] == ["doc_timestamp"]
    for r in reports:
        assert (r.intact, r.valid, r.trusted, r.bottom_line, r.error) == (True, True, True, True,
                                                                          None), r.summary
        assert r.coverage == "ENTIRE_REVISION"
        assert r.timestamp_time is not None and r.time_source == "now"
        assert r.messages == []  # pyHanko had nothing to warn about
    assert [r.signer_cn for r in reports[:3]] == ["Signer 1", "Signer 2", "Signer 3"]
    assert reports[1].signer_email == "signer2@example.fr"
    assert reports[3].signer_cn.endswith("Electronic Seal")
    assert [r.modification_level for r in reports[:4]] == ["FORM_FILLING"] * 3 + ["LTA_UPDATES"]
    assert all(r.docmdp_ok for r in reports[:4])
    # effective levels: the seal's DSS and document timestamp cover the earlier signatures
    assert [r.level for r in reports[:4]] == ["b_lta"] * 4
    assert reports[-1].level is None
    for r in reports[:4]:
        assert r.signing_time <= r.timestamp_time + timedelta(seconds=2)


def test_levels_of_single_signatures(signer, company, tsa, roots):
    raw = pf.make_pdf(1)
    for level in ("b_b", "b_t", "b_lt", "b_lta"):
        ident = pki.issue_one_time_identity(company.ca, name="Lev", email="lev@example.fr")
        data = signer.sign(raw, field_name="S", identity=ident, level=level,
                           tsa=tsa if level != "b_b" else None, appearance=None,
                           trust_roots=roots, extra_crls=[pki.make_crl(company.ca)]).data
        reports = validation.validate_pdf(data, trust_roots=roots)
        assert reports[0].level == level
        assert all(r.bottom_line for r in reports)


def test_flipped_byte_breaks_integrity(chain_doc, roots):
    at = chain_doc.index(b"\n", 0) + 3  # inside the binary comment of the header: still parses
    tampered = chain_doc[:at] + bytes([chain_doc[at] ^ 0x01]) + chain_doc[at + 1:]
    reports = validation.validate_pdf(tampered, trust_roots=roots)
    assert reports and all(not r.intact and not r.bottom_line for r in reports)
    # what pyHanko logged about the broken document timestamp is in its report
    [doc_ts] = [r for r in reports if r.kind == "doc_timestamp"]
    assert any("imprint" in m for m in doc_ts.messages), doc_ts.messages
    assert doc_ts.messages[0] in doc_ts.summary


def test_untrusted_root(chain_doc, pki_server):
    other = pki.create_company_pki("Autre cabinet")
    reports = validation.validate_pdf(chain_doc, trust_roots=[other.ca.cert,
                                                              pki_server.root_cert])
    sigs = [r for r in reports if r.kind == "signature"]
    assert all(r.intact and r.valid and not r.trusted and not r.bottom_line for r in sigs)
    assert all(r.trusted for r in reports if r.kind == "doc_timestamp")
    for r in sigs:  # the validator's complaint names each signer, in that signer's report
        assert len(r.messages) == 1 and "Failed to build path" in r.messages[0], r.messages
        assert r.signer_cn in r.messages[0] and r.messages[0] in r.summary
    assert all(r.messages == [] for r in reports if r.kind == "doc_timestamp")


def test_page_added_after_signing_is_flagged(signer, company, roots):
    slots = [pdf.SignatureSlot("Sig1", "A", "")]
    data = pdf.prepare_for_signing(pf.make_pdf(1), slots)
    ident = pki.issue_one_time_identity(company.ca, name="A", email="a@example.fr")
    signed = signer.sign(data, field_name="Sig1", identity=ident, level="b_b", tsa=None,
                         appearance=None, trust_roots=roots).data
    altered = pdf.prepare_for_signing(signed, [pdf.SignatureSlot("Late", "B", "")])
    [report] = validation.validate_pdf(altered, trust_roots=roots)
    assert report.intact and report.valid and report.trusted
    assert report.modification_level == "OTHER" and not report.bottom_line
    assert any("diff" in m for m in report.messages), report.messages


def test_expired_signer_validated_as_of_the_timestamp(company, private_pki_server):
    """A one-time certificate valid for two days, a month ago; signed then (TSA time)."""
    past = datetime.now(UTC) - timedelta(days=30)
    ca = pki.create_company_pki("Cabinet Ancien", now=past - timedelta(days=1)).ca
    ident = pki.issue_one_time_identity(ca, name="Ancien", email="old@example.fr", now=past,
                                        validity=timedelta(days=2))
    roots = [ca.cert, private_pki_server.root_cert]
    pades = signing.PadesSigner()
    try:
        private_pki_server.set_time(past + timedelta(hours=1))
        tsa = signing.TsaConfig(private_pki_server.tsa_url)
        b_t = pades.sign(pf.make_pdf(1), field_name="S", identity=ident, level="b_t", tsa=tsa,
                         appearance=None, trust_roots=roots).data
        b_b = pades.sign(pf.make_pdf(1), field_name="S", identity=ident, level="b_b", tsa=None,
                         appearance=None, trust_roots=roots).data
    finally:
        private_pki_server.set_time(None)
        pades.close()
    [report] = validation.validate_pdf(b_t, trust_roots=roots)
    assert report.trusted and report.bottom_line, report.summary
    assert report.time_source == "timestamp"
    assert abs(report.validated_at - (past + timedelta(hours=1))) < timedelta(minutes=1)
    # the first pass ("now") failed on the expiry; the report keeps that message once
    [message] = report.messages
    assert "expired" in message and "Ancien" in message
    # B-B: only the time claimed by the signer (now, after expiry) is available
    [report] = validation.validate_pdf(b_b, trust_roots=roots)
    assert not report.trusted and report.time_source == "claimed"
    assert any("expired" in m for m in report.messages), report.messages


def test_pyhanko_records_are_contained_per_thread(caplog):
    """Inside the containment, this thread's pyHanko records go to the capture, not to the
    logs; another thread's records and records outside it are logged as usual."""
    caplog.set_level(logging.INFO)
    pyhanko_logger = logging.getLogger("pyhanko.sign.validation.generic_cms")
    certvalidator_logger = logging.getLogger("pyhanko_certvalidator.validate")
    other_thread = threading.Thread(target=pyhanko_logger.warning, args=("other thread",))
    report_messages = []
    with validation._contain_pyhanko_logs():
        with validation._messages_of(report_messages):
            pyhanko_logger.warning("inside %s", "validation")
            certvalidator_logger.error("certvalidator inside")
            pyhanko_logger.info("info inside")
            pyhanko_logger.warning("inside %s", "validation")  # kept once
        other_thread.start()
        other_thread.join(10)
        logging.getLogger("o2s_esign_lib.test").warning("not pyHanko")
    pyhanko_logger.warning("after validation")
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert logged == [("pyhanko.sign.validation.generic_cms", "other thread"),
                      ("o2s_esign_lib.test", "not pyHanko"),
                      ("pyhanko.sign.validation.generic_cms", "after validation")]
    assert report_messages == ["inside validation", "certvalidator inside"]


def test_damaged_signature_is_reported_not_logged(chain_doc, roots, caplog):
    """A public page validates arbitrary PDFs: what pyHanko thinks of them is in the reports,
    not in the logs (not even at INFO)."""
    caplog.set_level(logging.INFO)
    start = chain_doc.index(b"/Contents <") + len(b"/Contents <") + 200
    # zeros in Sig1's CMS (its signer certificate comes first: the damage hits it)
    damaged = chain_doc[:start] + b"0" * 200 + chain_doc[start + 200:]
    reports = validation.validate_pdf(damaged, trust_roots=roots)
    sig1 = reports[0]
    assert sig1.field_name == "Sig1" and not sig1.bottom_line
    assert sig1.error or sig1.messages  # why, depending on which CMS bytes the zeros hit
    # Sig1's own digest skips its /Contents; every later signature covers them
    assert len(reports) == 5 and all(not r.intact and not r.bottom_line for r in reports[1:])
    [doc_ts] = [r for r in reports if r.kind == "doc_timestamp"]
    assert any("imprint" in m for m in doc_ts.messages), doc_ts.messages
    with pytest.raises(PdfError) as info:
        validation.validate_pdf(chain_doc[: len(chain_doc) // 2], trust_roots=roots)
    assert info.value.code == "corrupt"
    assert [(r.name, r.getMessage()) for r in caplog.records
            if r.name.startswith("pyhanko")] == []


def test_fetching_revocation_data_online(signer, company, tsa, roots):
    ident = pki.issue_one_time_identity(company.ca, name="F", email="f@example.fr")
    data = signer.sign(pf.make_pdf(1), field_name="S", identity=ident, level="b_t", tsa=tsa,
                       appearance=None, trust_roots=roots).data
    [report] = validation.validate_pdf(data, trust_roots=roots, allow_fetching=True)
    assert report.bottom_line and report.details["timestamp_trusted"]


def test_unsigned_and_unreadable():
    assert validation.validate_pdf(pf.make_pdf(1), trust_roots=[]) == []
    with pytest.raises(PdfError) as info:
        validation.validate_pdf(b"%PDF-1.7\nnot really", trust_roots=[])
    assert info.value.code == "corrupt"
