# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import hashlib
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

# Décret n° 2013-1188 du 18 décembre 2013: French identity cards issued from 2 January 2004 to
# 31 December 2013 to adults are valid fifteen years, five more than the printed date.
EXTENDED_ID_CARD_ISSUED_FROM = date(2004, 1, 2)
EXTENDED_ID_CARD_ISSUED_TO = date(2013, 12, 31)
EXTENDED_ID_CARD_YEARS = 5


class O2sEsignIdDocument(models.Model):
    _name = "o2s.esign.id.document"
    _description = "Identity document"
    _order = "date_valid_until desc, id desc"
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
    date_expiry = fields.Date(string="Printed expiry date", required=True)
    issued_to_minor = fields.Boolean(
        string="Issued to a minor",
        help="A French identity card issued from 2004 to 2013 to an adult is valid five years "
             "past its printed date (décret 2013-1188); one issued to a minor is not.")
    date_valid_until = fields.Date(
        string="Valid until", compute="_compute_date_valid_until", store=True, index=True,
        help="The printed expiry date, or five years later for a French identity card issued "
             "from 2004 to 2013 to an adult (décret 2013-1188).")
    validity_note = fields.Char(string="Validity", compute="_compute_validity_note")
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

    @api.depends("doc_type", "issuing_country_id", "date_issue", "date_expiry", "issued_to_minor")
    def _compute_date_valid_until(self):
        for document in self:
            extended = document._esign_is_extended()
            document.date_valid_until = document.date_expiry and (
                document.date_expiry + relativedelta(years=EXTENDED_ID_CARD_YEARS) if extended
                else document.date_expiry)

    @api.depends("date_valid_until", "date_expiry")
    def _compute_validity_note(self):
        for document in self:
            extended = document._esign_is_extended()
            document.validity_note = _(
                "Valid until %(date)s: the printed date plus five years (French identity card "
                "issued from 2004 to 2013 to an adult, décret 2013-1188).",
                date=format_date(self.env, document.date_valid_until)) if extended else False

    @api.depends("date_valid_until")
    def _compute_is_valid(self):
        today = fields.Date.context_today(self)
        for document in self:
            document.is_valid = bool(document.date_valid_until and document.date_valid_until >= today)

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

    # -------------------------------------------------------- business methods
    def _esign_is_french_id_card(self):
        """An identity card issued by France (a card whose country is not given counts as
        French: the module's advisors work in France)."""
        self.ensure_one()
        return self.doc_type == "id_card" and self.issuing_country_id.code in (False, "FR")

    def _esign_is_extended(self):
        """Whether décret 2013-1188 adds five years to the printed date: a French identity card
        issued from 2 January 2004 to 31 December 2013 to an adult."""
        self.ensure_one()
        return bool(
            self._esign_is_french_id_card() and self.date_expiry and self.date_issue
            and not self.issued_to_minor
            and EXTENDED_ID_CARD_ISSUED_FROM <= self.date_issue <= EXTENDED_ID_CARD_ISSUED_TO)

    @api.model
    def _esign_missing_problem(self, partner):
        """Why ``partner`` has no identity document valid today, as one translated sentence
        naming them and, for an expired document, the date it expired and why (the extension
        of décret 2013-1188 applied, or why it does not apply)."""
        name = partner.display_name
        document = self.sudo().search([("partner_id", "=", partner.id)],
                                      order="date_valid_until desc, id desc", limit=1)
        if not document:
            return _("%(name)s has no identity document valid today.", name=name)
        sentence = _("%(name)s has no identity document valid today. %(document)s expired on "
                     "%(date)s.", name=name, document=document.display_name,
                     date=format_date(self.env, document.date_valid_until))
        reason = document._esign_expiry_reason()
        return "%s %s" % (sentence, reason) if reason else sentence

    def _esign_expiry_reason(self):
        """For an expired French identity card, what décret 2013-1188 did or did not change."""
        self.ensure_one()
        if not self._esign_is_french_id_card():
            return ""
        if self._esign_is_extended():
            return _("That is its printed date (%(printed)s) plus five years: French identity "
                     "card issued from 2004 to 2013 to an adult (décret 2013-1188).",
                     printed=format_date(self.env, self.date_expiry))
        if self.date_issue and self.date_issue > EXTENDED_ID_CARD_ISSUED_TO:
            return _("Issued on %(date)s, after 2013: a French identity card issued from 2014 "
                     "on is valid until its printed date (the five extra years of décret "
                     "2013-1188 are for cards issued from 2004 to 2013).",
                     date=format_date(self.env, self.date_issue))
        if self.date_issue and self.issued_to_minor and \
                EXTENDED_ID_CARD_ISSUED_FROM <= self.date_issue <= EXTENDED_ID_CARD_ISSUED_TO:
            return _("Issued to a minor, it is valid until its printed date (décret 2013-1188 "
                     "adds five years to the cards issued to adults only).")
        today = fields.Date.context_today(self)
        if not self.date_issue and self.date_expiry + relativedelta(years=EXTENDED_ID_CARD_YEARS) >= today:
            return _("If it was issued from 2004 to 2013 to an adult, enter its issue date: it "
                     "is then valid five more years (décret 2013-1188).")
        return ""
