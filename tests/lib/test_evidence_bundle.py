"""The evidence bundle's parts assembled from plain values (lib/evidence_bundle.py): hash steps,
signers' authentication trail, consent texts, levels, certificate files."""

import hashlib

import evidence_factory as factory
import o2s_esign_lib
import o2s_esign_lib.evidence_bundle as bundle

SEAL = "Cachet de l'entreprise"
CONSENT = "<p>J'accepte de signer.</p>"
CONSENT_SHA = hashlib.sha256(CONSENT.encode()).hexdigest()


def _records():
    return factory.make_events(o2s_esign_lib, [
        ("created", None, None, None, {}),
        ("otp_sent", 7, "203.0.113.7", "Phone A", {}),
        ("otp_verified", 7, "203.0.113.8", "Phone B", {}),
        ("consent_given", 7, "203.0.113.8", "Phone B", {"consent_text": CONSENT}),
        ("document_signature", 7, None, None, {"document_id": 1, "sha256_after": "a" * 64}),
        ("consent_given", 8, None, None, {"consent_text": CONSENT, "consent_sha256": "c" * 64}),
        ("document_signature", 8, None, None, {"document_id": 1, "sha256_after": "b" * 64}),
        ("document_seal", None, None, None, {"document_id": 1, "sha256_after": "d" * 64}),
        ("document_seal", None, None, None, {"document_id": 2, "sha256_after": "e" * 64}),
    ])


def test_hash_steps_follow_the_trail_per_document():
    steps = bundle.hash_steps(_records(), seal_label=SEAL)
    assert sorted(steps) == [1, 2]
    assert [(s.sha256[0], s.signer_ref, s.label) for s in steps[1]] == [
        ("a", 7, ""), ("b", 8, ""), ("d", None, SEAL)]
    assert [s.label for s in steps[2]] == [SEAL]


def test_signer_trail_is_their_own_last_seen_and_consent():
    trail = bundle.signer_trail(_records(), 7)
    assert len(trail["otp_sent"]) == 1 and len(trail["otp_verified"]) == 1
    assert (trail["ip_address"], trail["user_agent"]) == ("203.0.113.8", "Phone B")
    assert trail["consent_sha256"] == CONSENT_SHA
    other = bundle.signer_trail(_records(), 8)
    assert (other["otp_sent"], other["ip_address"], other["consent_sha256"]) == ([], "", "c" * 64)
    assert bundle.signer_trail(_records(), 99)["consent_sha256"] == ""


def test_each_consent_text_once_named_after_its_first_signer():
    consents = bundle.consent_texts(_records(), {7: "Jeanne", 8: "Paul"})
    assert [(c.text, c.label) for c in consents] == [(CONSENT, "Jeanne")]
    assert bundle.consent_texts(_records(), {})[0].label == ""


def test_lowest_level_needs_every_document():
    assert bundle.lowest_level(["b_lta", "b_t", "b_lt"]) == "b_t"
    assert bundle.lowest_level(["b_lta", False]) == ""
    assert bundle.lowest_level([]) == ""


def test_certificate_set_lists_each_certificate_once(company):
    certificates = bundle.certificate_set(
        ca=company.ca, seal=company.seal, signer_certs=[], extra_certs=[company.ca.cert],
        tsa_certs=[company.ca.cert, company.ca.cert])
    assert "company-ca.pem" in certificates
    assert not [name for name in certificates if name.startswith("chain-")]
    assert bundle.unique_certs([company.ca.cert, company.seal.cert, company.ca.cert],
                               exclude=[company.seal.cert]) == [company.ca.cert]
    assert bundle.pem_certs("") == []
