# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The contact's Compliance tab: one row per compliance document type, with or without a request.

The rows come from a SQL view (contacts x active compliance types), so every type shows even
before anything was sent. The requests of each row are computed for the whole batch at once,
with the user's own rights: an advisor sees the status of the requests they may read.

A row shows its most relevant request (``_esign_most_relevant``): a type is signed as soon as a
signed request holds it, whatever came after (a renewal cancelled or refused does not undo a
signature); the others are counted, and opening the row lists them all.
"""
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.tools import SQL, drop_view_if_exists

from .o2s_esign_request import OPEN_STATES, REQUEST_STATES

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
        "o2s.esign.request", compute="_compute_request_id",
        help="The most relevant request: the latest signed one, else the latest in progress, "
             "else the latest.")
    request_ids = fields.Many2many(
        "o2s.esign.request", string="All requests", compute="_compute_request_id",
        help="Every request of the contact holding a document of this type, the latest first.")
    other_request_count = fields.Integer(
        string="Other requests", compute="_compute_request_id",
        help="The requests of this type besides the one shown.")
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
        """The requests of each row's contact holding a document of the row's type, among
        those the user may read (one search for the whole batch), and the most relevant one."""
        Request = self.env["o2s.esign.request"]
        requests = defaultdict(lambda: Request)
        if self.partner_id and self.document_type_id:
            documents = self.env["o2s.esign.document"].search([
                ("request_id.partner_id", "in", self.partner_id.ids),
                ("document_type_id", "in", self.document_type_id.ids),
            ])
            for document in documents:
                requests[(document.request_id.partner_id.id, document.document_type_id.id)] |= \
                    document.request_id
        for row in self:
            found = requests[(row.partner_id.id, row.document_type_id.id)].sorted("id", reverse=True)
            request = self._esign_most_relevant(found)
            row.update({
                "request_id": request,
                "request_ids": found,
                "other_request_count": len(found - request),
                "status": request.state or "none",
                "date_sent": request.date_sent,
                "date_done": request.date_done,
                "signer_ids": request.signer_ids,
            })

    @api.model
    def _esign_most_relevant(self, requests):
        """Of ``requests`` (the latest first), the one a row shows: the latest signed, else the
        latest open (in progress or in error), else the latest."""
        signed = requests.filtered(lambda request: request.state == "signed")
        open_requests = requests.filtered(lambda request: request.state in OPEN_STATES)
        return (signed or open_requests or requests)[:1]

    def action_send_for_signature(self):
        """“Send for signature”: the send wizard for this contact, documents typed as this row."""
        self.ensure_one()
        action = self.partner_id.action_esign_sign()
        action["context"] = dict(
            action["context"], default_document_type_id=self.document_type_id.id,
            default_name=self.document_type_id.name)
        return action

    def action_open_request(self):
        """The row's request; when there are others, the list of them all."""
        self.ensure_one()
        if len(self.request_ids) <= 1:
            return self.request_id._esign_form_action()
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_action")
        action.update({
            "name": _("%(type)s: %(contact)s", type=self.document_type_id.name,
                      contact=self.partner_id.display_name),
            "domain": [("id", "in", self.request_ids.ids)],
            "context": {"create": False},
        })
        return action
