# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, timedelta

import psycopg2
from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from ..tools import internal_write
from .common import O2sEsignCommon, esign_user
from .esign_portal_common import EsignHttpCommon

MEASURES = ("document_count", "signature_count", "sms_count")


@tagged("post_install", "-at_install")
class TestEsignConsumption(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.subscriber = esign_user(cls.env, "esign_subscriber", "internal,base.group_allow_export,subscription",
                                    name="Sam Subscriber")
        cls.client3 = cls._make_client("Claire Roux", "claire@example.com", "+33645678901",
                                       salesperson=cls.advisor2)
        cls.Consumption = cls.env["o2s.esign.consumption"]

    # ---------------------------------------------------------------- helpers
    def _two_signer_request(self, user=None, documents=2, **values):
        signers = [{"partner_id": self.client.id, "sequence": 10},
                   {"partner_id": self.client2.id, "sequence": 20}]
        return self._sent_request(user=user, signers=signers, documents=documents, **values)

    def _sign(self, signer):
        """What the signing process does once a signer's signature is on every document."""
        with internal_write():
            signer.write({"state": "signed", "date_signed": fields.Datetime.now()})
        signer.env["o2s.esign.consumption"]._record_signature(signer)

    def _rows(self, request):
        return self.Consumption.sudo().search([("request_id", "=", request.id)], order="id")

    # ------------------------------------------------------------------ tests
    def test_signatures_and_sms_are_recorded(self):
        # The administrator sends on behalf of Alice: the sender and the advisor differ.
        request = self._two_signer_request(user=self.esign_manager, user_id=self.advisor.id)
        first, second = request.signer_ids.sorted("sequence")
        first.env["o2s.esign.consumption"]._record_sms(first, "outbox", "msg-0001")
        self._sign(first)
        second.env["o2s.esign.consumption"]._record_sms(second, "twilio", None)
        self._sign(second)
        sms1, sig1, sms2, sig2 = self._rows(request)
        self.assertEqual((sms1.kind, sms1.sms_count, sms1.signature_count, sms1.document_count),
                         ("sms", 1, 0, 0))
        self.assertEqual((sms1.sms_transport, sms1.provider_reference), ("outbox", "msg-0001"))
        self.assertEqual((sms2.sms_transport, sms2.provider_reference), ("twilio", False))
        self.assertEqual((sig1.kind, sig1.signature_count, sig1.sms_count), ("signature", 1, 0))
        # The documents are counted once, on the signature that completes the request.
        self.assertEqual(sig1.document_count, 0)
        self.assertEqual(sig2.document_count, 2)
        for row, signer in ((sms1, first), (sig1, first), (sms2, second), (sig2, second)):
            self.assertEqual(row.signer_id, signer)
            self.assertEqual(row.signer_partner_id, signer.partner_id)
            self.assertEqual(row.request_id, request)
            self.assertEqual(row.request_reference, request.reference)
            self.assertEqual(row.partner_id, self.client)
            self.assertEqual(row.company_id, self.company)
            self.assertEqual(row.user_id, self.esign_manager)
            self.assertEqual(row.advisor_id, self.advisor)
            self.assertTrue(row.date)
        self.assertIn(request.reference, sig2.display_name)

    def test_recorded_from_the_signers_portal_session(self):
        """The signing page runs as the public user, who may read nothing of the request."""
        request = self._sent_request()
        public = self.env.ref("base.public_user")
        signer = request.signer_ids.with_user(public)
        self.env.invalidate_all()  # nothing read through the cache: access rights apply
        signer.env["o2s.esign.consumption"]._record_sms(signer, "outbox", "msg-public")
        with internal_write():
            request.signer_ids.write({"state": "signed"})
        self.env.invalidate_all()
        signer.env["o2s.esign.consumption"]._record_signature(signer)
        rows = self._rows(request)
        self.assertEqual(rows.mapped("kind"), ["sms", "signature"])
        self.assertEqual(rows[1].document_count, 1)
        self.assertEqual(rows.mapped("advisor_id"), self.advisor)

    def test_a_refused_request_counts_signatures_but_no_document(self):
        request = self._two_signer_request()
        first, second = request.signer_ids.sorted("sequence")
        self._sign(first)
        with internal_write():
            second.write({"state": "refused", "refusal_reason": "No"})
        rows = self._rows(request)
        self.assertEqual(rows.mapped("kind"), ["signature"])
        self.assertEqual(sum(rows.mapped("document_count")), 0)

    def test_a_signature_is_recorded_once(self):
        request = self._sent_request()
        signer = request.signer_ids
        self._sign(signer)
        signer.env["o2s.esign.consumption"]._record_signature(signer)
        self.assertEqual(len(self._rows(request)), 1)
        # The database refuses a second signature row for the same signer too.
        row = self._rows(request)
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), \
                self.cr.savepoint():
            self.Consumption._create_units([dict(
                self.Consumption._base_values(signer), kind="signature", signature_count=1)])
        self.assertEqual(self._rows(request), row)

    def test_immutable_for_everyone_admins_included(self):
        request = self._sent_request()
        self._sign(request.signer_ids)
        row = self._rows(request)
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("o2s_esign.group_esign_subscription"))
        for env in (self.env(user=admin), self.env(user=admin, su=True),
                    self.env(user=self.subscriber)):
            row_as = row.with_env(env)
            self.assertEqual(row_as.read(["kind"])[0]["kind"], "signature")
            with self.assertRaises(UserError):
                row_as.write({"signature_count": 0})
            with self.assertRaises(UserError):
                row_as.unlink()
            with self.assertRaises(UserError):
                row_as.copy()
        values = dict(self.Consumption._base_values(request.signer_ids), kind="sms", sms_count=1)
        for user in (admin, self.subscriber):
            with self.assertRaises(AccessError):
                self.Consumption.with_user(user).create(values)
        with self.assertRaises(UserError):
            self.Consumption.sudo().create(values)
        # Even SQL cannot rewrite or delete consumption: a trigger refuses it.
        with self.assertRaises(psycopg2.Error), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.cr.execute("UPDATE o2s_esign_consumption SET signature_count = 0 WHERE id = %s",
                            [row.id])
        with self.assertRaises(psycopg2.Error), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.cr.execute("DELETE FROM o2s_esign_consumption WHERE id = %s", [row.id])
        self.assertEqual(self._rows(request).signature_count, 1)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_access_per_group(self):
        request = self._sent_request()
        self._sign(request.signer_ids)
        row = self._rows(request)
        for user in (self.advisor, self.esign_manager, self.plain_user):
            with self.assertRaises(AccessError):
                self.Consumption.with_user(user).search([])
            with self.assertRaises(AccessError):
                row.with_user(user).read(["kind"])
            with self.assertRaises(AccessError):
                self.Consumption.with_user(user).read_group([], ["signature_count:sum"], ["kind"])
        mine = [("request_id", "=", request.id)]
        self.assertEqual(self.Consumption.with_user(self.subscriber).search(mine), row)
        # The menu follows the group.
        menu = self.env.ref("o2s_esign.o2s_esign_menu_consumption")
        area = self.env.ref("o2s_esign.o2s_esign_menu_subscription")
        for user, visible in ((self.advisor, False), (self.esign_manager, False),
                              (self.subscriber, True)):
            menus = self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)
            self.assertEqual(menu.id in menus, visible, user.login)
            self.assertEqual(area.id in menus, visible, user.login)
        # The report can be exported.
        export = self.Consumption.with_user(self.subscriber).search(mine).export_data(
            ["kind", "signature_count", "request_reference", "advisor_id", "signer_partner_id"])
        self.assertEqual(export["datas"], [["Signature", 1, request.reference,
                                            self.advisor.name, self.client.name]])
        # The list the subscription area shows (and "export all" takes) reads without any
        # right on the requests themselves.
        view = self.Consumption.with_user(self.subscriber).get_view(
            self.env.ref("o2s_esign.o2s_esign_consumption_view_list").id, "list")
        columns = [node.get("name") for node in etree.fromstring(view["arch"]).iter("field")]
        self.assertNotIn("request_id", columns)
        self.assertIn("request_reference", columns)
        self.Consumption.with_user(self.subscriber).search(mine).export_data(columns)

    def test_other_company_consumption_is_not_visible(self):
        other_company = self.env["res.company"].create({"name": "Other firm"})
        request = self._sent_request()
        self._sign(request.signer_ids)
        self.subscriber.write({"company_ids": [fields.Command.set([other_company.id])],
                               "company_id": other_company.id})
        self.assertFalse(self.Consumption.with_user(self.subscriber).search([]))

    def test_totals_equal_raw_records_for_every_grouping(self):
        self.cr.execute("SELECT coalesce(max(id), 0) FROM o2s_esign_consumption")
        before = self.cr.fetchone()[0]  # rows already there (demo data) stay out of the sums
        # Real rows through the hooks, for several advisors, senders, clients and signers...
        for user, partner in ((self.advisor, self.client), (self.advisor2, self.client3),
                              (self.esign_manager, self.client)):
            request = self._sent_request(user=user, partner=partner, documents=3)
            signer = request.signer_ids
            signer.env["o2s.esign.consumption"]._record_sms(signer, "outbox", "m-%d" % request.id)
            signer.env["o2s.esign.consumption"]._record_sms(signer, "outbox", "m-%d-bis" % request.id)
            self._sign(signer)
        request = self._two_signer_request(user=self.esign_manager, user_id=self.advisor2.id)
        for signer in request.signer_ids:
            self._sign(signer)
        # ... and over several periods (the hooks stamp "now").
        base = self.Consumption._base_values(request.signer_ids[0])
        with internal_write():
            self.Consumption.sudo().create([
                dict(base, kind="sms", sms_count=1, date=datetime(2025, month, 3, 10, 0))
                for month in (1, 1, 2, 7, 12)
            ] + [dict(base, kind="sms", sms_count=1, date=datetime(2024, 12, 31, 23, 0))])
        self.env.flush_all()
        self.cr.execute("""
            SELECT count(*), sum(document_count), sum(signature_count), sum(sms_count)
              FROM o2s_esign_consumption WHERE id > %s
        """, [before])
        raw_total = self.cr.fetchone()
        self.assertEqual(raw_total, (17, 11, 5, 12))
        # Periods are those of the user's time zone (the 2024-12-31 23:00 UTC row is in 2025).
        model = self.Consumption.with_user(self.subscriber).with_context(tz="Europe/Paris")
        local = "timezone('Europe/Paris', timezone('UTC', date))"
        groupings = {
            "user_id": "user_id", "advisor_id": "advisor_id", "signer_partner_id": "signer_partner_id",
            "partner_id": "partner_id", "signer_id": "signer_id", "company_id": "company_id",
            "request_id": "request_id", "request_reference": "request_reference", "kind": "kind",
            "date:day": "date_trunc('day', %s)" % local,
            "date:month": "date_trunc('month', %s)" % local,
            "date:year": "date_trunc('year', %s)" % local,
        }
        for groupby, sql_expr in groupings.items():
            groups = model._read_group(
                [("id", ">", before)], [groupby], ["__count"] + ["%s:sum" % m for m in MEASURES])
            # The grouping expressions are this test's own constants.
            self.cr.execute(SQL("""
                SELECT count(*), sum(document_count), sum(signature_count), sum(sms_count)
                  FROM o2s_esign_consumption WHERE id > %s GROUP BY %s ORDER BY 1, 2, 3, 4
            """, before, SQL(sql_expr)))
            raw = [tuple(row) for row in self.cr.fetchall()]
            from_orm = sorted(tuple(values[1:]) for values in groups)
            self.assertEqual(from_orm, raw, groupby)
            self.assertEqual(tuple(map(sum, zip(*from_orm))), raw_total, groupby)
            # The web client's pivot, graph and grouped list read the same numbers.
            web = model.web_read_group(
                [("id", ">", before)], ["document_count:sum", "signature_count:sum", "sms_count:sum"], [groupby],
                lazy=False)
            self.assertEqual(web["length"], len(raw), groupby)
            self.assertEqual(
                tuple(sum(group[key] for group in web["groups"])
                      for key in ("__count",) + MEASURES), raw_total, groupby)


