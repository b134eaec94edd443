# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from ..tools import is_internal_write

#: attachments of these kinds are append-only: evidence ZIPs and signer attestations (the
#: documents' own files are frozen by ir_attachment.py)
PROTECTED_MARKS = ("o2s_esign:evidence", "o2s_esign:attestation")
LINK_FIELDS = {"res_model", "res_id", "res_field", "description"}
CONTENT_FIELDS = {"raw", "datas", "db_datas"}


class IrAttachment(models.Model):
    # Apart from ir_attachment.py (the documents' files): the evidence part of the module.
    _inherit = "ir.attachment"  # pylint: disable=consider-merging-classes-inherited

    def _esign_protected(self):
        """The evidence files and attestations among ``self`` (kept append-only)."""
        return self.sudo().filtered(lambda a: a.description in PROTECTED_MARKS)

    def write(self, vals):
        if not is_internal_write() and (LINK_FIELDS | CONTENT_FIELDS).intersection(vals):
            protected = self._esign_protected()
            if protected:
                if LINK_FIELDS.intersection(vals) and any(
                        (a.res_model, a.res_id, a.res_field, a.description)
                        != (vals.get("res_model", a.res_model), vals.get("res_id", a.res_id),
                            vals.get("res_field", a.res_field),
                            vals.get("description", a.description)) for a in protected):
                    raise UserError(_("The evidence files of a signature request cannot be "
                                      "changed or moved."))
                if CONTENT_FIELDS.intersection(vals):
                    new_checksum = self._esign_new_checksum(vals)
                    if any(a.checksum != new_checksum for a in protected):
                        raise UserError(_("The evidence files of a signature request cannot be "
                                          "changed or moved."))
        return super().write(vals)

    def _esign_new_checksum(self, vals):
        import base64

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
