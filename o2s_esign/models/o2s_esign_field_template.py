# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Where the fields of a type of document go (the firm's mission letter always has its boxes in
the same place): placed once in the send wizard's editor, applied to the next documents of the
type, signers matched by their order."""
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .o2s_esign_field import FIELD_TYPES

# the keys of one placement (the wizard's JSON, the API's fields, this model's values)
PLACEMENT_KEYS = ("signer", "type", "page", "x", "y", "width", "height", "required", "label")


class O2sEsignFieldTemplate(models.Model):
    _name = "o2s.esign.field.template"
    _description = "Field placed on every document of a type"
    _order = "document_type_id, page, y desc, x, id"

    document_type_id = fields.Many2one(
        "o2s.esign.document.type", string="Document type", required=True, index=True,
        ondelete="cascade")
    signer_number = fields.Integer(
        string="Signer", required=True, default=1,
        help="The signer of this field: 1 for the first signer in the signing order, 2 for the "
             "second...")
    field_type = fields.Selection(FIELD_TYPES, string="Type", required=True, default="signature")
    page = fields.Integer(required=True, default=1, help="Page of the field, the first is 1.")
    x = fields.Float(required=True, help="Left edge, in PDF points from the page's left edge.")
    y = fields.Float(required=True, help="Bottom edge, in PDF points from the page's bottom edge.")
    width = fields.Float(required=True)
    height = fields.Float(required=True)
    required = fields.Boolean(default=True)
    label = fields.Char()

    @api.constrains("signer_number", "page", "x", "y", "width", "height")
    def _check_geometry(self):
        for template in self:
            if template.signer_number < 1 or template.page < 1:
                raise ValidationError(_("The signer and the page of a field are numbered from 1."))
            if template.width <= 0 or template.height <= 0 or template.x < 0 or template.y < 0:
                raise ValidationError(_("A field has a positive size and lies on its page."))

    # --------------------------------------------------------- business methods
    def _esign_placements(self):
        """These fields as placements (dicts of PLACEMENT_KEYS), in their order."""
        return [{
            "signer": template.signer_number, "type": template.field_type, "page": template.page,
            "x": template.x, "y": template.y, "width": template.width, "height": template.height,
            "required": template.required, "label": template.label or "",
        } for template in self]

    @api.model
    def _esign_placements_for(self, document_type):
        """The placements saved for ``document_type`` (none: an empty list)."""
        if not document_type:
            return []
        return self.search([("document_type_id", "=", document_type.id)])._esign_placements()

    @api.model
    def _esign_clean_placements(self, placements):
        """``placements`` (JSON from the browser) checked and reduced to PLACEMENT_KEYS; raises
        ValidationError on anything else than a list of well-formed placements."""
        types = {key for key, _label in FIELD_TYPES}
        cleaned = []
        for placement in placements or []:
            try:
                item = {
                    "signer": int(placement["signer"]), "type": placement["type"],
                    "page": int(placement["page"]),
                    "x": float(placement["x"]), "y": float(placement["y"]),
                    "width": float(placement["width"]), "height": float(placement["height"]),
                    "required": bool(placement.get("required", True)),
                    "label": str(placement.get("label") or "")[:200],
                }
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ValidationError(_("A field placement is incomplete.")) from exc
            if item["type"] not in types or item["signer"] < 1 or item["page"] < 1 \
                    or item["width"] <= 0 or item["height"] <= 0 or item["x"] < 0 or item["y"] < 0:
                raise ValidationError(_("A field placement is not valid."))
            cleaned.append(item)
        return cleaned

    @api.model
    def _esign_save_template(self, document_type, placements):
        """Replace the fields of ``document_type`` by ``placements`` (with the caller's rights:
        only those who may customise the e-signature write templates)."""
        placements = self._esign_clean_placements(placements)
        self.search([("document_type_id", "=", document_type.id)]).unlink()
        return self.create([{
            "document_type_id": document_type.id, "signer_number": item["signer"],
            "field_type": item["type"], "page": item["page"], "x": item["x"], "y": item["y"],
            "width": item["width"], "height": item["height"], "required": item["required"],
            "label": item["label"] or False,
        } for item in placements])

    @api.model
    def esign_save_from_editor(self, document_type_id, placements):
        """The placement editor's "Save for this document type": only users who may customise
        the e-signature (options group) write templates, with their own rights."""
        if not self.env.user.has_group("o2s_esign.group_esign_options"):
            raise AccessError(_(
                "You need the “E-signature options management” right to save the fields of a "
                "document type."))
        document_type = self.env["o2s.esign.document.type"].browse(int(document_type_id)).exists()
        if not document_type:
            raise ValidationError(_("Choose the type of the document first."))
        return self._esign_save_template(document_type, placements).ids
