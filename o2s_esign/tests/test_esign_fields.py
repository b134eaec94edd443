# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Field boxes on the document's pages (``o2s.esign.field``): who may place, change or read
them over the external API, and what the model refuses (boxes off the page, another request's
signer, values set by hand, changes once sent)."""
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import XmlRpcMixin
from .esign_portal_common import EsignHttpCommon


@tagged("post_install", "-at_install")
class TestEsignFieldRights(XmlRpcMixin, EsignHttpCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="fields_portal", name="Paula Portal", email="paula@example.com",
            groups="base.group_portal")
        (cls.advisor | cls.advisor2 | cls.esign_manager | cls.plain_user).lang = "en_US"

    def _box(self, request, **values):
        return dict({
            "document_id": request.document_ids[:1].id, "signer_id": request.signer_ids[:1].id,
            "field_type": "signature", "page": 1, "x": 320, "y": 60, "width": 180, "height": 60,
        }, **values)

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_advisor_places_fields_others_cannot(self):
        draft = self._draft_request()
        field_id = self._rpc("esign_advisor", "o2s.esign.field", "create", self._box(draft))
        field = self.env["o2s.esign.field"].browse(field_id)
        self.assertEqual((field.request_id, field.page, field.source), (draft, 1, "editor"))
        self.assertEqual(draft.document_ids[:1].field_ids, field)
        self._rpc("esign_advisor", "o2s.esign.field", "write", [field_id], {"y": 100, "required": False})
        self.assertEqual(field.y, 100)
        self.assertTrue(field.required, "a signature box is always required")
        # another advisor, a user without the group, a portal user: nothing
        for login in ("esign_advisor2", "esign_nobody", "fields_portal"):
            for method, args in (("read", ([field_id], ["page"])),
                                 ("write", ([field_id], {"x": 10})),
                                 ("create", (self._box(draft),)),
                                 ("unlink", ([field_id],))):
                fault = self._rpc_fault(login, "o2s.esign.field", method, *args)
                self.assertIn("AccessError", fault, (login, method))
        self.assertTrue(field.exists())
        # the administrator sees it
        self.assertEqual(self._rpc("esign_manager", "o2s.esign.field", "read", [field_id], ["page"])[0]["page"], 1)

    def test_deleting_a_draft_deletes_its_boxes(self):
        draft = self._draft_request()
        field = self.env["o2s.esign.field"].with_user(self.advisor).create(self._box(draft))
        # the foreign keys of a box to its request and to its document both cascade: one
        # DELETE of the request removes documents and boxes (no UPDATE to null in between)
        self.env.cr.execute("""
            SELECT confdeltype FROM pg_constraint
             WHERE conrelid = 'o2s_esign_field'::regclass AND contype = 'f'
               AND confrelid IN ('o2s_esign_request'::regclass, 'o2s_esign_document'::regclass)
        """)
        self.assertEqual({row[0] for row in self.env.cr.fetchall()}, {"c"})
        draft.with_user(self.advisor).unlink()
        self.assertFalse(field.exists())

    @mute_logger("odoo.http")
    def test_values_and_sent_fields_are_the_signature_process_s(self):
        draft = self._draft_request()
        fault = self._rpc_fault("esign_advisor", "o2s.esign.field", "create",
                                self._box(draft, field_type="text", value="forged"))
        self.assertIn("set by the signature process", fault)
        field_id = self._rpc("esign_advisor", "o2s.esign.field", "create", self._box(draft, field_type="text"))
        for vals in ({"value": "forged"}, {"date_filled": "2026-01-01 00:00:00"},
                     {"pdf_field_name": "Sig1"}):
            fault = self._rpc_fault("esign_advisor", "o2s.esign.field", "write", [field_id], vals)
            self.assertIn("set by the signature process", fault)
        draft.action_send()
        fault = self._rpc_fault("esign_advisor", "o2s.esign.field", "write", [field_id], {"x": 10})
        self.assertIn("cannot be changed once it is sent", fault)
        fault = self._rpc_fault("esign_advisor", "o2s.esign.field", "unlink", [field_id])
        self.assertIn("kept for its evidence", fault)
        fault = self._rpc_fault("esign_advisor", "o2s.esign.field", "create", self._box(draft))
        self.assertIn("once it is sent", fault)

    @mute_logger("odoo.http")
    def test_boxes_are_checked(self):
        draft = self._draft_request()
        other = self._draft_request(partner=self.client2)
        for vals, message in (
                ({"signer_id": other.signer_ids[:1].id}, "signer of the same request"),
                ({"page": 0}, "numbered from 1"),
                ({"width": 0}, "at least"),
                ({"height": -5}, "at least"),
                ({"x": -1}, "inside its page")):
            fault = self._rpc_fault("esign_advisor", "o2s.esign.field", "create", self._box(draft, **vals))
            self.assertIn(message, fault, vals)
        self.assertFalse(self.env["o2s.esign.field"].search([("request_id", "=", draft.id)]))
