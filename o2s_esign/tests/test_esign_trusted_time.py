# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 14, item 3: trusted time by default (a default timestamp authority, the settings'
"Test" button, B-B as a knowing choice, the server-clock notices) and the renewal of the
archive timestamps (B-LTA) before their certificate expires. No test calls the internet: the
default authority is replaced by the local certomancer one (tests/support/pki_server.py)."""
import io
import subprocess
import zipfile
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib import signing as lib_signing
from ..models import res_company as res_company_module
from .common import esign_user
from .common_signing import O2sEsignSigningCommon


def pdf_text(data):
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True,
                          timeout=60).stdout.decode()


@tagged("post_install", "-at_install")
class TestEsignTrustedTime(O2sEsignSigningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.options_user = esign_user(cls.env, "esign_options_tt", "internal,user,options",
                                      name="Olga Options", email="olga@advisor.example.com")

    def _fresh_defaults(self, default_url):
        """The company's timestamp settings as a fresh install gives them, with
        ``default_url`` as the default authority."""
        company = self.company.sudo()
        names = ["esign_tsa_url", "esign_pades_level", "esign_server_clock_accepted",
                 "esign_tsa_ca_cert"]
        with patch.object(res_company_module, "default_tsa_url", return_value=default_url):
            defaults = company.default_get(names)
        company.write({name: defaults.get(name, False) for name in names})

    # ------------------------------------------------------------- defaults
    def test_a_new_company_uses_freetsa_at_b_t(self):
        """The real default (the tests' set-up replaces it), as an install without any
        configuration gets it; the environment variable (or the configuration option) changes
        it, empty for none."""
        with patch.dict("os.environ", {}) as environ, \
                patch.object(res_company_module, "default_tsa_url", _real_default_tsa_url):
            environ.pop(res_company_module.DEFAULT_TSA_URL_ENV, None)
            company = self.env["res.company"].create({"name": "Fresh firm"}).sudo()
            self.assertEqual(company.esign_tsa_url, "https://freetsa.org/tsr")
            self.assertEqual(company.esign_pades_level, "b_t")
            self.assertFalse(company.esign_server_clock_accepted)
            self.assertFalse(company._esign_server_clock_only())
            environ[res_company_module.DEFAULT_TSA_URL_ENV] = ""
            company = self.env["res.company"].create({"name": "Firm without TSA"}).sudo()
            self.assertEqual((company.esign_tsa_url, company.esign_pades_level,
                              company.esign_server_clock_accepted), (False, "b_b", True))
            self.assertTrue(company._esign_server_clock_only())

    def test_fresh_settings_sign_at_b_t_once_the_authority_answers(self):
        """Nothing touched in the settings: the default authority (here the local one) gives
        B-T signatures that pyHanko and pdfsig confirm."""
        self._fresh_defaults(self.pki.tsa_url)
        self.assertEqual(self.company.esign_pades_level, "b_t")
        request = self._send(documents=1)
        self.assertFalse(request.esign_server_clock_only)
        self._sign_all(request)
        self.assertEqual(request.state, "signed")
        self.assertEqual(request.pades_level_achieved, "b_t")
        reports = self.assertAllValid(request.document_ids.signed_attachment_id.raw, 3)
        for report in reports:
            self.assertTrue(report.timestamp_time, report.field_name)

    # ------------------------------------------------------------- settings
    def _settings(self, **values):
        return self.env["o2s.esign.settings"].with_user(self.options_user).create(values)

    def test_test_button_shows_the_authority(self):
        settings = self._settings(esign_tsa_url=self.pki.tsa_url)
        action = settings.action_test_tsa()
        self.assertEqual(action["tag"], "display_notification")
        message = action["params"]["message"]
        self.assertIn("O2S Test Time Stamping Unit", message)
        self.assertIn(fields.Date.today().strftime("%Y-%m-%d"), message)
        self.assertEqual(action["params"]["type"], "success")

    def test_test_button_reports_failures(self):
        self.pki.fail_with(500)
        self.addCleanup(self.pki.fail_with, None)
        with self.assertRaisesRegex(UserError, "gave no time-stamp"):
            self._settings(esign_tsa_url=self.pki.tsa_url).action_test_tsa()
        with self.assertRaisesRegex(UserError, "private, loopback"):
            self._settings(esign_tsa_url="https://10.1.2.3/tsr").action_test_tsa()
        with self.assertRaisesRegex(UserError, "URL of the timestamp authority"):
            self._settings(esign_tsa_url=False).action_test_tsa()

    def test_signing_on_the_server_clock_is_a_knowing_choice(self):
        self.company.sudo().esign_server_clock_accepted = False
        for values in ({"esign_tsa_url": False, "esign_pades_level": "b_b"},
                       {"esign_tsa_url": self.pki.tsa_url, "esign_pades_level": "b_b"}):
            settings = self._settings(**values)
            with self.assertRaisesRegex(UserError, "server's clock only"):
                settings.action_save()
            settings.esign_server_clock_accepted = True
            settings.action_save()
            self.assertEqual(self.company.esign_pades_level, "b_b")
            self.assertTrue(self.company.sudo().esign_server_clock_accepted)
            self.company.sudo().esign_server_clock_accepted = False
        settings = self._settings(esign_tsa_url=self.pki.tsa_url, esign_pades_level="b_t")
        settings.action_save()  # trusted time needs no confirmation
        self.assertEqual(self.company.esign_pades_level, "b_t")

    # -------------------------------------------------------------- notices
    def test_server_clock_notices_and_evidence(self):
        self._configure("b_b", tsa=False)
        wizard = self.env["o2s.esign.request.wizard"].with_user(self.advisor).new(
            {"partner_ids": [self.client.id]})
        self.assertTrue(wizard.esign_server_clock_only)
        request = self._send(documents=1)
        self.assertTrue(request.esign_server_clock_only)
        self._sign_all(request)
        self.assertEqual(request.pades_level_achieved, "b_b")
        self.assertTrue(request.esign_server_clock_only)
        with zipfile.ZipFile(io.BytesIO(request.evidence_attachment_id.raw)) as zf:
            text = pdf_text(zf.read("evidence.pdf"))
        self.assertIn("server's clock", text.replace("\n", " "))
        self._configure("b_t")
        wizard = self.env["o2s.esign.request.wizard"].with_user(self.advisor).new(
            {"partner_ids": [self.client.id]})
        self.assertFalse(wizard.esign_server_clock_only)
        self.assertTrue(request.esign_server_clock_only, "a B-B request stays one")

    # ------------------------------------------------------- archive renewal
    def test_archive_timestamps_are_renewed_before_their_certificate_expires(self):
        self._configure("b_lta")
        request = self._send(documents=1)
        self._sign_all(request)
        document = request.document_ids
        before = document.signed_attachment_id.raw
        expiry = document.archive_timestamp_expiry
        tsa_expiry = self.pki.tsa_cert["tbs_certificate"]["validity"]["not_after"].native
        self.assertEqual(expiry, tsa_expiry.replace(tzinfo=None))
        Document = self.env["o2s.esign.document"]
        # long before the expiry: nothing to do
        self.assertEqual(Document._cron_renew_archive_timestamps(now=expiry - timedelta(days=400)), 0)
        self.assertEqual(document.signed_attachment_id.raw, before)
        # 30 days before: a new archive timestamp, as a new revision and an event
        moment = expiry - timedelta(days=30)
        self.assertEqual(Document._cron_renew_archive_timestamps(now=moment), 1)
        after = document.signed_attachment_id.raw
        self.assertTrue(after.startswith(before) and len(after) > len(before))
        stamps_before = [r for r in self._validate(before) if r.kind == "doc_timestamp"]
        reports = self.assertAllValid(after, 3)
        stamps = [r for r in reports if r.kind == "doc_timestamp"]
        self.assertEqual(len(stamps), len(stamps_before) + 1)
        event = request.event_ids.filtered(lambda e: e.event_type == "document_timestamp")
        self.assertEqual(len(event), 1)
        self.assertIn('"archive_timestamp":true', event.payload)
        self.assertEqual(document.archive_timestamp_expiry,
                         lib_signing.archive_timestamp_expiry(after).replace(tzinfo=None))
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])
        # at most once a day per document
        self.assertEqual(Document._cron_renew_archive_timestamps(now=moment + timedelta(hours=1)), 0)


_real_default_tsa_url = res_company_module.default_tsa_url
