# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signer (``o2s.esign.signer``): who signs a request, in what capacity, with the contact
data frozen when it is sent; their personal link, signing page, SMS codes, PAdES signature and
refusal; their reminders and mails.

The link token is stateless: ``HMAC(key derived from the master key, db uuid, signer id,
access_nonce)``. Only the random ``access_nonce`` is stored; the token itself is never stored,
logged or put in an event, and is checked in constant time.

SMS one-time codes: only a keyed hash of the code is stored (HMAC with a key derived from the
master key, bound to the database, the request, the signer and a per-code nonce), with its issue
time, the count of wrong attempts and the recent send times. The code itself exists only in
memory while the SMS is built; it is never logged, stored or put in an event. The policy (10
minutes, single use, 5 wrong attempts, 60 s between sends, 5 sends an hour, 10 wrong codes per
signer over the life of a request, after which the signer is locked until their advisor unlocks
them) is ``lib.otp.OtpPolicy``. The SMS go through the transport chosen in the company settings:
``twilio``, ``webhook`` and ``outbox`` through ``lib.sms``; ``iap`` through Odoo's SMS service
(``sms`` module), called directly so that no ``sms.sms`` row keeps the text (it holds the code).
"""
import base64
import binascii
import hashlib
import io
import json
import logging
import re
import secrets
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as datetime_time
from urllib.parse import urlencode

from asn1crypto import cms
from markupsafe import Markup, escape
from werkzeug.urls import url_join

from odoo import _, api, fields, http, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize, format_date, html2plaintext, is_html_empty

from ..lib import crypto as lib_crypto
from ..lib import errors as lib_errors
from ..lib import otp as lib_otp
from ..lib import pki, signing
from ..lib import sms as lib_sms
from ..tools import (
    NO_TSA_NOTE,
    get_master_key,
    has_control_chars,
    internal_write,
    is_internal_write,
    is_single_address,
    mail_button,
)
from .o2s_esign_field import MAX_TEXT_LENGTH as FIELD_MAX_TEXT_LENGTH
from .o2s_esign_request import OPEN_STATES
from .res_partner import PROTECTIONS

_logger = logging.getLogger(__name__)

try:
    import phonenumbers
except ImportError:  # declared in external_dependencies; keeps the registry loadable for tooling
    phonenumbers = None

SIGNER_INTERNAL_FIELDS = {
    "state", "date_signed", "date_refused", "refusal_reason", "date_invited", "name", "email",
    "mobile", "lang", "id_doc_type", "id_doc_number", "id_doc_expiry", "id_doc_sha256",
    "invitation_failed", "id_document_id", "protection", "protection_reference",
    "protection_doc_name", "protection_doc_sha256",
}
# Written by the signature only.
SIGNER_SIGNING_FIELDS = {"signing_certificate", "signing_certificate_chain", "date_signature_applied",
                         "attestation_attachment_id"}
# Fields of the signing page only the signature process writes.
PORTAL_PROTECTED_FIELDS = {
    "access_nonce", "date_opened", "signature_name", "signature_type", "signature_image",
    "signature_sha256", "sign_pending", "sign_pending_data", "date_sign_intent",
}
OTP_PROTECTED_FIELDS = {
    "otp_hash", "otp_nonce", "otp_issued_at", "otp_attempts", "otp_used", "otp_send_times",
    "otp_verified_hash", "otp_verified_at", "otp_wrong_count", "otp_locked_date",
}
# Personal data cleared at the end of the company's retention period (the name and the hashes
# stay, as in the evidence).
RETENTION_PURGED_FIELDS = ("email", "mobile", "id_doc_number", "id_doc_expiry", "signature_image",
                           "refusal_reason", "sign_pending_data")
# Written by the automation only (the reminder watermark and the cron's failure mark).
SIGNER_AUTOMATION_FIELDS = {"reminder_count", "last_reminder_date", "next_reminder_date",
                            "reminder_blocked_until"}

LINK_PURPOSE = "o2s-esign-signer-link"
IN_PERSON_PURPOSE = "o2s-esign-in-person"
#: how long the link of the "Sign in person" button opens the page (seconds)
IN_PERSON_TICKET_SECONDS = 120
SIGNING_ROUTE = "/esign/sign"
#: longest refusal reason accepted (characters)
MAX_REASON_LENGTH = 2000
#: longest typed name accepted (characters)
MAX_NAME_LENGTH = 128
#: largest signature image accepted (bytes, PNG)
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_PIXELS = 4000
SIGNATURE_TYPES = ("typed", "drawn", "uploaded")
#: most views of each kind (signing page, document viewed, document downloaded) logged per signer
#: and per day, across browser sessions (each session logs its first view of the day)
MAX_VIEW_EVENTS_PER_DAY = 20
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

OTP_PURPOSE = "o2s-esign-otp"
OTP_POLICY = lib_otp.OtpPolicy()
#: how long a verified code lets the page sign (from the verification)
VERIFIED_TTL = timedelta(minutes=30)
#: how long the session that signed may still download the documents of a closed request
AFTER_SIGNING_TTL = timedelta(hours=1)
#: how long the key registered by the signer's browser and the prepared documents stay usable
BROWSER_KEY_TTL = timedelta(minutes=10)
#: evidence of the key that made a signature (issue 18)
KEY_MODE_BROWSER = "browser"
KEY_MODE_SERVER = "server"

#: the fields a signer fills on the signing page (issue 17), and how a checkbox is stored
FILLED_BY_SIGNER = ("text", "checkbox")
FIELD_CHECKED = "1"
FIELD_UNCHECKED = "0"
IAP_SUCCESS_STATES = ("success", "processing", "delivered", "sent")

# Placeholders the options-management group may use in the signer mail templates without being
# "Mail Template Editors": Odoo then renders the templates in its restricted "regex" mode, which
# only follows field paths (no method calls, falsy values print nothing). Values that need code
# (links, dates in the recipient's language, sentences) are therefore computed fields.
SIGNER_MAIL_EXPRESSIONS = (
    "object.name",
    "object.email",
    "object.lang",
    "object.partner_id.id",
    "object.partner_id.name",
    "object.request_id.name",
    "object.request_id.reference",
    "object.request_id.message",
    "object.request_id.partner_id.name",
    "object.request_id.user_id.name",
    "object.request_id.user_id.email",
    "object.request_id.user_id.email_formatted",
    "object.request_id.user_id.signature",
    "object.request_id.company_id.name",
    "object.request_id.company_id.email_formatted",
    "object.esign_mail_link",
    "object.esign_mail_sign_button",
    "object.esign_mail_documents",
    "object.esign_mail_deadline",
    "object.esign_mail_deadline_sentence",
    "object.esign_mail_cancel_reason_sentence",
    "object.esign_mail_refused_by",
    "object.esign_mail_mobile_hint",
    "object.esign_mail_capacity_sentence",
    "object.esign_sms_code",
)


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


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def timestamp_time(token_der):
    """The genTime (UTC, naive) of an RFC 3161 token (CMS ContentInfo, DER), or None."""
    if not token_der:
        return None
    try:
        content = cms.ContentInfo.load(token_der)
        tst_info = content["content"]["encap_content_info"]["content"].parsed
        return tst_info["gen_time"].native.replace(tzinfo=None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _signature_sha256(signature):
    """SHA-256 of the signature image the signing page kept (the dict of
    ``_get_pending_signature``), or of raw bytes/text; None without one."""
    if isinstance(signature, dict):
        if signature.get("image_sha256"):
            return signature["image_sha256"]
        signature = signature.get("image")
    if isinstance(signature, str):
        signature = signature.encode("utf-8")
    if isinstance(signature, bytes) and signature:
        return hashlib.sha256(signature).hexdigest()
    return None


#: who may read a signer's link over RPC (see ``access_url``)
LINK_READERS = "base.group_system"

class O2sEsignSigner(models.Model):
    _name = "o2s.esign.signer"
    _description = "Signer of a signature request"
    _order = "request_id, sequence, id"
    _rec_name = "name"

    # ------------------------------------------------------------------ fields
    request_id = fields.Many2one(
        "o2s.esign.request", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="request_id.company_id", store=True, index=True)
    request_state = fields.Selection(related="request_id.state", string="Request status")
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, index=True)
    role = fields.Selection(
        [
            ("signer", "Signer"),
            ("legal_representative", "Representative of a protected person"),
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
    # The legal protection of the person this signer represents (or of the signer, under
    # curatelle), as it was when the request was sent, with its supporting document's hash.
    protection = fields.Selection(PROTECTIONS, string="Legal protection", readonly=True, copy=False)
    protection_reference = fields.Char(string="Supporting document reference", readonly=True, copy=False)
    protection_doc_name = fields.Char(string="Supporting document", readonly=True, copy=False)
    protection_doc_sha256 = fields.Char(string="Supporting document SHA-256", readonly=True, copy=False)
    # The link itself: rendered into the signer's mails and page by the module (attribute
    # access), never read over RPC by anyone but a system administrator, so that an advisor gets
    # it only through "Copy the signing link" (logged, and only when it may be handed over).
    access_url = fields.Char(
        string="Signing link", compute="_compute_access_url", groups=LINK_READERS,
        help="The signer's personal link. It works without an account: share it only with them.")
    # The signing page
    access_nonce = fields.Char(
        readonly=True, copy=False, groups="base.group_system",
        help="Random value the signing link is derived from (the link itself is never stored).")
    date_opened = fields.Datetime(string="Link first opened on", readonly=True, copy=False)
    signature_name = fields.Char(string="Signed as", readonly=True, copy=False)
    signature_type = fields.Selection(
        [("typed", "Typed name"), ("drawn", "Drawn"), ("uploaded", "Image")],
        string="Signature kind", readonly=True, copy=False)
    signature_image = fields.Binary(
        string="Signature", attachment=True, readonly=True, copy=False,
        help="The signature image the signer made on the signing page (kept for the evidence).")
    signature_sha256 = fields.Char(string="Signature image SHA-256", readonly=True, copy=False)
    sign_pending = fields.Boolean(
        string="Signature to apply", readonly=True, copy=False,
        help="The signer signed but the signature could not be applied to the documents yet "
             "(a service was down). Retrying the request applies it without asking them again.")
    date_sign_intent = fields.Datetime(string="Signed on the page on", readonly=True, copy=False)
    sign_pending_data = fields.Text(readonly=True, copy=False, groups="base.group_system")
    # the key made in the signer's browser (issue 18): challenge nonce, public key, proof,
    # certificate and prepared documents; no secret (the private key never leaves the page)
    browser_key_data = fields.Text(readonly=True, copy=False, groups="base.group_system")
    # SMS codes
    otp_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_nonce = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_issued_at = fields.Datetime(string="Last code sent on", readonly=True, copy=False)
    otp_attempts = fields.Integer(string="Wrong code attempts", readonly=True, copy=False)
    otp_used = fields.Boolean(readonly=True, copy=False)
    otp_send_times = fields.Text(readonly=True, copy=False, groups="base.group_system")
    otp_verified_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_verified_at = fields.Datetime(string="Code verified on", readonly=True, copy=False)
    otp_wrong_count = fields.Integer(
        string="Wrong codes in all", readonly=True, copy=False,
        help="Wrong codes typed by this signer over the life of the request, every code "
             "together: at 10 the signer is locked.")
    otp_locked_date = fields.Datetime(
        string="Codes locked on", readonly=True, copy=False,
        help="Too many wrong codes were typed: no code is sent or accepted for this signer until "
             "the advisor (or an E-signature administrator) unlocks them.")
    # The signature
    signing_certificate = fields.Text(
        string="Signature certificate", readonly=True, copy=False,
        help="The one-time certificate issued in the signer's name for their signature (PEM). "
             "Its private key was destroyed right after signing.")
    signing_certificate_chain = fields.Text(string="Certificate chain", readonly=True, copy=False)
    date_signature_applied = fields.Datetime(
        string="Signature applied on", readonly=True, copy=False,
        help="When the signer's PAdES signature was added to every document.")
    attestation_attachment_id = fields.Many2one(
        "ir.attachment", string="Attestation", readonly=True, copy=False, ondelete="restrict",
        help="The latest attestation of this signer (their own data only, sealed).")
    # Reminders
    reminder_count = fields.Integer(
        string="Reminders sent", readonly=True, copy=False, default=0,
        help="Automatic reminders sent to this signer.")
    last_reminder_date = fields.Datetime(string="Last reminder", readonly=True, copy=False)
    next_reminder_date = fields.Date(
        string="Next reminder", compute="_compute_next_reminder_date", store=True, copy=False,
        index="btree_not_null",
        help="The day the next automatic reminder is due (empty: none is due any more).")
    reminder_blocked_until = fields.Datetime(
        readonly=True, copy=False,
        help="A reminder for this signer failed unexpectedly: the scheduled action leaves the "
             "signer alone until then.")
    # Mail placeholders (see SIGNER_MAIL_EXPRESSIONS), in the language of the rendering.
    esign_mail_link = fields.Char(
        string="Signing link (mails)", compute="_compute_esign_mail_link", groups=LINK_READERS,
        help="The absolute link to the signing page, as the mails give it (share it only with the signer).")
    esign_mail_sign_button = fields.Html(
        string="Sign button (mails)", compute="_compute_esign_mail_link", sanitize=False,
        groups=LINK_READERS)
    esign_mail_documents = fields.Char(string="Documents (mails)", compute="_compute_esign_mail_texts")
    esign_mail_deadline = fields.Char(string="Expiry day (mails)", compute="_compute_esign_mail_texts")
    esign_mail_deadline_sentence = fields.Char(string="Expiry sentence (mails)",
                                               compute="_compute_esign_mail_texts")
    esign_mail_cancel_reason_sentence = fields.Char(string="Cancellation reason (mails)",
                                                    compute="_compute_esign_mail_texts")
    esign_mail_refused_by = fields.Char(string="Refused by (mails)", compute="_compute_esign_mail_texts")
    esign_mail_mobile_hint = fields.Char(string="Mobile hint (mails)", compute="_compute_esign_mail_texts",
                                         help="e.g. “ending in 78”: which phone the code goes to.")
    # The advisor's screens
    display_state = fields.Selection(
        [
            ("waiting", "Waiting for their turn"),
            ("pending", "To sign"),
            ("signed", "Signed"),
            ("refused", "Refused"),
            ("cancelled", "Cancelled"),
            ("expired", "Expired"),
        ],
        string="Signer status", compute="_compute_display_state",
        help="The signer's status, or the request's end when they had not signed.")
    esign_may_copy_link = fields.Boolean(
        string="May copy the link", compute="_compute_esign_may_hand_over")
    esign_may_resend = fields.Boolean(
        string="May send the invitation again", compute="_compute_esign_may_hand_over")
    esign_mail_capacity_sentence = fields.Char(
        string="Capacity (mails)", compute="_compute_esign_mail_capacity_sentence",
        help="e.g. “You are signing as the legal representative of Marcel Petit.” (empty when "
             "the signer signs for themselves).")
    esign_sms_code = fields.Char(
        string="Code (SMS)", compute="_compute_esign_sms_code",
        help="The one-time code, in the SMS template only (it exists only while the SMS is "
             "rendered, never stored).")

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
        for signer in self:
            token = signer._get_signing_token() if signer.id else False
            if token:
                base = signer.request_id.get_base_url().rstrip("/")
                signer.access_url = "%s%s" % (base, signer._get_signing_path(token))
            else:
                signer.access_url = False

    @api.depends("state", "date_invited", "last_reminder_date", "reminder_count", "request_id.state",
                 "request_id.reminder_first_days", "request_id.reminder_interval_days",
                 "request_id.reminder_max", "presence")
    def _compute_next_reminder_date(self):
        """First reminder N days after the invitation, then every M days, at most K; a manual
        reminder also pushes the next one M days away. A signer who signs in person gets no
        mail with their link, hence no reminder."""
        for signer in self:
            request = signer.request_id
            if (signer.state != "pending" or not signer.date_invited or signer.presence == "in_person"
                    or request.state not in ("in_progress", "error")
                    or signer.reminder_count >= request.reminder_max):
                signer.next_reminder_date = False
                continue
            interval = timedelta(days=max(request.reminder_interval_days, 1))
            last = signer.last_reminder_date and signer.last_reminder_date.date()
            if signer.reminder_count:
                due = last + interval
            else:
                due = signer.date_invited.date() + timedelta(days=max(request.reminder_first_days, 1))
                if last:
                    due = max(due, last + interval)
            signer.next_reminder_date = due

    @api.depends_context("lang")
    @api.depends("access_url", "request_id")
    def _compute_esign_mail_link(self):
        for signer in self:
            link = signer._esign_signing_link() if signer.id else False
            signer.esign_mail_link = link
            signer.esign_mail_sign_button = mail_button(link, self.env._("Review and sign")) if link else False

    @api.depends_context("lang")
    @api.depends("lang", "mobile", "request_id.document_ids.name", "request_id.date_deadline",
                 "request_id.cancel_reason", "request_id.signer_ids.state")
    def _compute_esign_mail_texts(self):
        for signer in self:
            request = signer.request_id
            deadline = request.date_deadline and format_date(
                self.env, request.date_deadline, lang_code=signer.lang or self.env.lang, date_format="long")
            signer.esign_mail_documents = ", ".join(request.document_ids.mapped("name"))
            signer.esign_mail_deadline = deadline or False
            signer.esign_mail_deadline_sentence = deadline and self.env._(
                "The link works until %(date)s.", date=deadline)
            signer.esign_mail_cancel_reason_sentence = request.cancel_reason and self.env._(
                "Reason: %(reason)s", reason=request.cancel_reason)
            signer.esign_mail_refused_by = ", ".join(
                request.signer_ids.filtered(lambda s: s.state == "refused").mapped("name")) or False
            signer.esign_mail_mobile_hint = signer.mobile and self.env._(
                "ending in %(digits)s", digits=signer.mobile[-2:])

    @api.depends("state", "request_id.state")
    def _compute_display_state(self):
        for signer in self:
            request_state = signer.request_id.state
            if signer.state in ("waiting", "pending") and request_state in ("cancelled", "expired"):
                signer.display_state = request_state
            else:
                signer.display_state = signer.state

    @api.depends("state", "request_id.state", "invitation_failed")
    @api.depends_context("uid")
    def _compute_esign_may_hand_over(self):
        is_manager = self.env.user.has_group("o2s_esign.group_esign_manager")
        for signer in self:
            may_sign = signer.state == "pending" and signer.request_id.state in OPEN_STATES
            signer.esign_may_resend = may_sign
            signer.esign_may_copy_link = may_sign and (is_manager or signer._esign_mail_cannot_be_sent())

    @api.depends_context("lang")
    @api.depends("role", "represented_partner_id", "protection")
    def _compute_esign_mail_capacity_sentence(self):
        for signer in self:
            signer.esign_mail_capacity_sentence = signer._esign_capacity_sentence() or False

    @api.depends_context("esign_otp_code")
    def _compute_esign_sms_code(self):
        # The SMS code is given to the template's rendering in the context (see _get_otp_sms_body).
        code = self.env.context.get("esign_otp_code") or False
        for signer in self:
            signer.esign_sms_code = code

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_protected_fields(vals, create=True)
        return super().create(vals_list)

    def write(self, vals):
        self._check_protected_fields(vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda s: s.request_id.state not in (False, "draft")):
            raise UserError(_("The signers of a sent request are kept for its evidence."))

    def _check_protected_fields(self, vals, create=False):
        """The one guard of the fields only the signature process writes (reminders, signature,
        signing page, status, SMS codes) and of the signers of a sent request, for ``create``
        (``vals`` of one new signer) and ``write`` alike."""
        if is_internal_write():
            return
        if SIGNER_AUTOMATION_FIELDS.intersection(vals):
            raise UserError(_("The reminders of a signer are counted by the signature process."))
        if SIGNER_SIGNING_FIELDS.intersection(vals):
            raise UserError(_("The status of a signer follows the signature process."))
        if PORTAL_PROTECTED_FIELDS.intersection(vals):
            raise UserError(_("The signature data of a signer is set by the signature process."))
        if create:
            self.env["o2s.esign.request"].browse(vals.get("request_id"))._esign_check_draft(
                _("Signers cannot be added to a request once it is sent."))
        elif vals and self.filtered(lambda s: s.request_id.state != "draft"):
            # Once sent, a signer is part of the evidence: nothing of it changes, whatever
            # the field, but through the signature process.
            raise UserError(_("The signers of a request cannot be changed once it is sent."))
        elif vals.get("request_id"):
            # nor can a draft signer be moved into a sent request (never checked nor invited)
            self.env["o2s.esign.request"].browse(vals["request_id"])._esign_check_draft(
                _("Signers cannot be added to a request once it is sent."))
        if SIGNER_INTERNAL_FIELDS.intersection(vals) - {"name", "email", "mobile", "lang"}:
            raise UserError(_("The status of a signer follows the signature process."))
        if OTP_PROTECTED_FIELDS.intersection(vals):
            raise UserError(_("The SMS codes of a signer are managed by the signature process."))

    # ----------------------------------------------------------------- actions
    def action_esign_open_in_person(self):
        """Open this signer's page on the advisor's own screen, for a client who is with them
        (the SMS code still goes to the signer's mobile). Once they have signed, the page
        offers the next signer in person, then leads back to the request.

        The opening is logged here, in the button's call (a POST of the web client, or of the
        page's "Next signer" form). The URL it returns carries a ticket of this advisor for
        this signer, valid for a short while, so that its route (a GET) has nothing to record:
        it only marks the advisor's own session as "in person" for this signer."""
        self.ensure_one()
        self.check_access("write")
        if self.request_id.state not in ("in_progress", "error") or self.state != "pending":
            raise UserError(_("This signer cannot sign now."))
        httprequest = http.request.httprequest if http.request else None
        self.request_id._log_event("in_person_opened", signer=self, payload={
            "user_id": self.env.user.id, "user": self.env.user.name,
        }, ip_address=httprequest.remote_addr if httprequest else None,
            user_agent=httprequest.headers.get("User-Agent") if httprequest else None)
        expires = int(time.time()) + IN_PERSON_TICKET_SECONDS
        return {
            "type": "ir.actions.act_url",
            "url": "/esign/in_person/%s?%s" % (self.id, urlencode({
                "expires": expires, "ticket": self._in_person_ticket(expires)})),
            "target": "self",
        }

    def action_esign_open(self):
        """The signer's form, over the request (its signer lines are read-only once sent)."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("o2s_esign.o2s_esign_signer_view_form").id, "form")],
            "target": "new",
        }

    def _esign_mail_cannot_be_sent(self):
        """True when this signer's invitation failed, or their latest mail failed or bounced
        (sudo: the mail report of a request the caller may read)."""
        self.ensure_one()
        if self.invitation_failed:
            return True
        latest = self.env["o2s.esign.mail.log"].sudo().search(
            [("signer_id", "=", self.id)], order="date desc, id desc", limit=1)
        return latest.state in ("failed", "bounced")

    def action_esign_copy_link(self):
        """Hand the signing link over to the advisor (to give by another way): only while the
        signer's mail cannot be sent, or for an E-signature administrator. Each copy is logged
        in the audit trail (who, when); the link itself is never logged."""
        self.ensure_one()
        self.check_access("write")
        self.request_id.check_access("write")
        if not (self.state == "pending" and self.request_id.state in OPEN_STATES):
            raise UserError(_("This signer cannot sign now: there is no link to hand over."))
        if not (self.env.user.has_group("o2s_esign.group_esign_manager") or self._esign_mail_cannot_be_sent()):
            raise AccessError(_(
                "The signing link is handed over only while the mail to the signer cannot be "
                "sent (or by an E-signature administrator): send the invitation again instead."))
        self._ensure_access_nonce()
        httprequest = http.request.httprequest if http.request else None
        self.request_id._log_event("link_copied", signer=self, payload=self.request_id._actor_payload(),
                                   ip_address=httprequest.remote_addr if httprequest else None,
                                   user_agent=httprequest.headers.get("User-Agent") if httprequest else None)
        return {
            "type": "ir.actions.client",
            "tag": "o2s_esign_copy_link",
            "params": {"link": self._esign_signing_link()},
        }

    def action_esign_resend_invitation(self):
        """Send this signer's invitation again (the same link)."""
        self.ensure_one()
        self.check_access("write")
        self.request_id.check_access("write")
        if not (self.state == "pending" and self.request_id.state in OPEN_STATES):
            raise UserError(_("Only a signer who is to sign can be invited again."))
        self._send_invitation()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _("The invitation is sent again to %(email)s.", email=self.email),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_download_attestation(self):
        """Download this signer's sealed attestation (their own data only); built now and
        logged in the audit trail."""
        self.ensure_one()
        self.check_access("read")
        request = self.request_id
        request.check_access("read")
        if not (request.date_personal_data_purged and self.attestation_attachment_id):
            request._esign_build_attestation(self)
        return {
            "type": "ir.actions.act_url",
            "url": "/esign/evidence/%d/attestation/%d" % (request.id, self.id),
            "target": "download",
        }

    def action_esign_unlock_codes(self):
        """Unlock a signer locked after too many wrong codes: the count starts again and the
        signer asks for a new code. Only the request's advisor or an E-signature
        administrator may; logged in the audit trail (``signer_unlocked``)."""
        self.check_access("write")
        is_manager = self.env.su or self.env.user.has_group("o2s_esign.group_esign_manager")
        for signer in self:
            if not is_manager and signer.request_id.user_id != self.env.user:
                raise AccessError(_(
                    "Only the advisor of the signature request %(ref)s (%(advisor)s) or an "
                    "E-signature administrator can unlock a signer.",
                    ref=signer.request_id.reference or signer.request_id.name,
                    advisor=signer.request_id.user_id.name))
            if not signer.otp_locked_date:
                raise UserError(_("%(name)s is not locked.", name=signer.name))
            wrong_codes = signer.otp_wrong_count
            signer._otp_write({
                "otp_locked_date": False, "otp_wrong_count": 0, "otp_attempts": 0,
                "otp_hash": False, "otp_used": False,
                "otp_verified_hash": False, "otp_verified_at": False,
            })
            httprequest = http.request.httprequest if http.request else None
            signer.request_id._log_event("signer_unlocked", signer=signer, payload=dict(
                signer.request_id._actor_payload(), wrong_codes=wrong_codes),
                ip_address=httprequest.remote_addr if httprequest else None,
                user_agent=httprequest.headers.get("User-Agent") if httprequest else None)
        return True

    # ----------------------------------------------------------------- sending
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
            problems.append(self.env["o2s.esign.id.document"]._esign_missing_problem(partner))
        if partner.is_company:
            problems.append(_("%(name)s is a company: its representative must sign for it.", name=name))
        # An address is used exactly as typed (see tools.is_single_address).
        if partner.email and not is_single_address(partner.email):
            invalid = _("%(name)s has an invalid email address (%(email)s).",
                        name=partner.display_name, email=partner.email)
            if not partner.email.strip():  # only spaces: no address at all
                problems = [p for p in problems if p != invalid]
                problems.insert(0, _("%(name)s has no email address.", name=partner.display_name))
            elif invalid not in problems:
                problems.append(invalid)
        return problems

    def _snapshot_for_send(self):
        """Freeze the contact data the evidence relies on (name, email, E.164 mobile, ID), and
        give each signer its link nonce."""
        for signer in self:
            partner = signer.partner_id
            e164, _error = normalize_mobile(partner.mobile or partner.phone, signer._country_code())
            id_doc = partner._esign_valid_id_document()
            person = signer._esign_protected_person()
            protection = person._esign_protection_sudo() if person else False
            with internal_write():
                signer.write({
                    "protection": protection and protection["type"],
                    "protection_reference": protection and protection["reference"],
                    "protection_doc_name": protection and protection["file_name"],
                    "protection_doc_sha256": protection and protection["sha256"],
                    "name": partner.name,
                    "email": email_normalize(partner.email),
                    "mobile": e164,
                    "lang": partner.lang or self.env.lang or "en_US",
                    "id_document_id": id_doc.id,
                    "id_doc_type": id_doc.doc_type,
                    "id_doc_number": id_doc.number,
                    "id_doc_expiry": id_doc.date_valid_until,
                    "id_doc_sha256": id_doc.sha256,
                    "state": "waiting",
                })
        self._ensure_access_nonce()

    def _id_doc_extension_summary(self):
        """For the evidence: when the identity document's validity is its printed date plus
        five years (décret 2013-1188), that printed date and the rule applied."""
        document = self.id_document_id
        if not (document and self.id_doc_expiry and document.date_expiry
                and self.id_doc_expiry != document.date_expiry):
            return {}
        return {"printed_expiry": fields.Date.to_string(document.date_expiry),
                "issued_on": fields.Date.to_string(document.date_issue),
                "extended_by": "décret 2013-1188"}

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
                **self._id_doc_extension_summary(),
            },
            "protection": {
                "type": self.protection,
                "person": self._esign_protected_person().display_name,
                "document_reference": self.protection_reference or None,
                "document_name": self.protection_doc_name or None,
                "document_sha256": self.protection_doc_sha256 or None,
            } if self.protection else None,
        }

    def _esign_next_in_person_signer(self):
        """The signer in person whose turn it is after this one on the same request (the
        first by order who may sign now), or an empty recordset."""
        self.ensure_one()
        return self.request_id.signer_ids.filtered(
            lambda signer: signer != self and signer.presence == "in_person"
            and signer.state == "pending" and not signer.sign_pending).sorted("sequence")[:1]

    def _esign_protected_person(self):
        """The protected person this signer signs for (their representative) or as (a person
        under curatelle), if any."""
        self.ensure_one()
        if self.role == "legal_representative":
            return self.represented_partner_id
        if self.role == "signer" and not self.partner_id.is_company \
                and self.partner_id.esign_protection != "none":
            return self.partner_id
        return self.env["res.partner"]

    def _esign_purge_personal_data(self):
        """Clear this signer's personal data (contact data, identity-document details,
        signature image, refusal reason) at the end of the retention period; their name, the
        hashes and the signature certificate stay, as in the evidence. Returns the names of the
        fields cleared (for the ``personal_data_purged`` event)."""
        self.ensure_one()
        signer_sudo = self.sudo()
        purged = [name for name in RETENTION_PURGED_FIELDS if signer_sudo[name]]
        with internal_write():
            signer_sudo.write(dict.fromkeys(RETENTION_PURGED_FIELDS, False))
        return purged

    # ------------------------------------------------------------- link token
    def _in_person_ticket(self, expires):
        """HMAC of (database, signer, current user, expiry) under a key of its own."""
        key = lib_crypto.derive_key(get_master_key(self.env), IN_PERSON_PURPOSE)
        return lib_otp.make_token(key, "in_person", self._esign_dbuuid(), str(self.id),
                                  str(self.env.uid), str(int(expires)))

    def _check_in_person_ticket(self, expires, ticket):
        """True when ``ticket`` (checked in constant time) is the current user's for this
        signer and has not expired."""
        try:
            expires = int(expires)
        except (TypeError, ValueError):
            return False
        if not ticket or not isinstance(ticket, str) or expires < time.time():
            return False
        key = lib_crypto.derive_key(get_master_key(self.env), IN_PERSON_PURPOSE)
        return lib_otp.check_token(key, ticket, "in_person", self._esign_dbuuid(), str(self.id),
                                   str(self.env.uid), str(expires))

    @api.model
    def _signing_link_key(self):
        return lib_crypto.derive_key(get_master_key(self.env), LINK_PURPOSE)

    @api.model
    def _esign_dbuuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid") or self.env.cr.dbname

    def _get_signing_token(self):
        """The token of this signer's link, or False before the request is sent."""
        self.ensure_one()
        nonce = self.sudo().access_nonce
        if not nonce:
            return False
        return lib_otp.make_token(self._signing_link_key(), self._esign_dbuuid(), str(self.id), nonce)

    def _check_signing_token(self, token):
        """True if ``token`` is this signer's link token (constant-time comparison)."""
        self.ensure_one()
        # Without a nonce, compare against a throw-away one so the timing says nothing.
        nonce = self.sudo().access_nonce or secrets.token_hex(16)
        valid = lib_otp.check_token(self._signing_link_key(), token, self._esign_dbuuid(),
                                    str(self.id), nonce)
        return valid and bool(self.sudo().access_nonce)

    def _get_signing_path(self, token=None):
        self.ensure_one()
        return "%s/%s/%s" % (SIGNING_ROUTE, self.id, token or self._get_signing_token())

    def _ensure_access_nonce(self):
        """Give each signer its link nonce (once: the link stays the same for reminders)."""
        for signer in self.sudo():
            if not signer.access_nonce:
                with internal_write():
                    signer.write({"access_nonce": secrets.token_hex(16)})

    # ------------------------------------------------------------ signing page
    def _get_signing_validity(self):
        """What the signing page may offer now, apart from any security check (as survey's
        ``_check_validity``): ``ok``, ``not_your_turn``, ``signed`` (this signer signed, others
        have not), ``sealing`` (everyone signed, the documents are being sealed),
        ``sign_pending`` (signed, being applied), ``completed`` (everyone signed and sealed),
        ``refused``, ``cancelled``, ``expired``, ``error`` (request paused) or ``not_sent``."""
        self.ensure_one()
        request = self.request_id
        state = request.state
        if state == "draft":
            return "not_sent"
        if state in ("cancelled", "expired", "refused"):
            return state
        if state == "signed":
            return "completed"
        if self.state == "refused":
            return "refused"
        if self.state == "signed":
            return "sealing" if request.sealing_pending else "signed"
        if self.sign_pending:
            return "sign_pending"
        # The deadline is a date in the visitor's time zone, never more than a day from the
        # UTC date: a deadline later than tomorrow (UTC) has not passed, whatever the time zone
        # (and reading the time zone costs the user's and their partner's rows).
        deadline = request.date_deadline
        if deadline and deadline <= fields.Datetime.now().date() + timedelta(days=1) \
                and deadline < fields.Date.context_today(self):
            return "expired"
        if self.state == "waiting":
            return "not_your_turn"
        if state == "error":
            return "error"
        return "ok"

    def _esign_documents_available_until(self):
        """The last day this signer's link gives their signed documents: the link's expiry
        date (the request's deadline; without one, the default validity after signing)."""
        self.ensure_one()
        request = self.request_id
        if request.date_deadline:
            return request.date_deadline
        signed_on = (self.date_signed or fields.Datetime.now()).date()
        return signed_on + timedelta(days=max(request.company_id.esign_validity_days, 1))

    def _esign_documents_available(self):
        """True when this signer has signed and their link has not expired: the link then
        gives them the signed documents (the request signed, or still signing)."""
        self.ensure_one()
        return self.state == "signed" and self.request_id.state in ("in_progress", "error", "signed") \
            and fields.Date.context_today(self) <= self._esign_documents_available_until()

    def _esign_lang(self):
        """The signer's language if it is installed, else the company partner's, else English."""
        self.ensure_one()
        installed = {code for code, _name in self.env["res.lang"].get_installed()}

        def candidates():  # read one after the other, only as far as needed
            yield self.lang
            yield self.partner_id.lang
            yield self.request_id.company_id.partner_id.lang

        return next((lang for lang in candidates() if lang in installed), "en_US")

    def _get_signing_page_placeholders(self):
        """The values of the ``{{ name }}`` placeholders of the signing-page text (plain text)."""
        self.ensure_one()
        request = self.request_id
        lang = self._esign_lang()
        # the users and contacts named here and on the page, read in one query each
        (request.user_id | self.env.user).mapped("partner_id")
        (self.partner_id | request.partner_id | request.user_id.partner_id).mapped("name")
        return {
            "signer": self.name or self.partner_id.name or "",
            "client": request.partner_id.display_name or "",
            "advisor": request.user_id.name or "",
            "company": request.company_id.name or "",
            "documents": ", ".join(request.document_ids.mapped("name")),
            "request": request.name or "",
            "reference": request.reference or "",
            "deadline": format_date(self.env, request.date_deadline, lang_code=lang)
            if request.date_deadline else "",
        }

    @api.model
    def _get_signing_page_placeholder_labels(self):
        """``(name, label)`` of each placeholder the signing-page text accepts (see
        ``_get_signing_page_placeholders``), for the settings page's editor."""
        return [
            ("signer", self.env._("The signer's name")),
            ("client", self.env._("The client")),
            ("advisor", self.env._("The advisor")),
            ("company", self.env._("Your company")),
            ("documents", self.env._("The documents")),
            ("request", self.env._("The request's subject")),
            ("reference", self.env._("The request's reference")),
            ("deadline", self.env._("The last day to sign")),
        ]

    @api.model
    def _get_default_signing_page_intro(self):
        """The introduction shown when the company has not written its own (in the current
        language); the consent paragraph is a block of its own (see the consent below)."""
        return Markup("<p>%s</p><p>%s</p>") % (
            self.env._("{{ advisor }} ({{ company }}) asks you to sign electronically: {{ documents }}."),
            self.env._("Read each document below. To sign, you receive a one-time code by SMS on "
                       "your mobile phone: entering it confirms that you are the person asked to "
                       "sign."),
        )

    @api.model
    def _get_default_signing_page_consent(self):
        """The consent paragraph's default wording (plain text, in the current language)."""
        return self.env._("By signing, you accept that your electronic signature binds you as a "
                          "handwritten signature would, and that the records of this signature "
                          "(signed documents, timestamps and audit trail kept by {{ company }}) serve "
                          "as proof between the parties.")

    def _get_default_signing_page_text(self):
        """The whole default text (introduction, then the consent paragraph)."""
        return self._get_default_signing_page_intro() + Markup("<p>%s</p>") % (
            self._get_default_signing_page_consent())

    @api.model
    def _get_signing_page_sources(self, company, lang):
        """``(intro, consent, custom)`` of the signing-page text of ``company`` in ``lang``,
        placeholders not filled in: the text written for that language (settings page), else
        the company's older single text for the introduction, else the defaults. The consent
        paragraph is never empty: without a wording of the company's, the default one.

        ``company`` is read as it is given: the caller reads it as superuser when needed."""
        this = self.with_context(lang=lang)
        entry = (company.esign_signing_page_texts or {}).get(lang) or {}
        intro = entry.get("intro")
        if is_html_empty(intro):
            intro = company.with_context(lang=lang).esign_signing_page_text
        if is_html_empty(intro):
            intro = this._get_default_signing_page_intro()
        consent = (entry.get("consent") or "").strip() or this._get_default_signing_page_consent()
        return Markup(intro), consent, bool(entry)  # noqa: S704 (sanitized when saved, or ours)

    @api.model
    def _render_signing_page_text(self, intro, consent, values):
        """The page's text: the introduction, then the consent paragraph in a block of its own,
        every ``{{ name }}`` of ``values`` replaced by its escaped value."""
        def replace(match):
            key = match.group(1)
            if key not in values:
                return match.group(0)
            return str(escape(values[key]))

        source = Markup(
            '<div class="o_esign_page_intro">%s</div>'
            '<div class="o_esign_page_consent"><p>%s</p></div>') % (intro, consent)
        # The introduction is the sanitized text (or our own Markup), the consent is escaped,
        # and every value is escaped.
        return Markup(_PLACEHOLDER.sub(replace, str(source)))  # noqa: S704

    def _get_signing_page_text(self):
        """The signing-page text for this signer, in their language, placeholders filled in.

        Returns ``(html, sha256)``: ``html`` is what the page shows (Markup) and ``sha256`` the
        hex SHA-256 of its UTF-8 bytes, recorded in the ``consent_given`` event."""
        self.ensure_one()
        lang = self._esign_lang()
        signer = self.with_context(lang=lang)
        company_sudo = signer.request_id.company_id.sudo()
        intro, consent, _custom = signer._get_signing_page_sources(company_sudo, lang)
        html = signer._render_signing_page_text(intro, consent, signer._get_signing_page_placeholders())
        return html, hashlib.sha256(str(html).encode("utf-8")).hexdigest()

    def _log_portal_event(self, event_type, payload=None, ip_address=None, user_agent=None):
        self.ensure_one()
        return self.request_id._log_event(event_type, signer=self, payload=payload,
                                          ip_address=ip_address, user_agent=user_agent)

    def _log_page_view(self, validity, ip_address=None, user_agent=None, in_person=False,
                       first_today=True):
        """Log a view of the signing page (and the first opening of the link).

        ``first_today``: whether this browser session shows this page for the first time today
        (the controller remembers it in the session); later views are not logged again, so
        that reloading a page cannot grow the audit trail (see ``_log_view_event``)."""
        self.ensure_one()
        entries = []  # appended in one batch
        opening = not self.date_opened and validity == "ok"
        if opening:
            with internal_write():
                self.write({"date_opened": fields.Datetime.now()})
            entries.append({"event_type": "link_opened", "payload": {"in_person": in_person}})
        # the first opening of the link needs no count of today's views: they were at most the
        # pages shown before it was the signer's turn, once per session (one query less)
        if first_today and (opening or self._view_event_allowed("page_viewed")):
            entries.append({"event_type": "page_viewed",
                            "payload": {"page": validity, "in_person": in_person}})
        self.request_id._log_events([dict(entry, signer=self, ip_address=ip_address,
                                          user_agent=user_agent) for entry in entries])

    def _view_event_allowed(self, event_type):
        """Whether one more ``event_type`` view of this signer may be logged today (UTC): at
        most MAX_VIEW_EVENTS_PER_DAY (see ``_log_view_event``)."""
        self.ensure_one()
        today = datetime.combine(fields.Datetime.now().date(), datetime_time.min)
        logged = self.env["o2s.esign.event"].sudo().search_count([
            ("request_id", "=", self.request_id.id), ("signer_id", "=", self.id),
            ("event_type", "=", event_type), ("date", ">=", today)])
        return logged < MAX_VIEW_EVENTS_PER_DAY

    def _log_view_event(self, event_type, payload, ip_address=None, user_agent=None):
        """Log a page or document view, at most MAX_VIEW_EVENTS_PER_DAY of this signer per day
        (UTC) and per kind, whatever the browser sessions: a visitor without cookies, each GET
        a new session, cannot grow the audit trail without bound. Returns the event or None."""
        self.ensure_one()
        if not self._view_event_allowed(event_type):
            return None
        return self._log_portal_event(event_type, payload, ip_address=ip_address,
                                      user_agent=user_agent)

    def _portal_refuse(self, reason, ip_address=None, user_agent=None):
        """The signer refuses to sign. Returns an error message, or False when done."""
        if has_control_chars(reason):
            return _("The reason contains characters that cannot be used.")
        self.ensure_one()
        reason = (reason or "").strip() if isinstance(reason, str) else ""
        if not reason:
            return _("Please give the reason of your refusal.")
        if len(reason) > MAX_REASON_LENGTH:
            return _("The reason is too long (%(max)s characters at most).", max=MAX_REASON_LENGTH)
        if self._get_signing_validity() not in ("ok", "error"):
            return _("This request cannot be refused any more.")
        with internal_write():
            self.write({"state": "refused", "date_refused": fields.Datetime.now(),
                        "refusal_reason": reason})
        self._log_portal_event("refused", {"reason": reason}, ip_address=ip_address,
                               user_agent=user_agent)
        self.request_id._check_completion()
        return False

    @api.model
    def _parse_signature_image(self, data):
        """The PNG bytes of a base64 signature image, or None when it is not an acceptable PNG."""
        if not isinstance(data, str) or not data or len(data) > MAX_SIGNATURE_BYTES * 4 // 3 + 8:
            return None
        if data.startswith("data:"):
            data = data.partition(",")[2]
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) > MAX_SIGNATURE_BYTES or not raw.startswith(b"\x89PNG\r\n\x1a\n"):
            return None
        from PIL import Image  # Odoo's own dependency
        try:
            with Image.open(io.BytesIO(raw)) as image:
                width, height = image.size
                if image.format != "PNG" or not (0 < width <= MAX_SIGNATURE_PIXELS) \
                        or not (0 < height <= MAX_SIGNATURE_PIXELS):
                    return None
                image.verify()
        except Exception:
            return None
        return raw

    def _portal_sign(self, values, ip_address=None, user_agent=None, in_person=False):
        """Sign from the page: ``values`` holds ``consent`` (bool), ``consent_sha256`` (the hash
        of the signing-page text the page showed), ``name``, ``signature`` (base64 PNG) and
        ``signature_type``. The caller checked the link and the verified SMS code.

        Returns a dict: ``{"error": message}`` when nothing was done; ``{"state": "signed"}``
        when done; ``{"state": "sign_pending", "message": ...}`` when the signature is recorded
        but could not be applied yet (the request is in error and retrying applies it)."""
        self.ensure_one()
        values = values if isinstance(values, dict) else {}
        if self._get_signing_validity() != "ok":
            return {"error": _("This request cannot be signed any more.")}
        if values.get("consent") is not True:
            return {"error": _("Please tick the box to confirm you have read the documents and "
                               "accept to sign them.")}
        text, text_sha256 = self._get_signing_page_text()
        if values.get("consent_sha256") != text_sha256:
            return {"error": _("The text of this page has changed since you opened it. Please "
                               "reload the page and read it again.")}
        name = values.get("name")
        name = " ".join(name.split()) if isinstance(name, str) else ""
        if not name:
            return {"error": _("Please type your full name.")}
        if len(name) > MAX_NAME_LENGTH or not name.isprintable():
            return {"error": _("The name is too long or contains characters that cannot be used.")}
        signature_type = values.get("signature_type")
        if signature_type not in SIGNATURE_TYPES:
            signature_type = "typed"
        image = self._parse_signature_image(values.get("signature"))
        if image is None:
            return {"error": _("The signature could not be read. Please sign again.")}
        now = fields.Datetime.now()
        image_sha256 = hashlib.sha256(image).hexdigest()
        self._log_portal_event("consent_given", {
            "consent_sha256": text_sha256,
            "consent_text": str(text),
            "consent_text_plain": html2plaintext(str(text)),
            "label": self.env._("I have read the documents and the text above, and I accept to "
                                "sign them electronically."),
            "lang": self._esign_lang(),
            "in_person": in_person,
        }, ip_address=ip_address, user_agent=user_agent)
        with internal_write():
            self.write({
                "signature_name": name,
                "signature_type": signature_type,
                "signature_image": base64.b64encode(image),
                "signature_sha256": image_sha256,
                "sign_pending": True,
                "date_sign_intent": now,
            })
            self.sudo().write({"sign_pending_data": json.dumps({
                "ip_address": ip_address or None,
                "user_agent": (user_agent or "")[:512] or None,
                "consent_sha256": text_sha256,
                "in_person": bool(in_person),
                "otp_verified_at": fields.Datetime.to_string(self.otp_verified_at)
                if self.otp_verified_at else None,
            })})
        if self._apply_pending_signature():
            return {"state": "signed"}
        return {
            "state": "sign_pending",
            "message": _("Your signature is recorded. It could not be applied to the documents "
                         "yet because a service is unavailable; it will be applied as soon as "
                         "possible, with nothing more to do on your side."),
        }

    def _get_pending_signature(self):
        """The signature kept for this signer, as ``_sign_documents`` receives it."""
        self.ensure_one()
        data = json.loads(self.sudo().sign_pending_data or "{}")
        image = base64.b64decode(self.signature_image) if self.signature_image else b""
        return {
            "name": self.signature_name,
            "type": self.signature_type,
            "image": image,
            "image_sha256": self.signature_sha256,
            "date": self.date_sign_intent,
            "ip_address": data.get("ip_address"),
            "user_agent": data.get("user_agent"),
            "consent_sha256": data.get("consent_sha256"),
            "otp_verified_at": data.get("otp_verified_at"),
            "in_person": bool(data.get("in_person")),
        }

    def _apply_pending_signature(self):
        """Apply the recorded signature to the documents, in a savepoint.

        True when the signer is now signed. When ``_sign_documents`` raises an ``EsignError``
        (a timestamp authority down...), nothing of it is kept, the signer's intent stays
        (``sign_pending``), the request goes to error with the reason, and False is returned."""
        self.ensure_one()
        if not self.sign_pending:
            return self.state == "signed"
        signature = self._get_pending_signature()
        try:
            with self.env.cr.savepoint():
                applied_now = self._sign_documents(signature)
                # in the savepoint: saved with the signature's own changes (one UPDATE)
                with internal_write():
                    self.write({"state": "signed", "date_signed": fields.Datetime.now(),
                                "sign_pending": False})
                    self.sudo().write({"sign_pending_data": False})
        except lib_errors.EsignError as exc:
            _logger.info("o2s_esign: signature of signer %s not applied yet (%s)", self.id, exc.code)
            message = _("The signature of %(name)s could not be applied: %(reason)s",
                        name=self.name, reason=self._esign_error_reason(exc))
            self.request_id._set_error(message, transient=exc.transient, signer=self)
            return False
        # a signature applied by this very call cannot have been recorded yet: no need to look
        self.env["o2s.esign.consumption"]._record_signature(self, new=applied_now)
        self.request_id._check_completion()
        return True

    def _esign_error_reason(self, exc):
        """A translated reason for a lib.errors.EsignError (the message of the lib otherwise)."""
        reasons = {
            "tsa_unreachable": _("the timestamp authority cannot be reached"),
            "tsa_timeout": _("the timestamp authority did not answer in time"),
            "tsa_bad_response": _("the timestamp authority gave an invalid answer"),
            "sign_failed": _("the signature could not be produced"),
            "timeout": _("signing took too long"),
        }
        return reasons.get(exc.code) or str(exc)

    # --------------------------------------------------------------- SMS codes
    @api.model
    def _otp_key(self):
        return lib_crypto.derive_key(get_master_key(self.env), OTP_PURPOSE)

    def _otp_binding(self, nonce):
        self.ensure_one()
        return lib_otp.make_binding(self._esign_dbuuid(), self.request_id.id, self.id, nonce)

    def _otp_send_history(self, now):
        """Send times of the last hour (datetimes)."""
        self.ensure_one()
        try:
            stored = json.loads(self.sudo().otp_send_times or "[]")
        except ValueError:
            stored = []
        times = []
        for value in stored if isinstance(stored, list) else []:
            try:
                when = fields.Datetime.to_datetime(value)
            except ValueError:
                continue
            if when and now - when < timedelta(hours=1):
                times.append(when)
        return times

    def _masked_mobile(self):
        """The mobile number with all but its last two digits hidden (for the page and events)."""
        self.ensure_one()
        number = self.mobile or ""
        if len(number) <= 4:
            return "•" * len(number)
        prefix = number[:3] if number.startswith("+") else ""
        return prefix + "•" * (len(number) - len(prefix) - 2) + number[-2:]

    def _otp_write(self, values):
        with internal_write():
            self.sudo().write(values)

    def _otp_send(self, ip_address=None, user_agent=None):
        """Send a new code to the signer's mobile (it voids the previous one).

        Returns ``{"ok": True, "masked_mobile": ..., "retry_after": seconds}``, or
        ``{"error": message, "retry_after": seconds}`` when nothing was sent (limits, SMS
        transport failure; a failure also puts the request in error)."""
        self.ensure_one()
        now = fields.Datetime.now()
        if self.otp_locked_date:
            self._log_portal_event("otp_send_refused", {"reason": "signer_locked"},
                                   ip_address=ip_address, user_agent=user_agent)
            return {"error": self._otp_locked_message(), "retry_after": 0, "locked": True}
        sends = self._otp_send_history(now)
        decision = lib_otp.can_send(now, sends, OTP_POLICY)
        if not decision.allowed:
            self._log_portal_event("otp_send_refused", {
                "reason": decision.reason, "retry_after": decision.retry_after,
            }, ip_address=ip_address, user_agent=user_agent)
            if decision.reason == "cooldown":
                message = _("A code was sent less than a minute ago. You can ask for a new one "
                            "in %(seconds)s seconds.", seconds=decision.retry_after)
            else:
                message = _("Too many codes were sent in the last hour. You can ask for a new one "
                            "in %(minutes)s minutes.", minutes=max(1, round(decision.retry_after / 60)))
            return {"error": message, "retry_after": decision.retry_after}
        code = lib_otp.generate_code(OTP_POLICY.digits)
        nonce = lib_otp.generate_nonce()
        body = self._get_otp_sms_body(code)
        transport = self.request_id.company_id._esign_sms_config()["transport"]
        try:
            transport, provider_id = self._esign_send_sms(body)
        except lib_errors.SmsError as exc:
            self._log_portal_event("sms_failed", {
                "purpose": "otp", "transport": transport, "error": lib_sms.public_code(exc.code),
                "transient": exc.transient, "to": self._masked_mobile(),
            }, ip_address=ip_address, user_agent=user_agent)
            self.request_id._set_error(
                _("The SMS code for %(name)s could not be sent: %(reason)s",
                  name=self.name, reason=self._esign_sms_error_reason(exc)),
                transient=exc.transient, signer=self)
            if exc.transient:
                message = _("The code could not be sent by SMS because the SMS service is "
                            "unavailable. Your advisor has been told; please try again later.")
            else:
                message = _("The code could not be sent by SMS. Your advisor has been told and "
                            "will contact you.")
            return {"error": message, "retry_after": 0}
        replaces = bool(self.otp_issued_at and not self.otp_used)
        self._otp_write({
            "otp_hash": lib_otp.hash_code(self._otp_key(), code, self._otp_binding(nonce)),
            "otp_nonce": nonce,
            "otp_issued_at": now,
            "otp_attempts": 0,
            "otp_used": False,
            "otp_verified_hash": False,
            "otp_verified_at": False,
            "otp_send_times": json.dumps([fields.Datetime.to_string(t) for t in sends + [now]]),
        })
        del code
        self._log_portal_event("otp_sent", {
            "transport": transport,
            "provider_id": provider_id,
            "to": self._masked_mobile(),
            "expires_at": fields.Datetime.to_string(lib_otp.expires_at(now, OTP_POLICY)),
            "replaces_previous_code": replaces,
        }, ip_address=ip_address, user_agent=user_agent)
        self.env["o2s.esign.consumption"]._record_sms(self, transport, provider_id)
        return {
            "ok": True,
            "masked_mobile": self._masked_mobile(),
            "retry_after": OTP_POLICY.resend_cooldown,
            "message": _("A code was sent by SMS to %(number)s. It is valid for 10 minutes.",
                         number=self._masked_mobile()),
        }

    def _otp_verify(self, code, ip_address=None, user_agent=None):
        """Check a typed code. Returns ``{"ok": True, "secret": ...}`` (the secret goes in the
        browser session: with it, and only within VERIFIED_TTL, the page may sign), or
        ``{"error": message, "remaining": n, "locked": bool}``."""
        self.ensure_one()
        now = fields.Datetime.now()
        if self.otp_locked_date:
            # Whatever was typed, even the right code: the signer is locked.
            self._log_portal_event("otp_failed", {"reason": "signer_locked"},
                                   ip_address=ip_address, user_agent=user_agent)
            return {"error": self._otp_locked_message(), "remaining": 0, "locked": True}
        signer_sudo = self.sudo()
        nonce = signer_sudo.otp_nonce
        result = lib_otp.verify_code(
            now, code if isinstance(code, str) else "", key=self._otp_key(),
            binding=self._otp_binding(nonce or ""), stored_hash=signer_sudo.otp_hash,
            issued_at=self.otp_issued_at, attempts=self.otp_attempts, used=self.otp_used,
            policy=OTP_POLICY)
        if result.ok:
            secret = secrets.token_urlsafe(32)
            self._otp_write({
                "otp_used": True,
                "otp_verified_at": now,
                "otp_verified_hash": lib_otp.make_token(
                    self._otp_key(), "verified", self._esign_dbuuid(), str(self.id), nonce, secret),
            })
            self._log_portal_event("otp_verified", {"failed_attempts": result.attempts},
                                   ip_address=ip_address, user_agent=user_agent)
            return {"ok": True, "secret": secret}
        if result.reason == "invalid":
            wrong_codes = self.otp_wrong_count + 1
            self._otp_write({"otp_attempts": result.attempts, "otp_wrong_count": wrong_codes})
            self._log_portal_event("otp_failed", {
                "reason": "invalid", "attempt": result.attempts, "remaining": result.remaining,
                "wrong_codes": wrong_codes,
            }, ip_address=ip_address, user_agent=user_agent)
            if lib_otp.signer_locked(wrong_codes, OTP_POLICY):
                self._otp_lock_signer(wrong_codes, ip_address=ip_address, user_agent=user_agent)
                return {"error": self._otp_locked_message(), "remaining": 0, "locked": True}
            if result.locked:
                self._log_portal_event("otp_locked", {"attempts": result.attempts},
                                       ip_address=ip_address, user_agent=user_agent)
                message = _("Wrong code. This code is now locked: please ask for a new one.")
            else:
                message = _("Wrong code. Attempts left: %(remaining)s.", remaining=result.remaining)
        else:
            event = "otp_expired" if result.reason == "expired" else "otp_failed"
            self._log_portal_event(event, {"reason": result.reason},
                                   ip_address=ip_address, user_agent=user_agent)
            message = {
                "expired": _("This code has expired. Please ask for a new one."),
                "locked": _("This code is locked after too many wrong attempts. Please ask for a "
                            "new one."),
                "used": _("This code was already used. Please ask for a new one."),
            }.get(result.reason, _("Please ask for a code first."))
        return {"error": message, "remaining": result.remaining, "locked": result.locked}

    def _otp_check_session(self, secret, max_age=VERIFIED_TTL):
        """True if ``secret`` (from the browser session) proves this signer verified their
        latest code less than ``max_age`` ago."""
        self.ensure_one()
        signer_sudo = self.sudo()
        if not isinstance(secret, str) or not secret or not signer_sudo.otp_verified_hash \
                or not self.otp_verified_at or not signer_sudo.otp_nonce or self.otp_locked_date:
            return False
        if fields.Datetime.now() - self.otp_verified_at > max_age:
            return False
        return lib_otp.check_token(
            self._otp_key(), signer_sudo.otp_verified_hash, "verified", self._esign_dbuuid(),
            str(self.id), signer_sudo.otp_nonce, secret)

    def _otp_lock_signer(self, wrong_codes, ip_address=None, user_agent=None):
        """Too many wrong codes over the life of the request: lock the signer (the current code
        is voided), log ``signer_locked`` and tell the advisor by mail."""
        self.ensure_one()
        self._otp_write({"otp_locked_date": fields.Datetime.now(), "otp_hash": False,
                         "otp_verified_hash": False, "otp_verified_at": False})
        self._log_portal_event("signer_locked", {
            "wrong_codes": wrong_codes, "max_wrong_codes": OTP_POLICY.max_wrong_codes,
        }, ip_address=ip_address, user_agent=user_agent)
        self.request_id._esign_send_advisor_mail(
            "o2s_esign.mail_template_esign_signer_locked_advisor", "signer_locked")

    def _otp_locked_message(self):
        return _("Too many wrong codes were typed for this request: no code can be sent or "
                 "checked any more. Your advisor has been told and can unlock the signature "
                 "for you.")

    # --------------------------------------------------------------------- SMS
    def _get_otp_sms_body(self, code):
        """The text of the code SMS, from the editable template, in the signer's language.

        The code reaches the template through the rendering context only. A template whose
        text lost the code falls back to the default text."""
        self.ensure_one()
        lang = self._esign_lang()
        # by its xml id's record id (cached): no query to check that it exists, as ``ref``
        # does (its xml id goes with it when it is deleted)
        template = self.env["sms.template"].browse(self.env["ir.model.data"]._xmlid_to_res_id(
            "o2s_esign.sms_template_esign_otp", raise_if_not_found=False))
        body = ""
        if template:
            rendered = template.sudo().with_context(esign_otp_code=code)._render_field(
                "body", self.ids, set_lang=lang)
            body = (rendered.get(self.id) or "").strip()
        if code not in body:
            signer = self.with_context(lang=lang)
            body = signer.env._(
                "%(code)s is your code to sign the documents of %(company)s. Valid 10 minutes. "
                "Never share it: nobody will ever ask you for it.",
                code=code, company=self.request_id.company_id.name)
        return body

    def _esign_send_sms(self, body):
        """Send ``body`` to the signer's mobile. Returns ``(transport, provider_id)``; raises
        ``lib.errors.SmsError`` when the SMS did not leave.

        The gateway's URL is checked first (https, every address its host resolves to public;
        see res_company.py): a refused one fails like a gateway that cannot be reached,
        so that the answer never tells what listens on an internal address. Only a 2xx answer
        of an allowed gateway counts as sent (lib.sms; redirects are not followed)."""
        self.ensure_one()
        company = self.request_id.company_id
        config = company._esign_sms_config()
        transport = config["transport"]
        if transport == "iap":
            return transport, self._esign_send_sms_iap(body)

        def check_url(url):
            problem = company._esign_url_problem(url)
            if problem:
                _logger.info("SMS via %s not sent: the gateway's URL is not allowed (%s)", transport, problem)
            return not problem

        try:
            return transport, lib_sms.send_sms(transport, config.get(transport) or {}, self.mobile or "",
                                               body, timeout=self._esign_sms_timeout(), check_url=check_url)
        except lib_errors.SmsError as exc:
            if lib_sms.is_unreachable(exc.code):
                _logger.info("SMS via %s not sent: %s", transport, exc.code)
            raise

    @api.model
    def _esign_sms_timeout(self):
        """requests' ``(connect, read)`` timeout for the SMS gateways: the system parameter
        ``o2s_esign.sms_timeout`` (seconds to wait for an answer) when set, else lib.sms's
        default. A hanging gateway costs a signer at most about their sum."""
        # sudo: a system parameter, read for any visitor of a signing page
        value = self.env["ir.config_parameter"].sudo().get_param("o2s_esign.sms_timeout")
        try:
            read = float(value or 0)
        except ValueError:
            read = 0
        if read <= 0:
            return lib_sms.DEFAULT_TIMEOUT
        return (min(lib_sms.DEFAULT_TIMEOUT[0], read), read)

    def _esign_send_sms_iap(self, body):
        """Send through Odoo's SMS service (IAP) without storing the text in ``sms.sms``."""
        from odoo.addons.iap.tools.iap_tools import InsufficientCreditError
        from odoo.addons.sms.tools.sms_api import SmsApi

        number = (self.mobile or "").strip()
        if not number:
            raise lib_errors.SmsError("invalid_number", {"transport": "iap"})
        message_uuid = uuid.uuid4().hex
        try:
            # sudo: the IAP account is read with superuser rights, as sms.sms._send does.
            results = SmsApi(self.sudo().env)._send_sms_batch([{
                "content": body, "numbers": [{"uuid": message_uuid, "number": number}],
            }], delivery_reports_url=False)
        except InsufficientCreditError as exc:
            raise lib_errors.SmsError("iap_insufficient_credit", {"transport": "iap"},
                                      transient=False) from exc
        except (AccessError, UserError) as exc:
            # iap_tools reports timeouts and connection errors as AccessError
            raise lib_errors.SmsError("connection", {"transport": "iap"}, transient=True) from exc
        result = next((r for r in results or [] if r.get("uuid") == message_uuid), None)
        state = (result or {}).get("state")
        if state in IAP_SUCCESS_STATES:
            return message_uuid
        if state is None:
            raise lib_errors.SmsError("bad_response", {"transport": "iap"})
        raise lib_errors.SmsError("iap_%s" % state, {"transport": "iap", "state": state},
                                  transient=state == "server_error")

    def _esign_sms_error_reason(self, exc):
        """A translated reason for a ``lib.errors.SmsError``, for the advisor."""
        code = exc.code
        if lib_sms.is_unreachable(exc.code):
            # One message for every network outcome: it must not tell which addresses and
            # ports answer (the exact outcome is in the server log).
            return _("the SMS service could not be reached")
        reasons = {
            "config_missing": _("the SMS settings are incomplete (%(missing)s)",
                                missing=exc.params.get("missing", "")),
            "transport_unknown": _("the SMS transport is unknown"),
            "invalid_number": _("the mobile number is missing or not in international format"),
            "iap_insufficient_credit": _("the Odoo SMS account has no credit left"),
            "iap_unregistered": _("the Odoo SMS account is not registered"),
            "iap_wrong_number_format": _("the mobile number is not valid"),
            "iap_country_not_supported": _("the destination country is not supported"),
            "iap_server_error": _("the Odoo SMS service had an error"),
        }
        return reasons.get(code, _("the SMS could not be sent (%(code)s)", code=code))

    # --------------------------------------------------------------- signature
    def _esign_field_name(self):
        """The name of this signer's signature field in every document (stable)."""
        self.ensure_one()
        return "Signature%d" % self.id

    def _esign_protection_type(self):
        """The legal protection this signer's capacity depends on: as frozen when the request
        was sent, else (a draft) the protected person's current one."""
        self.ensure_one()
        if self.protection:
            return self.protection
        person = self._esign_protected_person()
        return person.esign_protection if person else False

    def _esign_capacity_label(self):
        """The capacity line of the signature box, e.g. "Legal representative of X"."""
        self.ensure_one()
        represented = self.represented_partner_id.display_name
        protection = self._esign_protection_type()
        if self.role == "legal_representative":
            if not represented:
                return self.env._("Legal representative")
            labels = {
                "curatelle": self.env._("Curator of %(name)s", name=represented),
                "habilitation_familiale": self.env._(
                    "Person authorised to represent %(name)s (habilitation familiale)", name=represented),
                "mandat_protection_future": self.env._(
                    "Agent of %(name)s (mandat de protection future)", name=represented),
            }
            return labels.get(protection) or self.env._("Legal representative of %(name)s", name=represented)
        if self.role == "company_representative":
            if represented:
                return self.env._("For the account of %(name)s", name=represented)
            return self.env._("Company representative")
        if represented:
            return self.env._("For the account of %(name)s", name=represented)
        if protection == "curatelle":
            return self.env._("Assisted by their curator (curatelle)")
        return ""

    def _esign_capacity_sentence(self):
        """The capacity in which this signer signs, as a sentence to them (signing page, mails),
        in the context's language; empty when they sign for themselves."""
        self.ensure_one()
        represented = self.represented_partner_id.display_name
        protection = self._esign_protection_type()
        if self.role == "legal_representative" and represented:
            sentences = {
                "curatelle": self.env._(
                    "You are signing as the curator of %(name)s, to assist them.", name=represented),
                "habilitation_familiale": self.env._(
                    "You are signing as the person authorised by the judge to represent %(name)s "
                    "(habilitation familiale).", name=represented),
                "mandat_protection_future": self.env._(
                    "You are signing as the agent of %(name)s under a mandat de protection future.",
                    name=represented),
            }
            return sentences.get(protection) or self.env._(
                "You are signing as the legal representative of %(name)s.", name=represented)
        if represented:
            return self.env._("You are signing for the account of %(name)s.", name=represented)
        if self.role == "signer" and protection == "curatelle":
            return self.env._("You are signing for yourself, assisted by your curator (curatelle).")
        return ""

    def _esign_appearance(self, document, moment, image=None):
        """The visible signature: the signature the signer drew or typed (``image``, PNG),
        "Signed electronically", the name, the date and time (UTC) and a QR code to the
        document's public verification page, in the signer's language."""
        self.ensure_one()
        signer = self.with_context(lang=self.lang or "en_US")
        env = signer.env
        base_url = document.request_id.get_base_url()
        return signing.Appearance(
            signer_name=self.name or "",
            lines=[
                env._("Signed electronically"),
                env._("by %(name)s", name=self.name or ""),
                env._("on %(date)s at %(time)s UTC",
                      date=format_date(env, moment.date(), lang_code=env.lang),
                      time=moment.strftime("%H:%M")),
            ],
            qr_url="%s/esign/verify/%s" % (base_url, document.sudo().verification_token),
            image=image or None,
        )

    def _esign_fill_values(self, document):
        """{PDF field name: value} of this signer's boxes on ``document`` that go into the PDF
        just before their signature covers them: text and checkbox as the signer filled them
        on the signing page, the date of signing (in their language) and their initials."""
        self.ensure_one()
        mine = self._esign_boxes_of(document)
        if not mine:
            return {}
        written = {"date": self._esign_today_text(), "initials": self._esign_initials()}
        values = {}
        for field in mine:
            if field.field_type == "checkbox":
                values[field.pdf_field_name] = field._esign_is_ticked()
            elif field.field_type in written:
                values[field.pdf_field_name] = written[field.field_type]
            elif field.value:
                values[field.pdf_field_name] = field.value
        return values

    def _esign_boxes_of(self, documents):
        """This signer's boxes on ``documents`` that are written into the PDF (not their
        signature box; only documents that have boxes are read)."""
        return documents.filtered("has_fields").sudo().field_ids.filtered(
            lambda f: f.signer_id == self and f.field_type != "signature" and f.pdf_field_name)

    def _esign_today_text(self):
        """Today's date as a date box shows it: on the signing page before signing, and in
        the PDF when signing (the same day and language for both)."""
        self.ensure_one()
        return format_date(self.env, fields.Date.context_today(self), lang_code=self._esign_lang())

    def _esign_initials(self):
        """The signer's initials, e.g. "JM" for Jeanne Martin (the name they typed when
        signing, else their name)."""
        self.ensure_one()
        words = (self.signature_name or self.name or "").replace("-", " ").split()
        return "".join(word[0].upper() for word in words if word[0].isalnum())[:4]

    def _esign_record_filled(self, documents, moment):
        """After the signature: the date and initials boxes keep what was written in the PDF,
        with the time (text and checkbox values were kept when the signer filled them)."""
        self.ensure_one()
        mine = self._esign_boxes_of(documents)
        if not mine:
            return
        with internal_write():
            for kind, value in (("date", self._esign_today_text()),
                                ("initials", self._esign_initials())):
                boxes = mine.filtered(lambda f, kind=kind: f.field_type == kind)
                if boxes:
                    boxes.write({"value": value or False, "date_filled": moment})

    def _sign_documents(self, signature=None):
        """Sign every document of the request for this signer: one incremental PAdES signature
        per document (ETSI.CAdES.detached, SHA-256, signing-certificate-v2) in the signer's
        field, at the company's level, with a one-time certificate in the signer's name issued
        by the company CA now; its private key is dropped right after. Then the ``signed``
        event, with the documents' new hashes.

        All or nothing: every document's new bytes are computed first and stored only when
        all succeeded, so a timestamp authority that fails (``lib.errors.TsaError``, transient,
        raised to the caller) leaves every document unchanged. Calling it again once applied
        does nothing (retries). ``signature`` is what the signing page kept (a dict with
        ``image_sha256``, ``name``, ``date``...; see ``_get_pending_signature``): its image hash is
        recorded with each document signature.

        Works on sudo'ed records: the signing page calls it for a signer without any access
        right, after its own token, SMS code and consent checks.
        """
        self.ensure_one()
        signer_sudo = self.sudo()
        request_sudo = signer_sudo.request_id
        if signer_sudo.date_signature_applied:
            return False
        if request_sudo.state not in OPEN_STATES:
            raise UserError(_("This request is no longer open for signature."))
        if signer_sudo.state not in ("pending", "signed"):
            raise UserError(_("%(name)s cannot sign this request now.", name=signer_sudo.name))
        documents = request_sudo.document_ids.sorted(lambda d: (d.sequence, d.id))
        if not documents:
            raise UserError(_("This request has no document to sign."))
        # the files read below (current revisions, their names), in one query
        (documents.signed_attachment_id | documents.prepared_attachment_id).mapped("name")
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        moment = fields.Datetime.now()
        reason = signer_sudo.with_context(lang=signer_sudo.lang or "en_US").env._(
            "Electronic signature")
        browser = signer_sudo._browser_key_signatures(documents)
        if browser:
            results, one_time = signer_sudo._browser_key_finish(documents, browser, context)
        else:
            one_time = pki.issue_one_time_identity(
                context.material.ca, name=signer_sudo.name or "", email=signer_sudo.email or "")
            results = []
        try:
            if not browser:
                # every document signed in one call: their time-stamp requests run at once
                items = [{
                    "pdf": document.signed_attachment_id.raw,
                    "field_name": signer_sudo._esign_field_name(), "identity": one_time,
                    "level": context.level, "tsa": context.tsa,
                    "appearance": signer_sudo._esign_appearance(
                        document, moment, image=(signature or {}).get("image")),
                    "trust_roots": context.trust_roots, "extra_crls": context.extra_crls,
                    "reason": reason,
                    "field_values": signer_sudo._esign_fill_values(document) or None,
                } for document in documents]
                results = list(zip(documents, context.pades.sign_many(items), strict=True))
        finally:
            # The one-time key is used for these signatures only: drop every reference to it.
            one_time.key = None
        cert_pem = one_time.cert_pem().decode("ascii")
        chain_pem = one_time.chain_pem().decode("ascii")
        cert_der = one_time.cert.dump()
        # read from the parsed certificate (parsing its DER again costs ~1.5 ms each time)
        cert_serial = "%x" % one_time.cert.serial_number
        cert_spki = one_time.cert.public_key.dump()
        del one_time
        signature_sha256 = _signature_sha256(signature)
        key_evidence = signer_sudo._browser_key_evidence(browser, cert_spki)
        revisions = []
        for document, result in results:
            revisions.append((document, result.data, {
                "signer": signer_sudo.name,
                "field": signer_sudo._esign_field_name(),
                "level": result.level,
                "level_requested": request_sudo.pades_level or result.level,
                "tsa": context.tsa_url or NO_TSA_NOTE,
                "timestamped": bool(result.timestamp_token),
                "signing_time": _iso(result.signing_time.replace(tzinfo=None)),
                "timestamp_time": _iso(timestamp_time(result.timestamp_token)),
                "timestamp_token_sha256": hashlib.sha256(result.timestamp_token).hexdigest()
                if result.timestamp_token else None,
                "certificate_sha256": hashlib.sha256(cert_der).hexdigest(),
                "certificate_serial": cert_serial,
                "signature_image_sha256": signature_sha256,
                **key_evidence,
            }))
        # every document's revision in one batch, their events with the ``signed`` one below
        # (queries independent of the number of documents)
        _attachments, events = self.env["o2s.esign.document"]._store_signed_revisions(
            revisions, "signature", signer=signer_sudo)
        for document, result in results:
            with internal_write():
                document.write({"pades_level_achieved": result.level})
        with internal_write():
            signer_sudo.write({
                "signing_certificate": cert_pem,
                "signing_certificate_chain": chain_pem,
                "date_signature_applied": fields.Datetime.now(),
            })
            signer_sudo.write({"browser_key_data": False})
        signer_sudo._esign_record_filled(documents, moment)
        # The ``signed`` event, with the documents' new hashes.
        signed_documents = self.request_id.document_ids
        signed_payload = {
            "name": signature.get("name"),
            "signature_type": signature.get("type"),
            "signature_sha256": signature.get("image_sha256"),
            "consent_sha256": signature.get("consent_sha256"),
            "signed_on_page": fields.Datetime.to_string(signature["date"]) if signature.get("date") else None,
            "otp_verified_at": signature.get("otp_verified_at"),
            "in_person": signature.get("in_person", False),
            **key_evidence,
            "documents": [
                {"id": doc.id, "name": doc.name, "sha256": doc.signed_sha256} for doc in signed_documents],
        }
        request_sudo._log_events(events.get(request_sudo, []) + [{
            "event_type": "signed", "signer": self, "payload": signed_payload,
            "ip_address": signature.get("ip_address"), "user_agent": signature.get("user_agent")}])
        return True

    # ------------------------------------------------------- key of the signer's browser
    def _browser_key_session(self):
        """An identifier of the verified-code session the key is bound to (a hash of the stored
        verification hash: it reveals neither the code nor the browser's secret)."""
        self.ensure_one()
        verified = self.sudo().otp_verified_hash or ""
        return hashlib.sha256(("o2s-esign-key-session:" + verified).encode()).hexdigest()[:32]

    def _browser_key_load(self):
        """The browser key data still usable for the current verified-code session, or {}."""
        self.ensure_one()
        try:
            data = json.loads(self.sudo().browser_key_data or "{}")
        except ValueError:
            return {}
        if not isinstance(data, dict) or data.get("session") != self._browser_key_session():
            return {}
        return data

    def _browser_key_store(self, data):
        with internal_write():
            self.sudo().write({"browser_key_data": json.dumps(data) if data else False})

    def _browser_key_challenge_bytes(self, nonce):
        return pki.pop_challenge(signer=str(self.id), request=self.request_id.reference or
                                 str(self.request_id.id), session=self._browser_key_session(),
                                 nonce=nonce)

    def _browser_key_challenge(self):
        """A new challenge for the proof of possession (the caller checked the link and the
        verified code). Any earlier key, challenge or prepared document is dropped."""
        self.ensure_one()
        if self._get_signing_validity() != "ok":
            return {"error": _("This request cannot be signed any more.")}
        nonce = secrets.token_urlsafe(24)
        self._browser_key_store({
            "session": self._browser_key_session(), "nonce": nonce,
            "expires": fields.Datetime.to_string(fields.Datetime.now() + BROWSER_KEY_TTL)})
        return {"challenge": base64.b64encode(self._browser_key_challenge_bytes(nonce)).decode()}

    def _browser_key_register(self, public_key, proof):
        """Check the proof of possession (signature of the pending challenge, used once) of the
        P-256 public key (base64 SPKI) and issue the one-time certificate in the signer's name
        for it. Returns ``{"ok": True, "fingerprint": ...}`` or ``{"error": ...}``."""
        self.ensure_one()
        data = self._browser_key_load()
        nonce = data.get("nonce")
        if not nonce or data.get("certificate") or \
                fields.Datetime.to_datetime(data["expires"]) < fields.Datetime.now():
            return {"error": _("The signing key could not be registered. Please try again.")}
        challenge = self._browser_key_challenge_bytes(nonce)
        data["nonce"] = None  # used once, whatever the outcome
        self._browser_key_store(data)
        try:
            spki = base64.b64decode(public_key or "", validate=True)
            pop = base64.b64decode(proof or "", validate=True)
            pki.verify_proof_of_possession(spki, challenge, pop)
        except (binascii.Error, TypeError, lib_errors.PkiError):
            return {"error": _("The signing key could not be registered. Please try again.")}
        context = self.sudo().request_id.company_id._esign_signing_context(
            self.request_id.pades_level)
        identity = pki.issue_one_time_certificate(
            context.material.ca, spki, name=self.name or "", email=self.email or "")
        data.update({
            "public_key": base64.b64encode(spki).decode(),
            "challenge": base64.b64encode(challenge).decode(),
            "proof": base64.b64encode(pop).decode(),
            "certificate": base64.b64encode(identity.cert.dump()).decode(),
            "chain": [base64.b64encode(c.dump()).decode() for c in identity.chain],
        })
        self._browser_key_store(data)
        return {"ok": True, "fingerprint": pki.public_key_fingerprint(spki)}

    def _browser_key_prepare(self, signature=None):
        """Step 1 for every document: the signer's incremental revision (same field, values
        and appearance as the server-side signature: ``signature`` is the base64 PNG the
        signer drew or typed, shown in the box; the signature posted next must be the same)
        and the DER signed attributes the browser's key signs. Returns ``{"documents": [{"id",
        "to_be_signed"}]}`` or ``{"error": ...}``."""
        self.ensure_one()
        image = self._parse_signature_image(signature) if signature else None
        if signature and image is None:
            return {"error": _("The signature could not be read. Please sign again.")}
        data = self._browser_key_load()
        if not data.get("certificate") or \
                fields.Datetime.to_datetime(data["expires"]) < fields.Datetime.now():
            return {"error": _("The signing key is no longer valid. Please try again.")}
        if self._get_signing_validity() != "ok":
            return {"error": _("This request cannot be signed any more.")}
        signer_sudo = self.sudo()
        request_sudo = signer_sudo.request_id
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        identity = pki.SigningIdentity(
            key=None, cert=pki.cert_from_pem_or_der(base64.b64decode(data["certificate"])),
            chain=[pki.cert_from_pem_or_der(base64.b64decode(c)) for c in data["chain"]])
        moment = fields.Datetime.now()
        reason = signer_sudo.with_context(lang=signer_sudo.lang or "en_US").env._(
            "Electronic signature")
        prepared, out = {}, []
        for document in request_sudo.document_ids.sorted(lambda d: (d.sequence, d.id)):
            try:
                step = context.pades.prepare_external(
                    document.signed_attachment_id.raw, field_name=signer_sudo._esign_field_name(),
                    identity=identity, level=context.level, tsa=context.tsa,
                    appearance=signer_sudo._esign_appearance(document, moment, image=image),
                    reason=reason,
                    field_values=signer_sudo._esign_fill_values(document) or None)
            except lib_errors.EsignError as exc:
                return {"error": self._esign_error_reason(exc)}
            prepared[str(document.id)] = {
                key: base64.b64encode(value).decode() if isinstance(value, bytes) else
                [base64.b64encode(v).decode() for v in value] if key == "chain" else value
                for key, value in step.state.items()}
            out.append({"id": document.id,
                        "to_be_signed": base64.b64encode(step.to_be_signed).decode()})
        data["prepared"] = prepared
        data["image_sha256"] = hashlib.sha256(image).hexdigest() if image else None
        data.pop("signatures", None)
        self._browser_key_store(data)
        return {"documents": out}

    def _browser_key_accept_signatures(self, signatures, signature=None):
        """Keep the browser's signature values (``{document id: base64 r||s}``) for
        ``_sign_documents``; False when they do not cover exactly the prepared documents, or
        when ``signature`` (the base64 PNG posted with them) is not the one the prepared
        revisions show."""
        self.ensure_one()
        data = self._browser_key_load()
        prepared = data.get("prepared") or {}
        image = self._parse_signature_image(signature) if signature else None
        if data.get("image_sha256") and (
                image is None or hashlib.sha256(image).hexdigest() != data["image_sha256"]):
            return False
        if not prepared or not isinstance(signatures, dict) or \
                set(map(str, signatures)) != set(prepared) or \
                fields.Datetime.to_datetime(data["expires"]) < fields.Datetime.now():
            return False
        try:
            values = {str(k): base64.b64encode(base64.b64decode(v, validate=True)).decode()
                      for k, v in signatures.items()}
            # each value must be the certified key's signature of what was prepared: a wrong
            # one is refused here, before the signer's intent is recorded (else the request
            # would go in error with a signature that can never be finished)
            cert = pki.cert_from_pem_or_der(base64.b64decode(data["certificate"]))
            public_key = pki.load_p256_public_key(cert.public_key.dump())
            for key, value in values.items():
                attrs_der = base64.b64decode(prepared[key]["signed_attrs"])
                if not pki.verify_ecdsa(public_key, attrs_der, base64.b64decode(value)):
                    return False
        except (binascii.Error, TypeError, ValueError, KeyError, lib_errors.EsignError):
            return False
        data["signatures"] = values
        self._browser_key_store(data)
        return True

    def _browser_key_drop_signatures(self):
        """The signer signs without the browser's key (fallback): forget earlier values."""
        self.ensure_one()
        if self.sudo().browser_key_data:
            self._browser_key_store({})

    def _browser_key_signatures(self, documents):
        """The browser data when its signatures cover ``documents`` as they are now, else
        None (then the server-side key signs). Not bound to the session: a signature recorded
        then retried later (timestamp authority down) still finishes."""
        try:
            data = json.loads(self.sudo().browser_key_data or "{}")
        except ValueError:
            return None
        prepared, signatures = data.get("prepared") or {}, data.get("signatures") or {}
        if not signatures or set(prepared) != {str(d.id) for d in documents}:
            return None
        for document in documents:
            state = prepared[str(document.id)]
            if state["pdf_sha256"] != hashlib.sha256(document.signed_attachment_id.raw).hexdigest():
                return None
        return data

    def _browser_key_finish(self, documents, data, context):
        """Step 2 for every document (all or none): embed the browser's signature value,
        time-stamp, and validate each new signature before anything is stored."""
        from ..lib import validation_report

        results = []
        for document in documents:
            raw = data["prepared"][str(document.id)]
            state = {key: [base64.b64decode(v) for v in value] if key == "chain" else
                     base64.b64decode(value) if key in (
                         "prepared_pdf", "document_digest", "signed_attrs", "cert") else value
                     for key, value in raw.items()}
            result = context.pades.finish_external(
                state, base64.b64decode(data["signatures"][str(document.id)]), tsa=context.tsa,
                trust_roots=context.trust_roots, extra_crls=context.extra_crls)
            reports = validation_report.validate_pdf_signatures(
                result.data, trust_roots=context.trust_roots, tsa_roots=context.trust_roots,
                crls=context.extra_crls)
            mine = [r for r in reports if r.field_name == self._esign_field_name()]
            if not mine or mine[-1].indication != "TOTAL-PASSED":
                raise lib_errors.SigningError("sign_failed", {"detail": "validation"})
            results.append((document, result))
        cert = pki.cert_from_pem_or_der(base64.b64decode(data["certificate"]))
        chain = [pki.cert_from_pem_or_der(base64.b64decode(c)) for c in data["chain"]]
        return results, pki.SigningIdentity(key=None, cert=cert, chain=chain)

    def _browser_key_evidence(self, data, spki):
        """What the evidence says of the key that signed (issue 18); ``spki``: the DER
        SubjectPublicKeyInfo of the certificate that signed."""
        evidence = {
            "key_mode": KEY_MODE_BROWSER if data else KEY_MODE_SERVER,
            "key_mode_label": "key generated and used in the signer's browser" if data else
            "key generated on the server after SMS verification",
            "public_key_sha256": pki.public_key_fingerprint(spki),
        }
        if data:
            evidence["key_proof"] = {
                "public_key": data["public_key"], "challenge": data["challenge"],
                "signature": data["proof"]}
        return evidence

    # ------------------------------------------------------------------- mails
    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + SIGNER_MAIL_EXPRESSIONS

    def _esign_signing_link(self):
        """The absolute link to this signer's signing page, for mails."""
        self.ensure_one()
        return url_join(self.request_id.get_base_url(), self.access_url or "/")

    def _send_invitation(self):
        """Send each signer their invitation (link to the signing page). A signer who signs in
        person is mailed nothing: the advisor opens their page (action_esign_open_in_person)."""
        self._ensure_access_nonce()
        failed = self.filtered("invitation_failed")
        if failed:
            with internal_write():
                failed.write({"invitation_failed": False})
        self._esign_remote()._send_template_mail("o2s_esign.mail_template_esign_invite", "invitation")

    def _esign_remote(self):
        """The signers who sign remotely, through the link mailed to them."""
        return self.filtered(lambda signer: signer.presence != "in_person")

    def _send_reminder(self, manual=False):
        """Send a reminder to each signer, log it in the audit trail and move the watermark (an
        automatic reminder counts towards the maximum; a manual one only pushes the next one
        away)."""
        self._send_template_mail("o2s_esign.mail_template_esign_reminder", "reminder",
                                 extra_payload={"manual": manual})
        now = fields.Datetime.now()
        for signer in self:
            values = {"last_reminder_date": now}
            if not manual:
                values["reminder_count"] = signer.reminder_count + 1
            with internal_write():
                signer.write(values)
            signer.request_id._log_event("reminder_sent", signer=signer, payload={
                "manual": manual, "count": signer.reminder_count})

    def _notify_cancel(self, refused=False):
        """Tell the signers who had not signed that the request is over; when another signer
        refused, with the refusal template."""
        if refused:
            self._send_template_mail("o2s_esign.mail_template_esign_refused", "refusal",
                                     extra_payload={"because_refused": True})
            return
        self._send_template_mail("o2s_esign.mail_template_esign_cancel", "cancellation",
                                 extra_payload={"because_refused": refused})

    def _notify_expired(self):
        """Tell the signers that the request expired (its links stop working)."""
        self._send_template_mail("o2s_esign.mail_template_esign_expired", "expiry")

    def _notify_confirmation(self, attachments):
        """Tell the signers everything is signed, with the signed documents attached."""
        self._send_template_mail(
            "o2s_esign.mail_template_esign_confirmation", "confirmation",
            extra_payload={"attachments": attachments.mapped("name")},
            email_values={"attachment_ids": [fields.Command.link(a.id) for a in attachments]}
            if attachments else None)

    def _send_template_mail(self, xmlid, kind, extra_payload=None, email_values=None):
        """Queue ``xmlid`` (a mail.template on o2s.esign.signer) for each signer and log it.
        ``email_values`` (optional) go to the mail as is (e.g. ``attachment_ids``)."""
        # The mail report (o2s.esign.mail.log) recognises the module's mails by this key.
        signers = self.with_context(o2s_esign_mail_kind=kind)
        template = signers.env.ref(xmlid, raise_if_not_found=False)
        events = {}  # logged in one batch per request, in the same order
        for signer in signers:
            payload = dict(extra_payload or {}, kind=kind, to=signer.email)
            if template:
                mail_id = template.sudo().with_context(lang=signer.lang).send_mail(
                    signer.id, email_layout_xmlid="mail.mail_notification_light",
                    email_values=email_values)
                payload["mail_id"] = mail_id
            events.setdefault(signer.request_id, []).append(
                {"event_type": "email_queued", "signer": signer, "payload": payload})
        for request, entries in events.items():
            request._log_events(entries)

    # ------------------------------------------------------------------- crons
    def _mark_reminder_failure(self):
        """Keep a signer whose reminder crashed out of the cron's way for a day (the error is
        logged): a broken unit must not hold the others back, nor be retried in a loop."""
        with internal_write():
            self.write({"reminder_blocked_until": fields.Datetime.now() + timedelta(days=1)})

    # ---- fields placed on the documents (issue 17)
    def _esign_fields(self):
        """This signer's field boxes on the documents of their request."""
        self.ensure_one()
        return self.env["o2s.esign.field"].search([
            ("signer_id", "=", self.id), ("request_id", "=", self.request_id.id)])

    def _esign_page_fields(self):
        """What the signing page draws over the documents: this signer's fields only (no value
        of another signer), ``{document id: [values of _esign_page_values() + "order"]}``;
        ``order`` (from 1, across the documents) is the order in which the signer fills them:
        document order, page, top to bottom, left to right.

        No sudo here: on the signing page the signer record already is (the link's token is the
        visitor's access right), and the search keeps to this signer's fields."""
        self.ensure_one()
        rank = {document.id: index for index, document in enumerate(self.request_id.document_ids)}
        ordered = self._esign_fields().sorted(lambda f: (
            rank.get(f.document_id.id, len(rank)), f.page, -(f.y + f.height), f.x, f.id))
        by_document = {}
        for order, values in enumerate(ordered._esign_page_values(), start=1):
            values["order"] = order
            by_document.setdefault(values["document_id"], []).append(values)
        return by_document

    def _esign_set_field_values(self, field_values):
        """Store what the signer typed or ticked in their text and checkbox fields, posted by the
        signing page with the signature (or before the browser's key signs): ``field_values`` is
        ``{"<field id>": text | true | false}``. Dates and initials are not posted (the signing
        fills them); signature boxes take the signature. Only this signer's fields of this
        request, while they may still sign; a text is stripped, at most MAX_TEXT_LENGTH
        characters, printable; a checkbox is stored as FIELD_CHECKED / FIELD_UNCHECKED.

        Returns False when stored, else ``{"error": message, "field_id": id or None}`` and
        nothing is stored. ``value`` and ``date_filled`` are written by this process only
        (internal write); an unchanged value keeps its time."""
        self.ensure_one()
        if self.state != "pending" or self.sign_pending or self.request_id.state not in OPEN_STATES:
            return {"error": _("This request cannot be signed any more."), "field_id": None}
        if field_values is None:
            field_values = {}
        if not isinstance(field_values, dict):
            return {"error": _("The fields could not be read. Please reload the page."),
                    "field_id": None}
        if not field_values and not any(self.request_id.document_ids.mapped("has_fields")):
            # no box on any document (the documents are read here for the signature anyway)
            return False
        fillable = self._esign_fields().filtered(lambda f: f.field_type in FILLED_BY_SIGNER)
        by_id = {str(field.id): field for field in fillable}
        if any(key not in by_id for key in field_values):
            return {"error": _("The fields could not be read. Please reload the page."),
                    "field_id": None}
        new_values = {}
        for field in fillable:
            posted = field_values.get(str(field.id))
            what = field.label or (_("Text") if field.field_type == "text" else _("Checkbox"))
            if field.field_type == "text":
                if posted is not None and not isinstance(posted, str):
                    return {"error": _("The field “%s” could not be read.", what),
                            "field_id": field.id}
                text = " ".join((posted or "").split()) if posted is not None else None
                if text and (len(text) > FIELD_MAX_TEXT_LENGTH or not text.isprintable()):
                    return {"error": _(
                        "The field “%(field)s” is too long (%(max)s characters at most) or "
                        "contains characters that cannot be used.",
                        field=what, max=FIELD_MAX_TEXT_LENGTH), "field_id": field.id}
                if field.required and not text:
                    return {"error": _("Please fill in the field “%s”.", what),
                            "field_id": field.id}
                if text is not None:
                    new_values[field] = text
            else:
                if posted is not None and not isinstance(posted, bool):
                    return {"error": _("The field “%s” could not be read.", what),
                            "field_id": field.id}
                if field.required and posted is not True:
                    return {"error": _("Please tick the box “%s”.", what), "field_id": field.id}
                if posted is not None:
                    new_values[field] = FIELD_CHECKED if posted else FIELD_UNCHECKED
        now = fields.Datetime.now()
        with internal_write():
            for field, value in new_values.items():
                if field.value != value or not field.date_filled:
                    field.write({"value": value, "date_filled": now})
        return False
