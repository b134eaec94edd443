# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import hashlib
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command

#: the legal protections of a person (French law), with their legal wording
PROTECTIONS = [
    ("none", "None"),
    ("tutelle", "Guardianship (tutelle)"),
    ("curatelle", "Curatorship (curatelle)"),
    ("minor", "Minor (administration légale)"),
    ("habilitation_familiale", "Family authorisation (habilitation familiale)"),
    ("mandat_protection_future", "Future protection mandate (mandat de protection future)"),
]
#: protections under which the representatives sign instead of the person
REPRESENTED_PROTECTIONS = ("tutelle", "minor", "habilitation_familiale", "mandat_protection_future")


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
        PROTECTIONS, string="Legal protection", default="none", required=True,
        groups="o2s_esign.group_esign_user",
        help="Under tutelle, for a minor (administration légale), under habilitation familiale "
             "or under a mandat de protection future, the representatives sign on the person's "
             "behalf; under curatelle the person and their curator both sign.")
    esign_legal_representative_ids = fields.Many2many(
        "res.partner", "o2s_esign_partner_legal_rep_rel", "partner_id", "representative_id",
        string="Legal representatives", groups="o2s_esign.group_esign_user",
        help="Who acts for the protected person: the guardian (tuteur), the curator (curateur), "
             "the parents (administrateurs légaux), the person authorised by the judge "
             "(personne habilitée) or the agent of the mandate (mandataire).")
    esign_minor_signature = fields.Selection(
        [("both", "Both parents sign"), ("one", "One parent signs")],
        string="Parents who sign", default="both", groups="o2s_esign.group_esign_user",
        help="For a minor: whether every parent listed as legal representative signs (acts of "
             "disposition, or when the parents so agree), or one of them (acts of "
             "administration).")
    esign_protection_file = fields.Binary(
        string="Supporting document", attachment=True, groups="o2s_esign.group_esign_user",
        help="The judgment (tutelle, curatelle, habilitation familiale), the mandate (mandat de "
             "protection future) or, for a minor, the birth certificate or family record book. "
             "Its SHA-256 goes into the evidence of each request signed for the person.")
    esign_protection_file_name = fields.Char(
        string="Supporting document name", groups="o2s_esign.group_esign_user")
    esign_protection_reference = fields.Char(
        string="Supporting document reference", groups="o2s_esign.group_esign_user",
        help="e.g. “Judgment of the tribunal judiciaire of Lyon, 12 March 2024, RG 24/00123”.")
    esign_protection_sha256 = fields.Char(
        string="Supporting document SHA-256", compute="_compute_esign_protection_sha256",
        store=True, groups="o2s_esign.group_esign_user")
    esign_representative_id = fields.Many2one(
        "res.partner", string="Signs for the company", groups="o2s_esign.group_esign_user",
        help="The person who signs on the company's behalf.")

    # Computed rather than a One2many: nothing ever writes the rows, so a cached one2many of a
    # contact would never learn of a new row or of a new request.
    esign_compliance_ids = fields.Many2many(
        "o2s.esign.compliance", string="Compliance documents",
        compute="_compute_esign_compliance_ids", groups="o2s_esign.group_esign_user")

    @api.depends("esign_protection_file")
    def _compute_esign_protection_sha256(self):
        for partner in self:
            raw = partner.with_context(bin_size=False).esign_protection_file
            partner.esign_protection_sha256 = hashlib.sha256(base64.b64decode(raw)).hexdigest() \
                if raw else False

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_esign_request_count(self):
        """The requests each contact takes part in (see action_view_esign_requests), among
        those the user may read: two grouped reads for the whole batch."""
        requests_by_partner = defaultdict(set)
        if self.ids:
            for partner, request_ids in self.env["o2s.esign.request"]._read_group(
                    [("partner_id", "in", self.ids)], ["partner_id"], ["id:array_agg"]):
                requests_by_partner[partner.id].update(request_ids)
            signer_groups = self.env["o2s.esign.signer"]._read_group(
                ["|", ("partner_id", "in", self.ids), ("represented_partner_id", "in", self.ids)],
                ["partner_id", "represented_partner_id"], ["request_id:array_agg"])
            for partner, represented, request_ids in signer_groups:
                for contact in (partner, represented):
                    requests_by_partner[contact.id].update(request_ids)
        for partner in self:
            partner.esign_request_count = len(requests_by_partner[partner._origin.id])

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
        if "name" in vals:
            # A company's name is its partner's: renamed here, its seal follows (res_company.py).
            # sudo: a user who may rename the partner may not read every company record.
            self.env["res.company"].sudo().search(
                [("partner_id", "in", self.ids)])._esign_seal_follows_name()
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
        """The identity document of this contact that is valid today (the latest), if any (see
        ``o2s.esign.id.document.date_valid_until``: décret 2013-1188 included)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        documents = self.env["o2s.esign.id.document"].sudo().search([
            ("partner_id", "=", self.id), ("date_valid_until", ">=", today)],
            order="date_valid_until desc, id desc", limit=1)
        return documents

    def _esign_default_signers(self):
        """Who signs for this contact, as o2s.esign.signer values:
        a company: its representative, on its behalf; a person under tutelle, habilitation
        familiale or a mandat de protection future: their representatives, on their behalf; a
        minor: both parents (or the first one, when one parent signs); under curatelle: the
        person and their curators; else the person."""
        self.ensure_one()
        if self.is_company:
            representative = self.esign_representative_id
            if not representative:
                raise UserError(_(
                    "%(company)s is a company: choose who signs on its behalf (field “Signs for "
                    "the company” on the contact).", company=self.display_name))
            return [{"partner_id": representative.id, "role": "company_representative",
                     "represented_partner_id": self.id, "sequence": 10}]
        if self.esign_protection != "none" and not self.esign_legal_representative_ids:
            raise UserError(_(
                "%(name)s is a protected person: add their legal representative on the contact.",
                name=self.display_name))
        signers = []
        if self.esign_protection not in REPRESENTED_PROTECTIONS:
            signers.append({"partner_id": self.id, "role": "signer", "sequence": 10})
        representatives = self.esign_legal_representative_ids
        if self.esign_protection == "minor" and self.esign_minor_signature == "one":
            representatives = representatives[:1]
        for index, representative in enumerate(representatives):
            signers.append({"partner_id": representative.id, "role": "legal_representative",
                            "represented_partner_id": self.id, "sequence": 20 + index})
        return signers

    def _esign_protection_sudo(self):
        """The legal protection of this person as the evidence records it: type, supporting
        document reference, file name and SHA-256 (False for a person without protection).

        sudo: the supporting document's fields belong to the E-signature group, and a request
        is sent, signed or turned into evidence by whoever runs it (a signer's page included)."""
        self.ensure_one()
        partner_sudo = self.sudo()
        if self.is_company or partner_sudo.esign_protection == "none":
            return False
        return {
            "type": partner_sudo.esign_protection,
            "reference": partner_sudo.esign_protection_reference or None,
            "file_name": partner_sudo.esign_protection_file_name or None,
            "sha256": partner_sudo.esign_protection_sha256 or None,
        }

    def action_esign_sign(self):
        """“Sign electronically”: open the wizard to send documents for signature."""
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to send documents for signature."))
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_wizard_action")
        action["context"] = {"default_partner_ids": self.ids, "active_ids": self.ids,
                             "active_model": "res.partner"}
        return action

    def action_view_esign_requests(self):
        """“E-signature tracking”: the requests these contacts take part in, with their role."""
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to follow signatures."))
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_action")
        # every request they take part in; the list's “Role” column says how
        action["domain"] = self.env["o2s.esign.request"]._esign_involving_domain(self)
        action["context"] = {"default_partner_id": self.ids[0] if len(self) == 1 else False,
                             "search_default_filter_open": 0, "o2s_esign_contact_ids": self.ids}
        if len(self) == 1:
            action["name"] = _("E-signature tracking: %(name)s", name=self.display_name)
        return action
