# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The hostile-input corpus of tests/fixtures/hostile through the real entry points: the send
wizard, ``create_and_send`` (what the external API calls) and the signing page. Each refused
input gets its clear error and leaves nothing behind (no request, document, signer, event,
attachment, mail or message more); each accepted one is stored cleaned or as typed, and is never
rendered as markup: signing page, invitation mails, chatter, activities, verification page,
signed PDFs and the evidence file."""
import base64
import gzip
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import make_pdf
from .common_signing import PYHANKO_LOGGERS
from .esign_portal_common import EsignHttpCommon, load_support

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hostile"
sigcheck = load_support("sigcheck")

#: what must never appear in a rendered page, mail or PDF: the payloads as live markup
LIVE_MARKUP = (re.compile(r"<script>alert\(", re.I), re.compile(r"<img src=x onerror", re.I),
               re.compile(r"<a href=\"javascript:", re.I))


def load_cases(kind=None, expect=None):
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    cases = []
    for case in manifest["cases"]:
        if (kind and case["kind"] != kind) or (expect and case["expect"] != expect):
            continue
        case = dict(case)
        value = case.get("value")
        if isinstance(value, dict):
            case["value"] = value["repeat"] * value["count"]
        cases.append(case)
    return cases


def case_pdf(case):
    data = (CORPUS / case["file"]).read_bytes()
    return gzip.decompress(data) if case["file"].endswith(".gz") else data


@tagged("post_install", "-at_install")
class TestEsignHostileInput(EsignHttpCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.good_pdf = make_pdf("Contrat")

    # ----------------------------------------------------------------- helpers
    def _counts(self):
        """How many of everything a refused input must not leave behind."""
        env = self.env(su=True, context=dict(self.env.context, active_test=False))
        self.env.flush_all()
        return {model: env[model].search_count([]) for model in (
            "o2s.esign.request", "o2s.esign.document", "o2s.esign.signer", "o2s.esign.event",
            "ir.attachment", "mail.mail", "mail.message", "mail.activity")}

    def _values(self, partner=None, name="Contrat", message=False, file_name="contrat.pdf",
                data=None):
        return {
            "partner_id": (partner or self.client).id, "name": name, "message": message,
            "documents": [{"name": file_name, "datas": base64.b64encode(
                self.good_pdf if data is None else data).decode()}],
        }

    def _refused_by_api(self, case, values):
        """create_and_send refuses with the case's message and leaves nothing behind."""
        before = self._counts()
        with self.assertRaises(UserError, msg=case["id"]) as caught:
            self.env["o2s.esign.request"].with_user(self.advisor).create_and_send(values)
        self.assertIn(case["message"], str(caught.exception), case["id"])
        self.assertEqual(self._counts(), before, case["id"])

    def _wizard(self, file_name="contrat.pdf", data=None, **values):
        """The send wizard as an advisor fills it, with one uploaded file."""
        upload = self.env["ir.attachment"].with_user(self.advisor).create({
            "name": file_name, "raw": self.good_pdf if data is None else data,
            "res_model": "o2s.esign.request.wizard", "res_id": 0})
        return self.env["o2s.esign.request.wizard"].with_user(self.advisor).create(dict({
            "partner_ids": [Command.set(self.client.ids)], "partner_id": self.client.id,
            "upload_attachment_ids": [Command.set(upload.ids)]}, **values))

    def _refused_by_wizard(self, case, wizard):
        before = self._counts()
        with self.assertRaises(UserError, msg=case["id"]) as caught:
            wizard.action_send()
        self.assertIn(case["message"], str(caught.exception), case["id"])
        self.assertEqual(self._counts(), before, case["id"])

    def assertNoLiveMarkup(self, text, where):
        for pattern in LIVE_MARKUP:
            self.assertFalse(pattern.search(text or ""), "%s renders %s" % (where, pattern.pattern))

    # -------------------------------------------------------------- the corpus
    def test_corpus_is_complete(self):
        cases = load_cases()
        self.assertGreaterEqual(len(cases), 30)
        self.assertEqual({c["kind"] for c in cases}, {
            "pdf", "file_name", "subject", "message", "reason", "typed_name", "signer_name",
            "phone", "email"})
        self.assertEqual(len({c["id"] for c in cases}), len(cases))

    # -------------------------------------------------------------------- PDFs
    def test_bad_pdfs_through_the_api(self):
        cases = load_cases("pdf", "refused")
        self.assertGreaterEqual(len(cases), 15)
        for case in cases:
            self._refused_by_api(case, self._values(file_name="%s.pdf" % case["id"], data=case_pdf(case)))

    def test_bad_pdfs_through_the_wizard(self):
        for case in load_cases("pdf", "refused"):
            wizard = self._wizard(file_name="%s.pdf" % case["id"], data=case_pdf(case))
            self._refused_by_wizard(case, wizard)

    def test_active_protected_and_damaged_pdfs_are_made_signable(self):
        """Issue 16: scripts and actions are removed, an owner password is removed, a damaged
        structure is rebuilt; the request is sent with the upload kept next to the PDF."""
        import pikepdf

        cases = [case for case in load_cases("pdf") if case["expect"] != "refused"]
        self.assertGreaterEqual(len(cases), 12)
        api = self.env["o2s.esign.request"].with_user(self.advisor)
        for case in cases:
            data = case_pdf(case)
            request = api.browse(api.create_and_send(
                self._values(file_name="%s.pdf" % case["id"], data=data)))
            document = request.document_ids
            self.assertEqual(request.state, "in_progress", case["id"])
            self.assertEqual(document.source_attachment_id.raw, data, case["id"])
            flag = {"neutralised": bool(document.conversion_removed),
                    "decrypted": document.conversion_decrypted,
                    "repaired": document.conversion_repaired}[case["expect"]]
            self.assertTrue(flag, case["id"])
            with pikepdf.open(io.BytesIO(document.original_attachment_id.raw)) as pdf:
                self.assertFalse(pdf.is_encrypted, case["id"])
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Dictionary):
                        self.assertFalse({"/JS", "/AA", "/XFA"} & set(obj.keys()), case["id"])

    # ----------------------------------------------------- subject and message
    def test_bad_subjects_and_messages(self):
        cases = load_cases("subject", "refused") + load_cases("message", "refused")
        self.assertEqual(len(cases), 4)
        for case in cases:
            field = "name" if case["kind"] == "subject" else "message"
            self._refused_by_api(case, self._values(**{field: case["value"]}))
            if "\x00" in case["value"]:  # not even stored in the wizard
                with self.assertRaisesRegex(UserError, "cannot be used"):
                    self._wizard(**{field: case["value"]})
            elif case["id"] == "subject-huge":  # the wizard keeps the first 250 characters
                action = self._wizard(name=case["value"]).action_send()
                self.assertEqual(self.env["o2s.esign.request"].browse(action["res_id"]).name,
                                 case["value"][:250])
            else:
                self._refused_by_wizard(case, self._wizard(**{field: case["value"]}))
        # and a plain create (the draft, over the API) gets an error, not a server error
        with self.assertRaisesRegex(UserError, "cannot be used"):
            self.env["o2s.esign.request"].with_user(self.advisor).create(
                {"name": "Contrat\x00", "partner_id": self.client.id})

    def test_cancel_reason_with_control_characters(self):
        request = self._sent_request()
        with self.assertRaisesRegex(UserError, "cannot be used"):
            request.with_user(self.advisor).action_cancel(reason="Fini\x00")
        self.assertEqual(request.state, "in_progress")

    # ---------------------------------------------------------- contacts' data
    def test_bad_phones_and_emails(self):
        cases = load_cases("phone") + load_cases("email")
        self.assertGreaterEqual(len(cases), 10)
        for index, case in enumerate(cases):
            field = "mobile" if case["kind"] == "phone" else "email"
            partner = self._make_client("Client %d" % index, "client%d@example.com" % index,
                                        "+336300000%02d" % index, salesperson=self.advisor)
            partner.write({field: case["value"], "phone": False})
            self._refused_by_api(case, self._values(partner=partner))

    # -------------------------------------------------------------- file names
    def test_file_names_are_cleaned(self):
        for case in load_cases("file_name", "cleaned"):
            request_id = self.env["o2s.esign.request"].with_user(self.advisor).create_and_send(
                self._values(file_name=case["value"]))
            document = self.env["o2s.esign.request"].browse(request_id).document_ids
            self.assertEqual(document.name, case["stored"], case["id"])
            # an uploaded file's name comes from a file system: never a NUL character
            wizard = self._wizard(file_name=case["value"].replace("\x00", ""))
            action = wizard.action_send()
            document = self.env["o2s.esign.request"].browse(action["res_id"]).document_ids
            self.assertEqual(document.name, case["stored"], case["id"])
            for name in (document.name, document.prepared_attachment_id.name):
                self.assertNotIn("/", name)
                self.assertNotIn("..", name.replace("...", ""))
                self.assertTrue(name.isprintable(), name)

    # --------------------------------------------------------- signing page
    def test_bad_reasons_and_typed_names_on_the_signing_page(self):
        request = self._sent_request().sudo()
        signer = request.signer_ids
        csrf, token = self._verify(signer)
        before = self._counts()
        for case in load_cases("typed_name", "refused"):
            result = self._call(signer, "sign", token=token, csrf_token=csrf,
                                **self._sign_values(signer, name=case["value"]))
            self.assertIn(case["message"], result.get("error", ""), case["id"])
        for case in load_cases("reason", "refused"):
            response = self.url_open("/esign/action/%s/refuse" % signer.id, data={
                "token": token, "reason": case["value"], "csrf_token": csrf})
            self.assertEqual(response.status_code, 200, case["id"])  # back on the page
            self.assertIn("error=refuse", response.url)
            self.assertIn("Your refusal could not be recorded", response.text, case["id"])
            self.assertIn(case["message"], signer._portal_refuse(case["value"]), case["id"])
        self.env.invalidate_all()
        after = self._counts()
        # only page views were logged (the page shown again after each refused refusal)
        self.assertEqual(after.pop("o2s.esign.event") - before.pop("o2s.esign.event"),
                         len(self._events(request, "page_viewed")) - 1)
        self.assertEqual(after, before)
        self.assertEqual(signer.state, "pending")
        self.assertFalse(self._events(request, "refused") | self._events(request, "consent_given"))

    # --------------------------------------------------------------- rendering
    @mute_logger(*PYHANKO_LOGGERS)
    def test_hostile_text_is_never_rendered_as_markup(self):
        """Names, subject, message, file name, typed name and refusal reason all hostile, through
        a whole request: nothing of it is ever live markup, anywhere it shows."""
        xss = next(c["value"] for c in load_cases("signer_name") if c["id"] == "signer-name-script-tag")
        link = next(c["value"] for c in load_cases("signer_name") if c["id"] == "signer-name-link")
        self.client.name = xss
        self.client2.name = link
        typed = next(c["value"] for c in load_cases("typed_name", "escaped"))
        reason = next(c["value"] for c in load_cases("reason", "escaped"))
        request_id = self.env["o2s.esign.request"].with_user(self.advisor).create_and_send({
            **self._values(name=load_cases("subject", "escaped")[0]["value"],
                           message=load_cases("message", "escaped")[0]["value"] + link,
                           file_name=load_cases("file_name", "escaped")[0]["value"]),
            "signers": [{"partner_id": self.client.id}, {"partner_id": self.client2.id}],
        })
        request = self.env["o2s.esign.request"].browse(request_id).sudo()
        first, second = request.signer_ids.sorted("sequence")
        # the invitations
        mails = self.env["mail.mail"].sudo().search([("model", "=", "o2s.esign.signer"),
                                                     ("res_id", "in", request.signer_ids.ids)])
        self.assertEqual(len(mails), 2)
        for mail in mails:
            self.assertNoLiveMarkup(mail.body_html, "invitation mail")  # (the subject is plain text)
            self.assertIn("&lt;script&gt;", mail.body_html)
        # the signing page
        html = self._fetch(self._path(first)).text
        self.assertNoLiveMarkup(html, "signing page")
        self.assertIn("&lt;script&gt;alert(", html)
        # one signs with a hostile typed name, the other refuses with a hostile reason
        csrf, token = self._verify(first)
        result = self._call(first, "sign", token=token, csrf_token=csrf,
                            **self._sign_values(first, name=typed))
        self.assertEqual(result.get("state"), "signed", result)
        self.assertEqual(first.signature_name, typed)
        csrf, token = self._open(second)
        self.url_open("/esign/action/%s/refuse" % second.id,
                      data={"token": token, "reason": reason, "csrf_token": csrf})
        self.assertEqual(request.state, "refused")
        self.assertEqual(second.refusal_reason, reason)
        self.assertNoLiveMarkup(self._fetch(self._path(second)).text, "status page")
        # the chatter, activities, the verification page
        for message in request.message_ids:
            self.assertNoLiveMarkup(message.body, "chatter")
        for activity in request.activity_ids:  # (the summary is plain text)
            self.assertNoLiveMarkup(activity.note, "activity")
        document = request.document_ids
        html = self._fetch("/esign/verify/%s" % document.verification_token).text
        self.assertNoLiveMarkup(html, "verification page")
        # the PDFs: the text shows as typed, no link or script was made of it
        signed = document.signed_attachment_id.raw
        request.with_user(self.advisor).action_download_evidence()
        with zipfile.ZipFile(io.BytesIO(request.evidence_attachment_id.raw)) as archive:
            evidence_pdf = archive.read("evidence.pdf")
            trail = json.loads(archive.read("audit_trail.json"))
        # the audit trail keeps the text as typed (data, not markup)
        refused = [e for e in trail["events"] if e["event_type"] == "refused"]
        self.assertEqual(refused[0]["payload"]["reason"], reason)
        for label, data in (("signed document", signed), ("evidence.pdf", evidence_pdf)):
            self.assertNotIn(b"javascript:", data.lower(), label)
            self.assertNotIn(b"/JavaScript", data, label)
            self.assertNotIn(b"/JS ", data, label)
        text = self._pdftotext(evidence_pdf)
        self.assertIn('<script>alert("o2s-xss")</script>', text)
        self.assertIn("javascript:alert(1)", text)

    def _pdftotext(self, data):
        tool = sigcheck.require_tool("pdftotext")
        result = subprocess.run([tool, "-enc", "UTF-8", "-", "-"], input=data,
                                capture_output=True, check=True, timeout=60)
        # pdftotext breaks long lines: join them back
        return re.sub(r"\s+", "", result.stdout.decode())
