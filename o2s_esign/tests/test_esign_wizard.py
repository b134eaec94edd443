# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The “Sign electronically” wizard (documents from three places, signers, options, one-step send)
and the cancel wizard; the browser tour of an advisor sending from a contact."""
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools.safe_eval import safe_eval

from ..tools import internal_write
from .common import O2sEsignCommon, esign_user, make_pdf
from .samples import bad_files, large_pdf

WIZARD = "o2s.esign.request.wizard"


class EsignWizardCase(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mission = cls.env.ref("o2s_esign.document_type_mission_letter")
        cls.profile = cls.env.ref("o2s_esign.document_type_investor_profile")
        cls.other_type = cls.env.ref("o2s_esign.document_type_other")
        cls.client_pdf = cls._record_attachment(cls.client, "lettre_de_mission.pdf")
        cls.client_pdf2 = cls._record_attachment(cls.client, "profil_investisseur.pdf")
        cls.client_text = cls._record_attachment(cls.client, "notes.txt", b"notes", "text/plain")
        cls.other_pdf = cls._record_attachment(cls.client2, "contrat_assurance_vie.pdf")

    @classmethod
    def _record_attachment(cls, record, name, data=None, mimetype="application/pdf"):
        return cls.env["ir.attachment"].create({
            "name": name, "raw": data if data is not None else make_pdf(name), "mimetype": mimetype,
            "res_model": record._name, "res_id": record.id,
        })

    def _files_out_of_reach(self):
        """A PDF on a contact of another company (hidden.pdf), a sent request and the original of
        its document (a request's internal file): files the wizard must not offer nor send."""
        company_b = self.env["res.company"].create({"name": "Other company"})
        hidden_partner = self.env["res.partner"].create({"name": "Hidden", "company_id": company_b.id})
        hidden_pdf = self._record_attachment(hidden_partner, "hidden.pdf")
        sent = self._sent_request()
        return hidden_pdf, sent, sent.document_ids.original_attachment_id

    def _assert_first_signer_line(self, form, partner, role, represented):
        with form.signer_line_ids.edit(0) as line:
            self.assertEqual((line.partner_id, line.role, line.represented_partner_id),
                             (partner, role, represented))

    def _upload(self, name="upload.pdf", data=None, user=None):
        """A file as the many2many_binary widget uploads it for a new wizard."""
        user = user or self.advisor
        return self.env["ir.attachment"].with_user(user).create({
            "name": name, "raw": data if data is not None else make_pdf(name),
            "res_model": WIZARD, "res_id": 0,
        })

    def _wizard_form(self, partners=None, user=None, **context):
        user = user or self.advisor
        partners = partners if partners is not None else self.client
        action = partners.with_user(user).action_esign_sign()
        self.assertEqual(action["res_model"], WIZARD)
        return Form(self.env[WIZARD].with_user(user).with_context(**dict(action["context"], **context)))

    def _counts(self):
        env = self.env
        return {model: env[model].search_count([]) for model in (
            "o2s.esign.request", "o2s.esign.document", "o2s.esign.signer", "o2s.esign.event",
            "ir.attachment")}


@tagged("post_install", "-at_install")
class TestEsignWizard(EsignWizardCase):

    def test_opens_from_the_contact_with_its_defaults(self):
        self.company.esign_validity_days = 10
        form = self._wizard_form()
        self.assertEqual(form.partner_id, self.client)
        self.assertEqual(form.date_deadline, fields.Date.today() + timedelta(days=10))
        self.assertEqual((form.signing_order, form.presence), ("parallel", "remote"))
        self.assertEqual(form.document_type_id, self.other_type)
        self.assertEqual(len(form.signer_line_ids), 1)
        with form.signer_line_ids.edit(0) as line:
            self.assertEqual((line.partner_id, line.role), (self.client, "signer"))
            self.assertEqual(line.mobile, "+33612345678")
            self.assertTrue(line.id_document_valid)
            self.assertFalse(line.problems)
        self.assertEqual(len(form.document_line_ids), 0)

    def test_client_documents_are_the_contacts_pdfs(self):
        wizard = self._wizard_form().save()
        # The field's domain, as the web client evaluates it with the wizard's values.
        domain = safe_eval(self.env[WIZARD]._fields["partner_attachment_ids"].domain,
                           {"partner_ids": wizard.partner_ids.ids})
        offered = self.env["ir.attachment"].with_user(self.advisor).search(domain)
        self.assertEqual(offered, self.client_pdf | self.client_pdf2)
        self.assertEqual(wizard.client_document_count, 2)
        wizard.partner_ids = self.client | self.client2
        offered = self.env["ir.attachment"].with_user(self.advisor).search(
            safe_eval(self.env[WIZARD]._fields["partner_attachment_ids"].domain,
                      {"partner_ids": wizard.partner_ids.ids}))
        self.assertEqual(offered, self.client_pdf | self.client_pdf2 | self.other_pdf)

    def test_other_records_documents_follow_the_users_rights(self):
        hidden_pdf, sent, internal_pdf = self._files_out_of_reach()
        self.assertTrue(internal_pdf.with_user(self.advisor).has_access("read"))
        floating = self._attachment(name="floating.pdf")
        found = self.env["ir.attachment"].with_user(self.advisor).search(
            self.env[WIZARD]._other_attachment_domain())
        self.assertIn(self.other_pdf, found)
        self.assertIn(self.client_pdf, found)
        self.assertNotIn(self.client_text, found)
        for excluded in (hidden_pdf, internal_pdf, sent.document_ids.prepared_attachment_id, floating):
            self.assertNotIn(excluded, found)

    def test_document_types_from_file_names_and_subject_without_pdf(self):
        """The demo's files ("Lettre de mission.pdf"...) arrive typed, so that the client's
        Compliance tab follows them, and the default subject is not a file name."""
        mission_en = self._record_attachment(self.client, "Mission letter - Martin.PDF")
        form = self._wizard_form()
        form.partner_attachment_ids.add(self.client_pdf2)
        form.partner_attachment_ids.add(mission_en)
        with form.document_line_ids.edit(0) as line:
            self.assertEqual(line.document_type_id, self.profile)
        with form.document_line_ids.edit(1) as line:
            self.assertEqual(line.document_type_id, self.mission)
        action = form.save().action_send()
        request = self.env["o2s.esign.request"].browse(action["res_id"])
        self.assertEqual(request.name, "profil_investisseur, Mission letter - Martin")
        self.assertEqual(request.document_ids.mapped("name"),
                         ["profil_investisseur.pdf", "Mission letter - Martin.PDF"])
        compliance = self.env["o2s.esign.compliance"].with_user(self.advisor).search(
            [("partner_id", "=", self.client.id), ("document_type_id", "in", (self.mission | self.profile).ids)])
        self.assertEqual(set(compliance.mapped("status")), {"in_progress"})
        # A type chosen on the wizard is given to every file, whatever its name.
        form = self._wizard_form()
        form.document_type_id = self.env.ref("o2s_esign.document_type_contract")
        form.partner_attachment_ids.add(self.client_pdf)
        with form.document_line_ids.edit(0) as line:
            self.assertEqual(line.document_type_id, self.env.ref("o2s_esign.document_type_contract"))

    def test_send_documents_from_three_places_with_their_types(self):
        upload = self._upload("scan_signed_by_hand.pdf")
        form = self._wizard_form()
        form.upload_attachment_ids.add(upload)
        form.partner_attachment_ids.add(self.client_pdf)
        form.other_attachment_ids.add(self.other_pdf)
        form.partner_attachment_ids.add(self.client_pdf)  # the same file twice is one document
        self.assertEqual(len(form.document_line_ids), 3)
        # Each file has the type its name begins with (in French here), else "Other".
        contract = self.env.ref("o2s_esign.document_type_contract")
        for index, (name, source, doc_type) in enumerate([
                ("scan_signed_by_hand.pdf", "upload", self.other_type),
                ("lettre_de_mission.pdf", "client", self.mission),
                ("contrat_assurance_vie.pdf", "other", contract)]):
            with form.document_line_ids.edit(index) as line:
                self.assertEqual((line.name, line.source, line.document_type_id), (name, source, doc_type))
        with form.document_line_ids.edit(2) as line:
            line.document_type_id = self.other_type
        with form.signer_line_ids.new() as line:
            line.partner_id = self.client2
        form.signing_order = "sequential"
        form.presence = "in_person"
        form.date_deadline = fields.Date.today() + timedelta(days=5)
        form.message = "Voici les documents."
        form.name = "Ouverture du dossier"
        wizard = form.save()
        action = wizard.action_send()

        request = self.env["o2s.esign.request"].search([("user_id", "=", self.advisor.id)], limit=1)
        # signers in person: the first one's signing page opens at once, on the advisor's screen
        self.assertEqual((action["type"], action["target"]), ("ir.actions.act_url", "self"))
        self.assertTrue(action["url"].startswith("/esign/in_person/%s?" % request.in_person_signer_id.id))
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.name, "Ouverture du dossier")
        self.assertEqual((request.partner_id, request.user_id), (self.client, self.advisor))
        self.assertEqual((request.signing_order, request.message), ("sequential", "Voici les documents."))
        self.assertEqual(request.date_deadline, fields.Date.today() + timedelta(days=5))
        documents = request.document_ids.sorted("sequence")
        self.assertEqual(documents.mapped("name"),
                         ["scan_signed_by_hand.pdf", "lettre_de_mission.pdf", "contrat_assurance_vie.pdf"])
        self.assertEqual(documents.mapped("document_type_id"), self.other_type | self.mission | self.other_type)
        self.assertEqual(documents[1].document_type_id, self.mission)
        # Each document has a copy of its own; the client's and the other record's files stay.
        sources = upload | self.client_pdf | self.other_pdf
        self.assertFalse(documents.original_attachment_id & sources)
        self.assertEqual(documents[1].original_attachment_id.raw, self.client_pdf.raw)
        self.assertTrue((self.client_pdf | self.other_pdf).exists())
        self.assertFalse(upload.exists(), "the upload was copied into the request, then removed")
        signers = request.signer_ids.sorted("sequence")
        self.assertEqual(signers.partner_id.ids, [self.client.id, self.client2.id])
        self.assertEqual(signers.mapped("presence"), ["in_person", "in_person"])
        self.assertEqual(signers.mapped("state"), ["pending", "waiting"])
        self.assertEqual(request.in_person_signer_id, signers[0])

    def test_several_contacts_selected_make_one_request(self):
        form = Form(self.env[WIZARD].with_user(self.advisor).with_context(
            active_model="res.partner", active_ids=(self.client | self.client2).ids))
        self.assertEqual(form.partner_id, self.client)
        self.assertEqual(len(form.signer_line_ids), 2)
        form.partner_attachment_ids.add(self.client_pdf)
        request = self.env["o2s.esign.request"].browse(form.save().action_send()["res_id"])
        self.assertEqual(request.partner_id, self.client)
        self.assertEqual(request.signer_ids.partner_id, self.client | self.client2)

    def test_who_signs_for_companies_and_protected_persons(self):
        company = self._make_client("Durand SARL", "contact@durand.example.com", "+33645678901",
                                    salesperson=self.advisor, with_id=False, is_company=True)
        form = self._wizard_form(company)
        self.assertIn("Durand SARL is a company", form.signer_notice)
        self.assertEqual(len(form.signer_line_ids), 0)
        form.other_attachment_ids.add(self.client_pdf)
        with self.assertRaisesRegex(UserError, "Add at least one signer"):
            form.save().action_send()
        company.esign_representative_id = self.client2
        form = self._wizard_form(company)
        self.assertFalse(form.signer_notice)
        self._assert_first_signer_line(form, self.client2, "company_representative", company)
        ward = self._protected_client("tutelle", self.client2)
        form = self._wizard_form(ward)
        self.assertEqual(len(form.signer_line_ids), 1)
        self._assert_first_signer_line(form, self.client2, "legal_representative", ward)
        assisted = self._protected_client("curatelle", self.client2)
        form = self._wizard_form(assisted)
        self.assertEqual(len(form.signer_line_ids), 2)
        form.other_attachment_ids.add(self.other_pdf)
        request = self.env["o2s.esign.request"].browse(form.save().action_send()["res_id"])
        self.assertEqual(sorted(request.signer_ids.mapped("role")), ["legal_representative", "signer"])

    def test_signer_lines_show_what_is_missing(self):
        self.client.write({"mobile": False, "email": False})
        form = self._wizard_form()
        with form.signer_line_ids.edit(0) as line:
            self.assertIn("Jeanne Martin has no email address.", line.problems)
            self.assertIn("Jeanne Martin has no mobile number.", line.problems)

    def test_failed_send_lists_everything_and_leaves_nothing(self):
        self.client.mobile = False
        self.client2.esign_id_document_ids.date_expiry = fields.Date.today() - timedelta(days=1)
        not_pdf = self._upload("notes.pdf", b"plain text")
        encrypted = self._upload("locked.pdf", bad_files()["encrypted"][0])
        form = self._wizard_form()
        form.upload_attachment_ids.add(not_pdf)
        form.upload_attachment_ids.add(encrypted)
        form.partner_attachment_ids.add(self.client_pdf)
        with form.signer_line_ids.new() as line:
            line.partner_id = self.client2
        wizard = form.save()
        before = self._counts()
        with self.assertRaises(UserError) as caught:
            wizard.action_send()
        message = str(caught.exception)
        for sentence in ("The request cannot be sent:", "Jeanne Martin has no mobile number.",
                         "Louis Durand has no identity document valid today.",
                         "notes.pdf is not a PDF file.", "locked.pdf is protected by a password"):
            self.assertIn(sentence, message)
        self.assertEqual(self._counts(), before)
        self.assertTrue((not_pdf | encrypted).exists(), "the uploads stay for another try")

    def test_each_bad_file_is_refused(self):
        for case, (data, sentence) in bad_files().items():
            with self.subTest(case=case):
                form = self._wizard_form()
                form.upload_attachment_ids.add(self._upload("%s.pdf" % case, data))
                wizard = form.save()
                before = self._counts()
                with self.assertRaises(UserError) as caught:
                    wizard.action_send()
                self.assertIn("%s.pdf %s" % (case, sentence), str(caught.exception))
                self.assertEqual(self._counts(), before)

    def test_file_over_the_size_limit(self):
        self.company.esign_max_upload_mb = 1
        # an upload is refused before it is stored (test_esign_public_pages: over HTTP)
        with self.assertRaisesRegex(UserError, "big.pdf is larger than the 1.0 MB allowed"):
            self._upload("big.pdf", large_pdf(1))
        # a file already stored (among the client's documents) is refused when sending
        big = self._record_attachment(self.client, "big.pdf", large_pdf(1))
        form = self._wizard_form()
        form.partner_attachment_ids.add(big)
        wizard = form.save()
        with self.assertRaisesRegex(UserError, "big.pdf is larger than the 1.0 MB allowed"):
            wizard.action_send()

    def test_late_failure_rolls_everything_back(self):
        """A failure after the checks (while sending) leaves no request, document or copy."""
        form = self._wizard_form()
        upload = self._upload("upload.pdf")
        form.upload_attachment_ids.add(upload)
        wizard = form.save()
        before = self._counts()
        Signer = type(self.env["o2s.esign.signer"])
        original = Signer._send_invitation

        def failing_invitation(signers):
            original(signers)
            raise ConnectionRefusedError("The mail server is down")

        Signer._send_invitation = failing_invitation
        try:
            with self.assertRaisesRegex(ConnectionRefusedError, "The mail server is down"):
                wizard.action_send()
        finally:
            Signer._send_invitation = original
        self.assertEqual(self._counts(), before)
        self.assertTrue(upload.exists())

    def test_files_the_user_may_not_use(self):
        hidden_pdf, _sent, internal_pdf = self._files_out_of_reach()
        wizard = self._wizard_form().save()
        # A crafted call may link any attachment: the send re-checks each one.
        wizard.sudo().write({"other_attachment_ids": [(6, 0, (hidden_pdf | internal_pdf).ids)]})
        before = self._counts()
        with self.assertRaises(UserError) as caught:
            wizard.action_send()
        message = str(caught.exception)
        self.assertIn("You are not allowed to read hidden.pdf.", message)
        self.assertIn("belongs to another signature request", message)
        self.assertEqual(self._counts(), before)

    def test_another_users_upload_cannot_be_used(self):
        stolen = self._upload("advisor2_upload.pdf", user=self.advisor2)
        wizard = self._wizard_form().save()
        wizard.sudo().write({"upload_attachment_ids": [(6, 0, stolen.ids)]})
        with self.assertRaisesRegex(UserError, "You are not allowed to read advisor2_upload.pdf"):
            wizard.action_send()

    def test_only_the_esign_group_opens_the_wizard(self):
        with self.assertRaises(AccessError):
            self.client.with_user(self.plain_user).action_esign_sign()
        with self.assertRaises(AccessError):
            self.env[WIZARD].with_user(self.plain_user).create({"partner_ids": [(6, 0, self.client.ids)]})
        action = self.env.ref("o2s_esign.o2s_esign_request_wizard_action")
        self.assertEqual(action.groups_id, self.env.ref("o2s_esign.group_esign_user"))

    def test_abandoned_uploads_are_vacuumed(self):
        old, recent = self._upload("old.pdf"), self._upload("recent.pdf")
        self.env.flush_all()
        self.env.cr.execute("UPDATE ir_attachment SET create_date = %s WHERE id = %s",
                            [fields.Datetime.now() - timedelta(days=2), old.id])
        self.env.invalidate_all()
        self.env[WIZARD]._gc_abandoned_uploads()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())
        self.assertTrue(self.client_pdf.exists())


