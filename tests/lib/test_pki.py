"""Tests of o2s_esign/lib/pki.py: company CA, seal, one-time certificates, CRL, PKCS#12."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from o2s_esign_lib import crypto, pki
from o2s_esign_lib.errors import PkiError
from pyhanko_certvalidator import CertificateValidator, ValidationContext

NOW = datetime(2026, 11, 27, 14, 3, tzinfo=UTC)


def _validate(cert, vc, usage, intermediates=()):
    validator = CertificateValidator(cert, intermediate_certs=list(intermediates),
                                     validation_context=vc)
    return asyncio.run(validator.async_validate_usage(set(usage)))


@pytest.fixture(scope="module")
def company():
    return pki.create_company_pki("Cabinet Dupré & Fils", "fr", now=NOW)


def _crypto(cert):
    return x509.load_der_x509_certificate(cert.dump())


def test_company_ca_and_seal(company):
    ca = _crypto(company.ca.cert)
    assert ca.subject == ca.issuer
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(days=3652)
    assert "Cabinet Dupré & Fils" in company.ca.subject_cn
    assert isinstance(company.ca.key.curve, ec.SECP256R1)
    assert pki.can_issue(company.ca)

    seal = _crypto(company.seal.cert)
    ku = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    assert seal.issuer == ca.subject
    assert timedelta(days=1090) < seal.not_valid_after_utc - NOW <= timedelta(days=1095)
    assert company.seal.chain[0].dump() == company.ca.cert.dump()
    assert not pki.can_issue(company.seal)
    assert company.seal.cert_pem().startswith(b"-----BEGIN CERTIFICATE-----")
    assert company.seal.chain_pem().count(b"BEGIN CERTIFICATE") == 1


def test_seal_issued_again_under_the_same_ca(company):
    """A renamed company: a new seal with the new name, under the same CA (a real path
    validator accepts it with the CA as the only root)."""
    seal = pki.issue_seal(company.ca, "Cabinet Dupré & Filles", "FR", now=NOW)
    cert = _crypto(seal.cert)
    assert seal.subject_cn == pki.seal_common_name("Cabinet Dupré & Filles") == \
        "Cabinet Dupré & Filles Electronic Seal"
    assert cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == \
        "Cabinet Dupré & Filles"
    assert cert.issuer == _crypto(company.ca.cert).subject
    assert seal.chain[0].dump() == company.ca.cert.dump()
    assert cert.serial_number != company.seal.cert.serial_number
    assert timedelta(days=1090) < cert.not_valid_after_utc - NOW <= timedelta(days=1095)
    vc = ValidationContext(trust_roots=[company.ca.cert], moment=NOW, allow_fetching=False,
                           revocation_mode="soft-fail")
    _validate(seal.cert, vc, {"digital_signature", "non_repudiation"})
    with pytest.raises(PkiError):
        pki.issue_seal(seal, "Not a CA")


def test_one_time_identity(company):
    ident = pki.issue_one_time_identity(company.ca, name="Jeanne Martin-Égé",
                                        email="jeanne@example.fr", now=NOW)
    cert = _crypto(ident.cert)
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == \
        "Jeanne Martin-Égé"
    assert cert.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)[0].value == \
        "jeanne@example.fr"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["jeanne@example.fr"]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = _crypto(company.ca.cert).extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert cert.not_valid_before_utc <= NOW <= cert.not_valid_after_utc
    assert cert.not_valid_before_utc >= NOW - timedelta(minutes=10)
    assert 0 < cert.serial_number < 2 ** 128
    assert ident.chain[0].dump() == company.ca.cert.dump()
    other = pki.issue_one_time_identity(company.ca, name="X", email="x@example.fr", now=NOW)
    assert other.cert.serial_number != ident.cert.serial_number
    # a real path validator accepts the chain, at issuance time and years later
    for moment in (NOW, NOW + timedelta(days=700)):
        vc = ValidationContext(trust_roots=[company.ca.cert], moment=moment,
                               allow_fetching=False, revocation_mode="soft-fail")
        path = _validate(ident.cert, vc, {"digital_signature", "non_repudiation"})
        assert path is not None


def test_one_time_validity_is_clamped_to_ca(company):
    ident = pki.issue_one_time_identity(company.ca, name="A", email="a@example.fr",
                                        now=NOW, validity=timedelta(days=365 * 50))
    assert _crypto(ident.cert).not_valid_after_utc == _crypto(company.ca.cert).not_valid_after_utc


def test_cannot_issue_from_a_non_ca(company):
    with pytest.raises(PkiError) as info:
        pki.issue_one_time_identity(company.seal, name="A", email="a@example.fr")
    assert info.value.code == "not_a_ca"


def test_key_pem_roundtrip_through_encrypted_blob(company):
    pem = pki.private_key_to_pem(company.ca.key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    key = crypto.derive_key(crypto.generate_master_key(), "keys")
    restored = pki.private_key_from_pem(crypto.decrypt_secret(key, crypto.encrypt_secret(key, pem)))
    assert restored.private_numbers() == company.ca.key.private_numbers()
    ident = pki.identity_from_pem(pem, company.ca.cert_pem(), company.seal.cert_pem())
    assert pki.can_issue(ident) and len(ident.chain) == 1
    with pytest.raises(PkiError):
        pki.private_key_from_pem(b"garbage")


def test_make_crl(company):
    der = pki.make_crl(company.ca, now=NOW)
    crl = x509.load_der_x509_crl(der)
    assert crl.issuer == _crypto(company.ca.cert).subject
    assert len(list(crl)) == 0
    assert crl.next_update_utc == NOW + timedelta(days=7)
    assert crl.is_signature_valid(_crypto(company.ca.cert).public_key())


def test_crl_is_usable_by_a_validator_requiring_revocation(company):
    ident = pki.issue_one_time_identity(company.ca, name="B", email="b@example.fr", now=NOW)
    vc = ValidationContext(trust_roots=[company.ca.cert], moment=NOW + timedelta(hours=1),
                           crls=[pki.make_crl(company.ca, now=NOW)], allow_fetching=False,
                           revocation_mode="hard-fail")
    _validate(ident.cert, vc, {"digital_signature"})


@pytest.mark.parametrize("label", ["company-ca", "company-ca-rsa"])
def test_identity_from_pkcs12(pki_server, label):
    data = pki_server.package_pkcs12(label, password=b"s3cret")
    ident = pki.identity_from_pkcs12(data, b"s3cret")
    assert ident.cert.dump() == pki_server.get_cert(label).dump()
    assert [c.dump() for c in ident.chain] == [pki_server.root_cert.dump()]
    assert pki.can_issue(ident)
    one = pki.issue_one_time_identity(ident, name="Paul", email="paul@example.fr")
    assert [c.dump() for c in one.chain] == [ident.cert.dump(), pki_server.root_cert.dump()]
    vc = ValidationContext(trust_roots=[pki_server.root_cert], allow_fetching=False,
                           revocation_mode="soft-fail")
    _validate(one.cert, vc, {"non_repudiation"}, one.chain)


def test_pkcs12_without_password_and_non_ca(pki_server):
    ident = pki.identity_from_pkcs12(pki_server.package_pkcs12("seal"), None)
    assert ident.cert.dump() == pki_server.get_cert("seal").dump()
    assert not pki.can_issue(ident)


def test_pkcs12_errors(pki_server):
    data = pki_server.package_pkcs12("company-ca", password=b"right")
    with pytest.raises(PkiError) as info:
        pki.identity_from_pkcs12(data, b"wrong")
    assert info.value.code == "pkcs12_password"
    with pytest.raises(PkiError) as info:
        pki.identity_from_pkcs12(data, None)
    assert info.value.code == "pkcs12_password"
    for garbage in (b"", b"not a pkcs12 file", data[:40]):
        with pytest.raises(PkiError) as info:
            pki.identity_from_pkcs12(garbage, b"right")
        assert info.value.code == "pkcs12_invalid"
    # certificate only, no key
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    cert_only = pkcs12.serialize_key_and_certificates(
        b"x", None, None, [_crypto(pki_server.root_cert)], BestAvailableEncryption(b"pw"))
    with pytest.raises(PkiError) as info:
        pki.identity_from_pkcs12(cert_only, b"pw")
    assert info.value.code == "pkcs12_no_key"
