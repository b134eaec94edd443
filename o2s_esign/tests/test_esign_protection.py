# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Protected persons (tutelle, curatelle, minors under administration légale, habilitation
familiale, mandat de protection future): who signs, their supporting document in the evidence;
and the capacity each signer signs in, on the signing page and in the mails."""
import base64
import hashlib
import io
import json
import subprocess
import xmlrpc.client
import zipfile
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools import internal_write
from .common import O2sEsignCommon, make_pdf
from .esign_portal_common import EsignHttpCommon

JUDGMENT_SHA256 = hashlib.sha256(O2sEsignCommon.PROTECTION_FILE).hexdigest()


@tagged("post_install", "-at_install")
class TestEsignProtectedPersons(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parent2 = cls._make_client("Claire Parent", "claire@example.com", "+33611223344",
                                       salesperson=cls.advisor)

    def _send_problems(self, request):
        with self.assertRaises(UserError) as caught:
            request.action_send()
        self.assertEqual(request.state, "draft")
        return str(caught.exception)

    def _created_signers(self, request):
        event = request.event_ids.filtered(lambda e: e.event_type == "created")
        return {s["id"]: s for s in json.loads(event.payload)["signers"]}

    # ------------------------------------------------------------------ minors
    def test_minor_both_parents_sign(self):
        minor = self._protected_client("minor", self.client2 | self.parent2)
        self.assertEqual([(v["partner_id"], v["role"], v["represented_partner_id"])
                          for v in minor._esign_default_signers()],
                         [(self.client2.id, "legal_representative", minor.id),
                          (self.parent2.id, "legal_representative", minor.id)],
                         "both parents, not the minor")
        message = self._send_problems(self._draft_request(partner=minor, signers=[{
            "partner_id": self.client2.id, "role": "legal_representative",
            "represented_partner_id": minor.id}]))
        self.assertIn("Léo Mineur is a minor (administration légale): both parents must sign on "
                      "their behalf (Louis Durand, Claire Parent).", message)
        message = self._send_problems(self._draft_request(partner=minor, signers=[
            {"partner_id": minor.id}]))
        self.assertIn("Léo Mineur is a minor (administration légale): their parents sign on their "
                      "behalf.", message)
        request = self._sent_request(partner=minor)
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.signer_ids.partner_id, self.client2 | self.parent2)
        self.assertEqual(set(request.signer_ids.mapped("protection")), {"minor"})
        self.assertEqual(request.signer_ids[0]._esign_capacity_label(), "Legal representative of Léo Mineur")

    def test_minor_one_parent_when_set(self):
        minor = self._protected_client("minor", self.client2 | self.parent2)
        minor.esign_minor_signature = "one"
        self.assertEqual([v["partner_id"] for v in minor._esign_default_signers()], [self.client2.id])
        for parent in (self.client2, self.parent2):
            request = self._sent_request(partner=minor, signers=[{
                "partner_id": parent.id, "role": "legal_representative",
                "represented_partner_id": minor.id}])
            self.assertEqual(request.state, "in_progress", parent.name)
        message = self._send_problems(self._draft_request(partner=minor, signers=[
            {"partner_id": self.client.id}]))
        self.assertIn("Léo Mineur is a minor (administration légale): a parent must sign on their "
                      "behalf.", message)

    # -------------------------------------- habilitation familiale, mandate
    def test_the_authorised_person_signs(self):
        cases = {
            "habilitation_familiale": (
                "Hélène Habilitée is under habilitation familiale: the person authorised by the "
                "judge signs on their behalf.",
                "Person authorised to represent Hélène Habilitée (habilitation familiale)",
                "You are signing as the person authorised by the judge to represent Hélène "
                "Habilitée (habilitation familiale)."),
            "mandat_protection_future": (
                "Max Mandant is under a mandat de protection future: their agent (mandataire) "
                "signs on their behalf.",
                "Agent of Max Mandant (mandat de protection future)",
                "You are signing as the agent of Max Mandant under a mandat de protection future."),
        }
        for protection, (refusal, label, sentence) in cases.items():
            with self.subTest(protection=protection):
                person = self._protected_client(protection, self.client2)
                message = self._send_problems(self._draft_request(partner=person, signers=[
                    {"partner_id": person.id}]))
                self.assertIn(refusal, message)
                request = self._sent_request(partner=person)
                signer = request.signer_ids
                self.assertEqual((signer.partner_id, signer.role, signer.represented_partner_id),
                                 (self.client2, "legal_representative", person))
                self.assertEqual(signer.protection, protection)
                self.assertEqual(signer._esign_capacity_label(), label)
                self.assertEqual(signer._esign_capacity_sentence(), sentence)

    def test_capacity_wording_follows_the_protection(self):
        ward = self._protected_client("tutelle", self.client2)
        assisted = self._protected_client("curatelle", self.parent2)
        tutelle = self._sent_request(partner=ward).signer_ids
        self.assertEqual(tutelle._esign_capacity_sentence(),
                         "You are signing as the legal representative of Marc Tutelle.")
        curatelle = self._sent_request(partner=assisted).signer_ids.sorted("sequence")
        self.assertEqual([s._esign_capacity_label() for s in curatelle],
                         ["Assisted by their curator (curatelle)", "Curator of Anne Curatelle"])
        self.assertEqual(curatelle[1]._esign_capacity_sentence(),
                         "You are signing as the curator of Anne Curatelle, to assist them.")
        # Frozen when sent: a later change of the contact does not rewrite the capacity.
        ward.esign_protection = "habilitation_familiale"
        tutelle.invalidate_recordset()
        self.assertEqual(tutelle._esign_capacity_sentence(),
                         "You are signing as the legal representative of Marc Tutelle.")
        self.assertFalse(self._sent_request().signer_ids._esign_capacity_sentence(),
                         "a person signing for themselves")

    # ------------------------------------------------------- supporting document
    def test_the_supporting_document_is_required_and_its_hash_kept(self):
        ward = self._protected_client("tutelle", self.client2, with_document=False)
        message = self._send_problems(self._draft_request(partner=ward))
        self.assertIn("Marc Tutelle is a protected person: add the supporting document of their "
                      "protection", message)
        ward.write({"esign_protection_file": base64.b64encode(self.PROTECTION_FILE),
                    "esign_protection_file_name": "jugement.pdf",
                    "esign_protection_reference": "TJ Lyon, 12/03/2024"})
        self.assertEqual(ward.esign_protection_sha256, JUDGMENT_SHA256)
        request = self._sent_request(partner=ward)
        signer = request.signer_ids
        self.assertEqual(signer.protection_doc_sha256, JUDGMENT_SHA256)
        self.assertEqual(self._created_signers(request)[signer.id]["protection"], {
            "type": "tutelle", "person": "Marc Tutelle", "document_reference": "TJ Lyon, 12/03/2024",
            "document_name": "jugement.pdf", "document_sha256": JUDGMENT_SHA256})
        # A new judgment later changes nothing of the request's evidence.
        ward.esign_protection_file = base64.b64encode(b"another judgment")
        self.assertEqual(signer.protection_doc_sha256, JUDGMENT_SHA256)
        with self.assertRaises(UserError):
            signer.with_user(self.advisor).write({"protection_doc_sha256": "0" * 64})

        # The evidence file: the trail and the report carry the hash.
        request.with_user(self.advisor).action_cancel(reason="Test")
        request.with_user(self.advisor).action_download_evidence()
        with zipfile.ZipFile(io.BytesIO(request.evidence_attachment_id.raw)) as zf:
            trail = zf.read("audit_trail.json").decode()
            report = zf.read("evidence.pdf")
        self.assertIn(JUDGMENT_SHA256, trail)
        text = subprocess.run(["pdftotext", "-", "-"], input=report, capture_output=True,
                              check=True, timeout=60).stdout.decode()
        self.assertIn("Supporting document", text)
        self.assertIn("Guardianship (tutelle)", text)
        self.assertIn(JUDGMENT_SHA256[:32], text.replace("\n", ""))

    def test_a_protected_signer_is_checked_in_any_request(self):
        """A person under curatelle signing someone else's request signs with their curator."""
        assisted = self._protected_client("curatelle", self.client2)
        request = self._draft_request(signers=[{"partner_id": self.client.id},
                                               {"partner_id": assisted.id}])
        self.assertIn("Anne Curatelle is under curatorship (curatelle): they and their curator "
                      "must both sign.", self._send_problems(request))
        request.write({"signer_ids": [Command.create({
            "partner_id": self.client2.id, "role": "legal_representative",
            "represented_partner_id": assisted.id})]})
        request.action_send()
        self.assertEqual(request.state, "in_progress")

    def test_frozen_protection_fields(self):
        request = self._sent_request(partner=self._protected_client("tutelle", self.client2))
        for field in ("protection", "protection_reference", "protection_doc_sha256"):
            with self.assertRaises(UserError):
                request.signer_ids.with_user(self.advisor).write({field: False})