@tagged("post_install", "-at_install")
class TestEsignCancelWizard(EsignWizardCase):

    def test_cancel_from_the_request_with_a_reason(self):
        request = self._sent_request()
        action = request.with_user(self.advisor).action_open_cancel_wizard()
        self.assertEqual(action["res_model"], "o2s.esign.request.cancel")
        form = Form(self.env["o2s.esign.request.cancel"].with_user(self.advisor).with_context(**action["context"]))
        form.reason = "Signed on paper instead"
        form.save().action_confirm()
        self.assertEqual(request.state, "cancelled")
        self.assertEqual(request.cancel_reason, "Signed on paper instead")
        kinds = [e.payload for e in request.event_ids if e.event_type == "email_queued"]
        self.assertTrue(any('"kind":"cancellation"' in payload for payload in kinds))

    def test_bulk_cancel_is_all_or_nothing(self):
        first, second = self._sent_request(), self._sent_request()
        with internal_write():
            second.write({"state": "signed"})
        wizard = self.env["o2s.esign.request.cancel"].with_user(self.advisor).with_context(
            active_model="o2s.esign.request", active_ids=(first | second).ids).create({})
        self.assertEqual(wizard.request_ids, first | second)
        with self.assertRaisesRegex(UserError, r"Only requests in progress can be cancelled.*\(Signed\)"):
            wizard.action_confirm()
        self.assertEqual(first.state, "in_progress")
        wizard.request_ids = first
        wizard.action_confirm()
        self.assertEqual(first.state, "cancelled")
        self.assertFalse(first.cancel_reason)

    def test_other_advisor_cannot_cancel(self):
        request = self._sent_request()
        wizard = self.env["o2s.esign.request.cancel"].with_user(self.advisor2).create({})
        with self.assertRaises(AccessError):
            wizard.write({"request_ids": [(6, 0, request.ids)]})
            wizard.action_confirm()
        self.assertEqual(request.state, "in_progress")


