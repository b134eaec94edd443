# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


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
