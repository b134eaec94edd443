# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who may do what: access rights and record rules per group, multi-company, menus."""

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import O2sEsignCommon, esign_user

# The full matrix of rights (every profile, model and operation) is test_esign_security_matrix.py.


@tagged("post_install", "-at_install")
class TestEsignSecurity(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.options_user = esign_user(cls.env, "esign_options", "staff,options", name="Olga Options",
                                      email="olga@advisor.example.com")
        cls.subscription_user = esign_user(cls.env, "esign_subscription", "staff,subscription",
                                           name="Sam Subscription", email="sam@advisor.example.com")
        cls.users = {
            "advisor": cls.advisor, "advisor2": cls.advisor2, "manager": cls.esign_manager,
            "options": cls.options_user, "subscription": cls.subscription_user, "nobody": cls.plain_user,
        }

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_advisors_see_their_requests_and_those_shared_with_them(self):
        own = self._sent_request()
        # The manager sends for a client the advisor is the salesperson of: the manager's
        # request (being the contact's salesperson gives no access), unless shared.
        for_client = self._sent_request(user=self.esign_manager)
        shared = self._sent_request(user=self.esign_manager,
                                    shared_user_ids=[Command.set(self.advisor.ids)])
        # The manager sends for a client of nobody in particular.
        stranger = self._make_client("Zoé Autre", "zoe@example.com", "+33678901234")
        other = self._sent_request(partner=stranger, user=self.esign_manager)
        everything = own | for_client | shared | other
        Request = self.env["o2s.esign.request"]
        visible = Request.with_user(self.advisor).search([])
        self.assertIn(own, visible)
        self.assertIn(shared, visible)
        self.assertNotIn(for_client, visible)
        self.assertNotIn(other, visible)
        self.assertFalse(Request.with_user(self.advisor2).search([("id", "in", everything.ids)]))
        self.assertEqual(Request.with_user(self.esign_manager).search([("id", "in", everything.ids)]),
                         everything)
        with self.assertRaises(AccessError):
            other.with_user(self.advisor).action_cancel()
        with self.assertRaises(AccessError):
            own.with_user(self.advisor2).action_cancel()
        with self.assertRaises(AccessError):
            own.with_user(self.advisor2).action_remind()
        own.with_user(self.esign_manager).action_cancel(reason="Managed")
        self.assertEqual(own.state, "cancelled")
        # The contact's counter counts what the user may see.
        self.assertEqual(self.client.with_user(self.advisor).esign_request_count, 2)
        self.assertEqual(self.client.with_user(self.advisor2).esign_request_count, 0)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_multi_company(self):
        company_b = self.env["res.company"].create({"name": "Cabinet B", "country_id": self.env.ref("base.fr").id})
        manager_ab = esign_user(
            self.env, "esign_manager_ab", "staff,manager", name="Max Both", email="max@advisor.example.com",
            company_id=company_b.id, company_ids=[Command.set((self.company | company_b).ids)])
        request_b = self._sent_request(user=manager_ab, company_id=company_b.id)
        self.assertEqual(request_b.company_id, company_b)
        # A manager of the main company only sees nothing of company B.
        for records in (request_b, request_b.signer_ids, request_b.document_ids, request_b.event_ids):
            with self.assertRaises(AccessError):
                records.with_user(self.esign_manager).read(["id"])
        self.assertFalse(self.env["o2s.esign.request"].with_user(self.esign_manager).search(
            [("id", "=", request_b.id)]))
        # A manager of both companies sees it, unless company B is not among the active ones.
        self.assertEqual(request_b.with_user(manager_ab).read(["state"])[0]["state"], "in_progress")
        scoped = self.env["o2s.esign.request"].with_user(manager_ab).with_context(allowed_company_ids=[self.company.id])
        self.assertFalse(scoped.search([("id", "=", request_b.id)]))
        with self.assertRaises(AccessError):
            scoped.browse(request_b.id).read(["state"])

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_wizards_and_compliance_need_the_group(self):
        for user in (self.plain_user, self.options_user, self.subscription_user):
            with self.assertRaises(AccessError):
                self.env["o2s.esign.request.wizard"].with_user(user).create(
                    {"partner_ids": [Command.set(self.client.ids)]})
            with self.assertRaises(AccessError):
                self.env["o2s.esign.request.cancel"].with_user(user).create({})
            with self.assertRaises(AccessError):
                self.env["o2s.esign.compliance"].with_user(user).search([("partner_id", "=", self.client.id)])
            with self.assertRaises(AccessError):
                self.client.with_user(user).action_view_esign_requests()
        self.assertTrue(self.env["o2s.esign.compliance"].with_user(self.advisor).search(
            [("partner_id", "=", self.client.id)]))

    def test_menus_by_group(self):
        menu = {name: self.env.ref("o2s_esign.%s" % name).id for name in (
            "o2s_esign_menu_root", "o2s_esign_menu_requests", "o2s_esign_menu_document_types",
            "o2s_esign_menu_events")}
        expected = {
            "advisor": {"o2s_esign_menu_root", "o2s_esign_menu_requests"},
            "advisor2": {"o2s_esign_menu_root", "o2s_esign_menu_requests"},
            "manager": set(menu),
            "nobody": set(),
        }
        for key, names in expected.items():
            visible = self.env["ir.ui.menu"].with_user(self.users[key])._visible_menu_ids()
            self.assertEqual({name for name, menu_id in menu.items() if menu_id in visible}, names, key)
        # The options and subscription groups get their own entries (settings, consumption):
        # never the requests, nor the configuration of documents and the audit trail.
        for key in ("options", "subscription"):
            visible = self.env["ir.ui.menu"].with_user(self.users[key])._visible_menu_ids()
            self.assertFalse({menu[name] for name in ("o2s_esign_menu_requests", "o2s_esign_menu_document_types",
                                                      "o2s_esign_menu_events")} & visible, key)

    def test_contact_actions_are_for_the_group_only(self):
        group = self.env.ref("o2s_esign.group_esign_user")
        for xmlid in ("o2s_esign.o2s_esign_action_partner_sign", "o2s_esign.o2s_esign_action_partner_tracking",
                      "o2s_esign.o2s_esign_request_cancel_action"):
            self.assertEqual(self.env.ref(xmlid).groups_id, group, xmlid)
        bindings = {
            key: [action["name"] for action in self.env["ir.actions.actions"].with_user(user)
                  .get_bindings("res.partner")["action"]]
            for key, user in self.users.items()}
        for key in ("advisor", "manager"):
            self.assertIn("Sign electronically", bindings[key])
            self.assertIn("E-signature tracking", bindings[key])
        for key in ("options", "subscription", "nobody"):
            self.assertNotIn("Sign electronically", bindings[key])
            self.assertNotIn("E-signature tracking", bindings[key])
        # The list's row buttons, the kanban card's menu and the form's tabs follow the group.
        Partner = self.env["res.partner"]
        for view_type, marker in (("list", 'name="action_esign_sign"'), ("kanban", 'name="action_esign_sign"'),
                                  ("form", 'name="esign_compliance_ids"')):
            arch_advisor = Partner.with_user(self.advisor).get_view(view_type=view_type)["arch"]
            arch_nobody = Partner.with_user(self.plain_user).get_view(view_type=view_type)["arch"]
            self.assertIn(marker, arch_advisor, view_type)
            self.assertNotIn(marker, arch_nobody, view_type)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_contacts_fields_hidden_without_the_group(self):
        with self.assertRaises(AccessError):
            self.client.with_user(self.plain_user).read(["esign_request_ids"])
        with self.assertRaises(AccessError):
            self.client.with_user(self.plain_user).read(["esign_id_document_ids"])
