# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo import _, models
from odoo.exceptions import UserError

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

    def _esign_protected(self):
        """The evidence files and attestations among ``self`` (kept append-only)."""
        return self.sudo().filtered(lambda a: a.description in PROTECTED_MARKS)

    def _esign_evidence_copies(self):
        """The copies of an evidence file saved on a contact among ``self`` (same bytes as a
        request's evidence ZIP): they can be deleted, not changed nor published."""
        candidates = self.sudo().filtered(
            lambda a: a.res_model == "res.partner" and a.checksum
            and a.description not in PROTECTED_MARKS)
        if not candidates:
            return candidates
        evidence_checksums = set(self.sudo().search([
            ("res_model", "=", "o2s.esign.request"), ("description", "=", EVIDENCE_MARK),
            ("checksum", "in", candidates.mapped("checksum"))]).mapped("checksum"))
        return candidates.filtered(lambda a: a.checksum in evidence_checksums)

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
        if not is_internal_write():
            kept = self._esign_protected() | self._esign_evidence_copies()
            # The only change left: the access token Odoo's own mail code (sudo) gives to
            # files it sends as links. RPC callers never run as sudo.
            token_by_odoo = set(vals) == {"access_token"} and self.env.su
            if kept and not token_by_odoo and not kept._esign_kept_unchanged(vals):
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
