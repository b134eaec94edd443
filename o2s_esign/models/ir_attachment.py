# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Once a request is sent, the files of its documents (the original, the copy sent for
signature and every signed revision) can no longer change or go, for anyone (admins included);
the module's own code writes new revisions as new attachments."""
import base64
import binascii

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import is_internal_write

# Fields that change what an attachment holds or what it belongs to.
CONTENT_FIELDS = {"raw", "datas", "db_datas", "store_fname", "url", "type"}
LINK_FIELDS = {"res_model", "res_id", "res_field"}


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

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

    def write(self, vals):
        if (CONTENT_FIELDS | LINK_FIELDS | {"mimetype"}).intersection(vals) and not is_internal_write():
            frozen = self._esign_frozen()
            if frozen and not frozen._esign_same_content(vals):
                raise UserError(_(
                    "%(name)s is a document of a sent signature request: its file can no longer "
                    "change.", name=frozen[:1].sudo().name))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_esign_frozen(self):
        if is_internal_write():
            return
        frozen = self._esign_frozen()
        if frozen:
            raise UserError(_(
                "%(name)s is a document of a sent signature request: it is kept for the evidence "
                "and cannot be deleted.", name=frozen[:1].sudo().name))
