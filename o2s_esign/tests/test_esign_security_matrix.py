# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The rights of README's "Rights" section, checked: every profile against every model of the
module and each operation (read, write, create, unlink); then the signing link's defences
(OTP brute force, sends capped, token guessing) and who may download a request's evidence."""
import base64
import hashlib
import json
import logging
import secrets
import xmlrpc.client
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..lib import otp as lib_otp
from ..tools import internal_write
from .common import make_pdf
from .common_signing import PkiServer
from .esign_portal_common import EsignHttpCommon

PROFILES = ("advisor", "shared", "advisor2", "manager", "options", "subscription", "nobody",
            "portal", "public")

# What each profile may do on each model: (r)ead, (w)rite, (c)reate, (u)nlink. The records
# are those of a request the advisor sent to one of their clients (a draft one for changes
# and deletion), and the wizards the advisor opened; "create" makes a new record of one's
# own (a request for that client, a line of one's own wizard...). "shared" is an advisor both
# requests are shared with; "advisor2" another advisor, who made himself the client's
# salesperson. A profile left out may do nothing. README.md's "Rights" section is this table.
RIGHTS = {
    # the boxes signers sign or fill: as the documents (changed while draft only). First: when
    # checked after the models below, the advisor's own fields came out refused (not understood)
    "o2s.esign.field": {"advisor": "rwcu", "shared": "rwcu", "manager": "rwcu"},
    "o2s.esign.request": {"advisor": "rwcu", "shared": "rwcu", "advisor2": "c", "manager": "rwcu"},
    "o2s.esign.signer": {"advisor": "rwcu", "shared": "rwcu", "manager": "rwcu"},
    "o2s.esign.document": {"advisor": "rwcu", "shared": "rwcu", "manager": "rwcu"},
    # the audit trail: read by who reads the request, written by the signature process only
    "o2s.esign.event": {"advisor": "r", "shared": "r", "manager": "r"},
    "o2s.esign.document.type": {"advisor": "r", "shared": "r", "advisor2": "r", "manager": "rwcu"},
    # where the fields of a document type go: applied in every advisor's wizard, customised by
    # the options management
    "o2s.esign.field.template": {"advisor": "r", "shared": "r", "advisor2": "r", "manager": "r",
                                 "options": "rwcu"},
    # identity documents belong to the contacts of the company, as the contacts themselves
    "o2s.esign.id.document": {"advisor": "rwcu", "shared": "rwcu", "advisor2": "rwcu",
                              "manager": "rwcu"},
    "o2s.esign.compliance": {"advisor": "r", "shared": "r", "advisor2": "r", "manager": "r"},
    # the company's keys: read by the module only, nobody has any right (administrators included)
    "o2s.esign.signing.identity": {},
    # wizards: one's own only
    "o2s.esign.request.wizard": {"advisor": "rwcu", "shared": "c", "advisor2": "c", "manager": "c"},
    "o2s.esign.request.wizard.document": {"advisor": "rwcu", "shared": "c", "advisor2": "c",
                                          "manager": "c"},
    "o2s.esign.request.wizard.signer": {"advisor": "rwcu", "shared": "c", "advisor2": "c",
                                        "manager": "c"},
    "o2s.esign.request.cancel": {"advisor": "rwcu", "shared": "c", "advisor2": "c", "manager": "c"},
    "o2s.esign.identity.import": {"options": "rwc"},
    # billable units: read by the subscription area, written by the signature process only
    "o2s.esign.consumption": {"subscription": "r"},
    # the mail report: read as the requests are, written by the mail queue only
    "o2s.esign.mail.log": {"advisor": "r", "shared": "r", "manager": "r"},
    # the settings page (a transient record of one's own): the options management only
    "o2s.esign.settings": {"options": "rwc"},
}
# Refusals that are not access errors: the audit trail refuses any change, to everyone.
REFUSED_BY_RULE = {("o2s.esign.event", "w"): "Audit events cannot be",
                   ("o2s.esign.event", "u"): "Audit events cannot be",
                   ("o2s.esign.consumption", "w"): "Consumption records cannot be",
                   ("o2s.esign.consumption", "u"): "Consumption records cannot be"}


