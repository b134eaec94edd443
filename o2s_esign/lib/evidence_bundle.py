# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The evidence bundle assembled from plain values (no ORM here).

The request model reads its records into plain values (the audit trail as ``audit_trail.json``
exports it, the signed files' bytes, the company's certificates); these functions turn them into
the parts of a :class:`lib.evidence.EvidenceBundle`: each document's hash steps, each signer's
authentication trail, the consent texts, the certificate files and the RFC 3161 tokens.
"""
import io

from . import evidence
from .errors import EvidenceError

#: the PAdES levels from the lowest to the highest
LEVEL_ORDER = ("b_b", "b_t", "b_lt", "b_lta")


def lowest_level(levels):
    """The lowest of ``levels`` (PAdES level codes), or "" when one is missing or none is given."""
    return min(levels, key=LEVEL_ORDER.index) if levels and all(levels) else ""


def hash_steps(records, seal_label):
    """``{document id: [HashStep]}``: each signature and seal of a document, in the order of the
    audit trail ``records`` (exported events); ``seal_label`` names the seal's step."""
    steps = {}
    for record in records:
        if record["event_type"] not in ("document_signature", "document_seal"):
            continue
        payload = record["payload"]
        steps.setdefault(payload.get("document_id"), []).append(evidence.HashStep(
            sha256=payload.get("sha256_after"), date=record["date"],
            signer_ref=record["signer"],
            label="" if record["event_type"] == "document_signature" else seal_label))
    return steps


def signer_trail(records, signer_id):
    """What the audit trail ``records`` say of one signer's authentication, as keyword
    arguments of :class:`lib.evidence.EvidenceSigner`: when codes were sent and verified, the
    last IP address and browser seen, the hash of the consent text they accepted."""
    own = [r for r in records if r["signer"] == signer_id]
    last_seen = next((r for r in reversed(own) if r.get("ip_address")), {})
    consent = next((consent_sha(r["payload"]) for r in reversed(own)
                    if r["event_type"] == "consent_given" and consent_sha(r["payload"])), "")
    return {
        "otp_sent": [r["date"] for r in own if r["event_type"] == "otp_sent"],
        "otp_verified": [r["date"] for r in own if r["event_type"] == "otp_verified"],
        "ip_address": last_seen.get("ip_address") or "",
        "user_agent": last_seen.get("user_agent") or "",
        "consent_sha256": consent,
    }


def consent_texts(records, signer_names):
    """Each consent text of the audit trail ``records``, once, labelled with the name of the
    first signer who accepted it (``signer_names``: {signer id: name})."""
    consents = []
    for record in records:
        if record["event_type"] == "consent_given":
            text = consent_text(record["payload"])
            if text and text not in [c.text for c in consents]:
                consents.append(evidence.ConsentText(text, label=signer_names.get(record["signer"]) or ""))
    return consents


def certificate_set(*, ca, seal, signer_certs, extra_certs, tsa_certs):
    """The ``certificates/`` files: the company CA and seal (``ca``, ``seal``: identities with
    ``cert`` and ``chain``), the signers' one-time certificates in order, the TSA certificates,
    then every other certificate of the chains once (``chain-<n>.pem``)."""
    certificates = evidence.certificate_files(
        company_ca=ca.cert, seal=seal.cert, signer_certs=signer_certs,
        tsa_certs=unique_certs(tsa_certs))
    for number, cert in enumerate(unique_certs(
            [*ca.chain, *seal.chain, *extra_certs], exclude=[ca.cert, seal.cert]), start=1):
        certificates["chain-%d.pem" % number] = cert
    return certificates


def unique_certs(certs, exclude=()):
    """``certs`` (asn1crypto) without repeats, and without those of ``exclude``."""
    seen = {c.dump() for c in exclude}
    result = []
    for cert in certs:
        der = cert.dump()
        if der not in seen:
            seen.add(der)
            result.append(cert)
    return result


def pem_certs(text):
    """The certificates (asn1crypto) of a PEM text, possibly empty."""
    if not text:
        return []
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509
    return [asn1_x509.Certificate.load(der)
            for _type, _headers, der in asn1_pem.unarmor(text.encode("ascii"), multiple=True)]


def consent_text(payload):
    """The consent text of a ``consent_given`` event's payload, or None."""
    for key in ("consent_text", "text"):
        value = payload.get(key) if isinstance(payload, dict) else None
        if isinstance(value, str) and value.strip():
            return value
    return None


def consent_sha(payload):
    """The SHA-256 of the consent text of a ``consent_given`` event's payload, or ""."""
    if not isinstance(payload, dict):
        return ""
    for key in ("consent_sha256", "text_sha256", "sha256"):
        value = payload.get(key)
        if isinstance(value, str) and len(value) == 64:
            return value
    text = consent_text(payload)
    return evidence.consent_sha256(text) if text else ""


def timestamp_tokens(data):
    """(name, DER token) of every RFC 3161 token in a signed PDF: the signature timestamps
    (named after their field) and the document timestamps."""
    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader

    tokens = []
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        for number, es in enumerate(reader.embedded_signatures, start=1):
            name = evidence.safe_name(es.field_name or "signature-%d" % number, "signature")
            contents = es.sig_object.get("/Contents")
            if es.sig_object_type == "/DocTimeStamp":
                tokens.append(("%s-doc-timestamp" % name, cms.ContentInfo.load(
                    bytes(contents), strict=False).dump()))
                continue
            for attr in es.signer_info["unsigned_attrs"] or []:
                if attr["type"].native == "signature_time_stamp_token":
                    tokens.append((name, attr["values"][0].dump()))
    except (ValueError, TypeError, KeyError) as exc:
        raise EvidenceError("seal_failed", {"reason": "timestamp tokens: %s" % exc}) from exc
    return tokens
