# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging

from odoo import _, api, fields, models

from ..tools import internal_write

_logger = logging.getLogger(__name__)


class O2sEsignConsumption(models.Model):
    """One billable unit of electronic signature: a completed signature or an SMS sent.

    Signatures are billed once used, so the firm's bill is the count of these rows. They are
    immutable for everyone (administrators and superuser included): the ORM refuses any write,
    unlink or copy, only the signature process creates them (inside ``internal_write()``), and
    a database trigger refuses UPDATE and DELETE. Hence every value is a plain stored field, set
    at creation: no computed or related stored field (the ORM would write it with an UPDATE).

    How documents are counted: each ``signature`` row is one signer's signature of one request
    (all its documents at once). The row of the signature that completes the request (every
    signer has then signed) also carries ``document_count``: the number of documents of the
    request, now fully signed; the other rows carry 0. Summing ``document_count`` therefore
    gives the number of documents signed, never counted twice when several people sign the same
    document, and it follows the grouping by user, advisor, client, company and period. Grouped
    by signer, the documents go to the signer whose signature completed them.
    """

    _name = "o2s.esign.consumption"
    _inherit = ["o2s.esign.append.only.mixin"]
    _description = "E-signature consumption"
    _order = "date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True,
        ondelete="restrict")
    kind = fields.Selection(
        [("signature", "Signature"), ("sms", "SMS")],
        string="Type", required=True, readonly=True, index=True)
    date = fields.Datetime(required=True, readonly=True, index=True,
                           default=fields.Datetime.now)
    request_id = fields.Many2one(
        "o2s.esign.request", string="Signature request", required=True, readonly=True,
        index=True, ondelete="restrict")
    request_reference = fields.Char(
        string="Request", readonly=True, index=True,
        help="The request's reference, kept here so that the report reads and exports without "
             "access to the requests themselves.")
    signer_id = fields.Many2one(
        "o2s.esign.signer", string="Signer (request)", readonly=True, index=True,
        ondelete="restrict")
    signer_partner_id = fields.Many2one(
        "res.partner", string="Signer", readonly=True, index=True, ondelete="restrict",
        help="The person who signed or received the SMS.")
    partner_id = fields.Many2one(
        "res.partner", string="Client", readonly=True, index=True, ondelete="restrict",
        help="The contact the request was sent from.")
    user_id = fields.Many2one(
        "res.users", string="Sent by", readonly=True, index=True, ondelete="restrict",
        help="The user who sent the signature request.")
    advisor_id = fields.Many2one(
        "res.users", readonly=True, index=True, ondelete="restrict",
        help="The advisor in charge of the request.")
    signature_count = fields.Integer(
        string="Signatures used", readonly=True, default=0, aggregator="sum",
        help="1 for a signature, 0 for an SMS.")
    document_count = fields.Integer(
        string="Documents signed", readonly=True, default=0, aggregator="sum",
        help="On the signature that completed the request: the number of its documents, now "
             "signed by everyone. 0 otherwise, so that a document is counted once.")
    sms_count = fields.Integer(
        string="SMS sent", readonly=True, default=0, aggregator="sum", help="1 for an SMS, 0 for a signature.")
    sms_transport = fields.Char(string="SMS service", readonly=True)
    provider_reference = fields.Char(
        string="Provider reference", readonly=True,
        help="The SMS provider's identifier of the message, to reconcile with its invoice.")

    def init(self):
        # Defence in depth, as for the audit trail: SQL cannot rewrite consumption either.
        # o2s_esign_append_only() is created by o2s.esign.event's init(), which runs first
        # (same module, earlier in models/__init__.py).
        self.env.cr.execute("""
            DROP TRIGGER IF EXISTS o2s_esign_consumption_append_only ON o2s_esign_consumption;
            CREATE TRIGGER o2s_esign_consumption_append_only
                BEFORE UPDATE OR DELETE ON o2s_esign_consumption
                FOR EACH ROW EXECUTE FUNCTION o2s_esign_append_only();
            CREATE UNIQUE INDEX IF NOT EXISTS o2s_esign_consumption_signature_uniq
                ON o2s_esign_consumption (signer_id) WHERE kind = 'signature';
        """)

    # ---------------------------------------------------------------- computes
    @api.depends("kind", "signer_partner_id", "request_reference")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for record in self:
            record.display_name = " – ".join(filter(None, [
                kinds.get(record.kind), record.signer_partner_id.display_name,
                record.request_reference]))

    # -------------------------------------------------------------------- CRUD
    def _append_only_messages(self):
        return {
            "create": _("Consumption is recorded by the signature process only."),
            "write": _("Consumption records cannot be modified."),
            "unlink": _("Consumption records cannot be deleted."),
            "copy": _("Consumption records cannot be duplicated."),
        }

    # ------------------------------------------------------------- recording
    @api.model
    def _record_signature(self, signer, new=False):
        """Record ``signer``'s completed signature (once: a second call returns the first row;
        ``new``: the caller applied the signature in this transaction, so no row exists yet).

        Reads the request as superuser: the signature is billed whoever completes it (the
        signer's portal session has no right on the request)."""
        signer.ensure_one()
        signer = signer.sudo()
        existing = not new and self._existing_signature(signer)
        if existing:
            return existing
        request = signer.request_id
        others = request.signer_ids - signer
        completes = all(other.state == "signed" for other in others)
        documents = len(request.document_ids) if completes else 0
        return self._create_units([dict(
            self._base_values(signer), kind="signature", signature_count=1,
            document_count=documents)])

    @api.model
    def _record_sms(self, signer, transport, provider_id=None):
        """Record one SMS sent to ``signer`` through ``transport`` (the request is read as
        superuser, as for signatures: the SMS leaves from the signer's portal session)."""
        signer.ensure_one()
        signer = signer.sudo()
        return self._create_units([dict(
            self._base_values(signer), kind="sms", sms_count=1,
            sms_transport=transport or False,
            provider_reference=str(provider_id)[:128] if provider_id else False)])

    @api.model
    def _existing_signature(self, signer):
        """The signature row of ``signer`` if any (sudo: the caller is the signer's portal
        session or the signature process, which cannot read consumption)."""
        return self.sudo().search([("signer_id", "=", signer.id), ("kind", "=", "signature")],
                                  limit=1)

    @api.model
    def _create_units(self, vals_list):
        """Create consumption rows (sudo: nobody has the create right on this model; only the
        signature process calls this, from the signer hooks)."""
        with internal_write():
            return self.sudo().create(vals_list)

    @api.model
    def _base_values(self, signer):
        request = signer.request_id
        return {
            "company_id": request.company_id.id,
            "date": fields.Datetime.now(),
            "request_id": request.id,
            "request_reference": request.reference,
            "signer_id": signer.id,
            "signer_partner_id": signer.partner_id.id,
            "partner_id": request.partner_id.id,
            "user_id": self._request_sender(request).id,
            "advisor_id": request.user_id.id,
        }

    @api.model
    def _request_sender(self, request):
        """Who sent ``request``: ``sent_uid`` (written with its ``sent`` audit event), for a
        request sent before it existed the user of that event, else its creator (sudo: the
        audit trail is read on behalf of the signature process, whatever the caller)."""
        if request.sent_uid:
            return request.sent_uid
        event = self.env["o2s.esign.event"].sudo().search_fetch(
            [("request_id", "=", request.id), ("event_type", "=", "sent")], ["payload"],
            order="sequence", limit=1)
        user_id = False
        if event.payload:
            try:
                user_id = json.loads(event.payload).get("user_id")
            except (ValueError, AttributeError):
                user_id = False
        user = self.env["res.users"].sudo().browse(user_id) if user_id else None
        if user and user != request.user_id:  # the request's advisor exists (a foreign key)
            user = user.exists()
        return user or request.sudo().create_uid
