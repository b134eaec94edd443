# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The French translation is complete and the template is current.

Opt-in for now (tag ``o2s_esign_i18n``): enabled once the translation pass has landed.
Run it alone with ``make test ARGS="o2s_esign/tests/test_esign_i18n.py --odoo-nonstandard"``.
"""
import io

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools import file_path
from odoo.tools.translate import trans_export


@tagged("-standard", "o2s_esign_i18n", "post_install", "-at_install")
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
