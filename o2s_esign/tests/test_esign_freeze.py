# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The files of a signed request are frozen for everyone, administrators included, as an
attacker would try it: over XML-RPC as the request's advisor and as the administrator, then
anonymously through /web/content (issue #12, item 6)."""
import base64
import xmlrpc.client

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import make_pdf
from .esign_portal_common import EsignHttpCommon

# Fault codes of Odoo's XML-RPC (odoo/addons/base/controllers/rpc.py).
USER_ERROR, ACCESS_ERROR = 2, 4


@tagged("post_install", "-at_install")
class TestEsignFrozenFiles(EsignHttpCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.user_admin").lang = "en_US"

    def setUp(self):
        super().setUp()
        self._keep_sent_request()
        self._sign(self.signer)
        self.assertEqual(self.request.state, "signed")
        self.signer.with_user(self.advisor).action_download_attestation()
        self.env.invalidate_all()
        document = self.request.document_ids
        signature = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "o2s.esign.signer"), ("res_id", "=", self.signer.id),
            ("res_field", "=", "signature_image")])
        self.assertTrue(signature, "the signer's signature image is kept as an attachment")
        self.files = {
            "original": document.original_attachment_id,
            "sent": document.prepared_attachment_id,
            "signed": document.signed_attachment_id,
            "evidence": self.request.evidence_attachment_id,
            "attestation": self.signer.attestation_attachment_id,
            "signature image": signature,
        }
        for kind, attachment in self.files.items():
            self.assertTrue(attachment, kind)

    # ------------------------------------------------------------------ helpers
    def _rpc(self, login, model, method, *args):
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        self.assertTrue(uid, login)
        self.env.flush_all()
        try:
            return self.xmlrpc_object.execute_kw(db, uid, login, model, method, list(args), {})
        finally:
            self.env.invalidate_all()

    def _refused(self, login, model, method, *args):
        """The fault code of a call that must fail (administrators: the freeze itself)."""
        with self.assertRaises(xmlrpc.client.Fault, msg=(login, model, method, args)) as caught:
            self._rpc(login, model, method, *args)
        code = caught.exception.faultCode
        if login == "admin":
            self.assertEqual(code, USER_ERROR, caught.exception.faultString)
        else:
            self.assertIn(code, (USER_ERROR, ACCESS_ERROR), caught.exception.faultString)
        return code

    def _state(self, attachment):
        attachment = attachment.sudo()
        return (attachment.name, attachment.public, attachment.access_token, attachment.checksum,
                attachment.res_model, attachment.res_id, attachment.res_field)

    # -------------------------------------------------------------------- tests
    @mute_logger("odoo.http", "odoo.sql_db", "odoo.addons.base.models.ir_rule",
                 "odoo.addons.base.models.ir_model")
    def test_files_of_a_signed_request_cannot_change_nor_go(self):
        before = {kind: self._state(attachment) for kind, attachment in self.files.items()}
        other = self._draft_request(partner=self.client2)
        forged = base64.b64encode(make_pdf("Forged")).decode()
        for login in ("esign_advisor", "admin"):
            for kind, attachment in self.files.items():
                ids = [attachment.id]
                with self.subTest(login=login, file=kind):
                    for vals in ({"public": True}, {"access_token": "chosen-token"},
                                 {"name": "renamed.pdf"}, {"datas": forged},
                                 {"res_id": other.id}, {"res_model": "res.partner"},
                                 {"description": "nothing special"}):
                        self._refused(login, "ir.attachment", "write", ids, vals)
                    self._refused(login, "ir.attachment", "generate_access_token", ids)
                    self._refused(login, "ir.attachment", "unlink", ids)
        self.assertEqual({kind: self._state(a) for kind, a in self.files.items()}, before)
        # nothing else can be attached to a sent document (the verification page trusts them)
        document = self.request.document_ids
        for login in ("esign_advisor", "admin"):
            self._refused(login, "ir.attachment", "create", {
                "name": "earlier.pdf", "datas": forged, "res_model": "o2s.esign.document",
                "res_id": document.id})
            mine = self._rpc(login, "ir.attachment", "create", {"name": "mine.pdf", "datas": forged})
            self._refused(login, "ir.attachment", "write", [mine], {
                "res_model": "o2s.esign.document", "res_id": document.id})
        self.assertEqual(self.env["ir.attachment"].sudo().search_count([
            ("res_model", "=", "o2s.esign.document"), ("res_id", "=", document.id)]),
            4, "original, sent, signed by the signer and sealed: nothing more")
        # and none of them is served to an anonymous visitor
        self.authenticate(None, None)
        for kind, attachment in self.files.items():
            response = self.url_open("/web/content/%d?download=true" % attachment.id,
                                     allow_redirects=False)
            self.assertNotEqual(response.status_code, 200, kind)
            self.assertNotIn(response.content[:4], (b"%PDF", b"PK\x03\x04", b"\x89PNG"), kind)

    @mute_logger("odoo.http", "odoo.sql_db", "odoo.addons.base.models.ir_rule",
                 "odoo.addons.base.models.ir_model")
    def test_signer_of_a_signed_request_cannot_change(self):
        other_id = self._add_id_document(self.client)
        before = self.signer.read(["id_document_id", "presence", "signature_name", "sequence"])
        for login in ("esign_advisor", "admin"):
            for vals in ({"id_document_id": other_id.id}, {"presence": "in_person"},
                         {"sequence": 99}, {"signature_image": False}):
                with self.subTest(login=login, vals=vals):
                    self._refused(login, "o2s.esign.signer", "write", self.signer.ids, vals)
        self.assertEqual(self.signer.read(["id_document_id", "presence", "signature_name",
                                           "sequence"]), before)
        self.assertTrue(self.signer.signature_image)

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_evidence_copy_on_the_contact_cannot_be_published(self):
        self.request.with_user(self.advisor).action_save_evidence_to_partner()
        copy = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.client.id),
            ("checksum", "=", self.request.evidence_attachment_id.checksum)])
        self.assertEqual(len(copy), 1)
        for vals in ({"public": True}, {"access_token": "chosen-token"}, {"name": "x.zip"}):
            self._refused("admin", "ir.attachment", "write", copy.ids, vals)
        self._refused("admin", "ir.attachment", "generate_access_token", copy.ids)
        self.assertFalse(copy.public or copy.access_token)
        self.authenticate(None, None)
        response = self.url_open("/web/content/%d?download=true" % copy.id, allow_redirects=False)
        self.assertNotEqual(response.status_code, 200)

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_evidence_copy_saved_before_copies_were_linked(self):
        """The 18.0.1.1.0 migration links a copy saved before copies were linked to their
        request (same bytes as its evidence ZIP): it is then frozen and private like the others."""
        evidence = self.request.evidence_attachment_id
        other = self.env["ir.attachment"].sudo().create({
            "name": "notes.txt", "raw": b"not evidence", "res_model": "res.partner",
            "res_id": self.client.id})
        old_copy = self.env["ir.attachment"].sudo().create({
            "name": "old copy.zip", "raw": evidence.sudo().raw, "res_model": "res.partner",
            "res_id": self.client.id, "description": "O2S – Signature électronique"})
        self.assertFalse(old_copy.esign_request_id)
        self.assertEqual(self.env["ir.attachment"]._esign_link_saved_evidence(), 1)
        self.assertEqual(old_copy.esign_request_id, self.request)
        self.assertFalse(other.esign_request_id)
        self._refused("admin", "ir.attachment", "write", old_copy.ids, {"public": True})
        self.assertFalse(old_copy.public)
        self.assertEqual(self.env["ir.attachment"]._esign_link_saved_evidence(), 0)

    def test_odoo_mail_code_may_still_link_a_frozen_file(self):
        """Odoo's mail (as sudo) sends a too large attachment as a link with an access token:
        that stays possible (RPC callers never run as sudo)."""
        signed = self.files["signed"]
        [token] = signed.sudo().generate_access_token()
        self.assertTrue(token)
        self.assertEqual(signed.sudo().access_token, token)
