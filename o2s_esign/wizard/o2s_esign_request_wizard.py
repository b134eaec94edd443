# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""“Sign electronically”: pick documents and signers from a contact, then send in one step."""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tools.misc import clean_context

# The module's own attachments (documents being signed, identity scans, uploads of this
# wizard): never offered as "other records' documents".
INTERNAL_ATTACHMENT_MODELS = (
    "o2s.esign.request",
    "o2s.esign.document",
    "o2s.esign.signer",
    "o2s.esign.event",
    "o2s.esign.id.document",
    "o2s.esign.request.wizard",
)
# The files that can be sent for signature (lib.convert turns them into the PDF signed).
SIGNABLE_MIMETYPES = [
    "application/pdf", "image/jpeg", "image/png", "image/tiff", "image/heic", "image/heif",
    "application/msword", "application/rtf", "text/rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
]
# The previews of the PDF to sign (attached to nothing, readable by their creator only).
PREVIEW_MARK = "o2s_esign:preview"
# Uploads of a wizard that was never sent are removed after this long.
UPLOAD_LIFETIME = timedelta(days=1)

SIGNER_ROLES = [
    ("signer", "Signer"),
    ("legal_representative", "Representative of a protected person"),
    ("company_representative", "Company representative"),
]
PRESENCES = [("remote", "Remote"), ("in_person", "In person")]
SOURCES = [
    ("upload", "Your computer"),
    ("client", "Client's documents"),
    ("other", "Other records"),
]


