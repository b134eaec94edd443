"""Issue 18: a signer's key made and used elsewhere (the browser, WebCrypto ECDSA P-256).

A key generated here stands for the browser's: the library only ever sees its public key, the
proof of possession and the signature values, as the portal will."""

import io
import subprocess

import pdf_factory as pf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from o2s_esign_lib import pki, signing, validation_report
from o2s_esign_lib.errors import PkiError, SigningError
from pyhanko.pdf_utils.reader import PdfFileReader


class Browser:
    """What WebCrypto does: a P-256 key, raw r||s signatures (IEEE P1363), SPKI export."""

    def __init__(self):
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.spki = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> bytes:
        r, s = utils.decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _challenge(signer="7", request="REQ-0001", session="sess-a", nonce="n-1"):
    return pki.pop_challenge(signer=signer, request=request, session=session, nonce=nonce)


def _appearance():
    return signing.Appearance(signer_name="Jeanne Dupré", lines=["Signé par Jeanne Dupré"])


def _certified(company, browser):
    challenge = _challenge()
    pki.verify_proof_of_possession(browser.spki, challenge, browser.sign(challenge))
    return pki.issue_one_time_certificate(company.ca, browser.spki, name="Jeanne Dupré",
                                          email="jeanne@example.com")


# --- DER conversion --------------------------------------------------------------------------

def test_raw_signature_converts_to_der_that_verifies():
    browser = Browser()
    raw = browser.sign(b"data")
    assert len(raw) == 64
    der = pki.ecdsa_signature_der(raw)
    r, s = utils.decode_dss_signature(der)
    assert (r.to_bytes(32, "big"), s.to_bytes(32, "big")) == (raw[:32], raw[32:])
    public = serialization.load_der_public_key(browser.spki)
    public.verify(der, b"data", ec.ECDSA(hashes.SHA256()))  # raises if the conversion is wrong
    assert pki.ecdsa_signature_der(der) == der  # DER passes through
    # leading zero bytes of r are kept as an integer (a 31-byte r is still 32 bytes raw)
    small = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    assert utils.decode_dss_signature(pki.ecdsa_signature_der(small)) == (1, 2)
    with pytest.raises(PkiError):
        pki.ecdsa_signature_der(bytes(64))
    with pytest.raises(PkiError):
        pki.ecdsa_signature_der(b"\x30\x03garbage")


# --- proof of possession ---------------------------------------------------------------------

def test_proof_of_possession_accepts_the_key_holder():
    browser = Browser()
    challenge = _challenge()
    key = pki.verify_proof_of_possession(browser.spki, challenge, browser.sign(challenge))
    assert pki.public_key_der(key) == browser.spki


@pytest.mark.parametrize("other", [
    {"signer": "8"}, {"request": "REQ-0002"}, {"session": "sess-b"}, {"nonce": "n-2"},
])
def test_proof_made_for_another_signer_request_session_or_nonce_is_refused(other):
    """The verifier rebuilds the challenge it expects: a proof for another signer, request,
    verified-code session or an earlier nonce (a replay) does not verify."""
    browser = Browser()
    proof = browser.sign(_challenge())
    with pytest.raises(PkiError) as caught:
        pki.verify_proof_of_possession(browser.spki, _challenge(**other), proof)
    assert caught.value.code == "pop_invalid"


def test_proof_by_another_key_or_over_raw_data_is_refused():
    browser, thief = Browser(), Browser()
    challenge = _challenge()
    with pytest.raises(PkiError):  # signed by another key than the one sent
        pki.verify_proof_of_possession(browser.spki, challenge, thief.sign(challenge))
    # a signature over data without the context prefix is no proof (e.g. a to-be-signed blob)
    blob = b"{}"
    with pytest.raises(PkiError):
        pki.verify_proof_of_possession(browser.spki, blob, browser.sign(blob))


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP256K1()])
def test_only_p256_public_keys_are_certified(company, curve):
    spki = ec.generate_private_key(curve).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(PkiError) as caught:
        pki.issue_one_time_certificate(company.ca, spki, name="X", email="x@example.com")
    assert caught.value.code == "public_key_invalid"
    with pytest.raises(PkiError):
        pki.load_p256_public_key(b"not a key")


def test_certificate_carries_exactly_the_browser_key_with_the_one_time_profile(company):
    browser = Browser()
    identity = _certified(company, browser)
    assert identity.key is None
    cert = x509.load_der_x509_certificate(identity.cert.dump())
    assert pki.public_key_der(cert.public_key()) == browser.spki
    reference = x509.load_der_x509_certificate(pki.issue_one_time_identity(
        company.ca, name="Jeanne Dupré", email="jeanne@example.com").cert.dump())
    assert cert.subject == reference.subject and cert.issuer == reference.issuer
    for ext in (x509.KeyUsage, x509.BasicConstraints, x509.SubjectAlternativeName):
        assert cert.extensions.get_extension_for_class(ext).value == \
            reference.extensions.get_extension_for_class(ext).value
    assert pki.check_key_proof(identity.cert.dump(), {
        "public_key": browser.spki, "challenge": _challenge(),
        "signature": browser.sign(_challenge())}) == []
    other = Browser()
    assert pki.check_key_proof(identity.cert.dump(), {
        "public_key": other.spki, "challenge": _challenge(),
        "signature": other.sign(_challenge())}) == ["certificate_key_differs"]
    assert pki.check_key_proof(identity.cert.dump(), {
        "public_key": browser.spki, "challenge": _challenge(nonce="x"),
        "signature": browser.sign(_challenge())}) == ["pop_invalid"]