@tagged("post_install", "-at_install")
class TestEsignSignerCapacityPage(EsignHttpCommon):
    """What a signer sees through their link, as a visitor with the link only."""

    def _invitation_body(self, request, signer):
        event = self._events(request, "email_queued", signer)[:1]
        mail = self.env["mail.mail"].sudo().browse(self._payload(event)["mail_id"])
        return mail.body_html

    def test_page_and_mails_say_in_what_capacity(self):
        ward = self._protected_client("tutelle", self.client2)
        ward.name = "Marcel Petit"
        company = self._make_client("Dupont Patrimoine SAS", "contact@dupont.example.com",
                                    "+33144556677", salesperson=self.advisor, with_id=False,
                                    is_company=True, esign_representative_id=self.client.id)
        cases = [(ward, "You are signing as the legal representative of Marcel Petit."),
                 (company, "You are signing for the account of Dupont Patrimoine SAS.")]
        for partner, sentence in cases:
            with self.subTest(partner=partner.name):
                request = self._sent_request(partner=partner).sudo()
                signer = request.signer_ids
                page = self._fetch(self._path(signer))
                self.assertEqual(page.status_code, 200)
                self.assertIn('class="o_esign_capacity', page.text)
                self.assertIn(sentence, page.text)
                self.assertIn(sentence, self._invitation_body(request, signer))
                request.with_user(self.advisor).action_remind()
                reminder = self._events(request, "email_queued", signer)[-1]
                self.assertEqual(self._payload(reminder)["kind"], "reminder")
                mail = self.env["mail.mail"].sudo().browse(self._payload(reminder)["mail_id"])
                self.assertIn(sentence, mail.body_html)
        # Signing for oneself: no capacity line.
        self._keep_sent_request()
        page = self._fetch(self._path(self.signer))
        self.assertNotIn("o_esign_capacity", page.text)
        self.assertNotIn("You are signing", self._invitation_body(self.request, self.signer))

    def test_page_count_includes_the_signature_page(self):
        request = self._draft_request(signers=[{"partner_id": self.client.id}], documents=0)
        request.write({"document_ids": [Command.create({
            "name": "contract.pdf",
            "original_attachment_id": self._attachment(make_pdf("Contrat", pages=2), user=self.advisor).id,
        })]})
        request.action_send()
        document = request.sudo().document_ids
        self.assertEqual((document.page_count, document.prepared_page_count), (2, 3))
        page = self._fetch(self._path(request.sudo().signer_ids))
        self.assertRegex(page.text, r"3 page\(s\),\s+signature page included")

    def test_signed_documents_from_the_link_until_it_expires(self):
        self._keep_sent_request()
        document = self.request.document_ids
        csrf, token = self._sign(self.signer)
        self.assertEqual(self.request.state, "signed")
        self.opener.cookies.clear()  # another browser: only the link, no session of the signature
        path = self._path(self.signer)
        download = "%s/document/%d?download=1" % (path, document.id)
        page = self._fetch(path)
        self.assertIn("You can download the signed documents below until", page.text)
        self.assertIn(download.replace("&", "&amp;"), page.text)
        before = len(self._events(self.request, "document_downloaded", self.signer))
        response = self._fetch(download)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, document.signed_attachment_id.raw)
        self.assertTrue(response.headers["Content-Disposition"].startswith("attachment"))
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        events = self._events(self.request, "document_downloaded", self.signer)
        self.assertEqual(len(events), before + 1)
        self.assertEqual(self._payload(events[-1])["sha256"], document.signed_sha256)
        self.assertTrue(events[-1].ip_address)
        # A wrong token opens nothing.
        wrong = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        self.assertEqual(self._fetch("/esign/sign/%d/%s/document/%d?download=1" % (
            self.signer.id, wrong, document.id)).status_code, 404)
        # Once the link has expired, nothing either.
        with internal_write():
            self.request.date_deadline = fields.Date.today() - timedelta(days=1)
        self.assertEqual(self._fetch(download).status_code, 404)
        self.assertNotIn("document/%d" % document.id, self._fetch(path).text)

    def test_signed_documents_while_others_sign_but_not_after_a_refusal(self):
        self._keep_sent_request(signers=[{"partner_id": self.client.id}, {"partner_id": self.client2.id}])
        first, second = self.signer.sorted("sequence")
        self._sign(first)
        self.opener.cookies.clear()
        document = self.request.document_ids
        download = "%s/document/%d?download=1" % (self._path(first), document.id)
        response = self._fetch(download)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, document.signed_attachment_id.raw, "with their signature")
        self.assertIn("this link\n                        also gives you the documents",
                      self._fetch(self._path(first)).text)
        second._portal_refuse("Je ne signe pas")
        self.assertEqual(self.request.state, "refused")
        self.assertEqual(self._fetch(download).status_code, 404)


