"""End to end with the real signing core: prepare -> two signers sign (B-T) -> company seal
(B-LTA) -> evidence ZIP sealed through PadesSigner -> verify.py passes (venv: every check;
system python3: stdlib checks); any flipped byte fails, naming the check."""

import hashlib
import io
import random
import subprocess
import zipfile
from datetime import UTC, datetime

import o2s_esign_lib.evidence as ev
import pytest
import sigcheck
from chain_events import build_chain
from evidence_factory import verify_statuses as statuses
from o2s_esign_lib import pdf, pki, signing
from test_verify import (
    SYSTEM_PYTHON,
    VENV_PYTHON,
    failed,
    member_edges,
    run_cli,
    run_inprocess,
    zip_regions,
)

SIGNERS = [("Jeanne Martin-Lefèvre", "jeanne@example.org", ""),
           ("Paul Durand", "paul@example.net", "pour le compte de Durand & Fils SAS")]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def flow(signer, company, tsa, roots, pki_server, tmp_path_factory):
    """Run the whole flow once; returns (zip path, bundle, real sealer, final PDF)."""
    import pdf_factory

    folder = tmp_path_factory.mktemp("e2e")
    original = pdf_factory.make_pdf(3)
    slots = [pdf.SignatureSlot(f"Signer{i}", name, capacity)
             for i, (name, _, capacity) in enumerate(SIGNERS, start=1)]
    prepared = pdf.prepare_for_signing(original, slots, labels={
        "title": "Page de signature", "document_name": "Lettre de mission",
        "reference": "ESIGN/2026/0077"})
    assert pdf.revision_prefixes_ok(original, prepared)

    events = [{"request": 77, "event_type": "created", "signer": None, "ip_address": None,
               "user_agent": None, "payload": {"documents": 1}},
              {"request": 77, "event_type": "sent", "signer": None, "ip_address": None,
               "user_agent": None, "payload": {"original_sha256": sha(original),
                                               "prepared_sha256": sha(prepared)}}]
    data, steps, evidence_signers, certificates, timestamps = prepared, [], [], {}, {}
    for index, (name, email, capacity) in enumerate(SIGNERS, start=1):
        identity = pki.issue_one_time_identity(company.ca, name=name, email=email)
        result = signer.sign(
            data, field_name=f"Signer{index}", identity=identity, level="b_t", tsa=tsa,
            appearance=signing.Appearance(name, ["Signé électroniquement", f"par {name}"],
                                          None),
            trust_roots=roots)
        assert pdf.revision_prefixes_ok(data, result.data)
        data = result.data
        when = result.signing_time.astimezone(UTC).replace(tzinfo=None)
        steps.append(ev.HashStep(sha(data), when, index))
        events.append({"request": 77, "event_type": "signed", "signer": index,
                       "ip_address": f"203.0.113.{index}", "user_agent": "Mozilla/5.0",
                       "payload": {"document_sha256": sha(data)}})
        certificates[f"signer-{index}.pem"] = identity.cert
        if result.timestamp_token:
            timestamps[f"doc1-signer{index}.tst"] = result.timestamp_token
        evidence_signers.append(ev.EvidenceSigner(
            name=name, ref=index, email=email, capacity=capacity, state="signed",
            date_signed=when, certificate=f"signer-{index}.pem", ip_address=f"203.0.113.{index}",
            user_agent="Mozilla/5.0"))
        del identity  # one-time key: dropped after signing
    sealed = signer.seal(data, identity=company.seal, level="b_lta", tsa=tsa, trust_roots=roots,
                         extra_crls=[pki.make_crl(company.ca)])
    final = sealed.data
    steps.append(ev.HashStep(sha(final), sealed.signing_time.astimezone(UTC).replace(
        tzinfo=None)))
    events.append({"request": 77, "event_type": "sealed", "signer": None, "ip_address": None,
                   "user_agent": None, "payload": {"final_sha256": sha(final)}})
    for sequence, event in enumerate(events, start=1):
        event["sequence"] = sequence
        event["date"] = f"2026-11-27T15:{sequence:02d}:00.000000Z"
    events = build_chain(events)

    (folder / "original.pdf").write_bytes(original)
    (folder / "final.pdf").write_bytes(final)
    certificates = ev.certificate_files(
        company_ca=company.ca.cert, seal=company.seal.cert,
        signer_certs=[certificates["signer-1.pem"], certificates["signer-2.pem"]],
        tsa_certs=[*signer.tsa_certificates(tsa), pki_server.root_cert])
    bundle = ev.EvidenceBundle(
        request=ev.EvidenceRequest(
            reference="ESIGN/2026/0077", name="Lettre de mission", company="Cabinet Dupré",
            advisor="Alice", state="signed", pades_level_requested="b_lta",
            pades_level_achieved="b_lta", tsa_url=tsa.url,
            date_done=datetime(2026, 11, 27, 15, 5)),
        documents=[ev.EvidenceDocument(
            name="Lettre de mission.pdf", original=str(folder / "original.pdf"),
            original_sha256=sha(original), prepared_sha256=sha(prepared),
            signed=lambda: open(folder / "final.pdf", "rb"),
            final_sha256=sha(final), steps=steps)],
        signers=evidence_signers, events=events, certificates=certificates,
        timestamps=timestamps,
        consent_texts=[ev.ConsentText("J'accepte la convention de preuve.", "Convention")],
        generated_at=datetime(2026, 11, 27, 15, 10))
    sealer = ev.PadesSealer(signer, identity=company.seal, level="b_lta", tsa=tsa,
                            trust_roots=roots, extra_crls=[pki.make_crl(company.ca)])
    path = folder / "EVIDENCE.zip"
    with open(path, "wb") as fh:
        result = ev.build_evidence_zip(fh, bundle, sealer=sealer)
    assert result.sha256 == sha(path.read_bytes())
    return path, bundle, sealer, final


