"""Evidence ZIP and attestation: layout, manifest, streaming memory, determinism, report
readability and escaping, privacy of attestations, refused requests."""

import hashlib
import io
import json
import subprocess
import tracemalloc
import zipfile
from datetime import datetime

import evidence_factory as factory
import o2s_esign_lib
import o2s_esign_lib.chain
import o2s_esign_lib.evidence as ev
import pytest
import sigcheck
from o2s_esign_lib.errors import EvidenceError

LIB = o2s_esign_lib


class FakeSealer:
    """Deterministic stand-in: marks instead of signing (no PDF validity claimed)."""

    def __init__(self, timestamp=False):
        self.with_timestamp = timestamp
        self.sealed = []

    def seal_pdf(self, data):
        self.sealed.append(len(data))
        return data + b"%fake-seal\n"

    def seal_detached(self, data):
        return b"CMS:" + hashlib.sha256(data).digest()

    def timestamp(self, data):
        return b"TSR:" + hashlib.sha256(data).digest() if self.with_timestamp else None


def pdf_text(data: bytes) -> str:
    result = subprocess.run([sigcheck.require_tool("pdftotext"), "-enc", "UTF-8", "-", "-"],
                            input=data, capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return factory.two_signer_scenario(LIB, tmp_path_factory.mktemp("signed"))


@pytest.fixture(scope="module")
def built(scenario, tmp_path_factory):
    path = tmp_path_factory.mktemp("zip") / "evidence.zip"
    with open(path, "wb") as fh:
        result = ev.build_evidence_zip(fh, scenario.bundle, sealer=scenario.sealer)
    return path, result


def test_layout(built, scenario):
    path, result = built
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
    base = "1-Lettre-de-mission-n-1-ete.pdf"
    assert names == [
        f"original/{base}", f"signed/{base}", "audit_trail.json", "consent.txt",
        "certificates/company-ca.pem", "certificates/company-seal.pem",
        "certificates/signer-1-a.pem", "certificates/signer-2-b.pem", "evidence.pdf",
        "README.txt", "verify.py", "manifest.json", "manifest.json.p7s",
    ]
    data = path.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)


def test_manifest(built, scenario):
    path, result = built
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest == result.manifest
        listed = set(manifest["files"])
        assert listed == set(zf.namelist()) - {"manifest.json", "manifest.json.p7s"}
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        audit = json.loads(zf.read("audit_trail.json"))
    events = scenario.bundle.events
    assert manifest["format"] == "o2s-esign-evidence/1"
    assert manifest["hash_algorithm"] == "sha256"
    assert manifest["generated_at"] == "2026-11-27T14:11:00.000000Z"
    assert manifest["chain_head"] == events[-1]["hash"]
    assert manifest["event_count"] == len(events)
    assert manifest["request"]["reference"] == "ESIGN/2026/00042"
    assert manifest["request"]["date_sent"] == "2026-11-27T14:02:00.000000Z"
    assert manifest["manifest_timestamp"] is False
    assert manifest["trust_anchors"] == ["certificates/company-ca.pem"]
    (doc,) = manifest["documents"]
    assert doc["original_sha256"] == factory.sha256(scenario.original)
    assert doc["final_sha256"] == factory.sha256(scenario.signed)
    assert doc["original_is_prefix"] is True
    assert audit["format"] == "o2s-esign-audit/1"
    assert audit["events"] == events
    assert LIB.chain.verify_chain(audit["events"], expected_head=manifest["chain_head"]).ok


def test_members_content(built, scenario):
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        assert zf.read("verify.py") == ev.VERIFY_SOURCE.read_bytes()
        consent = zf.read("consent.txt").decode()
        readme = zf.read("README.txt").decode()
        assert zf.read("certificates/company-ca.pem") == scenario.ca.cert_pem
        assert zf.read("original/1-Lettre-de-mission-n-1-ete.pdf") == scenario.original
        info = zf.getinfo("evidence.pdf")
    text = scenario.bundle.consent_texts[0].text
    assert f"SHA-256: {hashlib.sha256(text.encode()).hexdigest()}" in consent
    assert text in consent
    assert "python3 verify.py" in readme and "Pour vérifier" in readme
    assert "SHA-256 " in readme  # company CA fingerprint
    assert info.date_time == (2026, 11, 27, 14, 11, 0)
    assert info.create_system == 3 and info.external_attr == 0o100644 << 16


def test_evidence_pdf_is_sealed_and_readable(built):
    from pyhanko.pdf_utils.reader import PdfFileReader
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        data = zf.read("evidence.pdf")
    sigs = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert [s.field_name for s in sigs] == ["CompanySeal"]
    text = pdf_text(data)
    for expected in ("Evidence file", "ESIGN/2026/00042", factory.SIGNER_A["name"],
                     "Paul <b>Durand</b> & Fils", "Audit trail", "Société Durand & Fils",
                     factory.SIGNER_A["id_number"], "Code verified", "Consent given",
                     "Hash chain"):
        assert expected in text, expected


