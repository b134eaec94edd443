# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 18: the signer's key made and used in the browser, over HTTP as the page (and an
attacker) calls it. A key generated here stands for the browser's WebCrypto key."""
import base64
import io
import json
import os
import subprocess
import tempfile
from unittest.mock import patch

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from pyhanko.pdf_utils.reader import PdfFileReader

from odoo.tests import tagged

from ..lib import pki
from .esign_portal_common import BrowserSmsGateway, EsignHttpCommon
from .test_esign_verify_evidence import run_verify


class FakeBrowserKey:
    """What the page does with WebCrypto: P-256, raw r||s signatures, SPKI export."""

    def __init__(self):
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.spki = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign_b64(self, data_b64):
        der = self._key.sign(base64.b64decode(data_b64), ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


@tagged("post_install", "-at_install")
class TestEsignBrowserKey(EsignHttpCommon):

    def setUp(self):
        super().setUp()
        self._keep_sent_request()

    def _register(self, signer, csrf, token, key=None):
        key = key or FakeBrowserKey()
        challenge = self._call(signer, "key_challenge", token=token, csrf_token=csrf)["challenge"]
        result = self._call(signer, "key", token=token, csrf_token=csrf,
                            public_key=base64.b64encode(key.spki).decode(),
                            proof=key.sign_b64(challenge))
        return key, challenge, result

    def _browser_sign(self, signer, csrf, token, key):
        prepared = self._call(signer, "prepare", token=token, csrf_token=csrf)
        self.assertEqual([d["id"] for d in prepared["documents"]],
                         self.request.document_ids.sorted(lambda d: (d.sequence, d.id)).ids)
        signatures = {str(d["id"]): key.sign_b64(d["to_be_signed"])
                      for d in prepared["documents"]}
        return self._call(signer, "sign", token=token, csrf_token=csrf,
                          key_signatures=signatures, **self._sign_values(signer))

    def test_browser_key_signs_and_the_evidence_says_so(self):
        csrf, token = self._verify(self.signer)
        key, challenge, result = self._register(self.signer, csrf, token)
        self.assertTrue(result.get("ok"), result)
        self.assertEqual(result["fingerprint"], pki.public_key_fingerprint(key.spki))
        result = self._browser_sign(self.signer, csrf, token, key)
        self.assertEqual(result.get("state"), "signed", result)
        # the certificate in the signed PDF carries exactly the browser's public key
        for document in self.request.document_ids:
            reader = PdfFileReader(io.BytesIO(document.signed_attachment_id.raw))
            mine = [s for s in reader.embedded_signatures
                    if s.field_name == self.signer._esign_field_name()]
            self.assertEqual(mine[0].signer_cert.public_key.dump(), key.spki)
        self.assertEqual(
            pki.cert_from_pem_or_der(self.signer.signing_certificate.encode()).public_key.dump(),
            key.spki)
        payload = self._payload(self._events(self.request, "signed"))
        self.assertEqual(payload["key_mode"], "browser")
        self.assertEqual(payload["public_key_sha256"], pki.public_key_fingerprint(key.spki))
        proof = payload["key_proof"]
        self.assertEqual(base64.b64decode(proof["challenge"]), base64.b64decode(challenge))
        self.assertEqual(pki.check_key_proof(
            pki.cert_from_pem_or_der(self.signer.signing_certificate.encode()).dump(),
            {k: base64.b64decode(v) for k, v in proof.items()}), [])
        step = self._payload(self._events(self.request, "document_signature")[:1])
        self.assertEqual(step["key_mode"], "browser")
        # nothing of the exchange is kept once signed, and no private key anywhere
        self.assertFalse(self.signer.sudo().browser_key_data)
        self._assert_no_private_key()
        # the shipped verify.py checks the proof against the certificate in the signed PDF
        self.env.invalidate_all()
        evidence = self.request.evidence_attachment_id.raw
        self.assertTrue(evidence)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "evidence.zip")
            with open(path, "wb") as handle:
                handle.write(evidence)
            _rc, output = run_verify(path)
        self.assertIn("PASS  key_proofs", output)

    def _assert_no_private_key(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM o2s_esign_signer WHERE browser_key_data "
                            "ILIKE '%%PRIVATE KEY%%'")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        for attachment in self.env["ir.attachment"].sudo().search(
                [("res_model", "like", "o2s.esign.%")]):
            self.assertNotIn(b"PRIVATE KEY", attachment.raw or b"", attachment.name)

    def test_fallback_without_key_signatures_is_server_side_and_marked(self):
        csrf, token = self._verify(self.signer)
        # a key registered, then the page falls back (e.g. WebCrypto failed mid-way)
        self._register(self.signer, csrf, token)
        result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                            **self._sign_values(self.signer))
        self.assertEqual(result.get("state"), "signed", result)
        payload = self._payload(self._events(self.request, "signed"))
        self.assertEqual(payload["key_mode"], "server")
        self.assertEqual(payload["key_mode_label"],
                         "key generated on the server after SMS verification")
        self.assertNotIn("key_proof", payload)
        cert = pki.cert_from_pem_or_der(self.signer.signing_certificate.encode())
        self.assertEqual(payload["public_key_sha256"],
                         pki.public_key_fingerprint(cert.public_key.dump()))

    def test_routes_need_the_verified_code(self):
        csrf, token = self._open(self.signer)
        for action in ("key_challenge", "key", "prepare"):
            result = self._call(self.signer, action, token=token, csrf_token=csrf)
            self.assertTrue(result.get("reset_code"), (action, result))
        self.assertFalse(self.signer.sudo().browser_key_data)

    def test_other_signers_token_and_bad_csrf_are_refused(self):
        other = self._sent_request(partner=self.client2).sudo().signer_ids
        csrf, token = self._verify(self.signer)
        for action in ("key_challenge", "key", "prepare"):
            result = self._call(other, action, token=token, csrf_token=csrf)
            self.assertEqual(result.get("error"), "This link is not valid.")
            result = self._call(self.signer, action, token=token, csrf_token="x")
            self.assertTrue(result.get("reload"), result)
        self.assertFalse(other.sudo().browser_key_data)
        self.assertFalse(self.signer.sudo().browser_key_data)

    def test_get_is_refused(self):
        token = self.signer._get_signing_token()
        for action in ("key_challenge", "key", "prepare"):
            response = self._fetch("/esign/action/%s/%s?token=%s" % (self.signer.id, action,
                                                                   token))
            self.assertIn(response.status_code, (403, 404, 405), action)

    def test_proof_replayed_or_for_another_key_is_refused(self):
        csrf, token = self._verify(self.signer)
        key, challenge, result = self._register(self.signer, csrf, token)
        self.assertTrue(result.get("ok"))
        # the same proof again: the nonce was used, nothing is registered anew
        result = self._call(self.signer, "key", token=token, csrf_token=csrf,
                            public_key=base64.b64encode(key.spki).decode(),
                            proof=key.sign_b64(challenge))
        self.assertIn("error", result)
        # a new challenge signed by a key other than the one sent
        challenge = self._call(self.signer, "key_challenge", token=token,
                               csrf_token=csrf)["challenge"]
        thief = FakeBrowserKey()
        result = self._call(self.signer, "key", token=token, csrf_token=csrf,
                            public_key=base64.b64encode(key.spki).decode(),
                            proof=thief.sign_b64(challenge))
        self.assertIn("error", result)
        # and that challenge cannot be retried either
        result = self._call(self.signer, "key", token=token, csrf_token=csrf,
                            public_key=base64.b64encode(key.spki).decode(),
                            proof=key.sign_b64(challenge))
        self.assertIn("error", result)
        self.assertNotIn("certificate", json.loads(self.signer.sudo().browser_key_data))

    def test_signatures_by_another_key_sign_nothing(self):
        csrf, token = self._verify(self.signer)
        self._register(self.signer, csrf, token)
        result = self._browser_sign(self.signer, csrf, token, FakeBrowserKey())
        # refused before anything is recorded: the request does not go in error
        self.assertTrue(result.get("key_failed"), result)
        self.assertEqual((self.signer.state, self.signer.sign_pending), ("pending", False))
        self.assertEqual(self.request.state, "in_progress")
        self.assertFalse(self.signer.date_signature_applied)
        self.assertFalse(self._events(self.request, "consent_given"))
        self.assertFalse(self._events(self.request, "document_signature"))

    def test_key_signatures_without_prepared_documents_are_refused(self):
        csrf, token = self._verify(self.signer)
        self._register(self.signer, csrf, token)
        result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                            key_signatures={"1": "AAAA"}, **self._sign_values(self.signer))
        self.assertTrue(result.get("key_failed"), result)
        self.assertEqual(self.signer.state, "pending")
        self.assertFalse(self._events(self.request, "consent_given"))


