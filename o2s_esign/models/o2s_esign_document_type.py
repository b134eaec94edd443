# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import api, fields, models


def _words(text):
    """``text`` casefolded, its underscores, dashes, dots and spaces as single spaces."""
    return " ".join(re.split(r"[\s_.\-]+", (text or "").casefold())).strip()


class O2sEsignDocumentType(models.Model):
    _name = "o2s.esign.document.type"
    _description = "Type of document to sign"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="Stable identifier for integrations.")
    sequence = fields.Integer(default=10)
    category = fields.Selection(
        [("compliance", "Compliance"), ("contract", "Contract"), ("other", "Other")],
        required=True, default="other",
        help="Compliance documents are followed in the contact's Compliance tab.")
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The code of a document type must be unique."),
    ]

    # --------------------------------------------------------- business methods
    @api.model
    def _guess_from_file_name(self, file_name):
        """The active document type whose name (in any active language) begins the file name
        ("Lettre de mission - Martin.pdf": the mission letter), the longest such name winning;
        an empty recordset when none does."""
        stem = _words(file_name)
        best, best_length = self.browse(), 0
        types = self.search([])
        for lang, _label in self.env["res.lang"].get_installed():
            for doc_type in types.with_context(lang=lang):
                name = _words(doc_type.name)
                if name and len(name) > best_length and (stem + " ").startswith(name + " "):
                    best, best_length = doc_type.with_env(self.env), len(name)
        return best
