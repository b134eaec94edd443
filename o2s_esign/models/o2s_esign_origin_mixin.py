# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What another module inherits to ask for signatures from its own records (see README, “For
integrators”)."""
from odoo import _, api, fields, models


class O2sEsignOriginMixin(models.AbstractModel):
    """A business record (subscription, payment, arbitration...) that asks for signatures.

    Inherit it next to your model (``_inherit = ["my.model", "o2s.esign.origin.mixin"]``), then:

    * call ``record._esign_send_for_signature(partner, attachments)`` at the end of your flow;
    * show ``esign_request_count`` in a smart button calling ``action_view_esign_requests``;
    * override ``_esign_on_request_state(request, old_state, new_state)`` to react when a request
      is signed, refused, cancelled or expires.
    """

    _name = "o2s.esign.origin.mixin"
    _description = "Record that asks for electronic signatures"

    esign_request_ids = fields.One2many(
        "o2s.esign.request", "origin_id", string="Signature requests", readonly=True,
        groups="o2s_esign.group_esign_user")
    esign_request_count = fields.Integer(
        string="Signatures", compute="_compute_esign_request_count",
        groups="o2s_esign.group_esign_user")

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_esign_request_count(self):
        counts = {}
        if self.ids:
            groups = self.env["o2s.esign.request"]._read_group(
                [("origin_model", "=", self._name), ("origin_id", "in", self.ids)],
                ["origin_id"], ["__count"])
            counts = dict(groups)
        for record in self:
            record.esign_request_count = counts.get(record.id, 0)

    def action_view_esign_requests(self):
        """The signature requests these records asked for (smart button)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_action")
        action["domain"] = [("origin_model", "=", self._name), ("origin_id", "in", self.ids)]
        action["context"] = {"create": False}
        if len(self) == 1:
            action["name"] = _("Signature requests: %(name)s", name=self.display_name)
        return action

    def _esign_send_for_signature(self, partner, attachments, signers=None, document_type=None,
                                  **options):
        """Create and send one signature request from this record; return it.

        :param partner: the client contact (res.partner) the request belongs to
        :param attachments: the PDFs to sign (ir.attachment the user can read); they are copied,
            the originals stay where they are
        :param signers: optional list of dicts (``partner_id`` and optional ``role``,
            ``represented_partner_id``, ``presence``, ``sequence``); default: who signs for
            ``partner`` (the person; a company's representative; a protected person's legal
            representative)
        :param document_type: optional o2s.esign.document.type of every document
        :param options: optional ``name``, ``signing_order``, ``date_deadline``, ``message``,
            ``user_id``, as for ``o2s.esign.request.create_and_send``
        :raises UserError: listing every problem (missing mobile, expired ID, not a PDF...);
            then nothing is created
        """
        self.ensure_one()
        values = dict(
            options,
            partner_id=partner.id,
            documents=[{"attachment_id": attachment.id,
                        "document_type_id": document_type.id if document_type else False}
                       for attachment in attachments],
            origin_model=self._name,
            origin_id=self.id,
        )
        if signers:
            values["signers"] = signers
        Request = self.env["o2s.esign.request"]
        return Request.browse(Request.create_and_send(values))

    def _esign_on_request_state(self, request, old_state, new_state):
        """Hook: ``request``, asked by this record, went from ``old_state`` to ``new_state``.

        Called in the environment of the change, which may be a signer's portal session (then
        sudo): do only what this record's own logic needs."""