@tagged("post_install", "-at_install")
class TestEsignRightsMatrix(EsignHttpCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,base.group_partner_manager,"
        cls.options_user = new_test_user(
            cls.env, login="matrix_options", name="Olga Options", email="olga@advisor.example.com",
            groups=groups + "o2s_esign.group_esign_options")
        cls.subscription_user = new_test_user(
            cls.env, login="matrix_subscription", name="Sam Subscription",
            email="sam@advisor.example.com", groups=groups + "o2s_esign.group_esign_subscription")
        cls.portal_user = new_test_user(
            cls.env, login="matrix_portal", name="Paula Portal", email="paula@example.com",
            groups="base.group_portal")
        cls.shared_user = new_test_user(
            cls.env, login="matrix_shared", name="Sue Shared", email="sue@advisor.example.com",
            groups=groups + "o2s_esign.group_esign_user")
        cls.users = {
            "advisor": cls.advisor, "shared": cls.shared_user, "advisor2": cls.advisor2,
            "manager": cls.esign_manager,
            "options": cls.options_user, "subscription": cls.subscription_user,
            "nobody": cls.plain_user, "portal": cls.portal_user,
            "public": cls.env.ref("base.public_user"),
        }
        with PkiServer() as pki:  # only its certificates: a PKCS#12 to import
            cls.p12 = pki.package_pkcs12("seal", password=b"matrix")

    # ------------------------------------------------------------------ records
    def _records(self):
        """The advisor's records every operation works on."""
        sent = self._sent_request()
        draft = self._draft_request()
        (sent | draft).with_user(self.advisor).shared_user_ids = self.shared_user
        # the other advisor makes himself the client's salesperson: it gives him nothing
        self.client.with_user(self.advisor2).user_id = self.advisor2
        Wizard = self.env["o2s.esign.request.wizard"].with_user(self.advisor)
        upload = self.env["ir.attachment"].with_user(self.advisor).create({  # as the upload widget does
            "name": "upload.pdf", "raw": make_pdf("upload"), "res_model": Wizard._name, "res_id": 0})
        wizard = Wizard.create({"partner_ids": [Command.set(self.client.ids)],
                                "partner_id": self.client.id,
                                "upload_attachment_ids": [Command.set(upload.ids)]})
        self.assertTrue(wizard.document_line_ids and wizard.signer_line_ids)
        cancel = self.env["o2s.esign.request.cancel"].with_user(self.advisor).create(
            {"request_ids": [Command.set(sent.ids)]})
        importer = self.env["o2s.esign.identity.import"].with_user(self.options_user).create({
            "company_id": self.company.id, "pkcs12_file": base64.b64encode(self.p12),
            "password": "matrix"})
        identity = self.env["o2s.esign.signing.identity"].sudo().search(
            [("company_id", "=", self.company.id)], limit=1)
        consumption = self.env["o2s.esign.consumption"]._record_sms(
            sent.signer_ids[:1], "outbox", "outbox-1")
        mail_log = self.env["o2s.esign.mail.log"].sudo().search([("request_id", "=", sent.id)], limit=1)
        self.assertTrue(mail_log, "sending the request queued its invitation in the mail report")
        settings = self.env["o2s.esign.settings"].with_user(self.options_user).create({})
        Field = self.env["o2s.esign.field"]
        draft_field = Field.with_user(self.advisor).create({
            "document_id": draft.document_ids[:1].id, "signer_id": draft.signer_ids[:1].id,
            "field_type": "signature", "page": 1, "x": 300, "y": 60, "width": 180, "height": 60})
        with internal_write():  # the request is sent: as a field placed before sending
            sent_field = Field.create({
                "document_id": sent.document_ids[:1].id, "signer_id": sent.signer_ids[:1].id,
                "field_type": "text", "page": 1, "x": 40, "y": 40, "width": 100, "height": 20})
        self.env.flush_all()
        return {"sent": sent, "draft": draft, "wizard": wizard, "cancel": cancel,
                "importer": importer, "identity": identity, "consumption": consumption,
                "mail_log": mail_log, "settings": settings,
                "draft_field": draft_field, "sent_field": sent_field}

    def _own_wizard(self, env):
        return env["o2s.esign.request.wizard"].create({
            "partner_ids": [Command.set(self.client.ids)], "partner_id": self.client.id})

    @staticmethod
    def _line_operations(Model, lines, read, write, create):
        """The four operations on a wizard's ``lines`` (of ``Model``, as its user): read the fields
        ``read``, write ``write``, ``create`` (a callable) and unlink."""
        return {
            "r": lambda: Model.browse(lines.ids).read(read),
            "w": lambda: Model.browse(lines.ids).write(write),
            "c": create,
            "u": lambda: Model.browse(lines.ids).unlink(),
        }

    def _operations(self, model, user, records):
        """The four operations on ``model`` as ``user``, each a callable."""
        env = self.env(user=user)
        Model = env[model]
        sent, draft, wizard = records["sent"], records["draft"], records["wizard"]
        doc_type = self.env.ref("o2s_esign.document_type_contract")
        id_document = self.client.esign_id_document_ids[:1]
        compliance_type = self.env["o2s.esign.document.type"].search([("category", "=", "compliance")], limit=1)
        compliance_id = self.client.id * (1 << 20) + compliance_type.id
        if model == "o2s.esign.request":
            return {
                "r": lambda: Model.browse(sent.id).read(["name", "state"]),
                "w": lambda: Model.browse(draft.id).write({"message": "Hello"}),
                "c": lambda: Model.create({"name": "New", "partner_id": self.client.id}),
                "u": lambda: Model.browse(draft.id).unlink(),
            }
        if model == "o2s.esign.signer":
            return {
                "r": lambda: Model.browse(sent.signer_ids.ids).read(["name", "state"]),
                "w": lambda: Model.browse(draft.signer_ids.ids).write({"presence": "in_person"}),
                "c": lambda: Model.create({"request_id": draft.id, "partner_id": self.client2.id}),
                "u": lambda: Model.browse(draft.signer_ids.ids).unlink(),
            }
        if model == "o2s.esign.document":
            return {
                "r": lambda: Model.browse(sent.document_ids.ids).read(["name", "original_sha256"]),
                "w": lambda: Model.browse(draft.document_ids.ids).write({"name": "renamed.pdf"}),
                "c": lambda: Model.create({
                    "request_id": draft.id, "name": "more.pdf",
                    "original_attachment_id": env["ir.attachment"].create({
                        "name": "more.pdf", "raw": make_pdf("more")}).id}),
                "u": lambda: Model.browse(draft.document_ids.ids).unlink(),
            }
        if model == "o2s.esign.field":
            return {
                "r": lambda: Model.browse(records["sent_field"].ids).read(["field_type", "page", "value"]),
                "w": lambda: Model.browse(records["draft_field"].ids).write({"x": 50}),
                "c": lambda: Model.create({
                    "document_id": draft.document_ids[:1].id, "signer_id": draft.signer_ids[:1].id,
                    "field_type": "text", "page": 1, "x": 40, "y": 40, "width": 100, "height": 20}),
                "u": lambda: Model.browse(records["draft_field"].ids).unlink(),
            }
        if model == "o2s.esign.event":
            event = sent.event_ids[:1]
            return {
                "r": lambda: Model.browse(event.ids).read(["event_type", "hash"]),
                "w": lambda: Model.browse(event.ids).write({"ip_address": "10.0.0.1"}),
                "c": lambda: Model.create({
                    "request_id": sent.id, "sequence": 999, "event_type": "signed",
                    "date": fields.Datetime.now(), "previous_hash": "0" * 64, "hash": "1" * 64}),
                "u": lambda: Model.browse(event.ids).unlink(),
            }
        if model == "o2s.esign.document.type":
            return {
                "r": lambda: Model.browse(doc_type.id).read(["name", "category"]),
                "w": lambda: Model.browse(doc_type.id).write({"description": "Signed contracts"}),
                "c": lambda: Model.create({"name": "Subscription form", "category": "contract"}),
                "u": lambda: Model.browse(doc_type.id).unlink(),
            }
        if model == "o2s.esign.field.template":
            template = self.env[model].create({
                "document_type_id": doc_type.id, "x": 10, "y": 10, "width": 100, "height": 30})
            return {
                "r": lambda: Model.browse(template.id).read(["field_type", "x"]),
                "w": lambda: Model.browse(template.id).write({"x": 20}),
                "c": lambda: Model.create({
                    "document_type_id": doc_type.id, "x": 1, "y": 1, "width": 10, "height": 10}),
                "u": lambda: Model.browse(template.id).unlink(),
            }
        if model == "o2s.esign.id.document":
            return {
                "r": lambda: Model.browse(id_document.id).read(["number", "date_expiry"]),
                "w": lambda: Model.browse(id_document.id).write({"number": "NEW123"}),
                "c": lambda: Model.create({
                    "partner_id": self.client.id, "number": "P123",
                    "date_expiry": fields.Date.today() + timedelta(days=100)}),
                "u": lambda: Model.browse(id_document.id).unlink(),
            }
        if model == "o2s.esign.compliance":
            return {
                "r": lambda: self.assertTrue(Model.search_read(
                    [("partner_id", "=", self.client.id)], ["status", "request_id"])),
                "w": lambda: Model.browse(compliance_id).write({"sequence": 1}),
                "c": lambda: Model.create({"partner_id": self.client.id}),
                "u": lambda: Model.browse(compliance_id).unlink(),
            }
        if model == "o2s.esign.signing.identity":
            identity = records["identity"]
            return {
                "r": lambda: Model.browse(identity.id).read(["ca_subject", "seal_key_encrypted"]),
                "w": lambda: Model.browse(identity.id).write({"active": False}),
                "c": lambda: Model.create({"company_id": self.company.id, "key_ref": "x"}),
                "u": lambda: Model.browse(identity.id).unlink(),
            }
        if model == "o2s.esign.request.wizard":
            return {
                "r": lambda: Model.browse(wizard.id).read(["partner_id", "upload_attachment_ids"]),
                "w": lambda: Model.browse(wizard.id).write({"message": "Hello"}),
                "c": lambda: self._own_wizard(env),
                "u": lambda: Model.browse(wizard.id).unlink(),
            }
        if model == "o2s.esign.request.wizard.document":
            return self._line_operations(Model, wizard.document_line_ids, ["name", "attachment_id"],
                                         {"name": "renamed.pdf"}, lambda: Model.create({
                                             "wizard_id": self._own_wizard(env).id, "name": "mine.pdf",
                                             "document_type_id": doc_type.id,
                                             "attachment_id": env["ir.attachment"].create({
                                                 "name": "mine.pdf", "raw": make_pdf("mine")}).id}))
        if model == "o2s.esign.request.wizard.signer":
            return self._line_operations(Model, wizard.signer_line_ids, ["partner_id", "problems"],
                                         {"presence": "in_person"}, lambda: Model.create({
                                             "wizard_id": self._own_wizard(env).id,
                                             "partner_id": self.client2.id}))
        if model == "o2s.esign.request.cancel":
            cancel = records["cancel"]
            return {
                "r": lambda: Model.browse(cancel.id).read(["request_ids", "reason"]),
                "w": lambda: Model.browse(cancel.id).write({"reason": "Changed my mind"}),
                "c": lambda: Model.create({"request_ids": [Command.set(draft.ids)]}),
                "u": lambda: Model.browse(cancel.id).unlink(),
            }
        if model == "o2s.esign.identity.import":
            importer = records["importer"]
            return {
                "r": lambda: Model.browse(importer.id).read(["summary"]),
                "w": lambda: Model.browse(importer.id).write({"pkcs12_filename": "seal.p12"}),
                "c": lambda: Model.create({
                    "company_id": self.company.id, "pkcs12_file": base64.b64encode(self.p12),
                    "password": "matrix"}),
                "u": lambda: Model.browse(importer.id).unlink(),
            }
        if model == "o2s.esign.consumption":
            unit = records["consumption"]
            return {
                "r": lambda: Model.browse(unit.id).read(["kind", "request_reference", "sms_count"]),
                "w": lambda: Model.browse(unit.id).write({"sms_count": 0}),
                "c": lambda: Model.create({
                    "company_id": self.company.id, "kind": "sms", "request_id": sent.id}),
                "u": lambda: Model.browse(unit.id).unlink(),
            }
        if model == "o2s.esign.mail.log":
            log = records["mail_log"]
            return {
                "r": lambda: Model.browse(log.id).read(["subject", "state", "failure_reason"]),
                "w": lambda: Model.browse(log.id).write({"state": "sent"}),
                "c": lambda: Model.create({"request_id": sent.id, "subject": "Forged",
                                           "kind": "other"}),
                "u": lambda: Model.browse(log.id).unlink(),
            }
        if model == "o2s.esign.settings":
            page = records["settings"]
            return {
                "r": lambda: Model.browse(page.id).read(["esign_sms_sender", "esign_validity_days"]),
                "w": lambda: Model.browse(page.id).write({"esign_validity_days": 45}),
                "c": lambda: Model.create({}),
                "u": lambda: Model.browse(page.id).unlink(),
            }
        raise AssertionError("no operations for %s" % model)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule",
                 "odoo.models.unlink")
    def test_rights_matrix(self):
        records = self._records()
        module_models = set(self.env["ir.model"].search([
            ("model", "=like", "o2s.esign.%"), ("transient", "in", (True, False))]).mapped("model"))
        abstract = {name for name in module_models if self.env[name]._abstract}
        self.assertEqual(module_models - abstract, set(RIGHTS),
                         "every model of the module is in the table (and in README's Rights)")
        checked, wrong = [], []
        for model, rights in RIGHTS.items():
            for profile in PROFILES:
                allowed = rights.get(profile, "")
                operations = self._operations(model, self.users[profile], records)
                for letter in "rwcu":
                    outcome = self._result_of(operations[letter])
                    if letter in allowed:
                        expected = "done"
                    elif (model, letter) in REFUSED_BY_RULE:
                        expected = "UserError: " + REFUSED_BY_RULE[model, letter]
                    else:
                        expected = "AccessError"
                    if not outcome.startswith(expected):
                        wrong.append("%s %s %s: expected %s, got %s" % (
                            model, profile, letter, expected, outcome))
                    checked.append((model, profile, letter))
        self.assertFalse(wrong, "\n".join(wrong))
        self.assertEqual(len(checked), len(RIGHTS) * len(PROFILES) * 4)

    def _result_of(self, operation):
        """What an operation gives, rolled back: "done", "AccessError", "UserError: ..."."""
        try:
            with self.env.cr.savepoint(flush=False) as savepoint:
                try:
                    operation()
                    self.env.flush_all()
                    return "done"
                except AccessError:
                    return "AccessError"
                except UserError as exc:
                    return "UserError: %s" % exc.args[0]
                finally:
                    savepoint.rollback()
        finally:
            self.env.invalidate_all()

    def test_readme_documents_the_table(self):
        """README's Rights table says the same as RIGHTS (a change updates both)."""
        import pathlib
        readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
        section = readme.split("## Rights", 1)[1].split("\n## ", 1)[0]
        rows = {}
        for line in section.splitlines():
            cells = [cell.strip(" `") for cell in line.strip().strip("|").split("|")]
            if len(cells) == 1 + len(PROFILES) and cells[0].startswith("o2s.esign."):
                rows[cells[0]] = dict(zip(PROFILES, [c.replace("–", "") for c in cells[1:]],
                                          strict=True))
        self.assertEqual(set(rows), set(RIGHTS))
        for model, rights in RIGHTS.items():
            self.assertEqual(rows[model], {p: rights.get(p, "") for p in PROFILES}, model)