class O2sEsignRequestWizard(models.TransientModel):
    _name = "o2s.esign.request.wizard"
    _description = "Send documents for electronic signature"

    # ------------------------------------------------------------------ fields
    partner_ids = fields.Many2many(
        "res.partner", "o2s_esign_request_wizard_partner_rel", "wizard_id", "partner_id",
        string="Contacts", help="The contacts the documents are sent from; their signers are "
                                "proposed below.")
    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, compute="_compute_partner_id",
        store=True, readonly=False, domain="[('id', 'in', partner_ids)]",
        help="The client file the request belongs to (its E-signature tracking).")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    esign_server_clock_only = fields.Boolean(
        string="Server clock only", compute="_compute_esign_server_clock_only",
        help="No timestamp authority (or the B-B level): signatures will carry the server's "
             "clock only.")
    name = fields.Char(string="Subject", help="Defaults to the documents' names.")
    upload_attachment_ids = fields.Many2many(
        "ir.attachment", "o2s_esign_request_wizard_upload_rel", "wizard_id", "attachment_id",
        string="From your computer")
    partner_attachment_ids = fields.Many2many(
        "ir.attachment", "o2s_esign_request_wizard_client_rel", "wizard_id", "attachment_id",
        string="From the client's documents",
        domain="[('res_model', '=', 'res.partner'), ('res_id', 'in', partner_ids), "
               "('mimetype', 'in', %r)]" % (SIGNABLE_MIMETYPES,))
    other_attachment_ids = fields.Many2many(
        "ir.attachment", "o2s_esign_request_wizard_other_rel", "wizard_id", "attachment_id",
        string="From other records", domain=lambda self: self._other_attachment_domain(),
        help="Files attached to other records you can read (PDF, images, Office documents).")
    client_document_count = fields.Integer(compute="_compute_client_document_count")
    document_type_id = fields.Many2one(
        "o2s.esign.document.type", string="Document type",
        default=lambda self: self._default_document_type(),
        help="The type given to the documents you add; it can be changed per document.")
    document_line_ids = fields.One2many(
        "o2s.esign.request.wizard.document", "wizard_id", string="Documents",
        compute="_compute_document_line_ids", store=True, readonly=False)
    signer_line_ids = fields.One2many(
        "o2s.esign.request.wizard.signer", "wizard_id", string="Signers",
        compute="_compute_signer_line_ids", store=True, readonly=False)
    signer_notice = fields.Text(compute="_compute_signer_notice")
    signing_order = fields.Selection(
        [("parallel", "All at once"), ("sequential", "One after the other")],
        string="Signing order", required=True, default="parallel")
    presence = fields.Selection(PRESENCES, required=True, default="remote",
                                help="Remote: each signer gets a link by email. In person: no email; the "
                                     "signers sign on your device, with you (the SMS code goes "
                                     "to their mobile).")
    date_deadline = fields.Date(
        string="Expires on", required=True, default=lambda self: self._default_date_deadline())
    message = fields.Text(string="Message to the signers")

    # ---------------------------------------------------------------- defaults
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if "partner_ids" in fields_list and not values.get("partner_ids") \
                and context.get("active_model") == "res.partner" and context.get("active_ids"):
            values["partner_ids"] = [Command.set(context["active_ids"])]
        return values

    @api.model
    def _default_date_deadline(self):
        return self.env["o2s.esign.request"]._default_date_deadline()

    @api.model
    def _default_document_type(self):
        return self.env.ref("o2s_esign.document_type_other", raise_if_not_found=False) \
            or self.env["o2s.esign.document.type"].search([], limit=1)

    @api.model
    def _other_attachment_domain(self):
        return [
            ("mimetype", "in", SIGNABLE_MIMETYPES),
            ("res_model", "!=", False),
            ("res_model", "not in", INTERNAL_ATTACHMENT_MODELS),
            ("res_id", "!=", 0),
        ]

    # ---------------------------------------------------------------- computes
    @api.depends("partner_ids")
    def _compute_partner_id(self):
        for wizard in self:
            if wizard.partner_id not in wizard.partner_ids:
                wizard.partner_id = wizard.partner_ids[:1]
            else:
                wizard.partner_id = wizard.partner_id

    @api.depends("partner_ids")
    def _compute_client_document_count(self):
        for wizard in self:
            wizard.client_document_count = self.env["ir.attachment"].search_count([
                ("res_model", "=", "res.partner"), ("res_id", "in", wizard.partner_ids._origin.ids),
                ("mimetype", "in", SIGNABLE_MIMETYPES)]) if wizard.partner_ids else 0

    def _selected_attachments(self):
        """The chosen files, each once, with where they come from: [(attachment, source)]."""
        self.ensure_one()
        selected, seen = [], set()
        for source, attachments in (("upload", self.upload_attachment_ids),
                                    ("client", self.partner_attachment_ids),
                                    ("other", self.other_attachment_ids)):
            for attachment in attachments:
                attachment = attachment._origin or attachment
                if attachment.id not in seen:
                    seen.add(attachment.id)
                    selected.append((attachment, source))
        return selected

    @api.depends("upload_attachment_ids", "partner_attachment_ids", "other_attachment_ids")
    def _compute_document_line_ids(self):
        """One line per chosen file; lines already there keep their name and type."""
        for wizard in self:
            selected = wizard._selected_attachments()
            wanted = {attachment.id for attachment, _source in selected}
            commands, kept = [], set()
            for line in wizard.document_line_ids:
                attachment_id = line.attachment_id._origin.id or line.attachment_id.id
                if attachment_id in wanted and attachment_id not in kept:
                    kept.add(attachment_id)
                else:
                    commands.append(Command.unlink(line.id))
            sequence = max(wizard.document_line_ids.mapped("sequence") or [0])
            for attachment, source in selected:
                if attachment.id in kept:
                    continue
                sequence += 10
                commands.append(Command.create({
                    "attachment_id": attachment.id,
                    "name": attachment.name,
                    "source": source,
                    "sequence": sequence,
                    "document_type_id": wizard._document_type_for(attachment).id,
                }))
            wizard.document_line_ids = commands

    def _document_type_for(self, attachment):
        """The type of a file added: the one chosen on the wizard, or while that is the default
        ("Other"), the type the file's name begins with ("Lettre de mission.pdf")."""
        self.ensure_one()
        if self.document_type_id and self.document_type_id != self._default_document_type():
            return self.document_type_id
        return self.env["o2s.esign.document.type"]._guess_from_file_name(attachment.name) \
            or self.document_type_id

    def _default_signer_values(self):
        """Who signs for the chosen contacts (res.partner._esign_default_signers), each once."""
        self.ensure_one()
        values, seen = [], set()
        for partner in self.partner_ids:
            try:
                signers = partner._origin._esign_default_signers()
            except UserError:
                continue  # told in signer_notice; the advisor adds the signer by hand
            for signer in signers:
                if signer["partner_id"] not in seen:
                    seen.add(signer["partner_id"])
                    values.append(signer)
        return values

    @api.depends("partner_ids")
    def _compute_signer_line_ids(self):
        for wizard in self:
            commands = [Command.clear()]
            for index, signer in enumerate(wizard._default_signer_values()):
                commands.append(Command.create(dict(
                    signer, sequence=10 * (index + 1), presence=wizard.presence or "remote")))
            wizard.signer_line_ids = commands

    @api.depends("company_id")
    def _compute_esign_server_clock_only(self):
        for wizard in self:
            wizard.esign_server_clock_only = bool(wizard.company_id) and \
                wizard.company_id._esign_server_clock_only()

    @api.depends("partner_ids")
    def _compute_signer_notice(self):
        for wizard in self:
            notices = []
            for partner in wizard.partner_ids:
                try:
                    partner._origin._esign_default_signers()
                except UserError as exc:
                    notices.append(exc.args[0])
            wizard.signer_notice = "\n".join(notices) or False

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self.env["o2s.esign.request"]._check_storable_text(vals)
        return super().create(vals_list)

    def write(self, vals):
        self.env["o2s.esign.request"]._check_storable_text(vals)
        return super().write(vals)

    # ------------------------------------------------------------------ onchange
    @api.onchange("presence")
    def _onchange_presence(self):
        for line in self.signer_line_ids:
            line.presence = self.presence

    @api.onchange("document_type_id")
    def _onchange_document_type_id(self):
        """Changing the type here types every document (each can then be changed)."""
        if self.document_type_id:
            for line in self.document_line_ids:
                line.document_type_id = self.document_type_id

    # ------------------------------------------------------------------ actions
    def action_send(self):
        """Check everything, then create and send the request in one step (all or nothing);
        then open the request, or the signing page of its first signer in person."""
        self.ensure_one()
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to send documents for signature."))
        # Drop the default_* keys the wizard was opened with (default_name...): they must not
        # reach the records created below. with_context(**...) would merge, not drop.
        wizard = self.with_context(clean_context(self.env.context))  # pylint: disable=context-overridden
        problems, readable = wizard._get_attachment_problems()
        values = wizard._prepare_request_values(readable)
        with wizard.env.cr.savepoint():
            # Each document gets its own copy of the file (frozen once sent): the client's file,
            # the other record's file and the upload stay independent of the request.
            for command in values["document_ids"]:
                source = wizard.env["ir.attachment"].browse(command[2]["original_attachment_id"])
                command[2]["original_attachment_id"] = wizard._copy_attachment(source).id
            request = wizard._esign_create_and_send(values, readable, problems)
        wizard._remove_uploads()
        if request.in_person_signer_id:
            # a signer is with the advisor: their signing page opens at once, on this screen
            return request.action_esign_sign_in_person()
        return request._esign_form_action()

    # ---------------------------------------------------------- send helpers
    def _esign_create_and_send(self, values, document_lines, problems):
        """o2s.esign.request._create_and_send with the fields placed in the editor on each
        document (the lines in the order of the documents they made: _prepare_request_values);
        a document without placements gets its anchors or its type's fields."""
        placements = [line.field_placements or None for line in document_lines.sorted("sequence")]
        return self.env["o2s.esign.request"]._create_and_send(
            values, problems=problems, placements=placements, source="editor")

    def _get_attachment_problems(self):
        """Files the user may not use: unreadable, or internal to the module. Returns
        (problems, the document lines whose file can be read)."""
        problems = []
        readable = self.env["o2s.esign.request.wizard.document"]
        for line in self.document_line_ids:
            attachment = line.attachment_id
            if not attachment.exists():
                problems.append(_("The file of %(name)s no longer exists.", name=line.name))
                continue
            try:
                attachment.check("read")  # the rights on the record the file belongs to
            except AccessError:
                problems.append(_("You are not allowed to read %(name)s.", name=line.name))
                continue
            internal = attachment.res_model in INTERNAL_ATTACHMENT_MODELS and not (
                attachment.res_model == self._name and attachment.create_uid == self.env.user)
            if internal:
                problems.append(_(
                    "%(name)s belongs to another signature request and cannot be sent again from "
                    "here.", name=line.name))
                continue
            readable |= line
        return problems, readable

    def _prepare_request_values(self, document_lines):
        """Values of the request (documents point to the chosen files until they are copied)."""
        self.ensure_one()
        documents = [
            Command.create({
                "name": line.name or line.attachment_id.name,
                "sequence": line.sequence,
                "document_type_id": line.document_type_id.id,
                "original_attachment_id": line.attachment_id.id,
            })
            for line in document_lines.sorted("sequence")
        ]
        signers = [
            Command.create({
                "partner_id": line.partner_id.id,
                "role": line.role,
                "represented_partner_id": line.represented_partner_id.id,
                "sequence": line.sequence,
                "presence": line.presence,
            })
            for line in self.signer_line_ids.sorted(lambda line: (line.sequence, line.id))
            if line.partner_id
        ]
        for index, command in enumerate(signers):  # one step per line, in the order shown
            command[2]["sequence"] = 10 * (index + 1)
        # the default subject: the documents' names, as the documents will be named
        name = (self.name or "").strip() or self.env["o2s.esign.document"]._default_subject(
            [line.name or line.attachment_id.name for line in document_lines.sorted("sequence")]
        ) or _("Documents to sign")
        return {
            "name": name[:250],
            "partner_id": self.partner_id.id,
            "user_id": self.env.user.id,
            "company_id": self.company_id.id,
            "signing_order": self.signing_order,
            "date_deadline": self.date_deadline,
            "message": self.message or False,
            "document_ids": documents,
            "signer_ids": signers,
        }

    def _copy_attachment(self, source):
        """A new attachment with the content of ``source`` (read with the user's rights)."""
        name = self.env["o2s.esign.document"]._safe_file_name(source.name)
        return self.env["ir.attachment"].create({
            "name": name, "raw": source.raw, "mimetype": source.mimetype or "application/pdf",
        })

    def _remove_uploads(self):
        """The uploads were copied into the request: remove them."""
        uploads = self.upload_attachment_ids.filtered(
            lambda a: a.res_model == self._name and a.create_uid == self.env.user)
        uploads.unlink()

    @api.autovacuum
    def _gc_abandoned_uploads(self):
        """Remove files uploaded in a wizard that was never sent (sudo: the vacuum runs for
        every user's uploads, which only their author can otherwise reach)."""
        limit = fields.Datetime.now() - UPLOAD_LIFETIME
        attachments = self.env["ir.attachment"].sudo()
        attachments.search([("res_model", "=", self._name), ("create_date", "<", limit)]).unlink()
        attachments.search([("res_model", "=", False), ("description", "=", PREVIEW_MARK),
                            ("create_date", "<", limit)]).unlink()