def test_evidence_pdf_renders(built, tmp_path):
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        (tmp_path / "e.pdf").write_bytes(zf.read("evidence.pdf"))
    subprocess.run([sigcheck.require_tool("pdftoppm"), "-r", "40", "-png", "-f", "1", "-l", "1",
                    str(tmp_path / "e.pdf"), str(tmp_path / "page")], check=True, timeout=60)
    png = next(tmp_path.glob("page*.png")).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000


def test_non_seekable_output_gives_the_same_bytes(scenario):
    class Pipe:
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(bytes(data))
            return len(data)

    pipe = Pipe()
    sealer = FakeSealer()
    first = io.BytesIO()
    ev.build_evidence_zip(first, scenario.bundle, sealer=sealer)
    again = ev.build_evidence_zip(pipe, scenario.bundle, sealer=sealer)
    assert b"".join(pipe.chunks) == first.getvalue()
    assert again.sha256 == hashlib.sha256(first.getvalue()).hexdigest()


def test_deterministic_given_same_inputs(scenario):
    outputs = []
    for _ in range(2):
        buffer = io.BytesIO()
        ev.build_evidence_zip(buffer, scenario.bundle, sealer=FakeSealer(timestamp=False))
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]


def test_timestamp_written_when_tsa_configured(scenario, tmp_path):
    bundle = scenario.bundle
    bundle_tsa = ev.EvidenceBundle(**{**bundle.__dict__,
                                      "request": ev.EvidenceRequest(**{**bundle.request.__dict__,
                                                                       "tsa_url": "http://tsa"}),
                                      "timestamps": {"doc1-signer-a.tst": b"\x30\x03\x02\x01\x01",
                                                     "manifest.json.tsr": b"\x30\x00"}})
    buffer = io.BytesIO()
    result = ev.build_evidence_zip(buffer, bundle_tsa, sealer=FakeSealer(timestamp=True))
    with zipfile.ZipFile(buffer) as zf:
        names = zf.namelist()
        manifest_bytes = zf.read("manifest.json")
        assert zf.read("timestamps/manifest.json.tsr") == (
            b"TSR:" + hashlib.sha256(manifest_bytes).digest())
    assert "timestamps/doc1-signer-a.tst" in names
    assert "timestamps/signature-manifest.json.tsr" in names  # no clash with the seal file
    assert result.manifest["manifest_timestamp"] is True
    assert "timestamps/manifest.json.tsr" not in result.manifest["files"]
    # a TSA is configured but no token comes back: refuse rather than silently downgrade
    with pytest.raises(EvidenceError) as info:
        ev.build_evidence_zip(io.BytesIO(), bundle_tsa, sealer=FakeSealer(timestamp=False))
    assert info.value.code == "seal_failed"


def test_recorded_hash_mismatch_is_refused(scenario, tmp_path):
    bundle = scenario.bundle
    doc = bundle.documents[0]
    bad = ev.EvidenceDocument(**{**doc.__dict__, "final_sha256": "0" * 64})
    out = io.BytesIO()
    with pytest.raises(EvidenceError) as info:
        ev.build_evidence_zip(out, ev.EvidenceBundle(**{**bundle.__dict__, "documents": [bad]}),
                              sealer=FakeSealer())
    assert info.value.code == "document_hash_mismatch"
    assert info.value.params["which"] == "signed"
    with pytest.raises(zipfile.BadZipFile):  # aborted: no end record, not a usable ZIP
        zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_broken_chain_is_refused(scenario):
    bundle = scenario.bundle
    events = [dict(e) for e in bundle.events]
    events[3]["ip_address"] = "10.0.0.1"
    with pytest.raises(EvidenceError) as info:
        ev.build_evidence_zip(io.BytesIO(), ev.EvidenceBundle(**{**bundle.__dict__,
                                                                 "events": events}),
                              sealer=FakeSealer())
    assert info.value.code == "chain_broken" and info.value.params["first_broken"] == 4


def test_sealer_error_propagates(scenario):
    class Down(FakeSealer):
        def seal_pdf(self, data):
            raise LIB.errors.TsaError("tsa_unreachable", {"url": "http://tsa"})

    with pytest.raises(LIB.errors.TsaError) as info:
        ev.build_evidence_zip(io.BytesIO(), scenario.bundle, sealer=Down())
    assert info.value.transient