@tagged("post_install", "-at_install")
class TestEsignLinkDefences(EsignHttpCommon):
    """What stops someone who has a signing link but not the phone, or has no link at all."""

    def setUp(self):
        super().setUp()
        self._keep_sent_request()

    def test_five_wrong_codes_lock_the_code_over_http(self):
        csrf, token = self._open(self.signer)
        self.assertTrue(self._call(self.signer, "send_code", token=token, csrf_token=csrf).get("ok"))
        right = self._last_code(self.signer)
        wrong = "%06d" % ((int(right) + 1) % 1_000_000)
        for attempt in range(1, 6):
            result = self._call(self.signer, "verify_code", token=token, csrf_token=csrf, code=wrong)
            self.assertIn("Wrong code", result["error"])
            self.assertEqual(result["remaining"], 5 - attempt)
        self.assertTrue(result["locked"])
        # the right code no longer works: a new one must be sent
        result = self._call(self.signer, "verify_code", token=token, csrf_token=csrf, code=right)
        self.assertIn("locked", result["error"])
        result = self._call(self.signer, "sign", token=token, csrf_token=csrf, **self._sign_values(self.signer))
        self.assertTrue(result.get("reset_code"))
        self.assertEqual(self.signer.state, "pending")
        self.assertEqual(len(self._events(self.request, "otp_failed")), 6)
        self.assertEqual(len(self._events(self.request, "otp_locked")), 1)
        self.assertFalse(self._events(self.request, "otp_verified"))

    def test_code_sends_are_capped_over_http(self):
        csrf, token = self._open(self.signer)
        self.assertTrue(self._call(self.signer, "send_code", token=token, csrf_token=csrf).get("ok"))
        result = self._call(self.signer, "send_code", token=token, csrf_token=csrf)
        self.assertIn("less than a minute ago", result["error"])
        self.assertGreater(result["retry_after"], 0)
        # four codes sent in the last hour, the latest two minutes ago: a fifth may leave...
        now = fields.Datetime.now()
        history = [now - timedelta(minutes=minutes) for minutes in (50, 40, 30, 2)]
        with internal_write():
            self.signer.sudo().write({"otp_send_times": json.dumps(
                [fields.Datetime.to_string(moment) for moment in history]),
                "otp_issued_at": history[-1]})
        self.gateway.messages.clear()
        self.assertTrue(self._call(self.signer, "send_code", token=token, csrf_token=csrf).get("ok"))
        # ... and not a sixth, even once the minute has passed
        history.append(now - timedelta(minutes=1, seconds=30))
        with internal_write():
            self.signer.sudo().write({"otp_send_times": json.dumps(
                [fields.Datetime.to_string(moment) for moment in history]),
                "otp_issued_at": history[-1]})
        result = self._call(self.signer, "send_code", token=token, csrf_token=csrf)
        self.assertIn("Too many codes", result["error"])
        self.assertEqual(len(self.gateway.messages), 1)
        self.assertEqual(len(self._events(self.request, "otp_send_refused")), 2)

    def test_token_guessing_gets_nothing(self):
        token = self.signer._get_signing_token()
        other = self._sent_request(partner=self.client2).sudo().signer_ids
        csrf = self._csrf(self._fetch(self._path(other)))
        guesses = [secrets.token_urlsafe(32) for _i in range(20)]  # the real tokens' length
        guesses += ["", "x", token[:20], token + "=", "../" + token, "%s" % ("A" * 43)]
        events_before = len(self._events(self.request))
        with patch("odoo.addons.o2s_esign.lib.otp.hmac.compare_digest",
                   wraps=lib_otp.hmac.compare_digest) as compare, \
                self.assertLogs("werkzeug", logging.INFO) as logs:  # (Odoo renames level 25 "INFO")
            for guess in guesses:
                path = "/esign/sign/%s/%s" % (self.signer.id, guess)
                response = self._fetch(path)
                self.assertIn(response.status_code, (404, 405), guess)
                self.assertNotIn("Test request", response.text)
                self.assertEqual(self._fetch(path + "/document/%s" % self.request.document_ids.id)
                                 .status_code, 404)
                result = self._call(self.signer, "send_code", token=guess, csrf_token=csrf)
                self.assertIn("not valid", result["error"])
        # every full-length guess was compared in constant time (hmac.compare_digest)
        self.assertGreaterEqual(compare.call_count, 20 * 3)
        self.assertEqual(len(self._events(self.request)), events_before, "nothing logged in the trail")
        self.assertFalse(self._sms_to(self.signer.mobile))
        output = "\n".join(logs.output)
        for guess in guesses:
            if len(guess) >= 20:
                self.assertNotIn(guess, output, "a guessed token reached the log")
        self.assertIn("/esign/sign/%s/[redacted]" % self.signer.id, output)

    def test_links_are_unguessable(self):
        """256-bit tokens, distinct per signer and per request, derived from a secret the
        database does not hold (a stolen database gives no link)."""
        tokens = {signer._get_signing_token() for signer in (
            self.signer, *(self._sent_request().sudo().signer_ids for _i in range(3)))}
        self.assertEqual(len(tokens), 4)
        for token in tokens:
            self.assertRegex(token, r"\A[A-Za-z0-9_-]{43}\Z")
        self.env.flush_all()
        self.env.cr.execute("SELECT row_to_json(s)::text FROM o2s_esign_signer s")
        dump = "\n".join(row[0] for row in self.env.cr.fetchall())
        for token in tokens:
            self.assertNotIn(token, dump)


