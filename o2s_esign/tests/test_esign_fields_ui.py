# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 17, advisor side: the placements of the send wizard's editor (checked JSON on the
document line), the fields templates per document type (applied to the next document of the
type; written by the options group only, over RPC as the attacker acts), the editor's data."""
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..wizard.o2s_esign_request_wizard import O2sEsignRequestWizard
from .common import XmlRpcMixin, esign_user, make_pdf
from .test_esign_fields_sign import tagged_pdf, widgets
from .test_esign_wizard import EsignWizardCase

TEMPLATE = "o2s.esign.field.template"
BOX = {"signer": 1, "type": "signature", "page": 1, "x": 300, "y": 80, "width": 160, "height": 50}


@tagged("post_install", "-at_install")
class TestEsignFieldTemplates(EsignWizardCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customiser = esign_user(cls.env, "esign_customiser", "staff,user,options",
                                    name="Carl Customiser")

    def _form_with_mission_letter(self, user=None):
        form = self._wizard_form(user=user)
        form.partner_attachment_ids.add(self.client_pdf)
        return form

    def test_template_applied_to_the_next_document_of_its_type(self):
        form = self._form_with_mission_letter()
        with form.document_line_ids.edit(0) as line:
            self.assertEqual(line.document_type_id, self.mission)
            self.assertFalse(line.field_placements)
        self.env[TEMPLATE].with_user(self.customiser).esign_save_from_editor(
            self.mission.id, [BOX, dict(BOX, signer=2, type="checkbox", page=2, width=14,
                                        height=14, label="J'accepte", required=False)])
        form = self._form_with_mission_letter()
        with form.document_line_ids.edit(0) as line:
            placements = line.field_placements
        self.assertEqual([(p["signer"], p["type"], p["page"]) for p in placements],
                         [(1, "signature", 1), (2, "checkbox", 2)])
        self.assertEqual(placements[1]["label"], "J'accepte")
        self.assertFalse(placements[1]["required"])
        # another type: its own (no) fields
        with form.document_line_ids.edit(0) as line:
            line.document_type_id = self.profile
            self.assertFalse(line.field_placements)

    def test_wizard_says_where_the_signers_sign(self):
        """Before sending: the tags found and the signers without one; sent, the tags place
        the boxes."""
        tagged = self._record_attachment(self.client, "tagged.pdf", tagged_pdf(
            [[("{{signature:1}}", 72, 300), ("{{paraphe:1}}", 400, 60)], [("x", 72, 100)]]))
        form = self._wizard_form()
        form.partner_attachment_ids.add(tagged)
        with form.document_line_ids.edit(0) as line:
            line.document_type_id = self.profile
            self.assertEqual(line.placement_note,
                             "Signature tags found: signer 1 on page 1.")
        with form.signer_line_ids.new() as signer:
            signer.partner_id = self.client2
        with form.document_line_ids.edit(0) as line:
            self.assertIn("No signature box for signer(s) 2", line.placement_note)
        plain = self._form_with_mission_letter()
        with plain.document_line_ids.edit(0) as line:
            line.document_type_id = self.profile
            self.assertIn("No box placed", line.placement_note)
        wizard = form.save()
        wizard.action_send()
        request = self.env["o2s.esign.request"].search([("partner_id", "=", self.client.id)],
                                                       order="id desc", limit=1)
        made = request.document_ids.field_ids
        self.assertEqual(sorted(made.mapped("field_type")), ["initials", "signature"])
        self.assertEqual(set(made.mapped("source")), {"anchor"})
        self.assertEqual(made.signer_id, request.signer_ids.sorted("sequence")[0])

    def test_saving_again_replaces_the_template(self):
        Template = self.env[TEMPLATE].with_user(self.customiser)
        Template.esign_save_from_editor(self.mission.id, [BOX, BOX])
        Template.esign_save_from_editor(self.mission.id, [dict(BOX, x=10)])
        saved = self.env[TEMPLATE].search([("document_type_id", "=", self.mission.id)])
        self.assertEqual(saved.mapped("x"), [10.0])

    def test_placements_are_checked(self):
        Template = self.env[TEMPLATE].with_user(self.customiser)
        for bad in ([dict(BOX, type="stamp")], [dict(BOX, page=0)], [dict(BOX, width=-1)],
                    [{"signer": 1}], ["box"], [dict(BOX, x="left")]):
            with self.subTest(bad=bad), self.assertRaises(ValidationError):
                Template.esign_save_from_editor(self.mission.id, bad)
        wizard = self._form_with_mission_letter().save()
        with self.assertRaises(ValidationError):
            wizard.document_line_ids.write({"field_placements": [dict(BOX, signer=0)]})

    def test_field_values_follow_the_signing_order(self):
        wizard = self._form_with_mission_letter().save()
        line = wizard.document_line_ids
        signer_vals = [dict(vals, sequence=10 * (index + 1)) for index, vals in enumerate(
            self.client._esign_default_signers() + self.client2._esign_default_signers())]
        request = self._draft_request(signers=signer_vals)
        signers = request.signer_ids.sorted("sequence")
        document = request.document_ids[0]
        # a box for a third signer of a request that has two: refused, nothing placed
        line.field_placements = [dict(BOX, signer=2), BOX, dict(BOX, signer=3)]
        with self.assertRaises(UserError), self.env.cr.savepoint():
            document._esign_place(line.field_placements, signers, "editor")
        self.assertFalse(document.field_ids)
        line.field_placements = [dict(BOX, signer=2), BOX]
        made = document._esign_place(line.field_placements, signers, "editor")
        self.assertEqual(made.mapped("signer_id"), signers[1] | signers[0])
        self.assertEqual([f.signer_id for f in made.sorted("sequence")], [signers[1], signers[0]])
        self.assertEqual(set(made.mapped("source")), {"editor"})
        self.assertEqual(made.document_id, document)

    def test_editor_data(self):
        wizard = self._form_with_mission_letter().save()
        line = wizard.document_line_ids.with_user(self.advisor)
        data = line.esign_field_editor_data()
        self.assertEqual(data["signers"], [{"number": 1, "name": self.client.display_name}])
        self.assertFalse(data["can_save_template"])
        preview = self.env["ir.attachment"].browse(int(data["pdf_url"].rsplit("/", 1)[1]))
        self.assertEqual(preview.mimetype, "application/pdf")
        self.assertTrue(preview.raw.startswith(b"%PDF"))
        # the preview is the caller's: another advisor cannot read it
        with self.assertRaises(AccessError):
            preview.with_user(self.advisor2).check("read")
        # nor use the editor on the advisor's wizard line
        with self.assertRaises(AccessError):
            line.with_user(self.advisor2).esign_field_editor_data()


@tagged("post_install", "-at_install")
class TestEsignFieldTemplateRights(XmlRpcMixin, HttpCase):
    """Who writes the templates, as each user acts: over XML-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, no_reset_password=True))
        esign_user(env, "ft_advisor", "staff,user")
        esign_user(env, "ft_customiser", "staff,user,options")
        esign_user(env, "ft_nobody", "staff")
        cls.mission = env.ref("o2s_esign.document_type_mission_letter")

    @mute_logger("odoo.http")
    def test_only_the_options_group_writes_templates(self):
        ids = self._rpc("ft_customiser", TEMPLATE, "esign_save_from_editor", self.mission.id, [BOX])
        self.assertEqual(len(ids), 1)
        # an advisor reads the templates (they are applied in the advisor's wizard) ...
        read = self._rpc("ft_advisor", TEMPLATE, "read", ids, ["signer_number", "x"])
        self.assertEqual(read[0]["x"], 300.0)
        # ... and cannot write them, by the editor's method or directly
        self.assertIn("AccessError", self._rpc_fault(
            "ft_advisor", TEMPLATE, "esign_save_from_editor", self.mission.id, [BOX]))
        self.assertIn("AccessError", self._rpc_fault("ft_advisor", TEMPLATE, "write", ids, {"x": 1}))
        self.assertIn("AccessError", self._rpc_fault("ft_advisor", TEMPLATE, "unlink", ids))
        self.assertIn("AccessError", self._rpc_fault("ft_advisor", TEMPLATE, "create", {
            "document_type_id": self.mission.id, "x": 1, "y": 1, "width": 10, "height": 10}))
        # a user without the e-signature groups does not even read them
        self.assertIn("AccessError", self._rpc_fault("ft_nobody", TEMPLATE, "read", ids, ["x"]))
        self.assertEqual(self.env[TEMPLATE].browse(ids).x, 300.0)


@tagged("post_install", "-at_install")
class TestEsignFieldEditorTour(HttpCase):
    """An advisor places a box for each of two signers in the editor and sends."""

    def test_field_editor_tour(self):
        env = self.env(context=dict(self.env.context, no_reset_password=True))
        env.company.country_id = env.ref("base.fr")
        env["res.lang"]._activate_lang("en_US")  # the tour reads English labels
        advisor = esign_user(env, "editor_advisor", "staff,user", name="Eve Editor",
                             email="eve@advisor.example.com", lang="en_US")
        client, second = env["res.partner"].create([{
            "name": name, "email": email, "mobile": mobile,
            "country_id": env.ref("base.fr").id, "user_id": advisor.id,
        } for name, email, mobile in (
            ("Editor Client", "editor.client@example.com", "+33612345671"),
            ("Second Signer", "second.signer@example.com", "+33612345672"))])
        for partner, number in ((client, "ED1"), (second, "ED2")):
            env["o2s.esign.id.document"].create({
                "partner_id": partner.id, "doc_type": "passport", "number": number,
                "date_expiry": fields.Date.today() + timedelta(days=365),
            })
        env["ir.attachment"].create({
            "name": "editor_letter.pdf", "raw": make_pdf("Editor", pages=2),
            "mimetype": "application/pdf", "res_model": "res.partner", "res_id": client.id,
        })
        sent = []
        original = O2sEsignRequestWizard._esign_create_and_send

        def record_placements(wizard, values, document_lines, problems):
            sent.append([line.field_placements for line in document_lines])
            return original(wizard, values, document_lines, problems)

        with patch.object(O2sEsignRequestWizard, "_esign_create_and_send", record_placements):
            self.start_tour("/odoo/action-contacts.action_contacts/%d" % client.id,
                            "o2s_esign_field_editor_tour", login="editor_advisor")
        request = env["o2s.esign.request"].search([("partner_id", "=", client.id)])
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.signer_ids.sorted("sequence").partner_id, client | second)
        [[placements]] = sent
        self.assertEqual([(p["signer"], p["type"], p["page"]) for p in placements],
                         [(1, "signature", 1), (2, "initials", 2)])
        width, height = 595.28, 841.89  # A4 (make_pdf): each box lies on its page
        for placement in placements:
            self.assertTrue(0 <= placement["x"] <= width - placement["width"], placement)
            self.assertTrue(0 <= placement["y"] <= height - placement["height"], placement)
        # the sizes of the editor's boxes, in points
        self.assertEqual([(p["width"], p["height"]) for p in placements], [(160, 50), (60, 30)])
        fields_made = env["o2s.esign.field"].search([("request_id", "=", request.id)])
        signers = request.signer_ids.sorted("sequence")
        self.assertEqual([(f.signer_id, f.field_type, f.page) for f in fields_made.sorted("sequence")],
                         [(signers[0], "signature", 1), (signers[1], "initials", 2)])
        # frozen into the PDF to sign: the first signer's signature field is the placed box;
        # the second, with initials only, signs on the signature page added for them
        document = request.document_ids
        self.assertEqual(document.prepared_page_count, 3)
        placed = widgets(document.prepared_attachment_id.raw)
        self.assertEqual(placed[signers[0]._esign_field_name()][0], 0)
        self.assertEqual(placed[signers[1]._esign_field_name()][0], 2)
        self.assertEqual(placed[fields_made[1]._esign_pdf_field_name()][0], 1)
        self.assertEqual(fields_made.mapped("pdf_field_name"),
                         [signers[0]._esign_field_name(), fields_made[1]._esign_pdf_field_name()])