@tagged("post_install", "-at_install")
class TestEsignSendTour(HttpCase):
    """An advisor opens a contact, clicks “Sign electronically” in the action menu, picks a
    document of the client's file, sends, and sees the request in progress."""

    def test_send_wizard_tour(self):
        env = self.env(context=dict(self.env.context, no_reset_password=True))
        env.company.country_id = env.ref("base.fr")
        env["res.lang"]._activate_lang("en_US")  # the tour reads English labels
        advisor = esign_user(env, "tour_advisor", "staff,user", name="Tom Tour", email="tom@advisor.example.com",
                             lang="en_US")
        client = env["res.partner"].create({
            "name": "Tour Client", "email": "tour.client@example.com", "mobile": "+33612345670",
            "country_id": env.ref("base.fr").id, "user_id": advisor.id,
        })
        env["o2s.esign.id.document"].create({
            "partner_id": client.id, "doc_type": "passport", "number": "TOUR123",
            "date_expiry": fields.Date.today() + timedelta(days=365),
        })
        source = env["ir.attachment"].create({
            "name": "tour_mission_letter.pdf", "raw": make_pdf("Tour"), "mimetype": "application/pdf",
            "res_model": "res.partner", "res_id": client.id,
        })
        self.start_tour("/odoo/action-contacts.action_contacts/%d" % client.id,
                        "o2s_esign_send_wizard_tour", login="tour_advisor")
        request = env["o2s.esign.request"].search([("partner_id", "=", client.id)])
        self.assertEqual(len(request), 1)
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.user_id, advisor)
        self.assertEqual(request.document_ids.name, "tour_mission_letter.pdf")
        self.assertEqual(request.document_ids.original_attachment_id.raw, source.raw)
        self.assertTrue(request.document_ids.original_sha256)
