# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

from ..tools import internal_write, is_internal_write

_logger = logging.getLogger(__name__)

try:
    import phonenumbers
except ImportError:  # declared in external_dependencies; keeps the registry loadable for tooling
    phonenumbers = None

SIGNER_INTERNAL_FIELDS = {
    "state", "date_signed", "date_refused", "refusal_reason", "date_invited", "name", "email",
    "mobile", "lang", "id_doc_type", "id_doc_number", "id_doc_expiry", "id_doc_sha256",
    "invitation_failed", "id_document_id",
}


def normalize_mobile(number, country_code=None):
    """Return (e164, error) for a mobile number; ``error`` is None when the number is valid."""
    if not number or not number.strip():
        return None, "missing"
    if phonenumbers is None:
        return None, "unavailable"
    try:
        parsed = phonenumbers.parse(number, (country_code or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None, "invalid"
    if not phonenumbers.is_valid_number(parsed):
        return None, "invalid"
    number_type = phonenumbers.number_type(parsed)
    if number_type not in (phonenumbers.PhoneNumberType.MOBILE,
                           phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None, "not_mobile"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


class O2sEsignSigner(models.Model):
    _name = "o2s.esign.signer"
    _description = "Signer of a signature request"
    _order = "request_id, sequence, id"
    _rec_name = "name"

    request_id = fields.Many2one(
        "o2s.esign.request", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="request_id.company_id", store=True, index=True)
    request_state = fields.Selection(related="request_id.state", string="Request status")
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, index=True)
    role = fields.Selection(
        [
            ("signer", "Signer"),
            ("legal_representative", "Legal representative"),
            ("company_representative", "Company representative"),
        ],
        string="Capacity", required=True, default="signer")
    represented_partner_id = fields.Many2one(
        "res.partner", string="On behalf of",
        help="The company or protected person this signer signs for.")
    name = fields.Char(compute="_compute_contact_data", store=True, readonly=False)
    email = fields.Char(compute="_compute_contact_data", store=True, readonly=False)
    mobile = fields.Char(
        compute="_compute_contact_data", store=True, readonly=False,
        help="International format (E.164), checked when the request is sent.")
    lang = fields.Char(string="Language", compute="_compute_contact_data", store=True, readonly=False)
    sequence = fields.Integer(string="Order", default=10)
    presence = fields.Selection(
        [("remote", "Remote"), ("in_person", "In person")],
        required=True, default="remote")
    state = fields.Selection(
        [
            ("waiting", "Waiting for their turn"),
            ("pending", "To sign"),
            ("signed", "Signed"),
            ("refused", "Refused"),
        ],
        string="Status", required=True, default="waiting", readonly=True, copy=False, index=True)
    date_invited = fields.Datetime(string="Invited on", readonly=True, copy=False)
    date_signed = fields.Datetime(string="Signed on", readonly=True, copy=False)
    date_refused = fields.Datetime(string="Refused on", readonly=True, copy=False)
    refusal_reason = fields.Text(string="Refusal reason", readonly=True, copy=False)
    invitation_failed = fields.Boolean(readonly=True, copy=False)
    # Identity document, as it was when the request was sent (the evidence relies on it).
    id_document_id = fields.Many2one(
        "o2s.esign.id.document", string="Identity document", readonly=True, copy=False)
    id_doc_type = fields.Char(string="ID type", readonly=True, copy=False)
    id_doc_number = fields.Char(string="ID number", readonly=True, copy=False)
    id_doc_expiry = fields.Date(string="ID valid until", readonly=True, copy=False)
    id_doc_sha256 = fields.Char(string="ID file SHA-256", readonly=True, copy=False)
    access_url = fields.Char(
        string="Signing link", compute="_compute_access_url",
        help="The signer's personal link. It works without an account: share it only with them.")

    # ---------------------------------------------------------------- computes
    @api.depends("partner_id")
    def _compute_contact_data(self):
        for signer in self:
            if signer.request_id.state not in (False, "draft") and signer.name:
                continue  # frozen at send time
            partner = signer.partner_id
            signer.name = partner.name
            signer.email = partner.email
            signer.mobile = partner.mobile or partner.phone
            signer.lang = partner.lang or self.env.lang

    def _compute_access_url(self):
        """The signing link; the portal part of the module computes the real one."""
        for signer in self:
            signer.access_url = False

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write():
            for vals in vals_list:
                request = self.env["o2s.esign.request"].browse(vals.get("request_id"))
                if request and request.state != "draft":
                    raise UserError(_("Signers cannot be added to a request once it is sent."))
                if SIGNER_INTERNAL_FIELDS.intersection(vals) - {"name", "email", "mobile", "lang"}:
                    raise UserError(_("The status of a signer follows the signature process."))
        return super().create(vals_list)

    def write(self, vals):
        if not is_internal_write():
            # Once sent, a signer is part of the evidence: nothing of it changes, whatever
            # the field, but through the signature process.
            if vals and self.filtered(lambda s: s.request_id.state != "draft"):
                raise UserError(_("The signers of a request cannot be changed once it is sent."))
            if SIGNER_INTERNAL_FIELDS.intersection(vals) - {"name", "email", "mobile", "lang"}:
                raise UserError(_("The status of a signer follows the signature process."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda s: s.request_id.state not in (False, "draft")):
            raise UserError(_("The signers of a sent request are kept for its evidence."))

    # -------------------------------------------------------------- validation
    def _country_code(self):
        self.ensure_one()
        country = self.partner_id.country_id or self.partner_id.commercial_partner_id.country_id \
            or self.request_id.company_id.country_id
        return country.code if country else None

    def _get_send_problems(self):
        """Reasons this signer cannot be asked to sign, as translated sentences."""
        self.ensure_one()
        problems = []
        partner = self.partner_id
        name = partner.display_name
        email = partner.email and email_normalize(partner.email)
        if not partner.email:
            problems.append(_("%(name)s has no email address.", name=name))
        elif not email:
            problems.append(_("%(name)s has an invalid email address (%(email)s).",
                              name=name, email=partner.email))
        mobile = partner.mobile or partner.phone
        _e164, error = normalize_mobile(mobile, self._country_code())
        if error == "missing":
            problems.append(_("%(name)s has no mobile number.", name=name))
        elif error == "not_mobile":
            problems.append(_("%(name)s: %(number)s is not a mobile number.", name=name, number=mobile))
        elif error:
            problems.append(_("%(name)s has an invalid mobile number (%(number)s).",
                              name=name, number=mobile))
        if not partner._esign_valid_id_document():
            problems.append(_("%(name)s has no identity document valid today.", name=name))
        if partner.is_company:
            problems.append(_("%(name)s is a company: its representative must sign for it.", name=name))
        return problems

    def _snapshot_for_send(self):
        """Freeze the contact data the evidence relies on (name, email, E.164 mobile, ID)."""
        for signer in self:
            partner = signer.partner_id
            e164, _error = normalize_mobile(partner.mobile or partner.phone, signer._country_code())
            id_doc = partner._esign_valid_id_document()
            with internal_write():
                signer.write({
                    "name": partner.name,
                    "email": email_normalize(partner.email),
                    "mobile": e164,
                    "lang": partner.lang or self.env.lang or "en_US",
                    "id_document_id": id_doc.id,
                    "id_doc_type": id_doc.doc_type,
                    "id_doc_number": id_doc.number,
                    "id_doc_expiry": id_doc.date_expiry,
                    "id_doc_sha256": id_doc.sha256,
                    "state": "waiting",
                })

    def _event_summary(self):
        self.ensure_one()
        return {
            "id": self.id,
            "partner_id": self.partner_id.id,
            "name": self.name,
            "role": self.role,
            "represented": self.represented_partner_id.display_name or None,
            "email": self.email,
            "mobile": self.mobile,
            "presence": self.presence,
            "sequence": self.sequence,
            "id_document": {
                "type": self.id_doc_type, "number": self.id_doc_number,
                "valid_until": fields.Date.to_string(self.id_doc_expiry) if self.id_doc_expiry else None,
                "sha256": self.id_doc_sha256,
            },
        }

    # ------------------------------------------------------------------- hooks
    def _on_sms_sent(self, transport, provider_id=None):
        """Called once per SMS that left for this signer (other parts count consumption)."""
        self.ensure_one()

    def _on_signed(self):
        """Called once this signer's signature is complete on every document (other parts
        count consumption, send confirmations)."""
        self.ensure_one()

    # ------------------------------------------------------------ notifications
    def _send_invitation(self):
        """Send each signer their invitation (link to the signing page)."""
        self._send_template_mail("o2s_esign.mail_template_esign_invite", "invitation")

    def _send_reminder(self, manual=False):
        """Send a reminder to each signer."""
        self._send_template_mail("o2s_esign.mail_template_esign_reminder", "reminder",
                                 extra_payload={"manual": manual})

    def _notify_cancel(self, refused=False):
        """Tell the signers who had not signed that the request is over."""
        self._send_template_mail("o2s_esign.mail_template_esign_cancel", "cancellation",
                                 extra_payload={"because_refused": refused})

    def _send_template_mail(self, xmlid, kind, extra_payload=None, email_values=None):
        """Queue ``xmlid`` (a mail.template on o2s.esign.signer) for each signer and log it.
        ``email_values`` (optional) go to the mail as is (e.g. ``attachment_ids``)."""
        template = self.env.ref(xmlid, raise_if_not_found=False)
        for signer in self:
            payload = dict(extra_payload or {}, kind=kind, to=signer.email)
            if template:
                mail_id = template.sudo().with_context(lang=signer.lang).send_mail(
                    signer.id, email_layout_xmlid="mail.mail_notification_light",
                    email_values=email_values)
                payload["mail_id"] = mail_id
            signer.request_id._log_event("email_queued", signer=signer, payload=payload)