@tagged("post_install", "-at_install")
class TestEsignProtectionFileRights(EsignHttpCommon):
    """The supporting document (a judgment) is for the E-signature users only."""

    @mute_logger("odoo.http")
    def test_only_esign_users_read_the_judgment(self):
        ward = self._protected_client("tutelle", self.client2)
        attachment = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "res.partner"), ("res_id", "=", ward.id),
            ("res_field", "=", "esign_protection_file")])
        self.assertEqual(attachment.raw, self.PROTECTION_FILE)
        url = "/web/content/res.partner/%d/esign_protection_file" % ward.id
        self.env.flush_all()
        for login, allowed in (("esign_advisor", True), ("esign_nobody", False)):
            with self.subTest(login=login):
                self.authenticate(login, login)
                response = self.url_open(url, allow_redirects=False)
                self.assertEqual(response.status_code == 200, allowed, response.status_code)
                if allowed:
                    self.assertEqual(response.content, self.PROTECTION_FILE)
                response = self.url_open("/web/content/%d" % attachment.id, allow_redirects=False)
                self.assertEqual(response.status_code == 200, allowed, response.status_code)
                uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, login, login, {})
                call = lambda field, uid=uid, login=login: self.xmlrpc_object.execute_kw(  # noqa: E731
                    self.env.cr.dbname, uid, login, "res.partner", "read", [[ward.id], [field]])
                found = self.xmlrpc_object.execute_kw(
                    self.env.cr.dbname, uid, login, "ir.attachment", "search_read",
                    [[("res_model", "=", "res.partner"), ("res_id", "=", ward.id),
                      ("res_field", "=", "esign_protection_file")]],
                    {"fields": ["id"]})
                self.assertEqual([row["id"] for row in found] == [attachment.id], allowed, found)
                if allowed:
                    self.assertEqual(call("esign_protection_sha256")[0]["esign_protection_sha256"],
                                     JUDGMENT_SHA256)
                else:
                    for field in ("esign_protection_file", "esign_protection_sha256"):
                        with self.assertRaises(xmlrpc.client.Fault):
                            call(field)