def test_layout_and_manifest(flow):
    path, *_ = flow
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = zf.read("manifest.json")
        token = zf.read("timestamps/manifest.json.tsr")
    assert {"original/1-Lettre-de-mission.pdf", "signed/1-Lettre-de-mission.pdf",
            "evidence.pdf", "audit_trail.json", "consent.txt", "verify.py", "README.txt",
            "manifest.json", "manifest.json.p7s", "timestamps/manifest.json.tsr",
            "timestamps/doc1-signer1.tst", "timestamps/doc1-signer2.tst",
            "certificates/company-ca.pem", "certificates/company-seal.pem",
            "certificates/signer-1.pem", "certificates/signer-2.pem",
            "certificates/tsa-1.pem", "certificates/tsa-root-1.pem"} <= names
    assert hashlib.sha256(manifest).digest() in token  # RFC 3161 imprint of manifest.json


def test_verify_with_pyhanko_everything_passes(flow):
    path, *_ = flow
    rc, output = run_cli(VENV_PYTHON, "--strict", path)
    assert rc == 0, output
    result = statuses(output)
    assert set(result.values()) == {"PASS"}
    for name in ("manifest_seal", "manifest_timestamp", "pdf_signatures:evidence.pdf",
                 "pdf_trust:evidence.pdf", "pdf_signatures:signed/1-Lettre-de-mission.pdf",
                 "pdf_trust:signed/1-Lettre-de-mission.pdf",
                 "original_prefix:signed/1-Lettre-de-mission.pdf"):
        assert result[name] == "PASS", name
    assert ("signature Signer1, signature Signer2, signature CompanySeal, doc-timestamp"
            in output)


@pytest.mark.skipif(SYSTEM_PYTHON is None, reason="no python3 without pyHanko")
def test_verify_with_system_python(flow, tmp_path):
    path, *_ = flow
    rc, output = run_cli(SYSTEM_PYTHON, path)
    assert rc == 0, output
    assert statuses(output)["manifest_seal"] == "SKIP"
    assert "imprint matches" in output
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "x")
    rc, output = run_cli(SYSTEM_PYTHON, cwd=tmp_path / "x", script=tmp_path / "x" / "verify.py")
    assert rc == 0, output


