# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The French translation is complete, keeps every placeholder and markup, the template is
current, and a French signer reads French: invitation mail, SMS code, signing page."""
import collections
import html
import io
import re

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import trans_export

from .esign_portal_common import EsignHttpCommon

# %(name)s, %s, {{ expression }} (inline_template), {name} (str.format)
_PLACEHOLDERS = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|\{\w+\}", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@tagged("post_install", "-at_install")
class TestEsignI18n(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        buffer = io.BytesIO()
        # The terms of the module as Odoo exports them (`make i18n`): models, fields, selection
        # values, views, data records (mail templates...), Python _(), JS _t() and QWeb.
        trans_export(None, ["o2s_esign"], buffer, "po", cls.cr)
        cls.exported = polib.pofile(buffer.getvalue().decode("utf-8"))
        cls.pot = polib.pofile(file_path("o2s_esign/i18n/o2s_esign.pot"))
        cls.french = polib.pofile(file_path("o2s_esign/i18n/fr.po"))

    @staticmethod
    def _msgids(po):
        return {entry.msgid for entry in po if entry.msgid and not entry.obsolete}

    @staticmethod
    def _listing(msgids):
        return "\n".join("  - %r" % msgid for msgid in sorted(msgids))

    def test_every_term_has_a_french_translation(self):
        translated = {
            entry.msgid for entry in self.french
            if entry.msgid and entry.msgstr.strip() and not entry.obsolete
            and "fuzzy" not in entry.flags
        }
        missing = (self._msgids(self.exported) | self._msgids(self.pot)) - translated
        if missing:
            self.fail("%d term(s) of o2s_esign have no French translation in i18n/fr.po (run "
                      "`make i18n`, then translate them):\n%s"
                      % (len(missing), self._listing(missing)))

    def test_pot_is_current(self):
        exported, committed = self._msgids(self.exported), self._msgids(self.pot)
        self.assertTrue(exported, "the export found no term at all")
        new, gone = exported - committed, committed - exported
        if new or gone:
            self.fail("i18n/o2s_esign.pot is stale (run `make i18n`).\nTerms missing from it "
                      "(%d):\n%s\nTerms no longer in the module (%d):\n%s"
                      % (len(new), self._listing(new), len(gone), self._listing(gone)))

    def test_translations_keep_placeholders_and_markup(self):
        """A translation that drops or renames a placeholder breaks the message at run time
        (KeyError, an unrendered {{ }}); one that changes the markup of a view term or a mail
        template is rejected by Odoo (or renders a broken mail)."""
        problems = []
        for entry in self.french:
            if not entry.msgstr:
                continue
            wanted = collections.Counter(_PLACEHOLDERS.findall(entry.msgid))
            found = collections.Counter(_PLACEHOLDERS.findall(entry.msgstr))
            if wanted != found:
                problems.append("%r: placeholders %s became %s"
                                % (entry.msgid[:60], sorted(wanted.elements()), sorted(found.elements())))
            wanted = collections.Counter(" ".join(t.split()) for t in _TAG.findall(entry.msgid))
            found = collections.Counter(" ".join(t.split()) for t in _TAG.findall(entry.msgstr))
            if wanted != found:
                problems.append("%r: markup differs: %s"
                                % (entry.msgid[:60], sorted((wanted - found) + (found - wanted))))
        if problems:
            self.fail("i18n/fr.po:\n" + "\n".join(problems))


@tagged("post_install", "-at_install")
class TestEsignFrenchSigner(EsignHttpCommon):
    """What a French client receives and reads, through the real paths (mail queue, the SMS
    gateway stand-in over HTTP, the signing page)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.client.lang = "fr_FR"

    def test_evidence_labels_in_french(self):
        """The evidence report's labels have one source (lib/evidence/labels.py): every one of
        them is exported and translated, event labels included."""
        from ..lib.evidence import DEFAULT_LABELS

        request = self.env["o2s.esign.request"].with_context(lang="fr_FR")
        labels = request._esign_labels()
        self.assertEqual(set(DEFAULT_LABELS) - set(labels), set())
        self.assertEqual(labels["original_sha256"], "SHA-256 tel que déposé")
        self.assertEqual(labels["event_link_opened"], "Lien ouvert")
        self.assertEqual(labels["state_signed"], "Signé")
        english = request.with_context(lang="en_US")._esign_labels()
        self.assertEqual(english["original_sha256"], "SHA-256 as uploaded")
        french = {entry.msgid: entry.msgstr
                  for entry in polib.pofile(file_path("o2s_esign/i18n/fr.po"))}
        untranslated = [key for key, text in DEFAULT_LABELS.items()
                        if french.get(text, text) != text and labels[key] == text]
        self.assertFalse(untranslated, "labels left in English in French: %s" % untranslated)

    def test_invitation_code_and_page_in_french(self):
        request = self._sent_request().sudo()
        signer = request.signer_ids
        self.assertEqual(signer.lang, "fr_FR")

        mail = self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.subject, "Alice Advisor vous invite à signer\u00a0: Test request")
        self.assertIn("Bonjour", mail.body_html)
        self.assertIn("Consulter et signer", mail.body_html)
        self.assertIn(signer.access_url, mail.body_html)
        self.assertNotIn("Review and sign", mail.body_html)

        page = html.unescape(self._fetch(self._path(signer)).text)
        # the accessible names of the controls, in French
        for label in (">Envoyer le code</button>", ">Code de vérification</label>",
                      ">Vérifier</button>", ">J'ai lu les documents", ">Signer</button>",
                      ">Refuser</button>", ">Motif</label>"):
            self.assertIn(label, page)
        for english in ("Send code", "Verification code", "I have read", "Your signature"):
            self.assertNotIn(english, page)
        self.assertIn("vous invite à signer électroniquement", page, "the default page text")

        csrf, token = self._open(signer)
        result = self._call(signer, "send_code", token=token, csrf_token=csrf)
        self.assertTrue(result.get("ok"), result)
        self.assertIn("Un code a été envoyé par SMS", result.get("message", ""))
        body = self._sms_to(signer.mobile)[-1].json["body"]
        code = self._last_code(signer)
        self.assertEqual(
            body, "%s est votre code pour signer les documents de Cabinet Patrimoine. Valable "
                  "10 minutes. Ne communiquez jamais ce code : personne ne vous le demandera." % code)
        wrong = "000000" if code != "000000" else "111111"
        result = self._call(signer, "verify_code", token=token, csrf_token=csrf, code=wrong)
        self.assertFalse(result.get("ok"), result)
        self.assertTrue(result["error"].startswith("Code erroné."), result)
