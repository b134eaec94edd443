# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``ir.attachment``: the files of signature requests stay as they were.

* Once a request is sent, the files of its documents (the original, the copy sent for signature
  and every signed revision) and the signature images of its signers are frozen, for anyone
  (administrators included): their content, name, owner record, publication and access token
  can no longer change, they cannot be deleted, and no other file can be attached to a sent
  document (the public verification page trusts the files attached to documents). The module's
  own code writes new revisions as new attachments, inside ``internal_write()``.
* The evidence ZIPs and the signer attestations are append-only the same way; the copy of an
  evidence file saved on the client's contact can be deleted (the original stays on the
  request), not changed nor published.
* That saved copy is filed on the contact (``res_model`` res.partner) so that it shows among the
  contact's attachments, but it holds signed PDFs and signers' personal data: it is linked to
  its request (``esign_request_id``) and readable only by who may read the request.
* Uploads for the send wizard over the company's size limit are refused before anything is
  written.
* Every download of an evidence file, of a saved copy of one or of an attestation is an event of
  its request (who, when, from which address, by which route): streamed by any route (the
  module's download routes, ``/web/content``; see ir_binary.py) or read over RPC.
"""
import base64
import binascii
import hashlib

import psycopg2.errors

from odoo import _, api, fields, http, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from ..tools import is_internal_write

#: the fields holding an attachment's bytes (``raw`` as bytes, the others base64)
CONTENT_FIELDS = {"raw", "datas", "db_datas"}
#: what may be written on a frozen document file: the same bytes and type (Odoo rewrites them
#: when it moves a file between the database and the filestore)
FROZEN_WRITABLE = {"raw", "datas", "mimetype"}
#: the signer's fields whose files are frozen as soon as they exist
FROZEN_SIGNER_FIELDS = ("signature_image",)
#: uploads for a signature request: refused over the company's size limit before any write
UPLOAD_MODELS = ("o2s.esign.request.wizard",)
#: files of these models are kept exactly as uploaded (no image resizing)
KEEP_AS_UPLOADED_MODELS = ("o2s.esign.request.wizard", "o2s.esign.request.wizard.document",
                           "o2s.esign.document")
#: attachments of these kinds are append-only: evidence ZIPs and signer attestations
PROTECTED_MARKS = ("o2s_esign:evidence", "o2s_esign:attestation")
EVIDENCE_MARK = "o2s_esign:evidence"
#: what may be written on an evidence file: the same owner, mark, type and bytes
EVIDENCE_WRITABLE = {"res_model", "res_id", "res_field", "description", "mimetype", *CONTENT_FIELDS}
ATTESTATION_MARK = "o2s_esign:attestation"


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    # ------------------------------------------------------------------ fields
    esign_request_id = fields.Many2one(
        "o2s.esign.request", string="Evidence of the signature request", readonly=True,
        index="btree_not_null", ondelete="restrict",
        help="A copy of this request's evidence saved to the client's documents: readable only "
             "by who may read the request, whatever the rights on the contact.")

    # ------------------------------------------------------------------ access
    # Odoo 18 reads attachments through _search (fetch, search_read, /web/content) and checks
    # them with check() (write, unlink, portal, mail): both are narrowed for saved evidence.
    @api.model
    def _esign_readable_evidence_domain(self):
        """Attachments that are no saved evidence, or whose request the user may read."""
        Request = self.env["o2s.esign.request"]
        if not Request.has_access("read"):
            return [("esign_request_id", "=", False)]
        return ["|", ("esign_request_id", "=", False),
                ("esign_request_id", "in", Request._search([]))]

    @api.model
    def _esign_readable_field_files_domain(self):
        """The supporting documents of protected persons (judgments, mandates: a binary field of
        the contact for the E-signature group) only for that group. Odoo reads an attachment
        through ``_search``, which checks the access to the contact but not the field's groups:
        without this, any user who may read the contact would read the judgment by its id."""
        if self.env.user.has_group("o2s_esign.group_esign_user"):
            return []
        return ["!", "&", ("res_model", "=", "res.partner"),
                ("res_field", "=", "esign_protection_file")]

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        if not self.env.su:
            field_files = self._esign_readable_field_files_domain()
            if field_files and not any(isinstance(leaf, (list, tuple)) and leaf[0] in ("id", "res_field")
                                       for leaf in domain):
                # Odoo adds ("res_field", "=", False) only to domains that do not mention
                # res_field: ours does, so the default must be kept explicitly (else the
                # files of every binary field, avatars included, would be listed)
                field_files = expression.AND([[("res_field", "=", False)], field_files])
            domain = expression.AND([domain, self._esign_readable_evidence_domain(), field_files])
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

    def _read_format(self, fnames, load="_classic_read"):
        # read, web_read and search_read: reading the bytes of an evidence file over RPC is a
        # download too (the module's own code reads them as superuser, through the fields).
        result = super()._read_format(fnames, load=load)
        if not self.env.su and CONTENT_FIELDS.intersection(fnames or ()):
            self._esign_log_downloads("rpc:read")
        return result

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write() and any(vals.get("esign_request_id") for vals in vals_list):
            raise UserError(_("Only the signature process files evidence copies."))
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
        if any(vals.get("res_model") in KEEP_AS_UPLOADED_MODELS for vals in vals_list):
            # a file to sign is kept byte for byte: Odoo would shrink big images (scans,
            # photos) to 1920 px at upload (base.image_autoresize_max_px)
            self = self.with_context(image_no_postprocess=True)
        return super().create(vals_list)

    def write(self, vals):
        if not is_internal_write():
            if "esign_request_id" in vals:
                raise UserError(_("Only the signature process files evidence copies."))
            # The only change left on the files kept as they are: the access token Odoo's own
            # mail code (sudo) gives to files it sends as links. RPC callers never run as sudo.
            if not (set(vals) == {"access_token"} and self.env.su):
                kept = self._esign_protected() | self._esign_evidence_copies()
                if kept and not kept._esign_unchanged_by(vals, EVIDENCE_WRITABLE):
                    # Odoo's access check first: who may not even write the file learns
                    # nothing more (an AccessError, as for any other attachment).
                    self.check("write", values=vals)
                    raise kept._esign_evidence_error()
                frozen = self._esign_frozen()
                if frozen and not frozen._esign_unchanged_by(vals, FROZEN_WRITABLE):
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
            if self._esign_protected() or self._esign_evidence_copies():
                raise self._esign_evidence_error()
            frozen = self._esign_frozen()
            if frozen:
                raise frozen._esign_frozen_error()
        return super().generate_access_token()

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

    @api.model
    def _esign_upload_problem(self, res_model, name, size):
        """Why a file of ``size`` bytes cannot be uploaded for a signature request (too large),
        or None; checked before the file is written."""
        if res_model not in UPLOAD_MODELS:
            return None
        return self.env["o2s.esign.document"]._upload_size_problem(name, size)

    def _esign_unchanged_by(self, vals, writable):
        """True when ``vals`` writes only fields of ``writable`` and leaves each of these files
        as it is: the same values and the same bytes (the checksum of the content written)."""
        if not set(vals) <= writable:
            return False
        content = CONTENT_FIELDS.intersection(vals)
        if content:
            if "raw" in vals:
                data = vals["raw"] or b""
            else:
                try:
                    data = base64.b64decode(vals.get("datas", vals.get("db_datas")) or b"")
                except (binascii.Error, ValueError):
                    return False
            checksum = self._compute_checksum(data.encode() if isinstance(data, str) else data)
        for attachment in self.sudo():
            if content and attachment.checksum != checksum:
                return False
            if any(vals[name] != attachment[name] for name in set(vals) - CONTENT_FIELDS):
                return False
        return True

    def _esign_frozen_error(self):
        return UserError(_(
            "%(name)s is a document of a sent signature request: its file can no longer "
            "change.", name=self[:1].sudo().name))

    def _esign_protected(self):
        """The evidence files and attestations among ``self`` (kept append-only)."""
        return self.sudo().filtered(lambda a: a.description in PROTECTED_MARKS)

    def _esign_evidence_copies(self):
        """The copies of an evidence file saved on a contact among ``self`` (linked to their
        request): they can be deleted, not changed nor published."""
        return self.sudo().filtered("esign_request_id")

    def _esign_log_downloads(self, route):
        """Log the download of each evidence file, saved copy of one or attestation among
        ``self`` as an event of its request (``evidence_downloaded`` or
        ``attestation_downloaded``): who, the file and its SHA-256, the route, and the client's
        address and browser (the client's own address behind a reverse proxy when Odoo runs
        with ``proxy_mode``). Other attachments are left alone.

        sudo: the events and the request's files are the module's; whoever downloads passed
        the read check of the route (Odoo's for ``/web/content`` and RPC, the module's
        controllers' own) before anything is logged.

        On a read-only cursor (a route Odoo serves from a database replica) nothing can be
        written: ``ReadOnlySqlTransaction`` makes Odoo serve the request again on the primary."""
        logged = []
        for attachment in self.sudo():
            request = attachment.esign_request_id
            kind = "evidence"
            if not request and attachment.res_model == "o2s.esign.request" and attachment.res_id \
                    and attachment.description in PROTECTED_MARKS:
                request = self.env["o2s.esign.request"].sudo().browse(attachment.res_id).exists()
                kind = "attestation" if attachment.description == ATTESTATION_MARK else "evidence"
            if request:
                logged.append((attachment, request, kind))
        if not logged:
            return
        if self.env.cr.readonly:
            raise psycopg2.errors.ReadOnlySqlTransaction(
                "o2s_esign: the download of an evidence file is an audit event")
        httprequest = http.request.httprequest if http.request else None
        user = self.env.user
        for attachment, request, kind in logged:
            signer = None
            if kind == "attestation":
                signer = request.signer_ids.filtered(
                    lambda s, attachment=attachment: s.attestation_attachment_id == attachment)[:1]
            request._log_event(
                "attestation_downloaded" if kind == "attestation" else "evidence_downloaded",
                signer=signer or None, payload={
                    "user_id": user.id, "user": user.name, "attachment_id": attachment.id,
                    "name": attachment.name, "sha256": attachment._esign_sha256(),
                    "saved_copy": bool(attachment.esign_request_id), "route": route,
                },
                ip_address=httprequest.remote_addr if httprequest else None,
                user_agent=httprequest.headers.get("User-Agent") if httprequest else None)

    def _esign_sha256(self):
        """SHA-256 (hex) of this attachment's bytes, read in blocks from the filestore."""
        self.ensure_one()
        digest = hashlib.sha256()
        if self.store_fname:
            with open(self._full_path(self.store_fname), "rb") as stored:
                for block in iter(lambda: stored.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update(self.raw or b"")
        return digest.hexdigest()

    @api.model
    def _esign_link_saved_evidence(self):
        """Link to their request the evidence copies saved on contacts before copies were
        linked (found by the bytes of the request's evidence ZIP). Run by the 18.0.1.1.0
        migration; copies saved since are linked when they are made."""
        self.flush_model()
        self.env.cr.execute(SQL(
            """
            UPDATE ir_attachment saved
               SET esign_request_id = evidence.res_id
              FROM ir_attachment evidence
              JOIN o2s_esign_request request ON request.id = evidence.res_id
             WHERE evidence.res_model = 'o2s.esign.request' AND evidence.description = %(mark)s
               AND saved.res_model = 'res.partner' AND saved.esign_request_id IS NULL
               AND saved.checksum = evidence.checksum
               AND (saved.description IS NULL OR saved.description <> ALL(%(marks)s))
            """, mark=EVIDENCE_MARK, marks=list(PROTECTED_MARKS)))
        linked = self.env.cr.rowcount
        self.invalidate_model(["esign_request_id"])
        return linked

    def _esign_evidence_error(self):
        return UserError(_("The evidence files of a signature request cannot be changed or "
                           "moved."))