@tagged("post_install", "-at_install")
class TestEsignConsumptionOverTheSigningPage(EsignHttpCommon):
    """The real flow: codes sent through the SMS gateway stand-in, signatures applied by the
    signing page over HTTP, the request sealed at the end."""

    def test_codes_and_signatures_are_billed(self):
        request = self._sent_request(
            documents=2, signers=[{"partner_id": self.client.id, "sequence": 10},
                                  {"partner_id": self.client2.id, "sequence": 20}]).sudo()
        first, second = request.signer_ids.sorted("sequence")
        # The first signer asks for a code, then for another one after the cooldown, and signs
        # with the last one.
        csrf, token = self._open(first)
        self.assertTrue(self._call(first, "send_code", token=token, csrf_token=csrf).get("ok"))
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):
            self.assertTrue(self._call(first, "send_code", token=token, csrf_token=csrf).get("ok"))
        self.assertTrue(self._call(first, "verify_code", token=token, csrf_token=csrf,
                                   code=self._last_code(first)).get("ok"))
        result = self._call(first, "sign", token=token, csrf_token=csrf, **self._sign_values(first))
        self.assertEqual(result.get("state"), "signed", result)
        consumption = self.env["o2s.esign.consumption"].sudo()
        rows = consumption.search([("request_id", "=", request.id)], order="id")
        self.assertEqual(rows.mapped("kind"), ["sms", "sms", "signature"])
        self.assertEqual(rows.mapped("sms_transport"), ["webhook", "webhook", False])
        self.assertEqual(sum(rows.mapped("document_count")), 0)
        self._sign(second)
        self.assertEqual(request.state, "signed")
        rows = consumption.search([("request_id", "=", request.id)], order="id")
        self.assertEqual(rows.mapped("kind"), ["sms", "sms", "signature", "sms", "signature"])
        self.assertEqual(len(self._sms_to(first.mobile)) + len(self._sms_to(second.mobile)),
                         sum(rows.mapped("sms_count")))
        self.assertEqual(sum(rows.mapped("signature_count")), 2)
        self.assertEqual(sum(rows.mapped("document_count")), 2)
        self.assertEqual(rows.filtered(lambda r: r.document_count).signer_id, second)
        self.assertEqual(rows.mapped("user_id"), self.advisor)
        self.assertEqual(rows.mapped("advisor_id"), self.advisor)
        self.assertEqual(rows.mapped("partner_id"), self.client)
        self.assertEqual(rows.mapped("signer_partner_id"), self.client | self.client2)
