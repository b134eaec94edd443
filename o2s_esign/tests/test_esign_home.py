# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import xmlrpc.client
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..models.o2s_esign_request import HOME_LATEST_LIMIT, HOME_STATES
from .common import EsignBoardMixin, O2sEsignCommon, esign_user
from .esign_bulk import bulk_insert_requests

ALL_SHOWN = {"esign_home_show_%s" % state: True for state in HOME_STATES}


@tagged("post_install", "-at_install")
class TestEsignHome(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A client of Bob's: Alice follows only her own requests and her clients'.
        cls.bob_client = cls._make_client("Paul Petit", "paul@example.com", "+33634567890",
                                          salesperson=cls.advisor2)
        cls.Request = cls.env["o2s.esign.request"]

    # ---------------------------------------------------------------- helpers
    def _request(self, state, user=None, partner=None, done_days_ago=1, **values):
        """A request of ``user`` (default Alice) sent, then moved to ``state``."""
        request = self._sent_request(user=user or self.advisor, partner=partner, **values)
        if state != "in_progress":
            done = fields.Datetime.now() - timedelta(days=done_days_ago, hours=1)
            request._set_state(state, date_done=done)
        return request

    def _data(self, user):
        return self.Request.with_user(user).get_esign_home_data()

    def _counts(self, user):
        return {status["state"]: status["count"] for status in self._data(user)["statuses"]}

    def _queries(self, user):
        """Queries of one get_esign_home_data() call, caches warm (the ORM's own ormcaches:
        access rules, groups), record cache cold."""
        model = self.Request.with_user(user)
        # record cache cold in the warming call too: it must read (and check the access to)
        # what the measured call reads, such as the clients' names
        self.env.invalidate_all()
        model.get_esign_home_data()
        self.env.invalidate_all()
        self.env.flush_all()
        start = self.cr.sql_log_count
        data = model.get_esign_home_data()
        return self.cr.sql_log_count - start, data

    def _sql_counts(self, user, signed_days):
        """The expected counts, straight from SQL (an oracle independent of the ORM domain)."""
        self.env.flush_all()
        self.cr.execute("""
            SELECT r.state, count(*)
              FROM o2s_esign_request r
             WHERE (r.user_id = %(uid)s OR r.id IN (
                    SELECT request_id FROM o2s_esign_request_shared_user_rel
                     WHERE user_id = %(uid)s))
               AND r.state <> 'draft'
               AND r.company_id = %(company)s
               AND (r.state <> 'signed' OR %(days)s = 0
                    OR r.date_done >= (now() AT TIME ZONE 'UTC') - make_interval(days => %(days)s))
          GROUP BY r.state
        """, {"uid": user.id, "days": signed_days, "company": self.company.id})
        return dict(self.cr.fetchall())

    # ------------------------------------------------------------------ tests
    def test_counts_per_status_and_latest(self):
        requests = {state: self._request(state) for state in HOME_STATES}
        second_signed = self._request("signed", done_days_ago=3)
        draft = self._draft_request()
        data = self._data(self.advisor)
        self.assertEqual([s["state"] for s in data["statuses"]], list(HOME_STATES))
        expected = dict.fromkeys(HOME_STATES, 1)
        expected["signed"] = 2
        self.assertEqual(self._counts(self.advisor), expected)
        self.assertEqual(data["total"], 7)
        self.assertEqual(data["signed_days"], 30)
        labels = {s["state"]: s["label"] for s in data["statuses"]}
        self.assertEqual(labels["in_progress"], "In progress")
        latest_ids = [row["id"] for row in data["latest"]]
        self.assertEqual(len(latest_ids), min(7, HOME_LATEST_LIMIT))
        self.assertNotIn(draft.id, latest_ids)
        self.assertTrue(set(latest_ids) <= {r.id for r in requests.values()} | {second_signed.id})
        row = next(r for r in data["latest"] if r["id"] == requests["refused"].id)
        self.assertEqual(row["state"], "refused")
        self.assertEqual(row["state_label"], "Refused")
        self.assertEqual(row["partner"], self.client.display_name)
        self.assertEqual(row["reference"], requests["refused"].reference)
        self.assertTrue(row["date"])

    def test_latest_are_the_most_recently_changed(self):
        older = self._request("in_progress")
        newer = self._request("in_progress")
        self.env.flush_all()
        self.cr.execute("UPDATE o2s_esign_request SET write_date = %s WHERE id = %s",
                        [fields.Datetime.now() - timedelta(days=2), newer.id])
        self.env.invalidate_all()
        latest = [row["id"] for row in self._data(self.advisor)["latest"]]
        self.assertEqual(latest[:2], [older.id, newer.id])

    def test_only_the_users_requests(self):
        mine = self._request("in_progress")
        bobs = self._request("in_progress", user=self.advisor2, partner=self.bob_client)
        # Bob's request for one of Alice's clients: being the client's salesperson gives Alice
        # nothing; Bob sharing a request with her does.
        bob_for_alice_client = self._request("refused", user=self.advisor2, partner=self.client2)
        shared_with_alice = self._request(
            "refused", user=self.advisor2, partner=self.bob_client,
            shared_user_ids=[fields.Command.set(self.advisor.ids)])
        self.assertEqual(self._counts(self.advisor)["in_progress"], 1)
        self.assertEqual(self._counts(self.advisor)["refused"], 1)
        self.assertEqual(self._counts(self.advisor2)["in_progress"], 1)
        self.assertEqual(self._counts(self.advisor2)["refused"], 2)
        alice_latest = {row["id"] for row in self._data(self.advisor)["latest"]}
        self.assertEqual(alice_latest, {mine.id, shared_with_alice.id})
        self.assertNotIn(bobs.id, alice_latest)
        self.assertNotIn(bob_for_alice_client.id, alice_latest)
        # The administrator sees every request in the app, but the block shows their own.
        self.assertEqual(sum(self._counts(self.esign_manager).values()), 0)
        # A user without the E-signature right gets nothing through the API.
        with self.assertRaises(AccessError):
            self._data(self.plain_user)

    def test_record_rules_apply_to_the_counts(self):
        """Requests of a company not selected in the web client are not counted, even the
        user's own (global multi-company rule)."""
        other_company = self.env["res.company"].create({"name": "Other firm"})
        self.advisor.write({"company_ids": [fields.Command.link(other_company.id)]})
        bulk_insert_requests(self.env, 14, self.advisor, self.client, company=other_company,
                             tag="OTHER")
        self._request("in_progress")

        def in_progress(company_ids):
            model = self.Request.with_user(self.advisor).with_context(allowed_company_ids=company_ids)
            data = model.get_esign_home_data()
            return next(s["count"] for s in data["statuses"] if s["state"] == "in_progress")

        self.assertEqual(in_progress([self.company.id]), 1)
        self.assertEqual(in_progress([other_company.id]), 2)  # 2 of the 14 bulk rows
        self.assertEqual(in_progress([self.company.id, other_company.id]), 3)

    def test_chosen_statuses_only(self):
        for state in HOME_STATES:
            self._request(state)
        self.advisor.write({"esign_home_show_%s" % state: state in ("signed", "error")
                            for state in HOME_STATES})
        data = self._data(self.advisor)
        self.assertEqual([s["state"] for s in data["statuses"]], ["signed", "error"])
        self.assertEqual({row["state"] for row in data["latest"]}, {"signed", "error"})
        self.assertEqual(data["total"], 2)
        # Nothing chosen: nothing counted, and no query on the requests at all.
        self.advisor.write({"esign_home_show_%s" % state: False for state in HOME_STATES})
        count, data = self._queries(self.advisor)
        self.assertEqual((data["statuses"], data["latest"], data["total"]), ([], [], 0))
        self.assertLessEqual(count, 2)

    def test_signed_days_limit(self):
        recent = self._request("signed", done_days_ago=10)
        old = self._request("signed", done_days_ago=40)
        refused_long_ago = self._request("refused", done_days_ago=400)
        self.assertEqual(self.advisor.esign_home_signed_days, 30)
        self.assertEqual(self._counts(self.advisor)["signed"], 1)
        latest = {row["id"] for row in self._data(self.advisor)["latest"]}
        self.assertIn(recent.id, latest)
        self.assertNotIn(old.id, latest)
        # The limit is on signed requests only.
        self.assertIn(refused_long_ago.id, latest)
        self.advisor.esign_home_signed_days = 60
        self.assertEqual(self._counts(self.advisor)["signed"], 2)
        self.advisor.esign_home_signed_days = 5
        self.assertEqual(self._counts(self.advisor)["signed"], 0)
        self.advisor.esign_home_signed_days = 0  # no limit
        self.assertEqual(self._counts(self.advisor)["signed"], 2)
        with self.assertRaises(ValidationError):
            self.advisor.esign_home_signed_days = -1

    def test_each_count_opens_the_matching_list(self):
        for state in HOME_STATES:
            self._request(state)
        self._request("signed", done_days_ago=45)  # outside the 30 days: not in the count
        self._request("in_progress", user=self.advisor2, partner=self.bob_client)
        bulk_insert_requests(self.env, 700, self.advisor, self.client)
        model = self.Request.with_user(self.advisor)
        data = model.get_esign_home_data()
        for status in data["statuses"]:
            action = model.action_esign_home_open(status["state"])
            self.assertEqual(action["res_model"], "o2s.esign.request")
            self.assertEqual(action["type"], "ir.actions.act_window")
            found = model.search(action["domain"])
            self.assertEqual(len(found), status["count"], status["state"])
            self.assertEqual(set(found.mapped("state")), {status["state"]})
        everything = model.action_esign_home_open()
        self.assertEqual(model.search_count(everything["domain"]), data["total"])
        self.assertIn("30", model.action_esign_home_open("signed")["name"])
        with self.assertRaises(UserError):
            model.action_esign_home_open("draft")

    def test_query_count_is_fixed_with_100000_requests(self):
        self._request("signed", done_days_ago=2)
        self._request("in_progress", user=self.advisor2, partner=self.bob_client)
        small_count, small = self._queries(self.advisor)
        bulk_insert_requests(self.env, 100_000, self.advisor, self.client)
        bulk_insert_requests(self.env, 20_000, self.advisor2, self.bob_client, tag="BOB")
        large_count, large = self._queries(self.advisor)
        self.assertEqual(large_count, small_count)
        # The settings, the dashboard layout, the companies (access rules), one grouped count,
        # the latest requests, their clients' names.
        self.assertLessEqual(large_count, 6)
        self.assertEqual({s["state"]: s["count"] for s in large["statuses"]},
                         {state: self._sql_counts(self.advisor, 30).get(state, 0)
                          for state in HOME_STATES})
        self.assertGreater(large["total"], 70_000)
        self.assertEqual(len(large["latest"]), HOME_LATEST_LIMIT)
        self.assertGreater(large["total"], small["total"])
        # Another limit, the same number of queries.
        self.advisor.esign_home_signed_days = 0
        count, data = self._queries(self.advisor)
        self.assertEqual(count, small_count)
        self.assertEqual(data["statuses"][1]["count"], self._sql_counts(self.advisor, 0)["signed"])

    def test_landing_page_of_the_app(self):
        root = self.env.ref("o2s_esign.o2s_esign_menu_root")
        home = self.env.ref("o2s_esign.action_esign_home")
        self.assertEqual((home.type, home.tag), ("ir.actions.client", "o2s_esign_home"))
        menus = self.env["ir.ui.menu"].with_user(self.advisor).load_web_menus(False)
        self.assertEqual(menus[root.id]["actionID"], home.id)
        # Someone with the subscription area only lands on the consumption report.
        subscriber = self.env["res.users"].create({
            "name": "Sam", "login": "esign_home_subscriber",
            "groups_id": [fields.Command.set([self.env.ref("base.group_user").id,
                                              self.env.ref("o2s_esign.group_esign_subscription").id])]})
        menus = self.env["ir.ui.menu"].with_user(subscriber).load_web_menus(False)
        self.assertEqual(menus[root.id]["actionID"],
                         self.env.ref("o2s_esign.o2s_esign_consumption_action").id)

    def test_requests_filter_and_group_by_document_type(self):
        letter = self.env.ref("o2s_esign.document_type_mission_letter")
        profile = self.env.ref("o2s_esign.document_type_investor_profile")
        with_letter = self._draft_request(documents=2)
        with_letter.document_ids[0].document_type_id = letter
        with_letter.document_ids[1].document_type_id = profile
        with_profile = self._draft_request()
        with_profile.document_ids.document_type_id = profile
        untyped = self._draft_request()
        self.assertEqual(with_letter.document_type_ids, letter | profile)
        model = self.Request.with_user(self.advisor)
        mine = [("id", "in", (with_letter | with_profile | untyped).ids)]
        self.assertEqual(model.search(mine + [("document_type_ids", "=", letter.id)]), with_letter)
        self.assertEqual(model.search(mine + [("document_type_ids", "ilike", profile.name)]),
                         with_letter | with_profile)
        groups = dict(model._read_group(mine, ["document_type_ids"], ["__count"]))
        self.assertEqual(groups, {letter: 1, profile: 2, self.env["o2s.esign.document.type"]: 1})
        # The filters and group-bys of the request list.
        arch = model.get_view(self.env.ref("o2s_esign.o2s_esign_request_view_search").id,
                              "search")["arch"]
        for name in ("group_document_type", "filter_date_done", "group_date_done",
                     "filter_signed", "group_user", "group_partner"):
            self.assertIn('name="%s"' % name, arch)

    def test_user_edits_own_settings_only(self):
        alice = self.advisor.with_user(self.advisor)
        alice.write({"esign_home_signed_days": 12, "esign_home_show_error": False})
        self.assertEqual(alice.read(["esign_home_signed_days", "esign_home_show_error"])[0]
                         ["esign_home_signed_days"], 12)
        self.assertEqual(self._data(self.advisor)["signed_days"], 12)
        with self.assertRaises(AccessError):
            self.advisor2.with_user(self.advisor).write({"esign_home_signed_days": 3})
        action = self.env["res.users"].with_user(self.advisor).action_esign_home_settings()
        self.assertEqual((action["res_model"], action["res_id"], action["target"]),
                         ("res.users", self.advisor.id, "new"))
        view = self.env["res.users"].with_user(self.advisor).get_view(action["views"][0][0], "form")
        self.assertIn("esign_home_signed_days", view["arch"])
        prefs = self.env["res.users"].with_user(self.advisor).get_view(
            self.env.ref("base.view_users_form_simple_modif").id, "form")
        self.assertIn("esign_home_show_signed", prefs["arch"])
        prefs_plain = self.env["res.users"].with_user(self.plain_user).get_view(
            self.env.ref("base.view_users_form_simple_modif").id, "form")
        self.assertNotIn("esign_home_show_signed", prefs_plain["arch"])

    def test_one_esign_tab_in_preferences(self):
        """My Preferences has one "E-signature" tab, holding the home block's settings and the
        advisor's own SMTP server."""
        prefs = self.env["res.users"].with_user(self.advisor).get_view(
            self.env.ref("base.view_users_form_simple_modif").id, "form")
        pages = etree.fromstring(prefs["arch"]).xpath("//page[@string='E-signature']")
        self.assertEqual(len(pages), 1)
        names = set(pages[0].xpath(".//field/@name"))
        self.assertLessEqual({"esign_home_enabled", "esign_home_show_signed", "esign_smtp_use_own",
                              "esign_smtp_host"}, names)


@tagged("post_install", "-at_install")
class TestEsignHomeDashboard(EsignBoardMixin, O2sEsignCommon):
    """The block on "My Dashboard" (board module)."""

    def _board_actions(self, user):
        arch = self.env["board.board"].with_user(user).get_view(self.board_view.id, "form")["arch"]
        return [node.get("name") for node in etree.fromstring(arch).iter("action")]

    def test_switching_the_block_on_and_off(self):
        alice = self.advisor.with_user(self.advisor)
        block = str(self.block_action.id)
        # On by default: the default layout, with the block, until Alice changes it.
        self.assertTrue(alice.esign_home_enabled)
        self.assertEqual(self._board_actions(self.advisor), [block])
        self.assertTrue(self._home_data(self.advisor)["on_dashboard"])
        alice.write({"esign_home_enabled": False})
        self.assertNotIn(block, self._board_actions(self.advisor))
        self.assertFalse(alice.esign_home_enabled)
        self.assertFalse(self._home_data(self.advisor)["on_dashboard"])
        # Only Alice's dashboard changed.
        self.assertEqual(self._board_actions(self.advisor2), [block])
        alice.write({"esign_home_enabled": True})
        self.assertEqual(self._board_actions(self.advisor), [block])
        self.assertTrue(alice.esign_home_enabled)
        # Switching it on twice keeps one block.
        alice.write({"esign_home_enabled": True})
        self.assertEqual(self._board_actions(self.advisor).count(block), 1)
        alice.write({"esign_home_enabled": False})
        self.assertNotIn(block, self._board_actions(self.advisor))
        self.assertFalse(alice.esign_home_enabled)

    def test_on_by_default_for_the_esign_access_group_only(self):
        block = str(self.block_action.id)
        for user in (self.advisor, self.esign_manager):
            self.assertTrue(user.with_user(user).esign_home_enabled, user.login)
            self.assertEqual(self._board_actions(user), [block], user.login)
        nobody = self.plain_user.with_user(self.plain_user)
        self.assertFalse(nobody.esign_home_enabled)
        self.assertEqual(self._board_actions(self.plain_user), [])
        # A user who joins the group later finds it there, from their form or the group's.
        self.plain_user.groups_id = [(4, self.env.ref("o2s_esign.group_esign_user").id)]
        self.plain_user.invalidate_recordset(["esign_home_enabled"])
        self.assertTrue(nobody.esign_home_enabled)
        self.assertEqual(self._board_actions(self.plain_user), [block])
        late = esign_user(self.env, "esign_late", "staff")
        self.env.ref("o2s_esign.group_esign_manager").users = [(4, late.id)]
        self.assertEqual(self._board_actions(late), [block])
        # Who took it off keeps it off, whatever group they join next.
        self.advisor.with_user(self.advisor).esign_home_enabled = False
        self.advisor.groups_id = [(4, self.env.ref("o2s_esign.group_esign_manager").id)]
        self.assertEqual(self._board_actions(self.advisor), [])
        self.env["res.users"]._esign_home_on_by_default_all()
        self.assertEqual(self._board_actions(self.advisor), [])
        self.advisor.esign_home_enabled = True
        # A layout of the user's own (the board's "Add to my dashboard") keeps the block.
        other_action = self.env.ref("o2s_esign.o2s_esign_request_action")
        tree = etree.fromstring(self.env["board.board"].with_user(self.advisor).get_view(
            self.board_view.id, "form")["arch"])
        tree.find("./board/column").insert(0, etree.Element("action", {
            "name": str(other_action.id), "string": "Requests", "view_mode": "list",
            "context": "{}", "domain": "[]"}))
        self.env["ir.ui.view.custom"].search([("user_id", "=", self.advisor.id)]).arch = \
            etree.tostring(tree, encoding="unicode")
        self.assertEqual(self._board_actions(self.advisor), [str(other_action.id), block])

    def test_block_title_in_the_users_language(self):
        """The title saved in the layout (English here) is shown in the reader's language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        board = self.env["board.board"].with_user(self.advisor)
        for lang, title in (("en_US", "E-signature"), ("fr_FR", "Signature électronique")):
            arch = board.with_context(lang=lang).get_view(self.board_view.id, "form")["arch"]
            node = etree.fromstring(arch).xpath("//action[@name='%d']" % self.block_action.id)[0]
            self.assertEqual(node.get("string"), title)

    def test_the_dashboards_app_opens_my_dashboard(self):
        """The Dashboards app opens My Dashboard (the block) for E-signature users while no
        spreadsheet dashboard is published to them, instead of an empty page."""
        board_action = self.env.ref("board.open_board_my_dash_action")
        app = self.env.ref("spreadsheet_dashboard.spreadsheet_dashboard_menu_root")
        spreadsheets = self.env.ref("spreadsheet_dashboard.ir_actions_dashboard_action")

        def app_action(user):
            menus = self.env["ir.ui.menu"].with_user(user).load_web_menus(False)
            return menus[app.id]["actionModel"], menus[app.id]["actionID"]

        self.env["spreadsheet.dashboard"].search([]).is_published = False
        self.assertEqual(app_action(self.advisor), ("ir.actions.act_window", board_action.id))
        self.assertEqual(app_action(self.plain_user), ("ir.actions.client", spreadsheets.id))
        # The cached menus are left as they were for everyone else.
        self.assertEqual(app_action(self.plain_user), ("ir.actions.client", spreadsheets.id))
        self.assertEqual(self.env["ir.ui.menu"].with_user(self.advisor).load_menus(False)[app.id]["action"],
                         "ir.actions.act_window,%d" % board_action.id)
        self.assertEqual(
            self.env["ir.ui.menu"].with_user(self.plain_user).load_menus(False)[app.id]["action"],
            "ir.actions.client,%d" % spreadsheets.id)
        # Once a spreadsheet dashboard is published to them, the app opens it as usual.
        self.env["spreadsheet.dashboard"].create({
            "name": "Sales", "dashboard_group_id": self.env.ref(
                "spreadsheet_dashboard.spreadsheet_dashboard_group_sales").id})
        self.assertEqual(app_action(self.advisor), ("ir.actions.client", spreadsheets.id))

    def _home_data(self, user):
        return self.env["o2s.esign.request"].with_user(user).get_esign_home_data()

    def test_other_blocks_are_kept_and_closing_on_the_board_switches_it_off(self):
        other_action = self.env.ref("o2s_esign.o2s_esign_request_action")
        arch = ('<form string="My Dashboard" js_class="board"><board style="2-1"><column>'
                '<action name="%d" string="Requests" view_mode="list" context="{}" domain="[]"/>'
                '</column><column/></board></form>' % other_action.id)
        # (the block is on by default: Alice's layout is replaced by one without it)
        custom = self.env["ir.ui.view.custom"].search([("user_id", "=", self.advisor.id)])
        self.assertEqual(len(custom), 1)
        custom.arch = arch
        alice = self.advisor.with_user(self.advisor)
        alice.esign_home_enabled = True
        self.assertEqual(self._board_actions(self.advisor), [str(self.block_action.id), str(other_action.id)])
        # The board (its close button, or a drag to the second column) rewrites the arch.
        tree = etree.fromstring(custom.arch)
        block = tree.xpath("//action[@name='%d']" % self.block_action.id)[0]
        block.getparent().remove(block)
        tree.findall("./board/column")[1].append(block)
        custom.arch = etree.tostring(tree, encoding="unicode")
        self.advisor.invalidate_recordset(["esign_home_enabled"])
        self.assertTrue(alice.esign_home_enabled)  # moved, still there
        block.getparent().remove(block)
        custom.arch = etree.tostring(tree, encoding="unicode")
        self.advisor.invalidate_recordset(["esign_home_enabled"])
        self.assertFalse(alice.esign_home_enabled)
        self.assertEqual(self._board_actions(self.advisor), [str(other_action.id)])

    def test_the_board_action_renders_the_block(self):
        """The window action the board embeds, as the web client loads it."""
        action = self.env["ir.actions.act_window"].with_user(self.advisor)._for_xml_id(
            "o2s_esign.o2s_esign_home_board_action")
        self.assertEqual(action["res_model"], "o2s.esign.request")
        list_view_id = dict((mode, view) for view, mode in action["views"])["list"]
        arch = self.env["o2s.esign.request"].with_user(self.advisor).get_view(list_view_id, "list")["arch"]
        self.assertEqual(etree.fromstring(arch).get("js_class"), "o2s_esign_home_view")
        # It does not replace the app's list view.
        default_arch = self.env["o2s.esign.request"].get_view(False, "list")["arch"]
        self.assertIsNone(etree.fromstring(default_arch).get("js_class"))
        # Users without the E-signature right cannot put it on their dashboard.
        nobody = self.plain_user.with_user(self.plain_user)
        with self.assertRaises(UserError):
            nobody.esign_home_enabled = True
        self.assertNotIn(str(self.block_action.id), self._board_actions(self.plain_user))


@tagged("post_install", "-at_install")
class TestEsignHomeStartPage(EsignBoardMixin, HttpCase):
    """"Start on My Dashboard" in the preferences, over XML-RPC as each user would set it, and
    the home action the web client then opens."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.advisor = esign_user(cls.env, "esign_start_advisor", "staff,user", name="Alice Advisor")
        cls.advisor2 = esign_user(cls.env, "esign_start_advisor2", "staff,user", name="Bob Advisor")
        cls.nobody = esign_user(cls.env, "esign_start_nobody", "staff", name="Nora Nobody")
        cls.start_action = cls.env.ref("board.open_board_my_dash_action")

    def _rpc(self, login, method, *args):
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        return self.xmlrpc_object.execute_kw(db, uid, login, "res.users", method, list(args), {})

    def _home_action_id(self, login):
        self.authenticate(login, login)
        return self.make_jsonrpc_request("/web/session/get_session_info", {})["home_action_id"]

    def test_start_on_my_dashboard(self):
        advisor = self.advisor
        self.assertFalse(self._home_action_id(advisor.login))
        self._rpc(advisor.login, "write", [advisor.id], {"esign_home_start_page": True})
        self.assertEqual(self._home_action_id(advisor.login), self.start_action.id)
        [values] = self._rpc(advisor.login, "read", [advisor.id], ["esign_home_start_page",
                                                                   "esign_home_enabled"])
        self.assertEqual(values, {"id": advisor.id, "esign_home_start_page": True,
                                  "esign_home_enabled": True})
        self.assertEqual(self._board_columns(advisor), [[str(self.block_action.id)]])
        # With the block switched off first, starting there puts it back.
        self._rpc(advisor.login, "write", [advisor.id], {"esign_home_start_page": False,
                                                         "esign_home_enabled": False})
        self.assertFalse(self._home_action_id(advisor.login))
        self.assertEqual(self._board_columns(advisor), [[]])
        self._rpc(advisor.login, "write", [advisor.id], {"esign_home_start_page": True})
        self.assertEqual(self._board_columns(advisor), [[str(self.block_action.id)]])
        # Another home action chosen by hand is kept when the box is unticked.
        other = self.env.ref("o2s_esign.o2s_esign_request_action")
        self._rpc(advisor.login, "write", [advisor.id], {"action_id": other.id})
        self._rpc(advisor.login, "write", [advisor.id], {"esign_home_start_page": False})
        self.assertEqual(self._home_action_id(advisor.login), other.id)

    def test_only_for_oneself_and_the_esign_access_group(self):
        with mute_logger("odoo.http"), self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(self.nobody.login, "write", [self.nobody.id], {"esign_home_start_page": True})
        self.assertIn("E-signature access", caught.exception.faultString)
        self.assertFalse(self.nobody.action_id)
        with mute_logger("odoo.http"), self.assertRaises(xmlrpc.client.Fault):
            self._rpc(self.advisor.login, "write", [self.advisor2.id], {"esign_home_start_page": True})
        self.assertFalse(self.advisor2.action_id)