def test_refused_request(tmp_path):
    scenario = factory.two_signer_scenario(LIB, tmp_path, state="refused")
    bundle = scenario.bundle
    bundle.documents[0].signed = None            # nothing signed kept for this variant
    bundle.documents[0].final_sha256 = None
    buffer = io.BytesIO()
    result = ev.build_evidence_zip(buffer, bundle, sealer=scenario.sealer)
    with zipfile.ZipFile(buffer) as zf:
        names = zf.namelist()
        report = zf.read("evidence.pdf")
    assert not any(n.startswith("signed/") for n in names)
    assert result.manifest["documents"][0]["signed"] is None
    assert result.manifest["request"]["state"] == "refused"
    text = pdf_text(report)
    assert "This request was refused" in text
    assert "no signed version" in text
    assert "Je ne suis pas d'accord <avec> les & conditions" in text


def test_partially_signed_documents(tmp_path):
    scenario = factory.two_signer_scenario(LIB, tmp_path, state="refused")
    buffer = io.BytesIO()
    result = ev.build_evidence_zip(buffer, scenario.bundle, sealer=scenario.sealer)
    doc = result.manifest["documents"][0]
    assert doc["signed"].startswith("signed/") and doc["original_is_prefix"] is True


def test_french_labels(scenario):
    labels = {"title": "Dossier de preuve", "timeline": "Journal des événements",
              "state_signed": "Signée", "signers": "Signataires"}
    bundle = ev.EvidenceBundle(**{**scenario.bundle.__dict__, "labels": labels, "lang": "fr"})
    data = ev.render_evidence_pdf(bundle)
    text = pdf_text(data)
    for expected in ("Dossier de preuve", "Journal des événements", "Signée", "Signataires",
                     "Lettre de mission — Dupont & Fils", "été"):
        assert expected in text, expected


@pytest.mark.parametrize("index, me, other", [(0, factory.SIGNER_A, factory.SIGNER_B),
                                              (1, factory.SIGNER_B, factory.SIGNER_A)])
def test_attestation_has_no_other_signers_data(scenario, index, me, other):
    data = ev.build_signer_attestation(scenario.bundle, index, sealer=scenario.sealer)
    text = pdf_text(data)
    for value in me.values():
        assert value in text, value
    for key, value in other.items():
        assert value not in text, key
        assert value.encode() not in data, key
    assert "1 other signer(s), of whom 1 signed" in text
    assert "ESIGN/2026/00042" in text
    assert factory.sha256(scenario.original) in text
    assert factory.sha256(scenario.signed) in text
    assert "another signer" in text  # the other signer's hash step, anonymised
    from pyhanko.pdf_utils.reader import PdfFileReader
    assert len(PdfFileReader(io.BytesIO(data)).embedded_signatures) == 1


def test_attestation_bad_index(scenario):
    for bad in (-1, 2, "0", None):
        with pytest.raises(EvidenceError) as info:
            ev.render_attestation_pdf(scenario.bundle, bad)
        assert info.value.code == "bad_signer_index"


def test_escaping_of_hostile_text(scenario):
    hostile = '<para><font size="40">X</font></para> & <img src="/etc/passwd"/> \x00\x07 <br/'
    signer = ev.EvidenceSigner(**{**scenario.bundle.signers[0].__dict__, "name": hostile,
                                  "refusal_reason": "a" * 10_000, "user_agent": "U" * 5000})
    bundle = ev.EvidenceBundle(**{**scenario.bundle.__dict__,
                                  "signers": [signer, scenario.bundle.signers[1]]})
    text = pdf_text(ev.render_evidence_pdf(bundle))
    assert '<para><font size="40">X</font></para> & <img src="/etc/passwd"/>' in text


def test_streaming_memory_does_not_grow_with_pages(tmp_path):
    sizes, peaks = [], []
    for pages in (200, 4000):
        pdf = tmp_path / f"big-{pages}.pdf"
        size = factory.write_big_pdf(pdf, pages, 4096)
        digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
        bundle = ev.EvidenceBundle(
            request=ev.EvidenceRequest(reference=f"BIG/{pages}", state="signed"),
            documents=[ev.EvidenceDocument(name="big.pdf", original=str(pdf),
                                           original_sha256=digest, signed=str(pdf),
                                           final_sha256=digest)],
            events=factory.make_events(LIB, [("created", None, None, None, {})]),
            generated_at=datetime(2026, 11, 27, 12, 0, 0))
        out = tmp_path / f"big-{pages}.zip"
        ev.render_evidence_pdf(bundle)  # warm up fonts and reportlab imports
        tracemalloc.start()
        with open(out, "wb") as fh:
            ev.build_evidence_zip(fh, bundle, sealer=FakeSealer())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sizes.append(size)
        peaks.append(peak)
        with zipfile.ZipFile(out) as zf:
            assert hashlib.sha256(zf.read("signed/1-big.pdf")).hexdigest() == digest
    assert sizes[1] > 15 * 2**20
    # the 16 MiB document is read twice (original/ and signed/) but never held whole
    assert peaks[1] < sizes[1] / 3, (peaks, sizes)
    assert peaks[1] - peaks[0] < 4 * 2**20, (peaks, sizes)


