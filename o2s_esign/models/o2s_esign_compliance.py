# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The contact's Compliance tab: one row per compliance document type, with or without a request.

The rows come from a SQL view (contacts x active compliance types), so every type shows even
before anything was sent. The latest request of each row is computed for the whole batch at
once, with the user's own rights: an advisor sees the status of the requests they may read.
"""
from odoo import api, fields, models
from odoo.tools import SQL, drop_view_if_exists

from .o2s_esign_request import REQUEST_STATES

# Row ids are partner_id * ID_FACTOR + document_type_id (stable, unique while the document
# types stay below a million).
ID_FACTOR = 1 << 20


class O2sEsignCompliance(models.Model):
    _name = "o2s.esign.compliance"
    _description = "Compliance document of a contact"
    _auto = False
    _order = "partner_id, sequence, document_type_id"
    _rec_name = "document_type_id"

    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    partner_company_id = fields.Many2one("res.company", string="Company", readonly=True)
    document_type_id = fields.Many2one("o2s.esign.document.type", string="Document", readonly=True)
    sequence = fields.Integer(readonly=True)
    request_id = fields.Many2one(
        "o2s.esign.request", string="Latest request", compute="_compute_request_id")
    status = fields.Selection(
        [("none", "Not sent"), *REQUEST_STATES],
        compute="_compute_request_id")
    date_sent = fields.Datetime(string="Sent on", compute="_compute_request_id")
    date_done = fields.Datetime(string="Completed on", compute="_compute_request_id")
    signer_ids = fields.Many2many("o2s.esign.signer", string="Signers", compute="_compute_request_id")

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL(
            """
            CREATE OR REPLACE VIEW %(view)s AS (
                SELECT p.id::bigint * %(factor)s + t.id AS id,
                       p.id AS partner_id,
                       p.company_id AS partner_company_id,
                       t.id AS document_type_id,
                       t.sequence AS sequence
                  FROM res_partner p
                 CROSS JOIN o2s_esign_document_type t
                 WHERE t.category = 'compliance' AND t.active
            )
            """,
            view=SQL.identifier(self._table), factor=ID_FACTOR,
        ))

    @api.depends("partner_id", "document_type_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_request_id(self):
        """The latest request of each row's contact holding a document of the row's type, among
        those the user may read (one search for the whole batch)."""
        latest = {}
        if self.partner_id and self.document_type_id:
            documents = self.env["o2s.esign.document"].search([
                ("request_id.partner_id", "in", self.partner_id.ids),
                ("document_type_id", "in", self.document_type_id.ids),
            ], order="id desc")
            for document in documents:
                latest.setdefault((document.request_id.partner_id.id, document.document_type_id.id),
                                  document.request_id)
        for row in self:
            request = latest.get((row.partner_id.id, row.document_type_id.id),
                                 self.env["o2s.esign.request"])
            row.update({
                "request_id": request,
                "status": request.state or "none",
                "date_sent": request.date_sent,
                "date_done": request.date_done,
                "signer_ids": request.signer_ids,
            })

    def action_send_for_signature(self):
        """“Send for signature”: the send wizard for this contact, documents typed as this row."""
        self.ensure_one()
        action = self.partner_id.action_esign_sign()
        action["context"] = dict(
            action["context"], default_document_type_id=self.document_type_id.id,
            default_name=self.document_type_id.name)
        return action

    def action_open_request(self):
        self.ensure_one()
        return self.request_id._esign_form_action()
