# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from ..tools import is_internal_write

#: attachments of these kinds are append-only: evidence ZIPs and signer attestations (the
#: documents' own files are frozen by ir_attachment.py)
PROTECTED_MARKS = ("o2s_esign:evidence", "o2s_esign:attestation")
EVIDENCE_MARK = "o2s_esign:evidence"
LINK_FIELDS = {"res_model", "res_id", "res_field", "description"}
CONTENT_FIELDS = {"raw", "datas", "db_datas"}


class IrAttachment(models.Model):
    # Apart from ir_attachment.py (the documents' files): the evidence part of the module.
    _inherit = "ir.attachment"  # pylint: disable=consider-merging-classes-inherited

    esign_request_id = fields.Many2one(
        "o2s.esign.request", string="Evidence of the signature request", readonly=True,
        index="btree_not_null", ondelete="restrict",
        help="A copy of this request's evidence saved to the client's documents: readable only "
             "by who may read the request, whatever the rights on the contact.")

    def _esign_protected(self):
        """The evidence files and attestations among ``self`` (kept append-only)."""
        return self.sudo().filtered(lambda a: a.description in PROTECTED_MARKS)

    # ------------------------------------------ evidence saved on the contact
    # A saved evidence copy is filed on the contact (res_model res.partner) so that it shows
    # among the contact's attachments, but it holds signed PDFs and signers' personal data:
    # on top of Odoo's rule (the rights on the contact), it is only for who may read its
    # request. Odoo 18 reads attachments through _search (fetch, search_read, /web/content)
    # and checks them with check() (write, unlink, portal, mail): both are narrowed here.
    @api.model
    def _esign_readable_evidence_domain(self):
        """Attachments that are no saved evidence, or whose request the user may read."""
        Request = self.env["o2s.esign.request"]
        if not Request.has_access("read"):
            return [("esign_request_id", "=", False)]
        return ["|", ("esign_request_id", "=", False),
                ("esign_request_id", "in", Request._search([]))]

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        if not self.env.su:
            domain = expression.AND([domain, self._esign_readable_evidence_domain()])
        return super()._search(domain, offset=offset, limit=limit, order=order)

    @api.model
    def check(self, mode, values=None):
        res = super().check(mode, values=values)
        if self and not self.env.su:
            self.flush_model(["esign_request_id"])
            self.env.cr.execute(
                "SELECT DISTINCT esign_request_id FROM ir_attachment "
                "WHERE id IN %s AND esign_request_id IS NOT NULL", [tuple(self.ids)])
            request_ids = [row[0] for row in self.env.cr.fetchall()]
            if request_ids:
                self.env["o2s.esign.request"].browse(request_ids).check_access("read")
        return res

    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write() and any(vals.get("esign_request_id") for vals in vals_list):
            raise UserError(_("Only the signature process files evidence copies."))
        return super().create(vals_list)

    def _esign_evidence_copies(self):
        """The copies of an evidence file saved on a contact among ``self`` (same bytes as a
        request's evidence ZIP): they can be deleted, not changed nor published."""
        candidates = self.sudo().filtered(
            lambda a: a.res_model == "res.partner" and a.checksum
            and a.description not in PROTECTED_MARKS)
        if not candidates:
            return candidates
        linked = candidates.filtered("esign_request_id")
        candidates -= linked
        evidence_checksums = set(self.sudo().search([
            ("res_model", "=", "o2s.esign.request"), ("description", "=", EVIDENCE_MARK),
            ("checksum", "in", candidates.mapped("checksum"))]).mapped("checksum"))
        return linked | candidates.filtered(lambda a: a.checksum in evidence_checksums)

    def _esign_kept_unchanged(self, vals):
        """True when ``vals`` leaves every evidence file among ``self`` as it is: the same
        owner, mark and bytes (moving the storage rewrites them)."""
        if not set(vals) <= LINK_FIELDS | CONTENT_FIELDS | {"mimetype"}:
            return False
        new_checksum = self._esign_new_checksum(vals) \
            if CONTENT_FIELDS.intersection(vals) else None
        for attachment in self:
            current = (attachment.res_model, attachment.res_id, attachment.res_field,
                       attachment.description, attachment.mimetype)
            wanted = tuple(vals.get(name, value) for name, value in zip(
                ("res_model", "res_id", "res_field", "description", "mimetype"), current,
                strict=True))
            if current != wanted:
                return False
            if new_checksum is not None and attachment.checksum != new_checksum:
                return False
        return True

    def _esign_evidence_error(self):
        return UserError(_("The evidence files of a signature request cannot be changed or "
                           "moved."))

    def write(self, vals):
        if "esign_request_id" in vals and not is_internal_write():
            raise UserError(_("Only the signature process files evidence copies."))
        if not is_internal_write():
            kept = self._esign_protected() | self._esign_evidence_copies()
            # The only change left: the access token Odoo's own mail code (sudo) gives to
            # files it sends as links. RPC callers never run as sudo.
            token_by_odoo = set(vals) == {"access_token"} and self.env.su
            if kept and not token_by_odoo and not kept._esign_kept_unchanged(vals):
                # Odoo's access check first: who may not even write the file learns nothing
                # more (an AccessError, as for any other attachment).
                self.check("write", values=vals)
                raise kept._esign_evidence_error()
        return super().write(vals)

    def generate_access_token(self):
        if not is_internal_write() and not self.env.su \
                and (self._esign_protected() or self._esign_evidence_copies()):
            raise self._esign_evidence_error()
        return super().generate_access_token()

    def _esign_new_checksum(self, vals):
        if "raw" in vals:
            raw = vals["raw"] or b""
        else:
            value = vals.get("datas", vals.get("db_datas")) or b""
            raw = base64.b64decode(value) if value else b""
        if isinstance(raw, str):
            raw = raw.encode()
        return self._compute_checksum(raw)

    def unlink(self):
        if not is_internal_write() and not self.env.context.get(MODULE_UNINSTALL_FLAG) \
                and self._esign_protected():
            raise UserError(_("The evidence files of a signature request are kept and cannot be "
                              "deleted."))
        return super().unlink()
