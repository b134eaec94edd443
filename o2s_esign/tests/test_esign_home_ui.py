# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from odoo.tests import HttpCase, tagged

from .common import EsignBoardMixin, esign_user
from .esign_bulk import bulk_insert_requests


@tagged("post_install", "-at_install")
class TestEsignHomeUi(EsignBoardMixin, HttpCase):
    """The home block in a real browser, with 100,000 requests in the database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.advisor = esign_user(cls.env, "esign_home_advisor", "staff,user", name="Alice Advisor")
        cls.client = cls.env["res.partner"].create({
            "name": "Jeanne Martin", "email": "jeanne@example.com", "user_id": cls.advisor.id})
        other = esign_user(cls.env, "esign_home_other", "user")
        bulk_insert_requests(cls.env, 95_000, cls.advisor, cls.client)
        bulk_insert_requests(cls.env, 5_000, other, cls.env["res.partner"].create({"name": "Other"}),
                             tag="OTHER")

    def test_home_block_tour(self):
        self.assertEqual(self.env["o2s.esign.request"].search_count([]), 100_000)
        # On My Dashboard by default: taken off first, for the tour to put it back.
        self.advisor.with_user(self.advisor).esign_home_enabled = False
        self.start_tour("/odoo", "o2s_esign_home_tour", login=self.advisor.login)
        # The settings changed in the block's dialog, and the switch to My Dashboard.
        self.advisor.invalidate_recordset()
        self.assertFalse(self.advisor.esign_home_show_error)
        self.assertTrue(self.advisor.esign_home_show_expired)
        self.assertTrue(self.advisor.esign_home_enabled)
        self.assertIn(str(self.block_action.id), self._board_columns(self.advisor)[0])

    def test_dashboard_tour(self):
        # On by default, nothing set; the Dashboards app opens there (no spreadsheet dashboard).
        self.env["spreadsheet.dashboard"].search([]).is_published = False
        self.assertEqual(self._board_columns(self.advisor), [[str(self.block_action.id)]])
        self.start_tour("/odoo", "o2s_esign_dashboard_tour", login=self.advisor.login)
        # The board saved the block's new place.
        columns = self._board_columns(self.advisor)
        self.assertEqual(columns[1], [str(self.block_action.id)])
        self.assertNotIn(str(self.block_action.id), columns[0])
