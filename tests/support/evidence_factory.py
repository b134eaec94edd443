"""Builders for evidence tests: PDFs (small and very large), chained events and a complete
two-signer bundle signed with real pyHanko signatures (see ``simple_sealer.py``).

Plain Python; the lib package must already be importable as ``o2s_esign_lib`` (the plain
pytest conftest does that) or be passed in.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from reportlab.pdfgen import canvas
from simple_sealer import Identity, SimpleSealer, TestCa, sign_field

T0 = datetime(2026, 11, 27, 14, 0, 0)

# personal data of the two test signers; attestation tests look for these strings
SIGNER_A = {"name": "Jeanne Martin-Lefèvre", "email": "jeanne.martin@example.org",
            "mobile": "+33612345678", "id_number": "FR-ID-A1B2C3", "ip": "203.0.113.41",
            "ua": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) JeanneBrowser/1.0"}
SIGNER_B = {"name": "Paul <b>Durand</b> & Fils", "email": "paul.durand@example.net",
            "mobile": "+33698765432", "id_number": "FR-PASS-Z9Y8X7", "ip": "198.51.100.77",
            "ua": "Mozilla/5.0 (X11; Linux x86_64) PaulBrowser/2.0"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_pdf(pages: int = 2, title: str = "Lettre de mission") -> bytes:
    """A small real PDF (reportlab), with French accents in its text."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for index in range(pages):
        pdf.drawString(72, 760, f"{title} \u2014 page {index + 1} \u2014 \u00e9t\u00e9 \u0153uvre")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def write_big_pdf(path: str | os.PathLike, pages: int, bytes_per_page: int = 4096) -> int:
    """Write a valid PDF of ``pages`` pages, each with an uncompressed content stream of about
    ``bytes_per_page`` bytes, streaming to disk (the test process never holds it). Returns the
    file size."""
    offsets = []
    with open(path, "wb") as fh:
        def obj(number: int, body: bytes):
            offsets.append((number, fh.tell()))
            fh.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

        fh.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(pages))
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(2, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids))
        filler_line = b"% " + b"0123456789abcdef" * 4 + b"\n"
        for i in range(pages):
            text = b"BT /F1 12 Tf 72 720 Td (Page %d) Tj ET\n" % (i + 1)
            filler = filler_line * max(0, (bytes_per_page - len(text)) // len(filler_line))
            content = text + filler
            obj(3 + 2 * i, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                           b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
                           b"/BaseFont /Helvetica >> >> >> /Contents %d 0 R >>" % (4 + 2 * i))
            obj(4 + 2 * i, b"<< /Length %d >>\nstream\n" % len(content) + content
                + b"\nendstream")
        xref_at = fh.tell()
        count = 3 + 2 * pages
        fh.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        table = dict(offsets)
        fh.writelines(b"%010d 00000 n \n" % table[number] for number in range(1, count))
        fh.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                 % (count, xref_at))
        return fh.tell()