def test_pdfsig_accepts_the_sealed_report(flow, tmp_path):
    path, *_ = flow
    with zipfile.ZipFile(path) as zf:
        (tmp_path / "evidence.pdf").write_bytes(zf.read("evidence.pdf"))
    proc = subprocess.run([sigcheck.require_tool("pdfsig"), "-nocert", str(tmp_path / "evidence.pdf")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert "Signature is Valid" in proc.stdout, proc.stdout + proc.stderr
    assert "Signature #1" in proc.stdout


def test_flip_any_byte_fails_naming_the_check(flow, tmp_path):
    path, *_ = flow
    pristine = path.read_bytes()
    header_bytes, data_bytes = zip_regions(path)
    rng = random.Random(77)
    positions = rng.sample(header_bytes, 400) + member_edges(path) + rng.sample(data_bytes, 200)
    copy = tmp_path / "t.zip"
    for offset in positions:
        data = bytearray(pristine)
        data[offset] ^= 0x01
        copy.write_bytes(bytes(data))
        rc, output = run_inprocess(copy)
        assert rc == 1 and failed(output), (offset, output)


@pytest.mark.parametrize("member", ["signed/1-Lettre-de-mission.pdf", "evidence.pdf",
                                    "audit_trail.json", "manifest.json.p7s",
                                    "timestamps/manifest.json.tsr"])
def test_flip_in_member_with_pyhanko(flow, tmp_path, member):
    path, *_ = flow
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(member) + info.compress_size // 3] ^= 0x01
    copy = tmp_path / "t.zip"
    copy.write_bytes(bytes(data))
    rc, output = run_cli(VENV_PYTHON, copy)
    assert rc == 1
    names = failed(output)
    expected = f"hash:{member}" if not member.endswith((".p7s", ".tsr")) else "zip_structure"
    assert expected in names, output


def test_attestation_with_the_real_sealer(flow):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, bundle, sealer, _ = flow
    data = ev.build_signer_attestation(bundle, 0, sealer=sealer)
    reader = PdfFileReader(io.BytesIO(data))
    vc = ValidationContext(trust_roots=sealer.trust_roots)
    seal = next(s for s in reader.embedded_signatures if s.field_name == "CompanySeal")
    status = validate_pdf_signature(seal, vc)
    assert status.intact and status.valid and status.trusted
    text = subprocess.run([sigcheck.require_tool("pdftotext"), "-", "-"], input=data,
                          capture_output=True, check=True, timeout=60).stdout.decode()
    assert "Jeanne Martin-Lefèvre" in text and "Paul Durand" not in text
    assert "paul@example.net" not in text and "203.0.113.2" not in text


def test_expired_signer_is_trusted_as_of_its_timestamp(company, private_pki_server, tmp_path):
    """A one-time certificate that expired long ago still verifies: verify.py validates as of
    the signature time-stamp (B-T). With only the signer's claimed time (B-B, claimed after
    expiry) pdf_trust fails, naming the document."""
    from datetime import timedelta

    past = datetime.now(UTC) - timedelta(days=40)
    old_ca = pki.create_company_pki("Cabinet Ancien", now=past - timedelta(days=1))
    ident = pki.issue_one_time_identity(old_ca.ca, name="Ancien", email="old@example.fr",
                                        now=past, validity=timedelta(days=2))
    roots = [old_ca.ca.cert, private_pki_server.root_cert]
    pades = signing.PadesSigner()
    try:
        private_pki_server.set_time(past + timedelta(hours=1))
        tsa = signing.TsaConfig(private_pki_server.tsa_url)
        b_t = pades.sign(pdf_factory_pdf(), field_name="S", identity=ident, level="b_t",
                         tsa=tsa, appearance=None, trust_roots=roots).data
        b_b = pades.sign(pdf_factory_pdf(), field_name="S", identity=ident, level="b_b",
                         tsa=None, appearance=None, trust_roots=roots).data
        tsa_certs = pades.tsa_certificates(tsa)
    finally:
        private_pki_server.set_time(None)
    sealer = ev.PadesSealer(pades, identity=old_ca.seal, level="b_b", trust_roots=roots)
    try:
        for name, data, expected in (("bt", b_t, 0), ("bb", b_b, 1)):
            (tmp_path / f"{name}.pdf").write_bytes(data)
            bundle = ev.EvidenceBundle(
                request=ev.EvidenceRequest(reference=f"OLD/{name}", state="signed"),
                documents=[ev.EvidenceDocument(name="doc", original=str(tmp_path / f"{name}.pdf"),
                                               signed=str(tmp_path / f"{name}.pdf"))],
                events=build_chain([{"request": 1, "sequence": 1, "event_type": "created",
                                           "date": "2026-01-01T00:00:00.000000Z", "signer": None,
                                           "ip_address": None, "user_agent": None,
                                           "payload": {}}]),
                certificates=ev.certificate_files(
                    company_ca=old_ca.ca.cert, seal=old_ca.seal.cert, signer_certs=[ident.cert],
                    tsa_certs=[*tsa_certs, private_pki_server.root_cert]))
            path = tmp_path / f"{name}.zip"
            with open(path, "wb") as fh:
                ev.build_evidence_zip(fh, bundle, sealer=sealer)
            rc, output = run_cli(VENV_PYTHON, path)
            assert rc == expected, output
            if expected:
                assert failed(output) == ["pdf_trust:signed/1-doc.pdf"], output
    finally:
        pades.close()


def pdf_factory_pdf():
    import pdf_factory
    return pdf_factory.make_pdf(1)
