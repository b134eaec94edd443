# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from lxml import etree

from odoo.tests import HttpCase, tagged

from .common import esign_user
from .esign_bulk import bulk_insert_requests


@tagged("post_install", "-at_install")
class TestEsignHomeUi(HttpCase):
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
        cls.board_view = cls.env.ref("board.board_my_dash_view")
        cls.block_action = cls.env.ref("o2s_esign.o2s_esign_home_board_action")

    def _board_columns(self):
        arch = self.env["board.board"].with_user(self.advisor).get_view(
            self.board_view.id, "form")["arch"]
        return [[action.get("name") for action in column.iter("action")]
                for column in etree.fromstring(arch).iter("column")]

    def test_home_block_tour(self):
        self.assertEqual(self.env["o2s.esign.request"].search_count([]), 100_000)
        self.start_tour("/odoo", "o2s_esign_home_tour", login=self.advisor.login)
        # The settings changed in the block's dialog, and the switch to My Dashboard.
        self.advisor.invalidate_recordset()
        self.assertFalse(self.advisor.esign_home_show_error)
        self.assertTrue(self.advisor.esign_home_show_expired)
        self.assertTrue(self.advisor.esign_home_enabled)
        self.assertIn(str(self.block_action.id), self._board_columns()[0])

    def test_dashboard_tour(self):
        self.advisor.with_user(self.advisor).esign_home_enabled = True
        self.assertEqual(self._board_columns(), [[str(self.block_action.id)]])
        self.start_tour("/odoo", "o2s_esign_dashboard_tour", login=self.advisor.login)
        # The board saved the block's new place.
        columns = self._board_columns()
        self.assertEqual(columns[1], [str(self.block_action.id)])
        self.assertNotIn(str(self.block_action.id), columns[0])