# --- two-step signing ------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["b_b", "b_t", "b_lt", "b_lta"])
def test_two_step_signature_validates_at_each_level(company, signer, tsa, roots, level):
    browser = Browser()
    identity = _certified(company, browser)
    pdf = pf.make_pdf(2)
    prepared = signer.prepare_external(pdf, field_name="Signer1", identity=identity,
                                       level=level, tsa=tsa, appearance=_appearance())
    state = prepared.state
    assert state["prepared_pdf"].startswith(pdf)  # an incremental revision
    assert state["signed_attrs"] == prepared.to_be_signed
    # the state holds no private key
    blob = repr(state).encode()
    assert b"PRIVATE KEY" not in blob
    result = signer.finish_external(state, browser.sign(prepared.to_be_signed), tsa=tsa,
                                    trust_roots=roots, extra_crls=[pki.make_crl(company.ca)])
    assert result.level == level
    assert result.signer_cert_der == identity.cert.dump()
    assert (result.timestamp_token is None) == (level == "b_b")
    reports = validation_report.validate_pdf_signatures(
        result.data, trust_roots=[company.ca.cert], tsa_roots=[roots[1]],
        crls=[pki.make_crl(company.ca)])
    assert [r.kind for r in reports] == ["signature"] + (["doc_timestamp"] if level == "b_lta"
                                                           else [])
    assert all(r.indication == "TOTAL-PASSED" for r in reports), reports
    assert (reports[0].timestamp_time is None) == (level == "b_b")
    # the signature in the PDF is by exactly the browser's key
    sig = PdfFileReader(io.BytesIO(result.data)).embedded_signatures[0]
    assert sig.signer_cert.public_key.dump() == browser.spki
    if level == "b_lt":
        assert b"/DSS" in result.data


def test_two_step_keeps_the_visible_appearance_of_sign(company, signer, tsa, roots):
    """prepare_external runs sign()'s code: same field, same widget and appearance."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(pf.make_pdf(1)))
    fields.append_signature_field(writer, fields.SigFieldSpec("Signer1", box=(50, 50, 250, 120)))
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    browser = Browser()
    prepared = signer.prepare_external(pdf, field_name="Signer1",
                                       identity=_certified(company, browser), level="b_b",
                                       tsa=None, appearance=_appearance())
    external = signer.finish_external(prepared.state, browser.sign(prepared.to_be_signed),
                                      tsa=None, trust_roots=roots)
    server = signer.sign(pdf, field_name="Signer1", identity=pki.issue_one_time_identity(
        company.ca, name="Jeanne Dupré", email="jeanne@example.com"), level="b_b", tsa=None,
        appearance=_appearance(), trust_roots=roots)

    def widget(data):
        field = PdfFileReader(io.BytesIO(data)).embedded_signatures[0].sig_field
        stream = field["/AP"]["/N"]
        return [float(v) for v in field["/Rect"]], [float(v) for v in stream["/BBox"]], \
            b"Jeanne Dupr" in stream.data or bool(stream.get("/Resources"))

    assert widget(external.data) == widget(server.data)


def test_pdfsig_validates_the_two_step_signature(company, signer, tsa, roots, tmp_path):
    browser = Browser()
    prepared = signer.prepare_external(pf.make_pdf(1), field_name="Signer1",
                                       identity=_certified(company, browser), level="b_t",
                                       tsa=tsa, appearance=_appearance())
    result = signer.finish_external(prepared.state, browser.sign(prepared.to_be_signed),
                                    tsa=tsa, trust_roots=roots)
    path = tmp_path / "signed.pdf"
    path.write_bytes(result.data)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                         check=False).stdout
    assert "Signature is Valid." in out and "Total document signed" in out


def test_finish_refuses_a_signature_by_another_key(company, signer, tsa, roots):
    """Key mismatch between the proof/certificate and the finish: nothing is produced."""
    browser, other = Browser(), Browser()
    prepared = signer.prepare_external(pf.make_pdf(1), field_name="Signer1",
                                       identity=_certified(company, browser), level="b_t",
                                       tsa=tsa, appearance=_appearance())
    for bad in (other.sign(prepared.to_be_signed), browser.sign(b"other data"), bytes(64),
                b"junk"):
        with pytest.raises(SigningError) as caught:
            signer.finish_external(prepared.state, bad, tsa=tsa, trust_roots=roots)
        assert caught.value.code == "external_signature_invalid"


def test_state_of_another_document_does_not_take_the_signature(company, signer, roots):
    """A signature value made for one document's attributes does not finish another's."""
    browser = Browser()
    identity = _certified(company, browser)
    first = signer.prepare_external(pf.make_pdf(1), field_name="Signer1", identity=identity,
                                    level="b_b", tsa=None, appearance=_appearance())
    second = signer.prepare_external(pf.make_pdf(2), field_name="Signer1", identity=identity,
                                     level="b_b", tsa=None, appearance=_appearance())
    with pytest.raises(SigningError):
        signer.finish_external(second.state, browser.sign(first.to_be_signed), tsa=None,
                               trust_roots=roots)


def test_prepare_refuses_a_signed_field(company, signer, roots):
    browser = Browser()
    identity = _certified(company, browser)
    prepared = signer.prepare_external(pf.make_pdf(1), field_name="Signer1", identity=identity,
                                       level="b_b", tsa=None, appearance=_appearance())
    done = signer.finish_external(prepared.state, browser.sign(prepared.to_be_signed),
                                  tsa=None, trust_roots=roots)
    with pytest.raises(SigningError) as caught:
        signer.prepare_external(done.data, field_name="Signer1", identity=identity,
                                level="b_b", tsa=None, appearance=_appearance())
    assert caught.value.code == "field_already_signed"
