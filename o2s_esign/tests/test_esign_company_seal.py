# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The company's seal follows the company: once it is renamed (from the company or from its
contact), a new seal certificate carries the new name, issued by the same CA; what was signed
and sealed before keeps verifying, and a request under way at the rename completes."""
import base64
import os
import tempfile

from odoo.tests import tagged

from .common import esign_user
from .common_signing import O2sEsignSigningCommon
from .test_esign_evidence import VENV_PYTHON, failed_checks, run_verify


@tagged("post_install", "-at_install")
class TestEsignCompanySeal(O2sEsignSigningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")
        cls.admin = cls.env.ref("base.user_admin")
        cls.company.name = "Cabinet Avant"
        cls.identities = cls.env["o2s.esign.signing.identity"].sudo().with_context(active_test=False)

    def _active(self):
        return self.identities.search([("company_id", "=", self.company.id), ("active", "=", True)])

    def _verify(self, request):
        """verify.py (with pyHanko) on the request's evidence ZIP: the failed checks."""
        path = os.path.join(tempfile.mkdtemp(prefix="o2s-seal-"), "EVIDENCE.zip")
        with open(path, "wb") as fh:
            fh.write(request.evidence_attachment_id.raw)
        _rc, output = run_verify(VENV_PYTHON, path)
        return failed_checks(output)

    def _seal_signer(self, request):
        reports = self._validate(request.document_ids.signed_attachment_id.raw)
        return [r.signer_cn for r in reports if r.kind == "signature"][-1]

    def test_renamed_company_seals_with_its_new_name(self):
        before = self._send(documents=1)
        self._sign_all(before)
        self.assertEqual(self._seal_signer(before), "Cabinet Avant Electronic Seal")
        under_way = self._send(documents=1)
        self._portal_sign(under_way.signer_ids.sorted("sequence")[0])
        old = self._active()

        self.company.with_user(self.admin).name = "Cabinet Après"

        new = self._active()
        self.assertNotEqual(new, old)
        self.assertFalse(old.active, "the previous identity is kept, archived")
        self.assertEqual(new.seal_subject, "Cabinet Après Electronic Seal")
        self.assertNotEqual(new.seal_fingerprint, old.seal_fingerprint)
        self.assertEqual(new.ca_fingerprint, old.ca_fingerprint, "the same CA: the trust anchor")
        material = new._material()
        self.assertEqual(material.seal.cert.subject.native["organization_name"], "Cabinet Après")
        self.assertEqual(material.seal.chain[0].dump(), material.ca.cert.dump())
        self.assertEqual(self.company.with_user(self.admin).esign_identity_seal_subject,
                         "Cabinet Après Electronic Seal")
        # new seals carry the new name; the request under way completes with it
        self._portal_sign(under_way.signer_ids.sorted("sequence")[1])
        after = self._send(documents=1)
        self._sign_all(after)
        for request in (under_way, after):
            self.assertEqual(request.state, "signed")
            self.assertEqual(self._seal_signer(request), "Cabinet Après Electronic Seal")
            self.assertAllValid(request.document_ids.signed_attachment_id.raw, 3)
            self.assertEqual(self._verify(request), [])
        # what was sealed before the rename keeps its seal and keeps verifying
        self.assertEqual(self._seal_signer(before), "Cabinet Avant Electronic Seal")
        self.assertAllValid(before.document_ids.signed_attachment_id.raw, 3)
        self.assertEqual(self._verify(before), [])

    def test_renaming_the_company_contact_renews_the_seal_too(self):
        old = self._active()
        manager = esign_user(self.env, "esign_contacts", "staff", name="Carl Contacts")
        self.company.partner_id.with_user(manager).name = "Cabinet Contact"
        self.assertEqual(self.company.name, "Cabinet Contact")
        self.assertEqual(self._active().seal_subject, "Cabinet Contact Electronic Seal")
        self.assertFalse(old.active)

    def test_no_new_seal_without_a_new_name(self):
        old = self._active()
        count = self.identities.search_count([("company_id", "=", self.company.id)])
        self.company.with_user(self.admin).write({"name": "Cabinet Avant", "phone": "+33 1 23 45 67 89"})
        self.company.partner_id.with_user(self.admin).write({"street": "1 rue de la Paix"})
        self.assertEqual(self._active(), old)
        self.assertEqual(self.identities.search_count([("company_id", "=", self.company.id)]), count)

    def test_a_seal_imported_from_another_authority_stays(self):
        """A seal certificate imported from a PKCS#12 of another authority cannot be issued
        again by the module: it stays as imported (a new one is imported after a rename)."""
        options = esign_user(self.env, "esign_options_seal", "internal,options", name="Olga Options")
        p12 = self.pki.package_pkcs12("seal", password=b"secret-p12")
        self.env["o2s.esign.identity.import"].with_user(options).create({
            "company_id": self.company.id, "pkcs12_file": base64.b64encode(p12),
            "password": "secret-p12"}).action_import()
        imported = self._active()
        self.company.with_user(self.admin).name = "Cabinet Importé"
        self.assertEqual(self._active(), imported)
        self.assertEqual(imported.seal_subject, "Cabinet Exemple Seal")
