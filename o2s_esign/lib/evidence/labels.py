"""The labels of the evidence report and of the signer attestation: the one source of their
English text. Callers pass translated labels in ``EvidenceBundle.labels`` (same keys)."""

from __future__ import annotations

from .inputs import EvidenceBundle

DEFAULT_LABELS = {
    "title": "Evidence file",
    "attestation_title": "Signature attestation",
    "request": "Request",
    "reference": "Reference",
    "name": "Name",
    "company": "Company",
    "advisor": "Advisor",
    "state": "Status",
    "lang": "Language",
    "date_created": "Created",
    "date_sent": "Sent",
    "date_deadline": "Expiry date",
    "date_done": "Completed",
    "level_requested": "Signature level requested",
    "level_achieved": "Signature level achieved",
    "tsa": "Time-stamping authority",
    "tsa_none": "none: B-B only",
    "generated_at": "Generated",
    "documents": "Documents",
    "doc_type": "Type",
    "original_sha256": "SHA-256 as sent",
    "prepared_sha256": "SHA-256 prepared for signing",
    "step_sha256": "SHA-256 after",
    "final_sha256": "Final SHA-256",
    "files": "Files in this evidence",
    "not_signed": "no signed version",
    "signers": "Signers",
    "signer": "Signer",
    "role": "Role",
    "capacity": "Capacity",
    "represented_party": "Represented party",
    "email": "Email",
    "mobile": "Mobile phone",
    "presence": "Presence",
    "id_document": "Identity document",
    "id_expiry": "valid until",
    "id_sha256": "Identity document file SHA-256",
    "authentication": "Authentication",
    "otp_sent": "Code sent",
    "otp_verified": "Code verified",
    "ip_address": "IP address",
    "user_agent": "Browser",
    "consent_sha256": "Consent text SHA-256",
    "signer_state": "Status",
    "date_signed": "Signed on",
    "date_refused": "Refused on",
    "refusal_reason": "Reason for refusal",
    "certificate": "Signature certificate",
    "seal": "Company seal",
    "timeline": "Audit trail",
    "col_seq": "#",
    "col_date": "Date (UTC)",
    "col_event": "Event",
    "col_signer": "Signer",
    "col_ip": "IP address",
    "col_details": "Details",
    "chain": "Hash chain",
    "chain_head": "Chain head (hash of the last event)",
    "event_count": "Number of events",
    "chain_rule": "Each event's hash is the SHA-256 of the previous event's hash followed by the "
                  "canonical JSON of the event (sorted keys, UTF-8); the first event follows 64 "
                  "zeros. Any change, insertion or removal of an event breaks the chain.",
    "consent_texts": "Consent texts",
    "consent_none": "No consent text was recorded.",
    "certificates": "Certificates",
    "fingerprint": "SHA-256 fingerprint",
    "verification": "How to verify this evidence",
    "verification_text": "Every file of the evidence ZIP is listed with its SHA-256 in "
                         "manifest.json, which is sealed (manifest.json.p7s) and, when a "
                         "time-stamping authority is configured, time-stamped. Unpack the ZIP "
                         "and run \u201cpython3 verify.py\u201d, or run \u201cpython3 verify.py "
                         "EVIDENCE.zip\u201d: it re-computes every hash and the audit trail chain "
                         "and, when pyHanko is installed, validates every signature. Compare the "
                         "fingerprint of certificates/company-ca.pem with the one published by "
                         "the company.",
    "other_signers": "Other signers",
    "other_signers_text": "This request has {count} other signer(s), of whom {signed} signed. "
                          "Their personal data is not part of this attestation.",
    "signer_events": "Events of this signer",
    "attestation_intro": "This attestation states the signature of the person below on the "
                         "documents listed, as recorded in the request's audit trail.",
    "other_signature": "another signer",
    "page": "Page",
    "none": "\u2014",
    "state_draft": "Draft",
    "state_in_progress": "In progress",
    "state_signed": "Signed",
    "state_refused": "Refused",
    "state_cancelled": "Cancelled",
    "state_expired": "Expired",
    "state_error": "Error",
    "state_waiting": "Waiting",
    "state_pending": "Pending",
    # event types of the audit trail (event_<type>); unknown types show their code
    "event_created": "Request created",
    "event_sent": "Request sent",
    "event_email_sent": "Email sent",
    "event_email_bounced": "Email bounced",
    "event_email_opened": "Email opened",
    "event_sms_sent": "SMS sent",
    "event_link_opened": "Signing link opened",
    "event_document_viewed": "Document viewed",
    "event_otp_sent": "Code sent",
    "event_otp_verified": "Code verified",
    "event_otp_failed": "Wrong code",
    "event_otp_locked": "Code locked",
    "event_consent_given": "Consent given",
    "event_signed": "Signed",
    "event_refused": "Refused",
    "event_reminder_sent": "Reminder sent",
    "event_cancelled": "Cancelled",
    "event_expired": "Expired",
    "event_error": "Error",
    "event_sealed": "Company seal applied",
    "event_evidence_generated": "Evidence file generated",
    "notice_draft": "This request was never sent.",
    "notice_in_progress": "This request is still in progress: not every signer has signed.",
    "notice_refused": "This request was refused: the documents were not signed by every signer. "
                      "Documents under signed/, when present, are shown as they stood.",
    "notice_cancelled": "This request was cancelled: the documents were not signed by every "
                        "signer.",
    "notice_expired": "This request expired before every signer had signed.",
    "notice_error": "This request ended in error: the documents were not signed by every "
                    "signer.",
}


def _labels(bundle: EvidenceBundle) -> dict:
    merged = dict(DEFAULT_LABELS)
    merged.update(bundle.labels or {})
    return merged
