# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Odoo's external API, as an integrator uses it: XML-RPC (and JSON-RPC for the chain check,
whose result is keyed by request id) against the test server."""
import base64
import hashlib
import json
import xmlrpc.client
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import make_pdf
from .samples import bad_files, large_pdf

GENESIS = "0" * 64
# Fault codes of Odoo's XML-RPC (odoo/addons/base/controllers/rpc.py).
FAULT_KINDS = {2: "UserError", 4: "AccessError"}


@tagged("post_install", "-at_install")
class TestEsignExternalApi(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, no_reset_password=True, tracking_disable=True))
        cls.env = env
        env.company.country_id = env.ref("base.fr")
        groups = "base.group_user,base.group_partner_manager,"
        # English users: the API answers in the user's language, and the test reads the messages
        # (the test database may have French only).
        env["res.lang"]._activate_lang("en_US")
        cls.advisor = new_test_user(env, login="api_advisor", name="Ada Advisor", lang="en_US",
                                    email="ada@advisor.example.com", groups=groups + "o2s_esign.group_esign_user")
        cls.advisor2 = new_test_user(env, login="api_advisor2", name="Ben Advisor", lang="en_US",
                                     email="ben@advisor.example.com", groups=groups + "o2s_esign.group_esign_user")
        cls.manager = new_test_user(env, login="api_manager", name="Meg Manager", lang="en_US",
                                    email="meg@advisor.example.com", groups=groups + "o2s_esign.group_esign_manager")
        cls.nobody = new_test_user(env, login="api_nobody", name="Ned Nobody", lang="en_US",
                                   email="ned@advisor.example.com", groups=groups.rstrip(","))
        env.ref("base.user_admin").lang = "en_US"
        cls.client = env["res.partner"].create({
            "name": "Claire Complete", "email": "claire@example.com", "mobile": "06 11 22 33 44",
            "country_id": env.ref("base.fr").id, "user_id": cls.advisor.id,
        })
        cls.id_document = env["o2s.esign.id.document"].create({
            "partner_id": cls.client.id, "doc_type": "id_card", "number": "API0001",
            "date_expiry": fields.Date.today() + timedelta(days=800),
            "file": base64.b64encode(b"scan"), "file_name": "id.png",
        })

    # ----------------------------------------------------------------- helpers
    def _call(self, login, model, method, *args, **kwargs):
        """One execute_kw over XML-RPC as ``login`` (password = login for test users)."""
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        self.assertTrue(uid, login)
        return self.xmlrpc_object.execute_kw(db, uid, login, model, method, list(args), kwargs)

    def _json_call(self, login, model, method, *args):
        """The same over JSON-RPC (/jsonrpc)."""
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [db, uid, login, model, method, list(args), {}]}}
        response = self.url_open("/jsonrpc", data=json.dumps(payload),
                                 headers={"Content-Type": "application/json"})
        return response.json()

    def _fault(self, login, model, method, *args, **kwargs):
        """The error of a call: "UserError: ..." or "AccessError: ..." (from the fault code)."""
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._call(login, model, method, *args, **kwargs)
        kind = FAULT_KINDS.get(caught.exception.faultCode, "Fault %s" % caught.exception.faultCode)
        return "%s: %s" % (kind, caught.exception.faultString)

    def _request_values(self, data=None, name="mission_letter.pdf"):
        data = make_pdf("Mission letter") if data is None else data
        return {
            "partner_id": self.client.id,
            "name": "Mission letter",
            "documents": [{"name": name, "datas": base64.b64encode(data).decode(),
                           "document_type_id": self.env.ref("o2s_esign.document_type_mission_letter").id}],
        }

    def _count(self, model, login="admin"):
        return self._call(login, model, "search_count", [])

    def _send(self, data=None):
        return self._call("api_advisor", "o2s.esign.request", "create_and_send", self._request_values(data))

    # ------------------------------------------------------------------- tests
    def test_fields_over_xmlrpc(self):
        """Issue 17: the boxes given with a document are where its signer signs; no page is
        added to the PDF to sign."""
        values = self._request_values(make_pdf("Mission letter", pages=2))
        values["documents"][0]["fields"] = [
            {"signer": 1, "type": "signature", "page": 2, "x": 320, "y": 40, "width": 200,
             "height": 70},
            {"signer": 1, "type": "text", "page": 1, "x": 72, "y": 700, "width": 150,
             "height": 18, "label": "Lieu"}]
        request_id = self._call("api_advisor", "o2s.esign.request", "create_and_send", values)
        [request] = self._call("api_advisor", "o2s.esign.request", "read", [request_id],
                               fields=["document_ids"])
        [document] = self._call("api_advisor", "o2s.esign.document", "read",
                                request["document_ids"], fields=["prepared_page_count", "field_ids"])
        self.assertEqual(document["prepared_page_count"], 2)
        boxes = self._call("api_advisor", "o2s.esign.field", "read", document["field_ids"],
                           fields=["field_type", "page", "x", "y", "width", "height", "source",
                                   "pdf_field_name"])
        self.assertEqual([(b["field_type"], b["page"], b["x"], b["y"], b["source"]) for b in boxes],
                         [("text", 1, 72.0, 700.0, "api"), ("signature", 2, 320.0, 40.0, "api")])
        self.assertTrue(all(b["pdf_field_name"] for b in boxes))
        # a box for a signer the request does not have: refused, nothing created
        before = self._count("o2s.esign.request")
        values["documents"][0]["fields"][0]["signer"] = 2
        with mute_logger("odoo.http"):
            fault = self._fault("api_advisor", "o2s.esign.request", "create_and_send", values)
        self.assertIn("is for signer 2", fault)
        self.assertEqual(self._count("o2s.esign.request"), before)

    def test_complete_contact_gets_a_request_with_hashes_and_chained_events(self):
        data = make_pdf("Mission letter")
        request_id = self._send(data)
        [request] = self._call("api_advisor", "o2s.esign.request", "read", [request_id],
                               fields=["state", "date_sent", "document_ids", "signer_ids", "partner_id", "user_id"])
        self.assertEqual(request["state"], "in_progress")
        self.assertTrue(request["date_sent"])
        self.assertEqual(request["partner_id"][0], self.client.id)
        self.assertEqual(request["user_id"][0], self.advisor.id)
        [document] = self._call("api_advisor", "o2s.esign.document", "read", request["document_ids"],
                                fields=["original_sha256", "prepared_sha256", "name"])
        self.assertEqual(document["original_sha256"], hashlib.sha256(data).hexdigest())
        self.assertTrue(document["prepared_sha256"])
        [signer] = self._call("api_advisor", "o2s.esign.signer", "read", request["signer_ids"],
                              fields=["mobile", "email", "state", "id_doc_number"])
        self.assertEqual((signer["mobile"], signer["email"], signer["state"], signer["id_doc_number"]),
                         ("+33611223344", "claire@example.com", "pending", "API0001"))
        events = self._call("api_advisor", "o2s.esign.event", "search_read", [("request_id", "=", request_id)],
                            fields=["sequence", "event_type", "previous_hash", "hash"], order="sequence")
        self.assertEqual([e["sequence"] for e in events], list(range(1, len(events) + 1)))
        self.assertEqual(events[0]["event_type"], "created")
        self.assertEqual(events[0]["previous_hash"], GENESIS)
        for previous, event in zip(events, events[1:]):
            self.assertEqual(event["previous_hash"], previous["hash"])
        result = self._json_call("api_advisor", "o2s.esign.request", "verify_event_chain", [request_id])
        self.assertEqual(result["result"][str(request_id)]["ok"], True)
        self.assertEqual(result["result"][str(request_id)]["head"], events[-1]["hash"])

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_incomplete_contacts_and_bad_files_get_a_clear_error_and_no_request(self):
        cases = []

        def missing_mobile():
            self.client.mobile = False
            return None, "Claire Complete has no mobile number."

        def expired_id():
            self.id_document.date_expiry = fields.Date.today() - timedelta(days=1)
            return None, "Claire Complete has no identity document valid today."

        def too_large():
            self.env.company.esign_max_upload_mb = 1
            return large_pdf(1), "mission_letter.pdf is larger than the 1.0 MB allowed."

        cases.append(("missing mobile", missing_mobile))
        cases.append(("expired ID", expired_id))
        cases.append(("too large", too_large))
        for case, (data, sentence) in bad_files().items():
            cases.append((case, lambda data=data, sentence=sentence: (data, "mission_letter.pdf " + sentence)))
        models = ("o2s.esign.request", "o2s.esign.document", "o2s.esign.signer", "o2s.esign.event", "ir.attachment")
        for case, prepare in cases:
            with self.subTest(case=case), self.env.cr.savepoint() as savepoint:
                data, sentence = prepare()
                before = {model: self._count(model) for model in models}
                fault = self._fault("api_advisor", "o2s.esign.request", "create_and_send",
                                    self._request_values(data))
                self.assertTrue(fault.startswith("UserError: The request cannot be sent:"), fault)
                self.assertIn(sentence, fault)
                self.assertNotIn("Traceback", fault)
                self.assertEqual({model: self._count(model) for model in models}, before)
                savepoint.rollback()
                self.env.invalidate_all()

    def _second_client(self):
        partner = self.env["res.partner"].create({
            "name": "Paul Second", "email": "paul@example.com", "mobile": "06 55 66 77 88",
            "country_id": self.env.ref("base.fr").id, "user_id": self.advisor.id, "lang": "en_US",
        })
        self.env["o2s.esign.id.document"].create({
            "partner_id": partner.id, "doc_type": "passport", "number": "API0002",
            "date_expiry": fields.Date.today() + timedelta(days=800),
            "file": base64.b64encode(b"scan"), "file_name": "id.png",
        })
        return partner

    def test_sequential_order_without_sequences_follows_the_list(self):
        """signing_order="sequential" with no sequence: the signers sign in the order given;
        only the first is invited, and the second's link says it is not their turn yet."""
        second = self._second_client()
        self.client.lang = "en_US"
        for order in ([second, self.client], [self.client, second]):
            with self.subTest(first=order[0].name):
                values = dict(self._request_values(), signing_order="sequential",
                              signers=[{"partner_id": partner.id} for partner in order])
                request_id = self._call("api_advisor", "o2s.esign.request", "create_and_send", values)
                signers = self._call("api_advisor", "o2s.esign.signer", "search_read",
                                     [("request_id", "=", request_id)],
                                     fields=["partner_id", "sequence", "state"],
                                     order="sequence, id")
                self.assertEqual([(s["partner_id"][0], s["sequence"], s["state"]) for s in signers],
                                 [(order[0].id, 10, "pending"), (order[1].id, 20, "waiting")])
                mails = self._call("api_advisor", "o2s.esign.mail.log", "search_read",
                                   [("request_id", "=", request_id)], fields=["kind", "signer_id"])
                self.assertEqual([(m["kind"], m["signer_id"][0]) for m in mails],
                                 [("invitation", signers[0]["id"])], "only the first is invited")
                pages = {}
                for signer in signers:
                    # the link, on this server, as the signer's mail gives it
                    link = self.env["o2s.esign.signer"].browse(signer["id"]).access_url
                    path = "/" + link.split("/", 3)[3]
                    response = self.url_open(path)
                    self.assertEqual(response.status_code, 200)
                    pages[signer["state"]] = response.text
                self.assertIn("It is not your turn to sign yet.", pages["waiting"])
                self.assertNotIn("It is not your turn to sign yet.", pages["pending"])

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_ambiguous_signing_orders_are_refused(self):
        second = self._second_client()
        cases = {
            "same sequence": ([10, 10], "Claire Complete, Paul Second have the same sequence (10)"),
            "some without": ([10, None], "give every signer a sequence, or none"),
            "not a number": (["first", "second"], "sequence must be a whole number"),
        }
        before = self._count("o2s.esign.request")
        for case, (sequences, sentence) in cases.items():
            with self.subTest(case=case):
                signers = [{"partner_id": partner.id} for partner in (self.client, second)]
                for signer, sequence in zip(signers, sequences):
                    if sequence is not None:
                        signer["sequence"] = sequence
                values = dict(self._request_values(), signing_order="sequential", signers=signers)
                fault = self._fault("api_advisor", "o2s.esign.request", "create_and_send", values)
                self.assertTrue(fault.startswith("UserError: The request cannot be sent:"), fault)
                self.assertIn(sentence, fault)
        fault = self._fault("api_advisor", "o2s.esign.request", "create_and_send",
                            dict(self._request_values(), signing_order="random"))
        self.assertIn("The signing order must be “parallel” or “sequential”", fault)
        self.assertEqual(self._count("o2s.esign.request"), before, "nothing was created")
        # Explicit and distinct sequences are followed, whatever the list's order.
        request_id = self._call("api_advisor", "o2s.esign.request", "create_and_send", dict(
            self._request_values(), signing_order="sequential",
            signers=[{"partner_id": self.client.id, "sequence": 5},
                     {"partner_id": second.id, "sequence": 1}]))
        signers = self._call("api_advisor", "o2s.esign.signer", "search_read",
                             [("request_id", "=", request_id)], fields=["partner_id", "state"],
                             order="sequence")
        self.assertEqual([(s["partner_id"][0], s["state"]) for s in signers],
                         [(second.id, "pending"), (self.client.id, "waiting")])

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_rights_through_the_api(self):
        request_id = self._send()
        fault = self._fault("api_advisor2", "o2s.esign.request", "read", [request_id], fields=["state"])
        self.assertTrue(fault.startswith("AccessError: "), fault)
        self.assertFalse(self._call("api_advisor2", "o2s.esign.request", "search", [("id", "=", request_id)]))
        self.assertTrue(self._fault("api_advisor2", "o2s.esign.request", "action_cancel", [request_id])
                        .startswith("AccessError: "))
        [manager_view] = self._call("api_manager", "o2s.esign.request", "read", [request_id], fields=["state"])
        self.assertEqual(manager_view["state"], "in_progress")
        [admin_view] = self._call("admin", "o2s.esign.request", "read", [request_id], fields=["state"])
        self.assertEqual(admin_view["state"], "in_progress")
        # Without the group: no access at all, and no menu.
        for method, args in (("search_read", [[]]), ("create_and_send", [self._request_values()])):
            fault = self._fault("api_nobody", "o2s.esign.request", method, *args)
            self.assertTrue(fault.startswith("AccessError: "), fault)
        self.assertTrue(self._fault("api_nobody", "o2s.esign.event", "search_read", []).startswith("AccessError: "))
        root = self.env.ref("o2s_esign.o2s_esign_menu_root").id
        self.assertEqual(self._call("api_nobody", "ir.ui.menu", "search_count", [("id", "=", root)]), 0)
        self.assertEqual(self._call("api_advisor", "ir.ui.menu", "search_count", [("id", "=", root)]), 1)
        # The state cannot be forced through the API.
        fault = self._fault("api_advisor", "o2s.esign.request", "write", [request_id], {"state": "signed"})
        self.assertTrue(fault.startswith("UserError: The status and the dates"), fault)

    @mute_logger("odoo.http")
    def test_automation_fields_cannot_be_set_at_creation(self):
        """The fields of the automatic retries and of the reminders are guarded on create as on
        write: an advisor cannot plant a retry or use up a signer's reminders over the API."""
        values = {"name": "Planted", "partner_id": self.client.id}
        for field_name, value in (("retry_count", 3), ("next_retry_date", "2030-01-01 00:00:00"),
                                  ("expiry_blocked_until", "2030-01-01 00:00:00")):
            fault = self._fault("api_advisor", "o2s.esign.request", "create", dict(values, **{field_name: value}))
            self.assertTrue(fault.startswith("UserError: The automatic retries of a request"), fault)
        request_id = self._call("api_advisor", "o2s.esign.request", "create", values)
        for field_name, value in (("reminder_count", 9), ("reminder_blocked_until", "2030-01-01 00:00:00")):
            fault = self._fault("api_advisor", "o2s.esign.signer", "create", {
                "request_id": request_id, "partner_id": self.client.id, field_name: value})
            self.assertTrue(fault.startswith("UserError: The reminders of a signer"), fault)
        self.assertFalse(self._call("api_advisor", "o2s.esign.signer", "search_count",
                                    [("request_id", "=", request_id)]))
        [request] = self._call("api_advisor", "o2s.esign.request", "read", [request_id],
                               fields=["retry_count", "next_retry_date"])
        self.assertEqual((request["retry_count"], request["next_retry_date"]), (0, False))

    @mute_logger("odoo.http")
    def test_an_advisor_cannot_send_in_another_users_name(self):
        """The advisor of a request signs its mails (address, own SMTP server): an E-signature
        user names only themselves or the client's salesperson; an administrator anyone."""
        before = self._count("o2s.esign.request")
        values = dict(self._request_values(), user_id=self.advisor2.id)
        fault = self._fault("api_advisor", "o2s.esign.request", "create_and_send", values)
        self.assertTrue(fault.startswith("UserError: You can only send a signature request as "
                                         "yourself"), fault)
        self.assertIn("Ben Advisor", fault)
        self.assertEqual(self._count("o2s.esign.request"), before, "nothing was created")
        # nor by changing a draft of one's own
        draft_id = self._call("api_advisor", "o2s.esign.request", "create",
                              {"partner_id": self.client.id, "name": "Draft"})
        fault = self._fault("api_advisor", "o2s.esign.request", "write", [draft_id],
                            {"user_id": self.advisor2.id})
        self.assertTrue(fault.startswith("UserError: You can only send"), fault)
        [draft] = self._call("admin", "o2s.esign.request", "read", [draft_id], fields=["user_id"])
        self.assertEqual(draft["user_id"][0], self.advisor.id)
        # the client's salesperson is a valid choice, and an administrator may choose anyone
        own = self._call("api_advisor", "o2s.esign.request", "create_and_send",
                         dict(self._request_values(), user_id=self.advisor.id))
        for_ben = self._call("api_manager", "o2s.esign.request", "create_and_send", values)
        rows = self._call("admin", "o2s.esign.request", "read", [own, for_ben], fields=["user_id"])
        self.assertEqual([row["user_id"][0] for row in rows], [self.advisor.id, self.advisor2.id])

    @mute_logger("odoo.http", "odoo.sql_db", "odoo.addons.base.models.ir_model")
    def test_admin_cannot_rewrite_or_delete_an_event_and_tampering_is_detected(self):
        request_id = self._send()
        events = self._call("admin", "o2s.esign.event", "search_read", [("request_id", "=", request_id)],
                            fields=["hash", "event_type"], order="sequence")
        target = events[1]
        fault = self._fault("admin", "o2s.esign.event", "write", [target["id"]], {"event_type": "signed"})
        self.assertEqual(fault, "UserError: Audit events cannot be modified.")
        fault = self._fault("admin", "o2s.esign.event", "unlink", [target["id"]])
        self.assertEqual(fault, "UserError: Audit events cannot be deleted.")
        fault = self._fault("admin", "o2s.esign.event", "create", {
            "request_id": request_id, "sequence": 99, "event_type": "signed",
            "date": "2026-01-01 00:00:00", "previous_hash": GENESIS, "hash": GENESIS})
        self.assertTrue(fault.startswith("AccessError: "), fault)
        self.assertEqual(self._call("admin", "o2s.esign.event", "search_read", [("request_id", "=", request_id)],
                                    fields=["hash", "event_type"], order="sequence"), events)
        # Someone with database rights rewrites an event behind Odoo's back: the chain shows it.
        cr = self.env.cr
        cr.execute("ALTER TABLE o2s_esign_event DISABLE TRIGGER o2s_esign_event_append_only")
        cr.execute("UPDATE o2s_esign_event SET event_type = 'signed' WHERE id = %s", [target["id"]])
        cr.execute("ALTER TABLE o2s_esign_event ENABLE TRIGGER o2s_esign_event_append_only")
        self.env.invalidate_all()
        result = self._json_call("admin", "o2s.esign.request", "verify_event_chain", [request_id])
        report = result["result"][str(request_id)]
        self.assertFalse(report["ok"])
        self.assertEqual(report["first_broken"], 2)