RECORD_KEY_SCRIPT = """
(() => {
    const subtle = window.crypto && window.crypto.subtle;
    if (!subtle) { return; }
    const generateKey = subtle.generateKey.bind(subtle);
    const exportKey = subtle.exportKey.bind(subtle);
    subtle.generateKey = async (algorithm, extractable, usages) => {
        sessionStorage.setItem("o2s_test_generated", algorithm.namedCurve + ":" + extractable);
        return generateKey(algorithm, extractable, usages);
    };
    subtle.exportKey = async (format, key) => {
        const value = await exportKey(format, key);
        if (format === "spki") {
            sessionStorage.setItem("o2s_test_spki", Array.from(new Uint8Array(value))
                .map((b) => b.toString(16).padStart(2, "0")).join(""));
        }
        return value;
    };
})();
"""

REMOVE_SUBTLE_SCRIPT = """
(() => {
    try { delete Crypto.prototype.subtle; } catch (e) { /* read-only: shadowed below */ }
    Object.defineProperty(window.crypto, "subtle", { value: undefined, configurable: true });
})();
"""


class _BrowserKeyTours:
    """Tours with a script run in the page before any of its own (DevTools protocol)."""

    def _tour_with_script(self, script, signer, tour):
        from odoo.tests.common import ChromeBrowser

        from .test_esign_portal_ui import tour_url

        navigate_to = ChromeBrowser.navigate_to

        def navigate_with_script(browser, url, wait_stop=False):
            browser._websocket_request("Page.addScriptToEvaluateOnNewDocument",
                                       params={"source": script})
            return navigate_to(browser, url, wait_stop=wait_stop)

        with patch.object(ChromeBrowser, "navigate_to", navigate_with_script):
            self.start_tour(tour_url(self, signer), tour)

    def test_tour_browser_key(self):
        request = self._sent_request().sudo()
        signer = request.signer_ids
        self._tour_with_script(RECORD_KEY_SCRIPT, signer, "o2s_esign_browser_key")
        self.env.invalidate_all()
        self.assertEqual(signer.state, "signed")
        payload = self._payload(self._events(request, "signed"))
        self.assertEqual(payload["key_mode"], "browser")
        self.assertEqual(payload["key_mode_label"], "key generated and used in the signer's browser")
        cert = pki.cert_from_pem_or_der(signer.signing_certificate.encode())
        spki = cert.public_key.dump()
        self.assertEqual(payload["public_key_sha256"], pki.public_key_fingerprint(spki))
        # the proof in the evidence verifies against the certificate
        self.assertEqual(pki.check_key_proof(cert.dump(), {
            k: base64.b64decode(v) for k, v in payload["key_proof"].items()}), [])
        document = request.document_ids
        data = document.signed_attachment_id.raw
        reader = PdfFileReader(io.BytesIO(data))
        mine = [s for s in reader.embedded_signatures if s.field_name == signer._esign_field_name()]
        self.assertEqual(mine[0].signer_cert.public_key.dump(), spki)
        self._check_validates(data)
        self._assert_no_private_key_anywhere()

    def test_tour_without_webcrypto_falls_back(self):
        request = self._sent_request().sudo()
        signer = request.signer_ids
        self._tour_with_script(REMOVE_SUBTLE_SCRIPT, signer, "o2s_esign_browser_key_fallback")
        self.env.invalidate_all()
        self.assertEqual(signer.state, "signed")
        payload = self._payload(self._events(request, "signed"))
        self.assertEqual(payload["key_mode"], "server")
        self.assertNotIn("key_proof", payload)
        self._check_validates(request.document_ids.signed_attachment_id.raw)

    def _check_validates(self, data):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(data)
            handle.flush()
            out = subprocess.run(["pdfsig", handle.name], capture_output=True, text=True,
                                 check=False).stdout
        self.assertIn("Signature is Valid.", out)

    def _assert_no_private_key_anywhere(self):
        self.env.flush_all()
        for table, column in (("o2s_esign_signer", "browser_key_data"),
                              ("o2s_esign_signer", "sign_pending_data"),
                              ("o2s_esign_event", "payload")):
            self.env.cr.execute(
                f"SELECT count(*) FROM {table} WHERE {column} ILIKE %s",
                ["%PRIVATE KEY%"])
            self.assertEqual(self.env.cr.fetchone()[0], 0, (table, column))
        for attachment in self.env["ir.attachment"].sudo().search([]):
            raw = attachment.raw or b""
            self.assertNotIn(b"PRIVATE KEY", raw, attachment.name)


@tagged("post_install", "-at_install")
class TestEsignBrowserKeyPhone(_BrowserKeyTours, EsignHttpCommon):
    gateway_class = BrowserSmsGateway
    browser_size = "375x667"
