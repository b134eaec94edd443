# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Other modules ask for signatures from their own records through o2s.esign.origin.mixin.

The tests register a small business model using the mixin (as another module would), for this
test class only, and restore the registry afterwards."""
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import O2sEsignCommon, make_pdf

ORIGIN_MODEL = "o2s.esign.test.origin"


def _define_origin_model():
    """The class of a business model using the mixin (defined here so that it is registered only
    by these tests, never by the module's own registry loading)."""
    module_models = models.MetaModel.module_to_models["o2s_esign"]
    known = list(module_models)

    class O2sEsignTestOrigin(models.Model):
        _name = ORIGIN_MODEL
        _description = "Subscription asking for signatures (tests)"
        _inherit = ["o2s.esign.origin.mixin"]

        name = fields.Char(required=True)
        esign_history = fields.Char()

        def _esign_on_request_state(self, request, old_state, new_state):
            self.esign_history = (self.esign_history or "") + "%s:%s>%s;" % (
                request.reference, old_state, new_state)

    module_models[:] = known  # not part of the module for the next registry loads
    return O2sEsignTestOrigin


@tagged("post_install", "-at_install")
class TestEsignOrigin(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        registry, cr = cls.env.registry, cls.env.cr
        model_class = _define_origin_model()
        cls.addClassCleanup(cls._unregister_origin_model)
        model_class._build_model(registry, cr)
        registry.setup_models(cr)
        registry.init_models(cr, [ORIGIN_MODEL], dict(cls.env.context), install=True)
        cls.env["ir.model.access"].create({
            "name": "test origin user", "model_id": cls.env["ir.model"]._get_id(ORIGIN_MODEL),
            "group_id": cls.env.ref("o2s_esign.group_esign_user").id,
            "perm_read": True, "perm_write": True, "perm_create": True, "perm_unlink": True,
        })
        cls.subscription = cls.env[ORIGIN_MODEL].create({"name": "Life insurance subscription"})
        cls.contract = cls.env["ir.attachment"].create({
            "name": "subscription_form.pdf", "raw": make_pdf("Subscription"),
            "mimetype": "application/pdf", "res_model": ORIGIN_MODEL, "res_id": cls.subscription.id,
        })

    @classmethod
    def _unregister_origin_model(cls):
        registry = cls.env.registry
        if ORIGIN_MODEL in registry:
            del registry[ORIGIN_MODEL]
            registry.setup_models(cls.env.cr)
        registry.registry_invalidated = False

    def test_origin_record_shows_its_requests(self):
        subscription = self.subscription.with_user(self.advisor)
        contract_type = self.env.ref("o2s_esign.document_type_contract")
        request = subscription._esign_send_for_signature(
            self.client, self.contract, document_type=contract_type, message="Your subscription",
            date_deadline=fields.Date.today() + timedelta(days=7))
        self.assertEqual(request.state, "in_progress")
        self.assertEqual((request.origin_model, request.origin_id), (ORIGIN_MODEL, subscription.id))
        self.assertEqual(request.document_ids.document_type_id, contract_type)
        self.assertEqual(request.document_ids.original_attachment_id.raw, self.contract.raw)
        self.assertTrue(self.contract.exists(), "the origin's file stays where it is")
        self.assertEqual(request.signer_ids.partner_id, self.client)
        self.assertEqual(request.user_id, self.advisor)
        # The origin record shows its requests: field, counter and smart-button action.
        self.assertEqual(subscription.esign_request_ids, request)
        self.assertEqual(subscription.esign_request_count, 1)
        action = subscription.action_view_esign_requests()
        self.assertEqual(self.env["o2s.esign.request"].with_user(self.advisor).search(action["domain"]), request)
        # ... and the request shows its origin.
        self.assertEqual(request.origin_display, "Life insurance subscription")
        origin_action = request.action_open_origin()
        self.assertEqual((origin_action["res_model"], origin_action["res_id"]), (ORIGIN_MODEL, subscription.id))
        # The origin is told of each state change.
        request.action_cancel(reason="Subscription abandoned")
        self.assertEqual(subscription.esign_history, "%(r)s:draft>in_progress;%(r)s:in_progress>cancelled;"
                         % {"r": request.reference})

    def test_requests_of_the_origin_follow_the_users_rights(self):
        request = self.subscription.with_user(self.advisor)._esign_send_for_signature(self.client, self.contract)
        other = self.env[ORIGIN_MODEL].create({"name": "Other subscription"})
        self.assertFalse(other.esign_request_ids)
        # Each user reads in a request of their own (a fresh cache).
        self.env.invalidate_all()
        self.assertEqual(self.subscription.with_user(self.esign_manager).esign_request_ids, request)
        self.env.invalidate_all()
        self.assertEqual(self.subscription.with_user(self.advisor2).esign_request_count, 0)
        self.assertFalse(self.subscription.with_user(self.advisor2).esign_request_ids)
        self.env.invalidate_all()
        # A request of another model with the same id is not this record's.
        self.env["o2s.esign.request"].with_user(self.advisor).create_and_send({
            "partner_id": self.client.id, "origin_model": "res.partner", "origin_id": self.subscription.id,
            "documents": [{"attachment_id": self.contract.id}]})
        self.assertEqual(self.subscription.with_user(self.advisor).esign_request_ids, request)
        self.assertEqual(self.subscription.with_user(self.advisor).esign_request_count, 1)

    def test_a_refused_send_leaves_nothing(self):
        self.client.mobile = False
        with self.assertRaisesRegex(UserError, "Jeanne Martin has no mobile number."):
            self.subscription.with_user(self.advisor)._esign_send_for_signature(self.client, self.contract)
        self.assertFalse(self.env["o2s.esign.request"].search([("origin_model", "=", ORIGIN_MODEL)]))
        self.assertFalse(self.subscription.esign_history)


@tagged("post_install", "-at_install")
class TestEsignOriginRegistryRestored(TransactionCase):
    """Runs after TestEsignOrigin: its test model is gone from the registry."""

    def test_registry_restored(self):
        self.assertNotIn(ORIGIN_MODEL, self.env.registry)
        mixin = self.env.registry["o2s.esign.origin.mixin"]
        self.assertNotIn(ORIGIN_MODEL, mixin._inherit_children)
        self.assertNotIn(ORIGIN_MODEL, {cls._name for cls in models.MetaModel.module_to_models["o2s_esign"]})