def test_safe_name():
    assert ev.safe_name("Lettre de mission é.pdf") == "Lettre-de-mission-e"
    assert ev.safe_name("../../etc/passwd") == "etc-passwd"
    assert ev.safe_name("..") == "document"
    assert ev.safe_name("") == "document"
    assert ev.safe_name("Ünïcödé   Spaß.PDF") == "Unicode-Spa"
    assert ev.safe_name("x" * 500) == "x" * 80
    assert ev.safe_name(".hidden") == "hidden"


def test_dates():
    moment = datetime(2026, 11, 27, 14, 3, 5, 12)
    assert ev.iso_utc(moment) == "2026-11-27T14:03:05.000012Z"
    assert ev.display_date(moment) == "2026-11-27 14:03:05 UTC"
    assert ev.display_date("2026-11-27T14:03:05.000012Z") == "2026-11-27 14:03:05 UTC"
    assert ev.display_date(None) == "" and ev.iso_utc(None) is None


def test_consent_sha256():
    text = "J'accepte — é"
    assert ev.consent_sha256(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert ev.ConsentText(text).sha256 == ev.consent_sha256(text)


def test_pades_sealer_adapter():
    calls = []

    class Result:
        data = b"sealed-pdf"

    class FakePadesSigner:
        def seal(self, pdf, **kwargs):
            calls.append(("seal", pdf, kwargs))
            return Result()

        def sign_detached(self, data, **kwargs):
            calls.append(("sign_detached", data, kwargs))
            return b"cms"

        def timestamp(self, data, tsa):
            calls.append(("timestamp", data, tsa))
            return b"tsr"

    sealer = ev.PadesSealer(FakePadesSigner(), identity="ID", level="b_t", tsa="TSA",
                            trust_roots=["root"], extra_crls=[b"crl"])
    assert isinstance(sealer, ev.Sealer)
    assert sealer.seal_pdf(b"pdf") == b"sealed-pdf"
    assert sealer.seal_detached(b"m") == b"cms"
    assert sealer.timestamp(b"m") == b"tsr"
    assert calls[0] == ("seal", b"pdf", {"identity": "ID", "level": "b_t", "tsa": "TSA",
                                         "trust_roots": ["root"], "extra_crls": [b"crl"]})
    assert calls[1] == ("sign_detached", b"m", {"identity": "ID", "tsa": "TSA"})
    assert ev.PadesSealer(FakePadesSigner(), identity="ID", level="b_b").timestamp(b"m") is None


def test_certificate_files(scenario):
    ca = scenario.ca
    files = ev.certificate_files(company_ca=ca.cert_pem, seal=ca.seal.cert_pem,
                                 signer_certs=[i.cert_pem for i in scenario.identities],
                                 tsa_certs=[ca.seal.cert_pem, ca.cert_pem])
    assert list(files) == ["company-ca.pem", "company-seal.pem", "signer-1.pem", "signer-2.pem",
                           "tsa-1.pem", "tsa-root-1.pem"]


def test_duplicate_names_are_refused(scenario):
    bundle = ev.EvidenceBundle(**{**scenario.bundle.__dict__,
                                  "certificates": {"a.pem": scenario.ca.cert_pem,
                                                   "a.crt": scenario.ca.cert_pem}})
    with pytest.raises(EvidenceError) as info:
        ev.build_evidence_zip(io.BytesIO(), bundle, sealer=FakeSealer())
    assert info.value.code == "duplicate_entry" and "a.pem" in str(info.value)


@pytest.mark.parametrize("change", [
    lambda data: data + b"x", lambda data: data[:-1],
    lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
])
def test_document_changing_between_reads_is_refused(scenario, change):
    reads = []

    def opener():
        reads.append(1)
        data = scenario.original
        return io.BytesIO(data if len(reads) == 1 else change(data))

    doc = ev.EvidenceDocument(name="moving", original=opener)
    bundle = ev.EvidenceBundle(**{**scenario.bundle.__dict__, "documents": [doc]})
    with pytest.raises(EvidenceError) as info:
        ev.build_evidence_zip(io.BytesIO(), bundle, sealer=FakeSealer())
    assert info.value.code == "document_changed"


def test_entries_are_stored_without_descriptors(built):
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.flag_bits == 0
            assert info.extra == b"" and info.comment == b""
