# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Once a request is sent, the files of its documents (the original, the copy sent for
signature and every signed revision) can no longer change or go, for anyone (admins included);
the module's own code writes new revisions as new attachments. The evidence files and the
signer attestations are append-only too."""
import base64
import binascii

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from ..tools import is_internal_write

# Fields that change what an attachment holds or what it belongs to.
CONTENT_FIELDS = {"raw", "datas", "db_datas", "store_fname", "url", "type"}
LINK_FIELDS = {"res_model", "res_id", "res_field"}
#: attachments of these kinds are append-only: evidence ZIPs and signer attestations
PROTECTED_MARKS = ("o2s_esign:evidence", "o2s_esign:attestation")
EVIDENCE_LINK_FIELDS = {"res_model", "res_id", "res_field", "description"}
EVIDENCE_CONTENT_FIELDS = {"raw", "datas", "db_datas"}


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    # -------------------------------------------------------------------- CRUD
    def write(self, vals):
        if not is_internal_write() and (EVIDENCE_LINK_FIELDS | EVIDENCE_CONTENT_FIELDS).intersection(vals):
            protected = self._esign_protected()
            if protected:
                if EVIDENCE_LINK_FIELDS.intersection(vals) and any(
                        (a.res_model, a.res_id, a.res_field, a.description)
                        != (vals.get("res_model", a.res_model), vals.get("res_id", a.res_id),
                            vals.get("res_field", a.res_field),
                            vals.get("description", a.description)) for a in protected):
                    raise UserError(_("The evidence files of a signature request cannot be "
                                      "changed or moved."))
                if EVIDENCE_CONTENT_FIELDS.intersection(vals):
                    new_checksum = self._esign_new_checksum(vals)
                    if any(a.checksum != new_checksum for a in protected):
                        raise UserError(_("The evidence files of a signature request cannot be "
                                          "changed or moved."))
        if (CONTENT_FIELDS | LINK_FIELDS | {"mimetype"}).intersection(vals) and not is_internal_write():
            frozen = self._esign_frozen()
            if frozen and not frozen._esign_same_content(vals):
                raise UserError(_(
                    "%(name)s is a document of a sent signature request: its file can no longer "
                    "change.", name=frozen[:1].sudo().name))
        return super().write(vals)

    def unlink(self):
        if not is_internal_write() and not self.env.context.get(MODULE_UNINSTALL_FLAG) \
                and self._esign_protected():
            raise UserError(_("The evidence files of a signature request are kept and cannot be "
                              "deleted."))
        return super().unlink()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_esign_frozen(self):
        if is_internal_write():
            return
        frozen = self._esign_frozen()
        if frozen:
            raise UserError(_(
                "%(name)s is a document of a sent signature request: it is kept for the evidence "
                "and cannot be deleted.", name=frozen[:1].sudo().name))

    # --------------------------------------------------------- private helpers
    def _esign_frozen(self):
        """The attachments among ``self`` that hold a file of a sent request's document."""
        ids = [attachment_id for attachment_id in self.ids if attachment_id]
        if not ids:
            return self.browse()
        self.flush_model(["res_model", "res_id"])
        self.env["o2s.esign.document"].flush_model(["request_id"])
        self.env["o2s.esign.request"].flush_model(["state"])
        self.env.cr.execute(SQL(
            """
            SELECT a.id
              FROM ir_attachment a
              JOIN o2s_esign_document d ON a.res_model = 'o2s.esign.document' AND a.res_id = d.id
              JOIN o2s_esign_request r ON r.id = d.request_id
             WHERE a.id IN %s AND r.state != 'draft'
            """, tuple(ids)))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _esign_same_content(self, vals):
        """True when ``vals`` only rewrites the same bytes (as moving the storage does)."""
        if not set(vals) <= {"raw", "datas", "mimetype"}:
            return False
        if "raw" in vals:
            data = vals["raw"] or b""
            if isinstance(data, str):
                data = data.encode()
        elif "datas" in vals:
            try:
                data = base64.b64decode(vals["datas"] or b"")
            except (binascii.Error, ValueError):
                return False
        else:
            data = None
        for attachment in self.sudo():
            if data is not None and attachment.checksum != self._compute_checksum(data):
                return False
            if "mimetype" in vals and vals["mimetype"] != attachment.mimetype:
                return False
        return True

    def _esign_protected(self):
        """The evidence files and attestations among ``self`` (kept append-only)."""
        return self.sudo().filtered(lambda a: a.description in PROTECTED_MARKS)

    def _esign_new_checksum(self, vals):
        if "raw" in vals:
            raw = vals["raw"] or b""
        else:
            value = vals.get("datas", vals.get("db_datas")) or b""
            raw = base64.b64decode(value) if value else b""
        if isinstance(raw, str):
            raw = raw.encode()
        return self._compute_checksum(raw)
