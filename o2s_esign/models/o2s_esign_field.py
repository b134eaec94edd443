# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A field box on a document to sign (``o2s.esign.field``): where a signer signs, initials,
dates, types a text or ticks a box, in PDF points from the page's bottom-left corner (as the
API). Placed while the request is a draft (editor, anchors, API, template); at send the box gets
its PDF field name; the signing process alone fills value and time."""
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import is_internal_write

FIELD_TYPES = [
    ("signature", "Signature"),
    ("initials", "Initials"),
    ("date", "Date"),
    ("text", "Text"),
    ("checkbox", "Checkbox"),
]
FIELD_SOURCES = [("editor", "Editor"), ("anchor", "Anchor"), ("api", "API"), ("template", "Template")]
#: set by the signature process only (send, signing)
FIELD_INTERNAL_FIELDS = {"pdf_field_name", "value", "date_filled"}
#: a box is at least this big and at most this big (points; A0 is 2384 points high)
MIN_SIZE = 4.0
MAX_COORD = 14400.0
#: the stored values of a ticked checkbox
TICKED_VALUES = ("1", "true", "yes", "on", "x")
#: what a signer may type into a text field
MAX_TEXT_LENGTH = 200


class O2sEsignField(models.Model):
    _name = "o2s.esign.field"
    _description = "Field to fill on a document"
    _order = "document_id, page, sequence, id"

    document_id = fields.Many2one(
        "o2s.esign.document", required=True, ondelete="cascade", index=True)
    # cascade (not "set null"): deleting a draft request deletes its documents and their fields in
    # the same statement; an UPDATE of the field row to null would meet its deleted document
    request_id = fields.Many2one(related="document_id.request_id", store=True, index=True,
                                 ondelete="cascade")
    company_id = fields.Many2one(related="document_id.request_id.company_id", store=True)
    signer_id = fields.Many2one("o2s.esign.signer", required=True, ondelete="cascade", index=True)
    field_type = fields.Selection(FIELD_TYPES, string="Type", required=True, default="signature")
    page = fields.Integer(required=True, default=1, help="1 for the first page.")
    x = fields.Float(required=True, help="From the page's left edge, in PDF points.")
    y = fields.Float(required=True, help="From the page's bottom edge, in PDF points.")
    width = fields.Float(required=True, default=180.0)
    height = fields.Float(required=True, default=60.0)
    required = fields.Boolean(default=True)
    label = fields.Char(help="Shown to the signer, e.g. 'Place of signature'.")
    source = fields.Selection(FIELD_SOURCES, required=True, default="editor")
    sequence = fields.Integer(default=10)
    pdf_field_name = fields.Char(string="PDF field", readonly=True, copy=False)
    value = fields.Char(readonly=True, copy=False)
    date_filled = fields.Datetime(string="Filled on", readonly=True, copy=False)

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_protected_fields(vals, create=True)
            if vals.get("field_type", "signature") == "signature":
                vals["required"] = True
        records = super().create(vals_list)
        records._check_box()
        return records

    def write(self, vals):
        self._check_protected_fields(vals)
        if vals.get("field_type") == "signature":
            vals = dict(vals, required=True)
        if "required" in vals and not vals["required"] and self.filtered(
                lambda f: f.field_type == "signature"):
            vals = dict(vals, required=True)
        res = super().write(vals)
        if not is_internal_write():
            self._check_box()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda f: f.request_id.state not in (False, "draft")):
            raise UserError(_("The fields of a sent request are kept for its evidence."))

    def _check_protected_fields(self, vals, create=False):
        """The one guard of what only the signature process writes, and of the fields of a sent
        request (create and write alike)."""
        if is_internal_write():
            return
        if FIELD_INTERNAL_FIELDS.intersection(vals):
            raise UserError(_("The values of a field are set by the signature process."))
        if create:
            document = self.env["o2s.esign.document"].browse(vals.get("document_id"))
            document.request_id._esign_check_draft(
                _("Fields cannot be added to a request once it is sent."))
        elif self.filtered(lambda f: f.request_id.state != "draft"):
            raise UserError(_("The fields of a request cannot be changed once it is sent."))

    def _check_box(self):
        """Sizes, page and signer of each box; the page size is checked at send
        (:meth:`_esign_check_in_page`)."""
        for field in self:
            if field.signer_id.request_id != field.document_id.request_id:
                raise ValidationError(_("A field belongs to a signer of the same request."))
            if field.page < 1:
                raise ValidationError(_("Pages are numbered from 1."))
            if field.document_id.page_count and field.page > field.document_id.page_count:
                raise ValidationError(_(
                    "Field on page %(page)s: the document %(document)s has %(count)s pages.",
                    page=field.page, document=field.document_id.name,
                    count=field.document_id.page_count))
            if field.width < MIN_SIZE or field.height < MIN_SIZE:
                raise ValidationError(_("A field is at least %s points wide and high.", MIN_SIZE))
            if not (0 <= field.x <= MAX_COORD and 0 <= field.y <= MAX_COORD
                    and field.x + field.width <= MAX_COORD and field.y + field.height <= MAX_COORD):
                raise ValidationError(_("A field lies inside its page."))
            if field.label and len(field.label) > MAX_TEXT_LENGTH:
                raise ValidationError(_("A field's label is at most %s characters.", MAX_TEXT_LENGTH))

    def _esign_check_in_page(self, page_boxes):
        """At send: each box inside its page. ``page_boxes``: list of (width, height) per page
        (points, as the page is shown: lib.pdf.page_sizes)."""
        for field in self:
            if field.page > len(page_boxes):
                raise UserError(_(
                    "Field on page %(page)s: the document %(document)s has %(count)s pages.",
                    page=field.page, document=field.document_id.name, count=len(page_boxes)))
            width, height = page_boxes[field.page - 1]
            if field.x + field.width > width + 0.5 or field.y + field.height > height + 0.5:
                raise UserError(_(
                    "A field of %(document)s lies outside page %(page)s.",
                    document=field.document_id.name, page=field.page))

    def _esign_is_ticked(self):
        """A checkbox's stored value read as ticked or not."""
        self.ensure_one()
        return (self.value or "").strip().lower() in TICKED_VALUES

    def _esign_pdf_field_name(self):
        """The PDF form field of a box the signer fills (a signature box is the signer's
        signature field, o2s.esign.signer._esign_field_name)."""
        self.ensure_one()
        return "O2sField%d" % self.id

    def _esign_rect(self):
        """(x1, y1, x2, y2) in PDF points, bottom-left origin."""
        self.ensure_one()
        return (self.x, self.y, self.x + self.width, self.y + self.height)

    def _esign_page_values(self):
        """What the signer's page needs to draw this signer's fields (no value of others)."""
        return [{
            "id": field.id, "document_id": field.document_id.id, "type": field.field_type,
            "page": field.page, "rect": list(field._esign_rect()),
            "required": field.required, "label": field.label or "",
            "value": field.value or "",
        } for field in self]
