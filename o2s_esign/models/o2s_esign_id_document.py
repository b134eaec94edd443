# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import hashlib

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class O2sEsignIdDocument(models.Model):
    _name = "o2s.esign.id.document"
    _description = "Identity document"
    _order = "date_expiry desc, id desc"
    _rec_name = "number"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="partner_id.company_id", store=True, index=True)
    doc_type = fields.Selection(
        [
            ("id_card", "Identity card"),
            ("passport", "Passport"),
            ("residence_permit", "Residence permit"),
            ("driving_licence", "Driving licence"),
        ],
        string="Type", required=True, default="id_card")
    number = fields.Char(required=True)
    issuing_country_id = fields.Many2one("res.country", string="Issuing country")
    date_issue = fields.Date(string="Issued on")
    date_expiry = fields.Date(string="Valid until", required=True)
    file = fields.Binary(string="Scan", attachment=True,
                         help="A scan or photo of the document; its SHA-256 goes into the evidence.")
    file_name = fields.Char(string="File name")
    attachment_id = fields.Many2one(
        "ir.attachment", string="Scan attachment", compute="_compute_attachment_id")
    sha256 = fields.Char(string="SHA-256", compute="_compute_sha256", store=True)
    is_valid = fields.Boolean(string="Valid today", compute="_compute_is_valid")

    def _compute_attachment_id(self):
        attachments = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", self._name), ("res_field", "=", "file"), ("res_id", "in", self.ids)])
        by_record = {attachment.res_id: attachment for attachment in attachments}
        for document in self:
            document.attachment_id = by_record.get(document.id, self.env["ir.attachment"])

    @api.depends("file")
    def _compute_sha256(self):
        for document in self:
            raw = document.with_context(bin_size=False).file
            document.sha256 = hashlib.sha256(base64.b64decode(raw)).hexdigest() if raw else False

    @api.depends("date_expiry")
    def _compute_is_valid(self):
        today = fields.Date.context_today(self)
        for document in self:
            document.is_valid = bool(document.date_expiry and document.date_expiry >= today)

    @api.constrains("date_issue", "date_expiry")
    def _check_dates(self):
        for document in self:
            if document.date_issue and document.date_expiry and document.date_issue > document.date_expiry:
                raise ValidationError(_("An identity document cannot expire before it was issued."))

    @api.depends("doc_type", "number")
    def _compute_display_name(self):
        labels = dict(self._fields["doc_type"]._description_selection(self.env))
        for document in self:
            document.display_name = "%s %s" % (labels.get(document.doc_type, ""), document.number or "")
