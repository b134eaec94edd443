# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A contact's E-signature tracking, as the advisor's web client reads it over JSON-RPC: every
request the contact takes part in (client, signer, company or legal representative), with the
role in a column, among the requests the advisor may read."""
from odoo.tests import HttpCase, tagged

from .common import O2sEsignCommon


@tagged("post_install", "-at_install")
class TestEsignTracking(O2sEsignCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_client = cls._make_client(
            "SARL Martin", "contact@sarl-martin.example.com", "+33634567890", salesperson=cls.advisor,
            with_id=False, is_company=True, esign_representative_id=cls.client.id)
        cls.protected = cls._protected_client("tutelle", representative=cls.client)

    def _rpc(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request("/web/dataset/call_kw/%s/%s" % (model, method), {
            "model": model, "method": method, "args": args, "kwargs": kwargs or {}})

    def _tracking(self, partner):
        """The contact's “E-signature tracking” as the web client opens it: the button's action,
        then its list ({request id: role})."""
        self.env.flush_all()
        action = self.make_jsonrpc_request("/web/dataset/call_button/res.partner/action_view_esign_requests", {
            "model": "res.partner", "method": "action_view_esign_requests", "args": [partner.ids],
            "kwargs": {}})
        result = self._rpc("o2s.esign.request", "web_search_read", [], {
            "domain": action["domain"], "context": action["context"],
            "specification": {"esign_contact_role": {}, "partner_id": {}}})
        return {record["id"]: record["esign_contact_role"] for record in result["records"]}

    def test_every_request_the_contact_takes_part_in_with_the_role(self):
        own = self._sent_request()
        for_company = self._sent_request(partner=self.company_client)
        for_protected = self._sent_request(partner=self.protected)
        self._sent_request(partner=self.client2)  # Jeanne has no part in it
        # Jeanne signs for a client of Bob's: Alice does not see that request.
        hidden = self._sent_request(user=self.advisor2, partner=self.company_client)
        self.authenticate("esign_advisor", "esign_advisor")
        self.assertEqual(self._tracking(self.client), {
            own.id: "Client, Signer",
            for_company.id: "Company representative of SARL Martin",
            for_protected.id: "Legal representative of Marc Tutelle",
        })
        self.assertEqual(self._tracking(self.protected), {
            for_protected.id: "Client, Represented by Jeanne Martin"})
        self.assertEqual(self._tracking(self.company_client), {
            for_company.id: "Client, Represented by Jeanne Martin"})
        counts = self._rpc("res.partner", "read", [(self.client | self.protected | self.client2).ids],
                           {"fields": ["esign_request_count"]})
        self.assertEqual([row["esign_request_count"] for row in counts], [3, 1, 1])
        # The other advisor sees his request only, with Jeanne's role in it.
        self.authenticate("esign_advisor2", "esign_advisor2")
        self.assertEqual(self._tracking(self.client), {
            hidden.id: "Company representative of SARL Martin"})
        # The list has the column, shown only when the tracking of a contact opens it.
        arch = self.env["o2s.esign.request"].with_user(self.advisor).get_view(view_type="list")["arch"]
        self.assertIn('name="esign_contact_role"', arch)
        self.assertIn("column_invisible", arch.split('name="esign_contact_role"')[1].split("/>")[0])

    def test_tracking_several_contacts_names_each(self):
        own = self._sent_request()
        for_protected = self._sent_request(partner=self.protected)
        roles = self.env["o2s.esign.request"].with_user(self.advisor).with_context(
            o2s_esign_contact_ids=(self.client | self.protected).ids).browse((own | for_protected).ids)
        self.assertEqual(roles.mapped("esign_contact_role"), [
            "Jeanne Martin: Client, Jeanne Martin: Signer",
            "Jeanne Martin: Legal representative of Marc Tutelle, Marc Tutelle: Client, "
            "Marc Tutelle: Represented by Jeanne Martin",
        ])
        self.assertEqual(roles.with_context(o2s_esign_contact_ids=[]).mapped("esign_contact_role"),
                         [False, False])