@tagged("post_install", "-at_install")
class TestEsignEvidenceAccess(EsignHttpCommon):
    """The evidence of a request: downloadable by who may read the request, nobody else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the signer has a portal account on their own contact: /my lists their requests
        cls.portal_signer_user = new_test_user(
            cls.env, login="evidence_portal", groups="base.group_portal",
            partner_id=cls.client.id)

    def _signed_request(self):
        request = self._sent_request().sudo()
        self._sign(request.signer_ids)
        self.assertEqual(request.state, "signed")
        self.assertTrue(request.evidence_attachment_id)
        return request

    def _download(self, login, url):
        if login:
            self.authenticate(login, login)
        else:
            self.authenticate(None, None)
        return self.url_open(url, allow_redirects=False)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule",
                 "odoo.http")
    def test_evidence_only_for_readers_of_the_request(self):
        request = self._signed_request()
        signer = request.signer_ids
        evidence = request.evidence_attachment_id
        signer.with_user(self.advisor).action_download_attestation()
        urls = {
            "zip": "/esign/evidence/%d/download" % request.id,
            "attestation": "/esign/evidence/%d/attestation/%d" % (request.id, signer.id),
            "content": "/web/content/%d?download=true" % evidence.id,
        }
        zip_start = b"PK\x03\x04"
        for login in ("esign_advisor", "esign_manager"):
            for kind, url in urls.items():
                response = self._download(login, url)
                self.assertEqual(response.status_code, 200, (login, kind))
                self.assertTrue(response.content.startswith(b"%PDF" if kind == "attestation" else zip_start))
        for login in ("esign_advisor2", "esign_nobody", "evidence_portal", None):
            for kind, url in urls.items():
                response = self._download(login, url)
                self.assertNotEqual(response.status_code, 200, (login, kind))
                self.assertFalse(response.content.startswith(zip_start), (login, kind))
                self.assertNotIn(b"%PDF", response.content[:16], (login, kind))
        # through the models as well
        for user in (self.advisor2, self.plain_user):
            with self.assertRaises(AccessError):
                request.with_user(user).action_download_evidence()
            with self.assertRaises(AccessError):
                evidence.with_user(user).read(["datas"])
        # the signer's page never offers the evidence, and /my lists the request without it
        self.authenticate("evidence_portal", "evidence_portal")
        html = self.url_open("/my/signatures").text
        self.assertEqual(html.count("o_esign_my_entry"), 1)
        self.assertIn(request.name, html)
        self.assertNotIn("/esign/evidence/", html)
        self.assertNotIn("/web/content/%d" % evidence.id, html)


# Fault codes of Odoo's XML-RPC (odoo/addons/base/controllers/rpc.py).
FAULT_KINDS = {2: "UserError", 4: "AccessError"}


@tagged("post_install", "-at_install")
class TestEsignAdvisorBoundaries(EsignHttpCommon):
    """What one advisor (Bob) can reach of another's (Alice's) requests over the real server
    path, as an attacker would: XML-RPC, and HTTP downloads with his own session."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Carl: a third advisor, for sharing
        cls.advisor3 = new_test_user(
            cls.env, login="esign_advisor3", name="Carl Advisor", email="carl@advisor.example.com",
            groups="base.group_user,base.group_partner_manager,o2s_esign.group_esign_user")
        (cls.advisor | cls.advisor2 | cls.advisor3 | cls.esign_manager | cls.plain_user).lang = "en_US"

    # ------------------------------------------------------------------ helpers
    def _rpc(self, login, model, method, *args, **kwargs):
        """One execute_kw over XML-RPC as ``login`` (password = login for test users)."""
        self.env.flush_all()
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        self.assertTrue(uid, login)
        # as a client sends them: x2many commands as plain lists of numbers
        args, kwargs = json.loads(json.dumps([list(args), kwargs]))
        try:
            return self.xmlrpc_object.execute_kw(db, uid, login, model, method, args, kwargs)
        finally:
            self.env.invalidate_all()

    def _rpc_fault(self, login, model, method, *args, **kwargs):
        """The error of a call: "UserError: ..." or "AccessError: ..." (from the fault code)."""
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(login, model, method, *args, **kwargs)
        kind = FAULT_KINDS.get(caught.exception.faultCode, "Fault %s" % caught.exception.faultCode)
        return "%s: %s" % (kind, caught.exception.faultString)

    def _get(self, login, url):
        """GET ``url`` with ``login``'s own session."""
        self.env.flush_all()
        self.authenticate(login, login)
        response = self.url_open(url, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _bobs_draft(self):
        """A draft Bob makes over XML-RPC for one of his own clients, with his own PDF."""
        bob_client = self._make_client("Paul Petit", "paul@example.com", "+33634567890",
                                       salesperson=self.advisor2)
        bob_client.lang = "en_US"
        own_pdf = make_pdf("Bob's own document")
        attachment_id = self._rpc("esign_advisor2", "ir.attachment", "create", {
            "name": "mine.pdf", "datas": base64.b64encode(own_pdf).decode(),
            "mimetype": "application/pdf"})
        draft_id = self._rpc("esign_advisor2", "o2s.esign.request", "create", {
            "name": "Bob's draft", "partner_id": bob_client.id,
            "document_ids": [Command.create({"name": "mine.pdf",
                                             "original_attachment_id": attachment_id})],
            "signer_ids": [Command.create({"partner_id": bob_client.id})]})
        draft = self.env["o2s.esign.request"].browse(draft_id)
        return draft, own_pdf

    def _assert_no_access(self, login, request):
        """``login`` reaches nothing of ``request`` over XML-RPC nor over HTTP."""
        request = request.sudo()
        for model, records in (("o2s.esign.request", request),
                               ("o2s.esign.signer", request.signer_ids),
                               ("o2s.esign.document", request.document_ids),
                               ("o2s.esign.event", request.event_ids)):
            self.assertTrue(records, model)
            field = "request_id" if model != "o2s.esign.request" else "id"
            self.assertFalse(self._rpc(login, model, "search_read", [(field, "=", request.id)],
                                       fields=["id"]), (login, model))
            self.assertTrue(self._rpc_fault(login, model, "read", records.ids, ["id"])
                            .startswith("AccessError"), (login, model))
        self.assertFalse(self._rpc(login, "o2s.esign.mail.log", "search_read",
                                   [("request_id", "=", request.id)], fields=["id"]))
        self.assertTrue(self._rpc_fault(login, "o2s.esign.request", "action_cancel", request.ids)
                        .startswith("AccessError"))
        self.assertTrue(self._rpc_fault(
            login, "o2s.esign.request", "write", request.ids,
            {"shared_user_ids": [Command.link(self.env.ref("base.user_admin").id)]},
        ).startswith("AccessError"))
        # Over JSON-RPC, as the web client reads it: the compliance rows' ids (partner id x
        # 2^20 + document type) outgrow XML-RPC's 32-bit integers once partner ids pass 2047.
        self.authenticate(login, login)
        rows = self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "o2s.esign.compliance", "method": "search_read",
            "args": [[("partner_id", "=", request.partner_id.id)]],
            "kwargs": {"fields": ["request_id"]}})
        self.assertTrue(rows, "the client's compliance rows are listed, without the request")
        self.assertNotIn(request.id, [row["request_id"] and row["request_id"][0] for row in rows])
        files = (request.document_ids.original_attachment_id
                 | request.document_ids.prepared_attachment_id
                 | request.document_ids.signed_attachment_id | request.evidence_attachment_id)
        self.assertFalse(self._rpc(login, "ir.attachment", "search_read",
                                   [("id", "in", files.ids)], fields=["id"]))
        urls = ["/web/content/%d?download=true" % attachment.id for attachment in files]
        urls.append("/esign/evidence/%d/download" % request.id)
        for url in urls:
            response = self._get(login, url)
            self.assertNotEqual(response.status_code, 200, (login, url))
            self.assertNotIn(b"%PDF", response.content[:16], (login, url))
            self.assertFalse(response.content.startswith(b"PK\x03\x04"), (login, url))

    # -------------------------------------------------------------------- tests
    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_another_advisors_file_cannot_be_taken_through_ones_draft(self):
        alices = self._sent_request().sudo()
        alices_files = (alices.document_ids.original_attachment_id
                        | alices.document_ids.prepared_attachment_id)
        draft, own_pdf = self._bobs_draft()
        document = draft.document_ids
        for target in alices_files:
            # on the document itself, and through the request's lines
            fault = self._rpc_fault("esign_advisor2", "o2s.esign.document", "write",
                                    document.ids, {"original_attachment_id": target.id})
            self.assertTrue(fault.startswith("AccessError"), fault)
            fault = self._rpc_fault("esign_advisor2", "o2s.esign.request", "write", draft.ids, {
                "document_ids": [Command.update(document.id, {"original_attachment_id": target.id})]})
            self.assertTrue(fault.startswith("AccessError"), fault)
            fault = self._rpc_fault("esign_advisor2", "o2s.esign.document", "create", {
                "request_id": draft.id, "name": "theirs.pdf", "original_attachment_id": target.id})
            self.assertTrue(fault.startswith("AccessError"), fault)
        # Bob sends his draft and downloads what was prepared: his own file, nothing of Alice's
        self._rpc("esign_advisor2", "o2s.esign.request", "action_send", draft.ids)
        self.assertEqual(draft.state, "in_progress")
        self.assertEqual(len(draft.document_ids), 1)
        prepared = draft.document_ids.prepared_attachment_id
        response = self._get("esign_advisor2", "/web/content/%d?download=true" % prepared.id)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(draft.document_ids.original_attachment_id.raw, own_pdf)
        self.assertEqual(draft.document_ids.original_sha256, hashlib.sha256(own_pdf).hexdigest())
        theirs = {hashlib.sha256(attachment.raw).hexdigest() for attachment in alices_files}
        self.assertNotIn(hashlib.sha256(response.content).hexdigest(), theirs)
        self.assertNotIn(draft.document_ids.original_sha256, theirs)

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_a_file_set_on_a_draft_is_copied_when_set(self):
        """A file of another record the advisor may read (the client's) is copied when it is
        set, as on create: what is sent does not change when the client's file does."""
        draft, _own_pdf = self._bobs_draft()
        client_pdf = make_pdf("The client's own file")
        source = self.env["ir.attachment"].create({
            "name": "client.pdf", "raw": client_pdf, "mimetype": "application/pdf",
            "res_model": "res.partner", "res_id": self.client2.id})
        self._rpc("esign_advisor2", "o2s.esign.document", "write", draft.document_ids.ids,
                  {"original_attachment_id": source.id})
        original = draft.document_ids.original_attachment_id
        self.assertNotEqual(original, source)
        self.assertEqual((original.res_model, original.res_id),
                         ("o2s.esign.document", draft.document_ids.id))
        self.assertEqual(original.raw, client_pdf)
        source.write({"raw": make_pdf("Changed afterwards")})
        self._rpc("esign_advisor2", "o2s.esign.request", "action_send", draft.ids)
        self.assertEqual(draft.document_ids.original_sha256, hashlib.sha256(client_pdf).hexdigest())

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_becoming_the_clients_salesperson_gives_nothing(self):
        request = self._sent_request().sudo()  # Alice's, for her client
        request.with_user(self.advisor).action_cancel(reason="For the evidence")
        self._rpc("esign_advisor", "o2s.esign.request", "action_save_evidence_to_partner",
                  request.ids)
        self.assertTrue(request.evidence_attachment_id)
        # Bob makes himself the client's salesperson (any user with contact rights may)
        self._rpc("esign_advisor2", "res.partner", "write", self.client.ids,
                  {"user_id": self.advisor2.id})
        self.assertEqual(self.client.user_id, self.advisor2)
        self._assert_no_access("esign_advisor2", request)
        self.assertEqual(self._rpc("esign_advisor2", "o2s.esign.request", "get_esign_home_data")
                         ["total"], 0)
        self.assertFalse(self._rpc(
            "esign_advisor2", "ir.attachment", "search_read",
            [("res_model", "=", "res.partner"), ("res_id", "=", self.client.id)], fields=["name"]))
        # nor may he name himself advisor of it, or of her other requests
        fault = self._rpc_fault("esign_advisor2", "o2s.esign.request", "write", request.ids,
                                {"user_id": self.advisor2.id})
        self.assertTrue(fault.startswith("AccessError"), fault)
        self.assertEqual(request.user_id, self.advisor)
        # Alice still has all of it
        self.assertEqual(self._rpc("esign_advisor", "o2s.esign.request", "search_count",
                                   [("id", "=", request.id)]), 1)
        response = self._get("esign_advisor", "/esign/evidence/%d/download" % request.id)
        self.assertEqual(response.status_code, 200)

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_sharing_grants_access_and_is_logged(self):
        request = self._sent_request().sudo()  # Alice's
        self._assert_no_access("esign_advisor2", request)
        events_before = len(request.event_ids)
        self._rpc("esign_advisor", "o2s.esign.request", "write", request.ids,
                  {"shared_user_ids": [Command.link(self.advisor2.id)]})
        self.assertEqual(request.shared_user_ids, self.advisor2)
        [shared] = self._events(request, "sharing_changed")
        self.assertEqual(self._payload(shared), {
            "user_id": self.advisor.id, "user": "Alice Advisor",
            "added": [{"id": self.advisor2.id, "name": "Bob Advisor"}], "removed": [],
            "shared_with": [{"id": self.advisor2.id, "name": "Bob Advisor"}]})
        # Bob now follows it: the request, its signers, documents and trail, its files
        for model, records in (("o2s.esign.request", request),
                               ("o2s.esign.signer", request.signer_ids),
                               ("o2s.esign.document", request.document_ids),
                               ("o2s.esign.event", request.event_ids)):
            self.assertEqual(len(self._rpc("esign_advisor2", model, "read", records.ids, ["id"])),
                             len(records), model)
        prepared = request.document_ids.prepared_attachment_id
        self.assertEqual(self._get("esign_advisor2", "/web/content/%d" % prepared.id).status_code, 200)
        # ... but neither shares it further nor takes it over
        for values in ({"shared_user_ids": [Command.link(self.advisor3.id)]},
                       {"shared_user_ids": [Command.unlink(self.advisor2.id)]},
                       {"user_id": self.advisor2.id}):
            fault = self._rpc_fault("esign_advisor2", "o2s.esign.request", "write", request.ids, values)
            self.assertTrue(fault.startswith("AccessError: Only the advisor"), fault)
        self.assertEqual((request.user_id, request.shared_user_ids), (self.advisor, self.advisor2))
        # only E-signature users can be given a request
        fault = self._rpc_fault("esign_advisor", "o2s.esign.request", "write", request.ids,
                                {"shared_user_ids": [Command.link(self.plain_user.id)]})
        self.assertTrue(fault.startswith("UserError: A signature request can only be shared"), fault)
        # an administrator hands it over to Carl: logged; Alice keeps nothing of it
        self._rpc("esign_manager", "o2s.esign.request", "write", request.ids,
                  {"user_id": self.advisor3.id})
        [changed] = self._events(request, "advisor_changed")
        self.assertEqual(self._payload(changed), {
            "user_id": self.esign_manager.id, "user": "Mona Manager",
            "old_advisor": {"id": self.advisor.id, "name": "Alice Advisor"},
            "new_advisor": {"id": self.advisor3.id, "name": "Carl Advisor"}})
        self._assert_no_access("esign_advisor", request)
        # Carl, the advisor now, stops sharing it with Bob: logged, Bob loses it
        self._rpc("esign_advisor3", "o2s.esign.request", "write", request.ids,
                  {"shared_user_ids": [Command.clear()]})
        removal = self._events(request, "sharing_changed")[-1]
        self.assertEqual(self._payload(removal)["removed"],
                         [{"id": self.advisor2.id, "name": "Bob Advisor"}])
        self.assertEqual(self._payload(removal)["shared_with"], [])
        self._assert_no_access("esign_advisor2", request)
        self.assertEqual(len(request.event_ids), events_before + 3)
        self.assertTrue(self.env["o2s.esign.event"]._verify_chain(request)["ok"])

    def test_a_drafts_advisor_and_sharing_are_in_its_created_event(self):
        """A draft has no audit trail yet (and stays deletable): the event of its sending
        names its advisor and whom it is shared with."""
        throwaway = self._draft_request()
        self._rpc("esign_advisor", "o2s.esign.request", "write", throwaway.ids,
                  {"shared_user_ids": [(4, self.advisor2.id)]})
        self.assertFalse(throwaway.sudo().event_ids)
        self._rpc("esign_advisor2", "o2s.esign.request", "unlink", throwaway.ids)
        self.assertFalse(throwaway.exists())
        draft = self._draft_request()
        self._rpc("esign_advisor", "o2s.esign.request", "write", draft.ids,
                  {"shared_user_ids": [(4, self.advisor2.id)]})
        self._rpc("esign_advisor2", "o2s.esign.request", "action_send", draft.ids)
        created = self._payload(self._events(draft, "created"))
        self.assertEqual(created["advisor"], {"id": self.advisor.id, "name": "Alice Advisor"})
        self.assertEqual(created["shared_with"], [{"id": self.advisor2.id, "name": "Bob Advisor"}])
        self.assertEqual(created["user_id"], self.advisor2.id, "sent by Bob")

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_saved_evidence_only_for_readers_of_the_request(self):
        request = self._sent_request().sudo()
        request.with_user(self.advisor).action_cancel(reason="For the evidence")
        self._rpc("esign_advisor", "o2s.esign.request", "action_save_evidence_to_partner",
                  request.ids)
        saved = self.env["ir.attachment"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.client.id),
            ("esign_request_id", "=", request.id)])
        self.assertEqual(len(saved), 1)
        on_contact = [("res_model", "=", "res.partner"), ("res_id", "=", self.client.id)]
        # the advisor finds it among the contact's attachments, and downloads it
        rows = self._rpc("esign_advisor", "ir.attachment", "search_read", on_contact,
                         fields=["name", "description"])
        self.assertEqual([row["id"] for row in rows], saved.ids)
        response = self._get("esign_advisor", "/web/content/%d?download=true" % saved.id)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"PK\x03\x04"))
        # nobody else does: no E-signature right, another advisor (salesperson or not)
        self.client.user_id = self.advisor2
        for login in ("esign_nobody", "esign_advisor2"):
            self.assertFalse(self._rpc(login, "ir.attachment", "search_read", on_contact,
                                       fields=["name"]), login)
            self.assertFalse(self._rpc(login, "ir.attachment", "search_read",
                                       [("id", "=", saved.id)], fields=["name"]), login)
            self.assertEqual(self._rpc(login, "ir.attachment", "search_count",
                                       [("description", "=", saved.description)]), 0, login)
            fault = self._rpc_fault(login, "ir.attachment", "read", saved.ids, ["datas"])
            self.assertTrue(fault.startswith("AccessError"), (login, fault))
            for method, args in (("write", [{"name": "renamed.zip"}]), ("unlink", [])):
                fault = self._rpc_fault(login, "ir.attachment", method, saved.ids, *args)
                self.assertTrue(fault.startswith("AccessError"), (login, method, fault))
            fault = self._rpc_fault(login, "ir.attachment", "write", saved.ids,
                                    {"esign_request_id": False})
            self.assertTrue(fault.startswith(("AccessError", "UserError")), (login, fault))
            response = self._get(login, "/web/content/%d?download=true" % saved.id)
            self.assertNotEqual(response.status_code, 200, login)
            self.assertFalse(response.content.startswith(b"PK\x03\x04"), login)
        self.assertTrue(saved.exists())
        self.assertEqual(saved.esign_request_id, request)
        # nor can anyone file a copy of their own choosing, or unlink one from its request
        fault = self._rpc_fault("esign_advisor", "ir.attachment", "write", saved.ids,
                                {"esign_request_id": False})
        self.assertTrue(fault.startswith("UserError: Only the signature process"), fault)
        # shared with Bob: he finds it too
        request.with_user(self.advisor).shared_user_ids = self.advisor2
        rows = self._rpc("esign_advisor2", "ir.attachment", "search_read", on_contact,
                         fields=["name"])
        self.assertEqual([row["id"] for row in rows], saved.ids)
