# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command


class ResPartner(models.Model):
    _inherit = "res.partner"

    esign_request_ids = fields.One2many(
        "o2s.esign.request", "partner_id", string="Signature requests",
        groups="o2s_esign.group_esign_user")
    esign_request_count = fields.Integer(
        compute="_compute_esign_request_count", string="Signatures",
        groups="o2s_esign.group_esign_user")
    esign_id_document_ids = fields.One2many(
        "o2s.esign.id.document", "partner_id", string="Identity documents",
        groups="o2s_esign.group_esign_user")
    esign_protection = fields.Selection(
        [("none", "None"), ("tutelle", "Guardianship (tutelle)"), ("curatelle", "Curatorship (curatelle)")],
        string="Legal protection", default="none", required=True,
        help="Under tutelle the legal representative signs for the person; under curatelle "
             "the person and their curator both sign.")
    esign_legal_representative_ids = fields.Many2many(
        "res.partner", "o2s_esign_partner_legal_rep_rel", "partner_id", "representative_id",
        string="Legal representatives")
    esign_representative_id = fields.Many2one(
        "res.partner", string="Signs for the company",
        help="The person who signs on the company's behalf.")

    # Computed rather than a One2many: nothing ever writes the rows, so a cached one2many of a
    # contact would never learn of a new row or of a new request.
    esign_compliance_ids = fields.Many2many(
        "o2s.esign.compliance", string="Compliance documents",
        compute="_compute_esign_compliance_ids", groups="o2s_esign.group_esign_user")

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_esign_request_count(self):
        counts = {}
        if self.ids:
            groups = self.env["o2s.esign.request"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"])
            counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.esign_request_count = counts.get(partner.id, 0)

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_esign_compliance_ids(self):
        rows_by_partner = defaultdict(list)
        if self.ids:
            for row in self.env["o2s.esign.compliance"].search([("partner_id", "in", self.ids)]):
                rows_by_partner[row.partner_id.id].append(row.id)
        for partner in self:
            partner.esign_compliance_ids = [Command.set(rows_by_partner[partner._origin.id])]

    # -------------------------------------------------------------------- CRUD
    def write(self, vals):
        res = super().write(vals)
        if "email" in vals:
            # A user's address is their partner's: whoever changes it, their own server follows
            # (and the change is refused when the new address is reserved, see res_users.py).
            servers = self.env["ir.mail_server"].sudo().search([
                ("o2s_esign_user_id.partner_id", "in", self.ids)])
            for user in servers.o2s_esign_user_id:
                user._esign_sync_mail_server_sudo()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_esign_history(self):
        """A contact with a signature history (a request sent from it, a signature it made or
        one made on its behalf) is kept: the requests and their evidence refer to it. It can be
        archived instead."""
        with_history = self._esign_with_history_sudo()
        if with_history:
            raise UserError(_(
                "%(names)s cannot be deleted: signature requests refer to them (sent from the "
                "contact, signed by them or on their behalf) and are kept with their evidence. "
                "Archive the contact instead.",
                names=", ".join(with_history.mapped("display_name"))))

    def _esign_with_history_sudo(self):
        """Those of these contacts that a signature request or a signer refers to.
        sudo: the requests of every advisor count, also those the current user may not read."""
        if not self.ids:
            return self.browse()
        requests = self.env["o2s.esign.request"].sudo().search([("partner_id", "in", self.ids)])
        signers = self.env["o2s.esign.signer"].sudo().search([
            "|", ("partner_id", "in", self.ids), ("represented_partner_id", "in", self.ids)])
        referred = requests.partner_id | signers.partner_id | signers.represented_partner_id
        return self & self.browse(referred.ids)

    # -------------------------------------------------------- business methods
    def _esign_valid_id_document(self):
        """The identity document of this contact that is valid today (the latest), if any."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        documents = self.env["o2s.esign.id.document"].sudo().search([
            ("partner_id", "=", self.id), ("date_expiry", ">=", today)],
            order="date_expiry desc, id desc", limit=1)
        return documents

    def _esign_default_signers(self):
        """Who signs for this contact, as o2s.esign.signer values:
        a company: its representative, on its behalf; a person under tutelle: their legal
        representatives, on their behalf; under curatelle: the person and their curators; else
        the person."""
        self.ensure_one()
        if self.is_company:
            representative = self.esign_representative_id
            if not representative:
                raise UserError(_(
                    "%(company)s is a company: choose who signs on its behalf (field “Signs for "
                    "the company” on the contact).", company=self.display_name))
            return [{"partner_id": representative.id, "role": "company_representative",
                     "represented_partner_id": self.id, "sequence": 10}]
        if self.esign_protection in ("tutelle", "curatelle") and not self.esign_legal_representative_ids:
            raise UserError(_(
                "%(name)s is a protected person: add their legal representative on the contact.",
                name=self.display_name))
        signers = []
        if self.esign_protection != "tutelle":
            signers.append({"partner_id": self.id, "role": "signer", "sequence": 10})
        for index, representative in enumerate(self.esign_legal_representative_ids):
            signers.append({"partner_id": representative.id, "role": "legal_representative",
                            "represented_partner_id": self.id, "sequence": 20 + index})
        return signers

    def action_esign_sign(self):
        """“Sign electronically”: open the wizard to send documents for signature."""
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to send documents for signature."))
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_wizard_action")
        action["context"] = {"default_partner_ids": self.ids, "active_ids": self.ids,
                             "active_model": "res.partner"}
        return action

    def action_view_esign_requests(self):
        """“E-signature tracking”: the requests of these contacts."""
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to follow signatures."))
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_action")
        action["domain"] = [("partner_id", "in", self.ids)]
        action["context"] = {"default_partner_id": self.ids[0] if len(self) == 1 else False,
                             "search_default_filter_open": 0}
        if len(self) == 1:
            action["name"] = _("E-signature tracking: %(name)s", name=self.display_name)
        return action