def make_events(lib, specs, request=42):
    """Chain events from (event_type, signer_ref, ip, user_agent, payload) tuples."""
    events = []
    for index, (event_type, signer, ip, ua, payload) in enumerate(specs, start=1):
        events.append({
            "request": request, "sequence": index, "event_type": event_type,
            "date": (T0 + timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "signer": signer, "ip_address": ip, "user_agent": ua, "payload": payload,
        })
    from chain_events import build_chain  # needs o2s_esign_lib loaded, as said above

    return build_chain(events)


@dataclass
class Scenario:
    """A complete request: CA, identities, PDFs on disk, sealer and bundle."""

    ca: TestCa
    sealer: SimpleSealer
    bundle: object
    identities: list[Identity]
    original: bytes
    signed: bytes
    folder: Path


def two_signer_scenario(lib, folder: Path, *, state: str = "signed", tsa_url: str | None = None,
                        tsa_certs: dict | None = None, documents: int = 1,
                        ca: TestCa | None = None) -> Scenario:
    """Two signers sign every document (PAdES via pyHanko), then the company seal; or, with
    ``state="refused"``, signer B refuses after A signed (partially signed documents)."""
    ev = lib.evidence
    ca = ca or TestCa()
    sealer = SimpleSealer(ca.seal, tsa_url=tsa_url)
    timestamper = sealer.timestamper
    id_a = ca.issue(SIGNER_A["name"], SIGNER_A["email"])
    id_b = ca.issue("Paul Durand", SIGNER_B["email"])
    docs, first_original, first_signed = [], None, None
    for number in range(1, documents + 1):
        original = make_pdf(2, f"Document {number}")
        step1 = sign_field(original, id_a, "SignerA", timestamper=timestamper,
                           box=(60, 60, 260, 120))
        steps = [ev.HashStep(sha256(step1), T0 + timedelta(minutes=6), "A")]
        if state == "signed":
            step2 = sign_field(step1, id_b, "SignerB", timestamper=timestamper,
                               box=(320, 60, 520, 120))
            final = sealer.seal_pdf(step2)
            steps += [ev.HashStep(sha256(step2), T0 + timedelta(minutes=9), "B"),
                      ev.HashStep(sha256(final), T0 + timedelta(minutes=10))]
        else:
            final = step1
        original_path = folder / f"original-{number}.pdf"
        signed_path = folder / f"signed-{number}.pdf"
        original_path.write_bytes(original)
        signed_path.write_bytes(final)
        docs.append(ev.EvidenceDocument(
            name=f"Lettre de mission n\u00b0{number} \u2014 \u00e9t\u00e9.pdf",
            doc_type="Mission letter", original=str(original_path),
            original_sha256=sha256(original),
            # a callable opener, as the Odoo layer passes for attachments
            signed=(lambda p=signed_path: open(p, "rb")), final_sha256=sha256(final),
            steps=steps))
        if first_original is None:
            first_original, first_signed = original, final
    consent = ev.ConsentText("J'accepte que la présente convention de preuve s'applique. "
                             "<script>alert(1)</script>", "Convention de preuve")
    specs = [
        ("created", None, None, None, {"by": "Alice Conseil"}),
        ("sent", None, None, None, {"documents": documents}),
        ("otp_sent", "A", None, None, {"channel": "sms"}),
        ("otp_verified", "A", SIGNER_A["ip"], SIGNER_A["ua"], {}),
        ("consent_given", "A", SIGNER_A["ip"], SIGNER_A["ua"], {"consent_sha256": consent.sha256}),
        ("signed", "A", SIGNER_A["ip"], SIGNER_A["ua"], {"document_sha256": docs[0].steps[0].sha256}),
        ("otp_sent", "B", None, None, {"channel": "sms"}),
        ("otp_verified", "B", SIGNER_B["ip"], SIGNER_B["ua"], {}),
    ]
    if state == "signed":
        specs += [("signed", "B", SIGNER_B["ip"], SIGNER_B["ua"], {"note": "<b>ok</b> & done"}),
                  ("sealed", None, None, None, {})]
    else:
        specs += [("refused", "B", SIGNER_B["ip"], SIGNER_B["ua"],
                   {"reason": "Je ne suis pas d'accord <avec> les & conditions"})]
    events = make_events(lib, specs)
    signer_a = ev.EvidenceSigner(
        name=SIGNER_A["name"], ref="A", role="Signer", email=SIGNER_A["email"],
        mobile=SIGNER_A["mobile"], presence="Remote", id_doc_type="Identity card",
        id_doc_number=SIGNER_A["id_number"], id_doc_expiry="2031-05-04",
        id_doc_sha256=sha256(b"id-a"), auth_method="SMS one-time code",
        otp_sent=[T0 + timedelta(minutes=3)], otp_verified=[T0 + timedelta(minutes=4)],
        ip_address=SIGNER_A["ip"], user_agent=SIGNER_A["ua"], consent_sha256=consent.sha256,
        state="signed", date_signed=T0 + timedelta(minutes=6), certificate="signer-1-a.pem")
    signer_b = ev.EvidenceSigner(
        name=SIGNER_B["name"], ref="B", role="Legal representative",
        capacity="for the account of Société Durand & Fils", represented_party="Durand SAS",
        email=SIGNER_B["email"], mobile=SIGNER_B["mobile"], id_doc_type="Passport",
        id_doc_number=SIGNER_B["id_number"], id_doc_expiry="2030-01-01",
        id_doc_sha256=sha256(b"id-b"), auth_method="SMS one-time code",
        otp_sent=[T0 + timedelta(minutes=7)], otp_verified=[T0 + timedelta(minutes=8)],
        ip_address=SIGNER_B["ip"], user_agent=SIGNER_B["ua"], consent_sha256=consent.sha256,
        state=state, certificate="signer-2-b.pem" if state == "signed" else "",
        date_signed=T0 + timedelta(minutes=9) if state == "signed" else None,
        date_refused=T0 + timedelta(minutes=9) if state != "signed" else None,
        refusal_reason="" if state == "signed" else "Je ne suis pas d'accord <avec> les & "
                                                    "conditions")
    certificates = {"company-ca.pem": ca.cert_pem, "company-seal.pem": ca.seal.cert_pem,
                    "signer-1-a.pem": id_a.cert_pem}
    if state == "signed":
        certificates["signer-2-b.pem"] = id_b.cert_pem
    certificates.update(tsa_certs or {})
    request = ev.EvidenceRequest(
        reference="ESIGN/2026/00042", name="Lettre de mission \u2014 Dupont & Fils",
        company="Cabinet Exemple SARL", advisor="Alice Conseil", state=state, lang="fr_FR",
        date_created=T0, date_sent=T0 + timedelta(minutes=2),
        date_deadline=T0 + timedelta(days=30),
        date_done=T0 + timedelta(minutes=10) if state == "signed" else None,
        pades_level_requested="b_t" if tsa_url else "b_b",
        pades_level_achieved="b_t" if tsa_url else "b_b", tsa_url=tsa_url)
    bundle = ev.EvidenceBundle(
        request=request, documents=docs, signers=[signer_a, signer_b], events=events,
        certificates=certificates, consent_texts=[consent],
        generated_at=T0 + timedelta(minutes=11))
    return Scenario(ca, sealer, bundle, [id_a, id_b], first_original, first_signed, folder)


def verify_statuses(output: str) -> dict:
    """{check name: PASS | FAIL | SKIP} from verify.py's output."""
    result = {}
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL", "SKIP"):
            result[parts[1]] = parts[0]
    return result
