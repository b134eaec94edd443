"""The labels of the evidence report and of the signer attestation: the one source of their
English text. Callers pass translated labels in ``EvidenceBundle.labels`` (same keys): the
Odoo addon translates every one of them (``o2s.esign.request._esign_labels``)."""

from __future__ import annotations

from .inputs import EvidenceBundle


def _lt(text):
    """Marks a label for Odoo's term export (which reads ``_lt("...")`` calls in every Python
    file of the addon): the addon translates each label with ``env._(label)``. Plain Python
    here; returns the English text."""
    return text


DEFAULT_LABELS = {
    "title": _lt("Evidence file"),
    "attestation_title": _lt("Signature attestation"),
    "request": _lt("Request"),
    "reference": _lt("Reference"),
    "name": _lt("Name"),
    "company": _lt("Company"),
    "advisor": _lt("Advisor"),
    "state": _lt("Status"),
    "lang": _lt("Language"),
    "date_created": _lt("Created"),
    "date_sent": _lt("Sent"),
    "date_deadline": _lt("Expiry date"),
    "date_done": _lt("Completed"),
    "level_requested": _lt("Signature level requested"),
    "level_achieved": _lt("Signature level achieved"),
    "tsa": _lt("Time-stamping authority"),
    "tsa_none": _lt("none: B-B only (no trusted time)"),
    "generated_at": _lt("Generated"),
    "documents": _lt("Documents"),
    "doc_type": _lt("Type"),
    "original_sha256": _lt("SHA-256 as uploaded"),
    "prepared_sha256": _lt("SHA-256 prepared for signing"),
    "source_name": _lt("File uploaded"),
    "source_sha256": _lt("SHA-256 of the file uploaded"),
    "conversion": _lt("Made into the PDF signed"),
    "pdf_sha256": _lt("SHA-256 of the PDF made from it"),
    "step_sha256": _lt("SHA-256 after"),
    "final_sha256": _lt("Final SHA-256"),
    "files": _lt("Files in this evidence"),
    "not_signed": _lt("no signed version"),
    "signers": _lt("Signers"),
    "signer": _lt("Signer"),
    "role": _lt("Role"),
    "capacity": _lt("Capacity"),
    "represented_party": _lt("Represented party"),
    "email": _lt("Email"),
    "mobile": _lt("Mobile phone"),
    "presence": _lt("Presence"),
    "id_document": _lt("Identity document"),
    "id_expiry": _lt("valid until"),
    "id_sha256": _lt("Identity document file SHA-256"),
    "protection": _lt("Legal protection"),
    "protection_document": _lt("Supporting document"),
    "protection_sha256": _lt("Supporting document SHA-256"),
    "authentication": _lt("Authentication"),
    "otp_sent": _lt("Code sent"),
    "otp_verified": _lt("Code verified"),
    "ip_address": _lt("IP address"),
    "user_agent": _lt("Browser"),
    "consent_sha256": _lt("Consent text SHA-256"),
    "signer_state": _lt("Status"),
    "date_signed": _lt("Signed on"),
    "date_refused": _lt("Refused on"),
    "refusal_reason": _lt("Reason for refusal"),
    "certificate": _lt("Signature certificate"),
    "seal": _lt("Company seal"),
    "timeline": _lt("Audit trail"),
    "col_seq": "#",
    "col_date": _lt("Date (UTC)"),
    "col_event": _lt("Event"),
    "col_signer": _lt("Signer"),
    "col_ip": _lt("IP address"),
    "col_details": _lt("Details"),
    "chain": _lt("Hash chain"),
    "chain_head": _lt("Chain head (hash of the last event)"),
    "event_count": _lt("Number of events"),
    "chain_rule": _lt(
        "Each event's hash is the SHA-256 of the previous event's hash followed by the "
        "canonical JSON of the event (sorted keys, UTF-8); the first event follows 64 zeros. "
        "Any change, insertion or removal of an event breaks the chain."),
    "consent_texts": _lt("Consent texts"),
    "consent_none": _lt("No consent text was recorded."),
    "certificates": _lt("Certificates"),
    "fingerprint": _lt("SHA-256 fingerprint"),
    "verification": _lt("How to verify this evidence"),
    "verification_text": _lt(
        "Every file of the evidence ZIP is listed with its SHA-256 in manifest.json, which is "
        "sealed by the company seal (manifest.json.p7s) and, when a time-stamping authority is "
        "configured, time-stamped. Check it with a verifier the ZIP cannot change: the one the "
        "company's verification page offers for download (with its SHA-256), or the one of "
        "the o2s_esign repository; the copy of verify.py inside the ZIP is a convenience that "
        "a forger could replace. Run “python3 verify.py --strict --ca-fingerprint "
        "FINGERPRINT EVIDENCE.zip”: it re-computes every hash and the audit trail chain and, "
        "when pyHanko is installed, validates every signature and seal, trusting only the "
        "company CA pinned by that fingerprint. Compare the fingerprint below with the one the "
        "company publishes. The verification page also checks an uploaded evidence ZIP."),
    "company_ca_fingerprint": _lt("Company CA (the trust anchor) SHA-256 fingerprint"),
    "eidas": _lt("Legal level (eIDAS)"),
    "eidas_text": _lt(
        "Under the eIDAS Regulation (EU) No 910/2014, each signature of this request is an "
        "electronic signature: it cannot be denied legal effect or admissibility as evidence "
        "for being electronic (article 25). It is not a qualified electronic signature: the "
        "certificates are issued by the company's own certification authority, not by a "
        "qualified trust service provider, and no qualified signature creation device is "
        "used. It aims at the requirements of an advanced electronic signature (article 26) "
        "and meets three of them: it is uniquely linked to the signer (a one-time certificate "
        "in their name, issued after their personal link and an SMS code), it identifies them "
        "(identity document, mobile phone, email, audit trail), and any later change of the "
        "signed data is detectable (PAdES signatures, hash chain, company seal). The fourth, "
        "signature creation data under the signer's sole control, depends on each signature's "
        "key mode, stated with it: a key generated and used in the signer's browser never left "
        "their device and the company could not use it, which aims at that requirement; a key "
        "generated on the server after SMS verification (browsers without the needed "
        "cryptography) was created and used on the company's server, the signer controlling "
        "its use only through their link and the code, which does not fully meet it. "
        "Whoever relies on it must be able to "
        "prove its reliability (in France, articles 1366 and 1367 of the Civil Code; the "
        "presumption of reliability is reserved to qualified signatures): this evidence file "
        "is what supports it."),
    "other_signers": _lt("Other signers"),
    "other_signers_text": _lt(
        "This request has {count} other signer(s), of whom {signed} signed. Their personal "
        "data is not part of this attestation."),
    "signer_events": _lt("Events of this signer"),
    "attestation_intro": _lt(
        "This attestation states the signature of the person below on the documents listed, as "
        "recorded in the request's audit trail."),
    "other_signature": _lt("another signer"),
    "page": _lt("Page"),
    "none": "—",
    "state_draft": _lt("Draft"),
    "state_in_progress": _lt("In progress"),
    "state_signed": _lt("Signed"),
    "state_refused": _lt("Refused"),
    "state_cancelled": _lt("Cancelled"),
    "state_expired": _lt("Expired"),
    "state_error": _lt("Error"),
    "state_waiting": _lt("Waiting"),
    "state_pending": _lt("Pending"),
    "event_created": _lt("Request created"),
    "event_sent": _lt("Request sent"),
    "event_email_sent": _lt("Email sent"),
    "event_email_bounced": _lt("Email bounced"),
    "event_email_opened": _lt("Email opened"),
    "event_sms_sent": _lt("SMS sent"),
    "event_link_opened": _lt("Signing link opened"),
    "event_document_viewed": _lt("Document viewed"),
    "event_otp_sent": _lt("Code sent"),
    "event_otp_verified": _lt("Code verified"),
    "event_otp_failed": _lt("Wrong code"),
    "event_otp_locked": _lt("Code locked"),
    "event_consent_given": _lt("Consent given"),
    "event_signed": _lt("Signed"),
    "event_refused": _lt("Refused"),
    "event_reminder_sent": _lt("Reminder sent"),
    "event_cancelled": _lt("Cancelled"),
    "event_expired": _lt("Expired"),
    "event_error": _lt("Error"),
    "event_sealed": _lt("Company seal applied"),
    "event_evidence_generated": _lt("Evidence file generated"),
    "notice_draft": _lt("This request was never sent."),
    "notice_in_progress": _lt("This request is still in progress: not every signer has signed."),
    "notice_refused": _lt(
        "This request was refused: the documents were not signed by every signer. Documents "
        "under signed/, when present, are shown as they stood."),
    "notice_cancelled": _lt(
        "This request was cancelled: the documents were not signed by every signer."),
    "notice_expired": _lt("This request expired before every signer had signed."),
    "notice_error": _lt(
        "This request ended in error: the documents were not signed by every signer."),
    # trusted time and validation report (issue 14, items 3 and 4)
    "notice_no_tsa": _lt(
        "No time-stamping authority was configured: the signatures carry the server's clock "
        "only, not a trusted time."),
    "validation": _lt("Validation report"),
    "validation_intro": _lt(
        "Each signature of the signed documents, validated when the documents were sealed "
        "with pyHanko's AdES validation, in the manner of ETSI EN 319 102-1: TOTAL-PASSED, "
        "TOTAL-FAILED or INDETERMINATE, with the sub-indication. The same report is in "
        "validation/ in the evidence ZIP."),
    "validation_none": _lt("No signed document to validate."),
    "validated_at": _lt("Validated on"),
    "col_signature": _lt("Signature"),
    "col_indication": _lt("Result"),
    "col_time": _lt("Signing time (time-stamp)"),
    "col_process": _lt("Validation"),
    "doc_timestamp": _lt("Document time-stamp"),
    "covers_no": _lt("the document changed after this signature"),
}


def _labels(bundle: EvidenceBundle) -> dict:
    merged = dict(DEFAULT_LABELS)
    merged.update(bundle.labels or {})
    return merged
