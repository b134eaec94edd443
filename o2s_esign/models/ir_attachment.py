# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Once a request is sent, the files of its documents (the original, the copy sent for
signature and every signed revision) and the signature images of its signers are frozen, for
anyone (administrators included): their content, name, owner record, publication and access
token can no longer change, they cannot be deleted, and no other file can be attached to a sent
document (the public verification page trusts the files attached to documents). The module's
own code writes new revisions as new attachments, inside ``internal_write()``."""
import base64
import binascii

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import is_internal_write

# Fields whose rewrite with the same bytes is not a change (Odoo moving a file between the
# database and the filestore writes them).
SAME_CONTENT_FIELDS = {"raw", "datas", "mimetype"}
#: the signer's fields whose files are frozen as soon as they exist
FROZEN_SIGNER_FIELDS = ("signature_image",)
#: uploads for a signature request: refused over the company's size limit before any write
UPLOAD_MODELS = ("o2s.esign.request.wizard",)


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _esign_frozen(self):
        """The attachments among ``self`` that hold a file of a sent request's document or a
        signer's signature image."""
        ids = [attachment_id for attachment_id in self.ids if attachment_id]
        if not ids:
            return self.browse()
        self.flush_model(["res_model", "res_id", "res_field"])
        self.env["o2s.esign.document"].flush_model(["request_id"])
        self.env["o2s.esign.request"].flush_model(["state"])
        self.env.cr.execute(SQL(
            """
            SELECT a.id
              FROM ir_attachment a
              JOIN o2s_esign_document d ON a.res_model = 'o2s.esign.document' AND a.res_id = d.id
              JOIN o2s_esign_request r ON r.id = d.request_id
             WHERE a.id IN %(ids)s AND r.state != 'draft'
             UNION
            SELECT a.id
              FROM ir_attachment a
             WHERE a.id IN %(ids)s AND a.res_model = 'o2s.esign.signer'
               AND a.res_field IN %(fields)s
            """, ids=tuple(ids), fields=FROZEN_SIGNER_FIELDS))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _esign_frozen_target(self, res_model, res_id, res_field=None):
        """True when an attachment owned by (res_model, res_id, res_field) would be frozen:
        a sent request's document, or a signer's signature image."""
        if res_model == "o2s.esign.signer":
            return res_field in FROZEN_SIGNER_FIELDS
        if res_model != "o2s.esign.document" or not res_id:
            return False
        document = self.env["o2s.esign.document"].sudo().browse(res_id).exists()
        return bool(document) and document.request_id.state not in (False, "draft")

    def _esign_same_content(self, vals):
        """True when ``vals`` only rewrites the same bytes (as moving the storage does)."""
        if not set(vals) <= SAME_CONTENT_FIELDS:
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

    def _esign_frozen_error(self):
        return UserError(_(
            "%(name)s is a document of a sent signature request: its file can no longer "
            "change.", name=self[:1].sudo().name))

    @api.model
    def _esign_upload_problem(self, res_model, name, size):
        """Why a file of ``size`` bytes cannot be uploaded for a signature request (too large),
        or None; checked before the file is written."""
        if res_model not in UPLOAD_MODELS:
            return None
        return self.env["o2s.esign.document"]._upload_size_problem(name, size)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("res_model") in UPLOAD_MODELS and ("raw" in vals or "datas" in vals):
                raw = vals.get("raw") or b""
                size = len(raw) if "raw" in vals else len(vals.get("datas") or b"") * 3 // 4
                problem = self._esign_upload_problem(vals["res_model"], vals.get("name"), size)
                if problem:
                    raise UserError(problem)
        if not is_internal_write():
            for vals in vals_list:
                if self._esign_frozen_target(
                        vals.get("res_model"), vals.get("res_id"), vals.get("res_field")):
                    raise UserError(_("No file can be added to a sent signature request's "
                                      "documents or signatures."))
        return super().create(vals_list)

    def write(self, vals):
        if not is_internal_write():
            frozen = self._esign_frozen()
            # The only change left on a frozen file: the access token Odoo's own mail code
            # (sudo) gives to files it sends as links. RPC callers never run as sudo.
            if frozen and not frozen._esign_same_content(vals) \
                    and not (set(vals) == {"access_token"} and self.env.su):
                raise frozen._esign_frozen_error()
            if {"res_model", "res_id", "res_field"}.intersection(vals) and any(
                    self._esign_frozen_target(
                        vals.get("res_model", attachment.res_model),
                        vals.get("res_id", attachment.res_id),
                        vals.get("res_field", attachment.res_field))
                    for attachment in self.sudo()):
                raise UserError(_("No file can be added to a sent signature request's "
                                  "documents or signatures."))
        return super().write(vals)

    def generate_access_token(self):
        if not is_internal_write() and not self.env.su:
            frozen = self._esign_frozen()
            if frozen:
                raise frozen._esign_frozen_error()
        return super().generate_access_token()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_esign_frozen(self):
        if is_internal_write():
            return
        frozen = self._esign_frozen()
        if frozen:
            raise UserError(_(
                "%(name)s is a document of a sent signature request: it is kept for the evidence "
                "and cannot be deleted.", name=frozen[:1].sudo().name))
