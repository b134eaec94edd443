# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signature request (``o2s.esign.request``): the envelope of documents and signers, its
explicit state machine and hash-chained audit trail; sending (checks made before anything is
created, who must sign for a company or a protected person), the flow to the end (completion,
company seal, evidence ZIP and attestations), what keeps it moving without anyone watching
(reminders, expiry, automatic retry of passing errors), its mails and the E-signature home
block's data."""
import base64
import hashlib
import io
import json
import logging
import tempfile
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tools import SQL, create_index, format_date

from ..lib import evidence as lib_evidence
from ..lib import evidence_bundle
from ..lib import validation_report as lib_validation
from ..lib.errors import EsignError, EvidenceError, PdfError, PkiError, SigningError, TsaError
from ..tools import (
    NO_TSA_NOTE,
    PADES_LEVELS,
    has_control_chars,
    has_nul,
    internal_write,
    is_internal_write,
    mail_button,
    plaintext_note,
)
from .res_partner import REPRESENTED_PROTECTIONS

_logger = logging.getLogger(__name__)

# The request's state machine: every transition not listed here is refused.
ALLOWED_TRANSITIONS = {
    "draft": {"in_progress"},
    "in_progress": {"signed", "refused", "cancelled", "expired", "error"},
    # A request in error is still open: it can be retried, cancelled, refused or expire.
    "error": {"in_progress", "signed", "refused", "cancelled", "expired"},
    "signed": set(),
    "refused": set(),
    "cancelled": set(),
    "expired": set(),
}
#: a request's states (also the statuses of the compliance view, after "none")
REQUEST_STATES = [
    ("draft", "Draft"),
    ("in_progress", "In progress"),
    ("signed", "Signed"),
    ("refused", "Refused"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired"),
    ("error", "Error"),
]
OPEN_STATES = ("in_progress", "error")
#: "Remind now" sends nothing when a reminder left less than this ago (a double click).
MANUAL_REMINDER_GAP = timedelta(minutes=1)
FINAL_STATES = ("signed", "refused", "cancelled", "expired")

# Fields nobody changes once a request has left the draft state (the module's own code excepted).
FROZEN_AFTER_SEND = {
    "partner_id", "company_id", "document_ids", "signer_ids", "signing_order", "message",
    "origin_model", "origin_id", "name",
}
# Fields that decide who has the request (besides administrators): changed by its advisor or an
# administrator only, each change logged.
ACCESS_FIELDS = {"user_id", "shared_user_ids"}
# Fields only the module's own code ever writes.
INTERNAL_FIELDS = {
    "state", "reference", "date_sent", "sent_uid", "date_done", "error_message", "error_transient", "cancel_reason",
    "pades_level", "event_head", "date_personal_data_purged", "sealing_pending",
}
# Written by the automation only.
REQUEST_AUTOMATION_FIELDS = {"retry_count", "next_retry_date", "expiry_blocked_until"}
REQUEST_SIGNING_FIELDS = {"evidence_attachment_id", "evidence_sha256", "evidence_date"}

#: longest subject of a request (characters)
MAX_SUBJECT_LENGTH = 1000
#: longest message to the signers (characters)
MAX_MESSAGE_LENGTH = 10_000

# Used when the ir.config_parameter o2s_esign.cron_batch_size is missing or not a positive number.
DEFAULT_CRON_BATCH_SIZE = 200
#: the scheduled actions that seal the requests signed by everyone (``_cron_seal_requests``)
SEAL_CRONS = ("o2s_esign.ir_cron_esign_seal_requests", "o2s_esign.ir_cron_esign_seal_requests_2")
# Automatic retries of a request in a passing error: after 10 min, 20 min, 40 min... at most
# this many times (ir.config_parameter o2s_esign.retry_max_attempts), then the advisor decides.
DEFAULT_RETRY_MAX_ATTEMPTS = 6
RETRY_FIRST_DELAY = timedelta(minutes=10)

# Placeholders of the request templates (the advisor's mails): see SIGNER_MAIL_EXPRESSIONS.
REQUEST_MAIL_EXPRESSIONS = (
    "object.name",
    "object.reference",
    "object.message",
    "object.partner_id.name",
    "object.user_id.name",
    "object.user_id.lang",
    "object.user_id.email",
    "object.user_id.email_formatted",
    "object.user_id.partner_id.id",
    "object.user_id.signature",
    "object.company_id.name",
    "object.company_id.email_formatted",
    "object.esign_mail_link",
    "object.esign_mail_open_button",
    "object.esign_mail_documents",
    "object.esign_mail_deadline",
    "object.esign_mail_signatures",
    "object.esign_mail_refusal_sentence",
    "object.esign_mail_locked_signers",
)

# The statuses the home block can show, in the order it shows them.
HOME_STATES = ("in_progress", "signed", "refused", "cancelled", "expired", "error")
# How many of the latest requests the block lists.
HOME_LATEST_LIMIT = 8

EVIDENCE_STATES = ("signed", "refused", "cancelled", "expired")
#: ir.attachment description of the files this module keeps append-only
EVIDENCE_MARK = "o2s_esign:evidence"
ATTESTATION_MARK = "o2s_esign:attestation"
#: the client's "folder" for saved evidence files (a proper name of the product, not translated)
PARTNER_FOLDER = "O2S – Signature électronique"


class O2sEsignRequest(models.Model):
    _name = "o2s.esign.request"
    _description = "Signature request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    def _creation_message(self):
        return self.env._("Signature request created")

    def _message_compute_author(self, author_id=None, email_from=None, raise_on_email=True):
        """A signer's action on the signing page (their status in the chatter, "All signers
        have signed"...) is credited to the signer, not to the portal's public user: the
        portal controller names the signer's contact in the context. Honoured only for a
        contact who signs this request, so the key names no one else."""
        partner_id = self.env.context.get("o2s_esign_author_partner_id")
        if author_id is None and not email_from and partner_id and len(self) == 1 \
                and partner_id in self.sudo().signer_ids.partner_id.ids:
            author_id = partner_id
        return super()._message_compute_author(author_id=author_id, email_from=email_from,
                                               raise_on_email=raise_on_email)

    # ------------------------------------------------------------------ fields
    name = fields.Char(string="Subject", required=True, tracking=True)
    reference = fields.Char(readonly=True, copy=False, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, tracking=True,
        check_company=True, help="The contact the request was sent from.")
    user_id = fields.Many2one(
        "res.users", string="Advisor", required=True, index=True, tracking=True,
        default=lambda self: self.env.user, check_company=True,
        domain="[('share', '=', False)]")
    shared_user_ids = fields.Many2many(
        "res.users", "o2s_esign_request_shared_user_rel", "request_id", "user_id",
        string="Shared with", tracking=True,
        domain=lambda self: [("share", "=", False),
                             ("groups_id", "in", self.env.ref("o2s_esign.group_esign_user").ids)],
        help="Other advisors who may follow and act on this request as its advisor does. Only "
             "the advisor or an E-signature administrator changes this list; every change is "
             "logged in the audit trail.")
    company_id = fields.Many2one(
        "res.company", required=True, index=True,
        default=lambda self: self.env.company)
    document_ids = fields.One2many("o2s.esign.document", "request_id", string="Documents")
    signer_ids = fields.One2many("o2s.esign.signer", "request_id", string="Signers")
    event_ids = fields.One2many("o2s.esign.event", "request_id", string="Audit trail")
    state = fields.Selection(
        REQUEST_STATES,
        string="Status", required=True, default="draft", readonly=True, copy=False,
        index=True, tracking=True)
    signing_order = fields.Selection(
        [("parallel", "All at once"), ("sequential", "One after the other")],
        string="Signing order", required=True, default="parallel")
    message = fields.Text(string="Message to the signers")
    date_sent = fields.Datetime(string="Sent on", readonly=True, copy=False)
    sent_uid = fields.Many2one(
        "res.users", string="Sent by", readonly=True, copy=False, ondelete="set null",
        help="Who sent the request (the user of its \"sent\" event; the consumption reports "
             "read it here instead of in the audit trail).")
    date_deadline = fields.Date(
        string="Expires on", copy=False, tracking=True,
        default=lambda self: self._default_date_deadline(),
        help="After this day, the signing links stop working and the request expires.")
    date_done = fields.Datetime(string="Completed on", readonly=True, copy=False)
    origin_model = fields.Char(string="Origin model", index=True, copy=False)
    origin_id = fields.Many2oneReference(
        string="Origin record", model_field="origin_model", index=True, copy=False)
    error_message = fields.Text(string="Error", readonly=True, copy=False)
    error_transient = fields.Boolean(
        string="Passing error", readonly=True, copy=False,
        help="The error came from a service that was down (mail, SMS, timestamp authority): "
             "the request is retried automatically.")
    cancel_reason = fields.Text(string="Cancellation reason", readonly=True, copy=False)
    pades_level = fields.Selection(
        PADES_LEVELS, string="Signature level", readonly=True, copy=False,
        help="The PAdES level requested when the request was sent.")
    event_head = fields.Char(string="Audit trail head", readonly=True, copy=False,
                             help="Hash of the last event of the audit trail.")
    signer_count = fields.Integer(compute="_compute_signer_stats", string="Signers count")
    signed_count = fields.Integer(compute="_compute_signer_stats", string="Signatures")
    document_count = fields.Integer(compute="_compute_document_count", string="Documents count")
    origin_display = fields.Char(compute="_compute_origin_display", string="Origin")
    document_type_ids = fields.Many2many(
        "o2s.esign.document.type", "o2s_esign_request_document_type_rel", "request_id",
        "document_type_id", string="Document types", compute="_compute_document_type_ids",
        store=True, help="The types of the request's documents (to filter and group requests).")
    # Reminders, automatic retries and the mail report
    reminder_first_days = fields.Integer(
        string="First reminder after (days)", compute="_compute_reminder_settings", store=True,
        readonly=False, precompute=True, tracking=True,
        help="Days between the invitation and the first automatic reminder.")
    reminder_interval_days = fields.Integer(
        string="Then remind every (days)", compute="_compute_reminder_settings", store=True,
        readonly=False, precompute=True, tracking=True)
    reminder_max = fields.Integer(
        string="Maximum number of reminders", compute="_compute_reminder_settings", store=True,
        readonly=False, precompute=True, tracking=True,
        help="0: no automatic reminder for this request.")
    retry_count = fields.Integer(
        string="Automatic retries", readonly=True, copy=False, default=0,
        help="Automatic retries since the last manual retry or the last mail that went out.")
    next_retry_date = fields.Datetime(
        string="Next automatic retry", readonly=True, copy=False, index="btree_not_null")
    expiry_blocked_until = fields.Datetime(readonly=True, copy=False)
    mail_log_ids = fields.One2many("o2s.esign.mail.log", "request_id", string="Mails")
    mail_log_count = fields.Integer(compute="_compute_mail_log_count", string="Mails count")
    # Mail placeholders (see REQUEST_MAIL_EXPRESSIONS), in the language of the rendering.
    esign_mail_link = fields.Char(string="Link to the request (mails)", compute="_compute_esign_mail_link")
    esign_mail_open_button = fields.Html(string="Open button (mails)", compute="_compute_esign_mail_link",
                                         sanitize=False)
    esign_mail_documents = fields.Char(string="Documents (mails)", compute="_compute_esign_mail_texts")
    esign_mail_deadline = fields.Char(string="Expiry day (mails)", compute="_compute_esign_mail_texts")
    esign_mail_signatures = fields.Char(string="Signatures (mails)", compute="_compute_esign_mail_texts",
                                        help="e.g. “1 of 2”")
    esign_mail_refusal_sentence = fields.Char(string="Refusal (mails)", compute="_compute_esign_mail_texts")
    esign_mail_locked_signers = fields.Char(
        string="Locked signers (mails)", compute="_compute_esign_mail_locked_signers",
        help="The signers locked after too many wrong codes, e.g. “Jeanne Martin”.")
    # Completion: the evidence file
    evidence_attachment_id = fields.Many2one(
        "ir.attachment", string="Evidence file", readonly=True, copy=False, ondelete="restrict",
        help="The latest evidence ZIP built for this request (earlier ones are kept).")
    evidence_sha256 = fields.Char(string="Evidence SHA-256", readonly=True, copy=False)
    evidence_date = fields.Datetime(string="Evidence built on", readonly=True, copy=False)
    pades_level_achieved = fields.Selection(
        PADES_LEVELS, string="Level achieved", compute="_compute_pades_level_achieved",
        help="The lowest level reached by the request's documents.")
    evidence_available = fields.Boolean(compute="_compute_evidence_available")
    esign_server_clock_only = fields.Boolean(
        string="Server clock only", compute="_compute_esign_server_clock_only",
        help="The signatures carry (or will carry) the server's clock only, not a trusted time: "
             "no timestamp authority, or the PAdES B-B level.")
    date_personal_data_purged = fields.Datetime(
        string="Personal data purged on", readonly=True, copy=False,
        help="The retention period of the company was over: the identity-document scans and the "
             "signers' personal data were purged. The evidence file and the hashes stay.")
    may_change_access = fields.Boolean(
        string="May change who has the request", compute="_compute_may_change_access",
        help="The current user may change the advisor and whom the request is shared with.")
    in_person_signer_id = fields.Many2one(
        "o2s.esign.signer", string="To sign in person now", compute="_compute_in_person_signer_id",
        help="The first signer in person who may sign now: “Sign in person” opens their page here.")
    esign_contact_role = fields.Char(
        string="Role", compute="_compute_esign_contact_role",
        help="In the E-signature tracking of a contact: how that contact takes part in the "
             "request (client, signer, representative).")

    _sql_constraints = [
        ("reference_company_uniq", "unique(reference, company_id)",
         "A request reference must be unique per company."),
    ]

    sealing_pending = fields.Boolean(
        string="Being sealed", readonly=True, copy=False, index=True,
        help="Every signer has signed: the company seal, the evidence file and the "
             "confirmation mails follow in the background, within seconds.")

    # ---------------------------------------------------------------- defaults
    @api.model
    def _default_date_deadline(self):
        days = self.env.company.esign_validity_days or 30
        return fields.Date.context_today(self) + timedelta(days=days)

    # ---------------------------------------------------------------- computes
    @api.depends("signer_ids.state")
    def _compute_signer_stats(self):
        for request in self:
            required = request.signer_ids
            request.signer_count = len(required)
            request.signed_count = len(required.filtered(lambda s: s.state == "signed"))

    @api.depends("document_ids")
    def _compute_document_count(self):
        for request in self:
            request.document_count = len(request.document_ids)

    @api.depends("user_id")
    @api.depends_context("uid")
    def _compute_may_change_access(self):
        manager = self.env.user.has_group("o2s_esign.group_esign_manager")
        for request in self:
            request.may_change_access = manager or request.user_id == self.env.user

    @api.depends("origin_model", "origin_id")
    def _compute_origin_display(self):
        for request in self:
            label = False
            if request.origin_model and request.origin_id and request.origin_model in self.env:
                record = self.env[request.origin_model].browse(request.origin_id).exists()
                if record:
                    try:
                        label = record.display_name
                    except AccessError:
                        label = _("%(model)s #%(id)s", model=request.origin_model, id=request.origin_id)
            request.origin_display = label

    @api.depends("document_ids.document_type_id")
    def _compute_document_type_ids(self):
        for request in self:
            request.document_type_ids = request.document_ids.document_type_id

    @api.depends("company_id")
    def _compute_reminder_settings(self):
        for request in self:
            company = request.company_id or self.env.company
            request.reminder_first_days = company.esign_reminder_first_days
            request.reminder_interval_days = company.esign_reminder_interval_days
            request.reminder_max = company.esign_reminder_max

    def _compute_mail_log_count(self):
        counts = dict(self.env["o2s.esign.mail.log"]._read_group(
            [("request_id", "in", self.ids)], ["request_id"], ["__count"]))
        for request in self:
            request.mail_log_count = counts.get(request, 0)

    @api.depends_context("lang")
    def _compute_esign_mail_link(self):
        for request in self:
            link = request.id and "%s/mail/view?model=%s&res_id=%s" % (request.get_base_url(), self._name, request.id)
            request.esign_mail_link = link or False
            request.esign_mail_open_button = mail_button(link, self.env._("Open the request")) if link else False

    @api.depends_context("lang")
    @api.depends("document_ids.name", "date_deadline", "signer_ids.state", "signer_ids.refusal_reason",
                 "user_id.lang")
    def _compute_esign_mail_texts(self):
        for request in self:
            refused = request.signer_ids.filtered(lambda s: s.state == "refused")[:1]
            request.esign_mail_documents = ", ".join(request.document_ids.mapped("name"))
            request.esign_mail_deadline = request.date_deadline and format_date(
                self.env, request.date_deadline, lang_code=request.user_id.lang or self.env.lang,
                date_format="long")
            request.esign_mail_signatures = self.env._(
                "%(signed)s of %(total)s", signed=request.signed_count, total=request.signer_count)
            if not refused:
                request.esign_mail_refusal_sentence = False
            elif refused.refusal_reason:
                request.esign_mail_refusal_sentence = self.env._(
                    "%(name)s refused to sign. Reason: %(reason)s", name=refused.name, reason=refused.refusal_reason)
            else:
                request.esign_mail_refusal_sentence = self.env._("%(name)s refused to sign.", name=refused.name)

    @api.depends("company_id", "state", "pades_level", "pades_level_achieved")
    def _compute_esign_server_clock_only(self):
        for request in self:
            if request.pades_level_achieved:
                request.esign_server_clock_only = request.pades_level_achieved == "b_b"
            elif request.state in ("draft", "in_progress", "error"):
                request.esign_server_clock_only = request.company_id._esign_server_clock_only() \
                    or request.pades_level == "b_b"
            else:
                request.esign_server_clock_only = False

    @api.depends("signer_ids.otp_locked_date")
    def _compute_esign_mail_locked_signers(self):
        for request in self:
            request.esign_mail_locked_signers = ", ".join(
                request.signer_ids.filtered("otp_locked_date").mapped("name")) or False

    @api.depends("document_ids.pades_level_achieved")
    def _compute_pades_level_achieved(self):
        for request in self:
            request.pades_level_achieved = evidence_bundle.lowest_level(
                request.document_ids.mapped("pades_level_achieved")) or False

    @api.depends("state")
    def _compute_evidence_available(self):
        for request in self:
            request.evidence_available = request.state in EVIDENCE_STATES

    @api.depends("state", "signer_ids.state", "signer_ids.presence", "signer_ids.sequence",
                 "signer_ids.sign_pending")
    def _compute_in_person_signer_id(self):
        for request in self:
            signers = request.signer_ids.filtered(
                lambda s: s.presence == "in_person" and s.state == "pending" and not s.sign_pending)
            request.in_person_signer_id = signers.sorted("sequence")[:1] \
                if request.state in OPEN_STATES else False

    @api.depends("partner_id", "signer_ids.partner_id", "signer_ids.role",
                 "signer_ids.represented_partner_id")
    @api.depends_context("o2s_esign_contact_ids")
    def _compute_esign_contact_role(self):
        """The roles of the contacts of the context key ``o2s_esign_contact_ids`` (the tracking
        of those contacts) in each request, e.g. “Client, Signer”."""
        contact_ids = self.env.context.get("o2s_esign_contact_ids") or []
        contacts = self.env["res.partner"].browse(
            [cid for cid in contact_ids if isinstance(cid, int)])
        for request in self:
            roles = []
            for contact in contacts:
                for role in request._esign_roles_of(contact):
                    roles.append(_("%(contact)s: %(role)s", contact=contact.display_name, role=role)
                                 if len(contacts) > 1 else role)
            request.esign_contact_role = ", ".join(roles) or False

    # ------------------------------------------------------------- constraints
    @api.constrains("user_id", "partner_id")
    def _check_advisor(self):
        """The advisor of a request signs its mails (their address, their own SMTP server when
        they set one): an E-signature user may only name themselves or the client's
        salesperson; administrators may name any advisor. Naming the salesperson gives them
        the request: access follows the request's advisor, never the contact's salesperson
        (who may change later). Only the current advisor or an administrator changes it
        (``_check_may_change_access``)."""
        for request in self:
            self._check_advisor_choice(request.user_id, request.partner_id)

    @api.model
    def _check_advisor_choice(self, advisor, partner):
        """Raise if the current user may not name ``advisor`` for a request of ``partner``
        (see ``_check_advisor``; also called before creating, so that the reason is given
        rather than the access error of a request one could then not read)."""
        if self.env.su or self.env.user.has_group("o2s_esign.group_esign_manager"):
            return
        if advisor not in self.env.user | partner.user_id:
            raise ValidationError(_(
                "You can only send a signature request as yourself or as the client's "
                "advisor (%(advisor)s), not as %(user)s. An E-signature administrator can "
                "choose another advisor.",
                advisor=partner.user_id.name or _("none"), user=advisor.name))

    @api.constrains("shared_user_ids")
    def _check_shared_users(self):
        group = self.env.ref("o2s_esign.group_esign_user")
        for request in self:
            outsiders = request.shared_user_ids.filtered(
                lambda user: user.share or group not in user.groups_id)
            if outsiders:
                raise ValidationError(_(
                    "A signature request can only be shared with users who have the "
                    "“E-signature access” right, not with %(users)s.",
                    users=", ".join(outsiders.mapped("name"))))

    @api.constrains("reminder_first_days", "reminder_interval_days", "reminder_max")
    def _check_reminder_settings(self):
        for request in self:
            if request.reminder_max < 0 or request.reminder_max > 50:
                raise ValidationError(_("The number of reminders must be between 0 and 50."))
            if request.reminder_max and (request.reminder_first_days < 1 or request.reminder_interval_days < 1):
                raise ValidationError(_("Reminders are at least one day apart."))

    # -------------------------------------------------------------------- CRUD
    def init(self):
        res = super().init()
        # The expiry cron looks for open requests past their deadline.
        create_index(self.env.cr, "o2s_esign_request_open_deadline_idx", self._table,
                     ["date_deadline"], where="state IN ('in_progress', 'error')")
        # The retention cron looks for closed requests whose personal data is still there.
        create_index(self.env.cr, "o2s_esign_request_retention_idx", self._table, ["date_done"],
                     where="date_personal_data_purged IS NULL AND state IN "
                           "('signed', 'refused', 'cancelled', 'expired')")
        return res

    @api.model
    def _check_origin(self, model, record_id):
        """The record that asks for the signature must exist and be one the caller may
        change: its ``_esign_on_request_state`` runs when the request ends (as the module), so
        naming another's record would act on it."""
        if is_internal_write() or not model:
            return
        if model not in self.env:
            raise ValidationError(_("Unknown origin model: %(model)s", model=model))
        if not record_id:
            return
        try:
            record = self.env[model].browse(int(record_id)).exists()
        except (TypeError, ValueError):
            record = None
        if not record:
            raise ValidationError(_("The record asking for the signature (%(model)s #%(id)s) "
                                    "does not exist.", model=model, id=record_id))
        record.check_access("write")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_storable_text(vals)
            self._check_protected_fields(vals, create=True)
            self._check_origin(vals.get("origin_model"), vals.get("origin_id"))
            if vals.get("user_id") and vals.get("partner_id"):
                self._check_advisor_choice(self.env["res.users"].browse(vals["user_id"]),
                                           self.env["res.partner"].browse(vals["partner_id"]))
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            vals["reference"] = self.env["ir.sequence"].with_company(company).next_by_code(
                "o2s.esign.request") or _("New")
        requests = super().create(vals_list)
        return requests

    def write(self, vals):
        self._check_storable_text(vals)
        self._check_protected_fields(vals)
        if "origin_model" in vals or "origin_id" in vals:
            for request in self:
                request._check_origin(vals.get("origin_model", request.origin_model),
                                      vals.get("origin_id", request.origin_id))
        if not is_internal_write():
            frozen = FROZEN_AFTER_SEND.intersection(vals)
            if frozen and self.filtered(lambda r: r.state != "draft"):
                raise UserError(_(
                    "A signature request cannot be changed once sent (%(fields)s). Cancel it and "
                    "send a new one.", fields=", ".join(sorted(frozen))))
            if "date_deadline" in vals and self.filtered(lambda r: r.state in FINAL_STATES):
                raise UserError(_("The expiry date of a completed request cannot be changed."))
            if "date_deadline" in vals and not vals["date_deadline"] and \
                    self.filtered(lambda r: r.state in OPEN_STATES):
                raise UserError(_("A sent request keeps an expiry date: choose a later one "
                                  "to give the signers more time."))
        access_before = None
        if ACCESS_FIELDS.intersection(vals):
            self._check_may_change_access()
            access_before = {request.id: (request.user_id, request.shared_user_ids) for request in self}
        res = super().write(vals)
        if access_before is not None:
            self._log_access_changes(access_before)
        if "date_deadline" in vals and not is_internal_write():
            for request in self.filtered(lambda r: r.state in OPEN_STATES):
                request._log_event("deadline_changed", payload={
                    "date_deadline": fields.Date.to_string(request.date_deadline),
                    **request._actor_payload()})
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if self.filtered(lambda r: r.state != "draft"):
            raise UserError(_(
                "A signature request that was sent is kept for its evidence and cannot be "
                "deleted. Cancel it instead."))

    def _check_protected_fields(self, vals, create=False):
        """The one guard of the fields only the module's own code writes (the automation's, the
        evidence's, then the status and dates), for ``create`` and ``write`` alike."""
        if is_internal_write():
            return
        if REQUEST_AUTOMATION_FIELDS.intersection(vals):
            raise UserError(_("The automatic retries of a request are managed by the signature process."))
        if REQUEST_SIGNING_FIELDS.intersection(vals):
            raise UserError(_("The evidence file of a request is built by the signature process."))
        if create:
            illegal = INTERNAL_FIELDS.intersection(vals) - {"state", "reference"}
            if vals.get("state", "draft") != "draft":
                raise UserError(_("A signature request is always created as a draft, then sent."))
            if illegal:
                raise UserError(_("These fields are set by the signature process: %(fields)s",
                                  fields=", ".join(sorted(illegal))))
            return
        internal = INTERNAL_FIELDS.intersection(vals)
        if internal:
            raise UserError(_(
                "The status and the dates of a signature request follow its signature "
                "process and cannot be edited (%(fields)s).", fields=", ".join(sorted(internal))))

    @api.model
    def _check_storable_text(self, vals):
        if has_nul(vals, ("name", "message")):
            raise UserError(_("The subject or the message contains characters that cannot be used."))

    # ----------------------------------------------------------------- actions
    def action_send(self):
        """Check everything, freeze the documents (hashes first), then invite the signers.

        Raises one UserError listing every problem; nothing is sent when one is found."""
        self.check_access("write")
        self._check_transition("in_progress")
        problems = []
        for request in self:
            problems += request._get_send_problems()
        if problems:
            self._raise_send_problems(problems)
        for request in self:
            request._do_send()
        return True

    def action_cancel(self, reason=None):
        """Cancel open requests (signers are told); ``reason`` is optional free text."""
        if has_control_chars(reason):
            raise UserError(_("The cancellation reason contains characters that cannot be used."))
        self.check_access("write")
        reason = (reason or "").strip() or False
        if reason and len(reason) > 2000:
            raise UserError(_("The cancellation reason is too long (2,000 characters at most)."))
        for request in self:
            if request.state not in OPEN_STATES:
                request._check_transition("cancelled")
            if request.sealing_pending:
                raise UserError(_("Every signer of %(name)s has signed: it is being sealed and "
                                  "can no longer be cancelled.", name=request.display_name))
            request._set_state(
                "cancelled", cancel_reason=reason, date_done=fields.Datetime.now(),
                event_payload=dict(self._actor_payload(), reason=reason or None))
            request._log_event("cancelled", payload=dict(self._actor_payload(), reason=reason or None))
            # the signers who were invited (a waiting one never heard of the request)
            request.signer_ids.filtered(lambda s: s.state == "pending")._notify_cancel()
            body = Markup("<p>%s</p>") % _("Signature request cancelled.")
            if reason:
                body += Markup("<p>%s</p>") % _("Reason: %(reason)s", reason=reason)
            request.message_post(body=body, subtype_xmlid="mail.mt_note")
        return True

    def action_open_cancel_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel the signature request"),
            "res_model": "o2s.esign.request.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_request_ids": self.ids},
        }

    def action_remind(self):
        """Send a reminder now to every signer who may sign and has not."""
        self.check_access("write")
        recent = fields.Datetime.now() - MANUAL_REMINDER_GAP
        for request in self:
            if request.state != "in_progress":
                raise UserError(_("Only a request in progress can be reminded."))
            signers = request.signer_ids.filtered(lambda s: s.state == "pending")._esign_remote()
            if any(s.last_reminder_date and s.last_reminder_date > recent for s in signers):
                raise UserError(_("A reminder was sent less than a minute ago: the signers "
                                  "already have it."))
            signers._send_reminder(manual=True)
        return True

    def action_esign_sign_in_person(self):
        """“Sign in person”: open the signing page of the first signer in person who may sign
        now, on the advisor's screen (see o2s.esign.signer.action_esign_open_in_person)."""
        self.ensure_one()
        self.check_access("write")
        signer = self.in_person_signer_id
        if not signer:
            raise UserError(_("No signer of this request is to sign in person now."))
        return signer.action_esign_open_in_person()

    def action_retry(self):
        """Retry what failed (mail, SMS, timestamp, seal) for requests in error. A manual retry
        starts the automatic retries afresh."""
        self.check_access("write")
        for request in self:
            if request.state != "error":
                raise UserError(_("Only a request in error can be retried."))
            request._retry()
        with internal_write():
            self.write({"retry_count": 0})
        return True

    def _check_may_change_access(self):
        """Who has a request (its advisor and whom it is shared with) is changed by its
        advisor or an E-signature administrator only: whoever it is shared with, or a new
        salesperson of the client, cannot take it over or share it further."""
        if self.env.su or self.env.user.has_group("o2s_esign.group_esign_manager"):
            return
        for request in self:
            if request.user_id != self.env.user:
                raise AccessError(_(
                    "Only the advisor of the signature request %(ref)s (%(advisor)s) or an "
                    "E-signature administrator can change its advisor or whom it is shared with.",
                    ref=request.reference or request.name, advisor=request.user_id.name))

    def _log_access_changes(self, before):
        """Log a change of advisor or of the users a request is shared with as events of its
        audit trail. ``before``: ``{request id: (advisor, shared users)}`` before the write.
        A draft has no trail yet (its events would also keep it from being deleted): the
        ``created`` event of the sending names its advisor and whom it is shared with, and the
        chatter tracks the changes before."""
        def summary(users):
            return [{"id": user.id, "name": user.name} for user in users.sorted("id")]

        for request in self.filtered(lambda r: r.state != "draft"):
            old_advisor, old_shared = before[request.id]
            if request.user_id != old_advisor:
                request._log_event("advisor_changed", payload=dict(
                    self._actor_payload(),
                    old_advisor=summary(old_advisor)[0] if old_advisor else None,
                    new_advisor=summary(request.user_id)[0] if request.user_id else None))
            if request.shared_user_ids != old_shared:
                request._log_event("sharing_changed", payload=dict(
                    self._actor_payload(),
                    added=summary(request.shared_user_ids - old_shared),
                    removed=summary(old_shared - request.shared_user_ids),
                    shared_with=summary(request.shared_user_ids)))

    def action_verify_event_chain(self):
        self.ensure_one()
        result = self.verify_event_chain()[self.id]
        if result["ok"]:
            message = _("The audit trail is intact: %(count)s events, chain head %(head)s.",
                        count=result["count"], head=result["head"])
            kind = "success"
        else:
            message = _("The audit trail is broken at event #%(seq)s (%(reason)s).",
                        seq=result["first_broken"], reason=result["reason"])
            kind = "danger"
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": not result["ok"]},
        }

    def action_view_documents(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Documents"),
            "res_model": "o2s.esign.document",
            "view_mode": "list,form",
            "domain": [("request_id", "=", self.id)],
        }

    def action_open_origin(self):
        self.ensure_one()
        if not (self.origin_model and self.origin_id):
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.origin_model,
            "res_id": self.origin_id,
            "view_mode": "form",
        }

    def action_view_mail_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_mail_log_action")
        action["domain"] = [("request_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_download_evidence(self):
        """Download the evidence ZIP (built now for refused, cancelled and expired requests
        that have none yet). The download itself, by the route this returns, is logged in the
        audit trail (see ir_attachment.py), as any other download of the file."""
        self.ensure_one()
        self.check_access("read")
        self._esign_ensure_evidence()
        return {
            "type": "ir.actions.act_url",
            "url": "/esign/evidence/%d/download" % self.id,
            "target": "download",
        }

    def action_save_evidence_to_partner(self):
        """Save the evidence ZIP to the client contact's documents, in the folder
        "O2S – Signature électronique".

        Odoo 18 Community has no Documents app: the folder is the attachment's description
        and the prefix of its name, so the file shows in the contact's attachments (chatter),
        and searching or grouping the contact's attachments by description gives the folder.
        Saving the same evidence twice keeps one copy."""
        self.ensure_one()
        self.check_access("read")
        self.partner_id.check_access("read")
        evidence = self._esign_ensure_evidence()
        attachment, created = self._esign_attach_to_partner_sudo(evidence)
        if created:
            self._log_event("evidence_saved", payload=dict(
                self._actor_payload(), sha256=self.evidence_sha256,
                attachment_id=attachment.id, partner_id=self.partner_id.id))
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {
                "type": "success", "sticky": False,
                "message": _("The evidence file is saved in the documents of %(partner)s "
                             "(folder “%(folder)s”).", partner=self.partner_id.display_name,
                             folder=PARTNER_FOLDER),
            },
        }

    @api.model
    def action_esign_home_open(self, state=None):
        """The list behind one count of the home block (``state``), or behind all of them."""
        settings = self.env.user._esign_home_settings()
        if state:
            if state not in HOME_STATES:
                raise UserError(_("Unknown signature request status: %(state)s", state=state))
            states = [state]
        else:
            states = settings["states"] or list(HOME_STATES)
        days = settings["signed_days"]
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_request_action")
        action["domain"] = self._esign_home_domain(states, days)
        action["context"] = {"create": False}
        labels = dict(self._fields["state"]._description_selection(self.env))
        if state == "signed" and days:
            action["name"] = _("Signed in the last %(days)s days", days=days)
        elif state:
            action["name"] = _("My requests: %(status)s", status=labels[state])
        else:
            action["name"] = _("My signature requests")
        return action

    # ------------------------------------------------------------ integration
    @api.model
    def create_and_send(self, values):
        """Create a signature request and send it, in one call (for other modules and RPC).

        ``values``: a dict with
          - ``partner_id`` (int, required): the client contact;
          - ``name`` (str): the subject (default: the documents' names);
          - ``documents``: a list of dicts, each with either ``attachment_id`` (an
            ir.attachment the caller can read) or ``name`` + ``datas`` (base64: a PDF, an
            image or an Office document, made into the PDF signed; see lib/convert.py), an
            optional ``document_type_id``, and optional ``fields``: where the signers sign and
            fill, a list of ``{signer, type, page, x, y, width, height}`` (``signer``: 1 for
            the first signer in signing order; ``type``: signature, initials, date, text or
            checkbox; ``page`` from 1; PDF points from the page's bottom-left corner;
            optional ``required`` and ``label``), or ``anchors`` (true: the document's tags
            such as ``{{signature:1}}`` place the fields, and a document without any is
            refused; false: no tag used). Without either, the document's tags are used when
            it has some, else the fields saved for its type, else every signer signs on a
            signature page added to the document;
          - ``signers`` (optional): a list of dicts with ``partner_id`` and optional ``role``,
            ``represented_partner_id``, ``presence``, ``sequence``; default: the client's
            signers (``res.partner._esign_default_signers``);
          - ``signing_order`` (optional): ``"parallel"`` (default: everyone is invited at
            once) or ``"sequential"`` (one after the other). In a sequential request, signers
            without ``sequence`` sign in the order of the list (numbered 10, 20, ...); with
            ``sequence`` on every signer, in increasing sequence; a sequence on some signers
            only, or two signers with the same sequence, is refused (an ambiguous order);
          - optional ``anchors``: the default of every document's ``anchors``;
          - optional ``date_deadline``, ``message``, ``user_id``,
            ``origin_model`` and ``origin_id`` (the business record asking for the signature).
        Returns the new request's id. Raises UserError listing every problem, in which case
        nothing is created.
        """
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to send documents for signature."))
        # All or nothing, even for a caller that catches the error and goes on: what was
        # created (attachments, request, events) before a failure is rolled back.
        with self.env.cr.savepoint():
            values = dict(values or {})
            partner = self.env["res.partner"].browse(int(values.get("partner_id") or 0)).exists()
            if not partner:
                raise UserError(_("The request needs an existing client contact (partner_id)."))
            partner.check_access("read")
            documents = values.get("documents") or []
            doc_commands = []
            for document in documents:
                doc_commands.append(fields.Command.create(
                    self.env["o2s.esign.document"]._values_from_input(document)))
            if values.get("signers"):
                signer_vals = [
                    {k: v for k, v in signer.items()
                     if k in ("partner_id", "role", "represented_partner_id", "presence", "sequence")}
                    for signer in values["signers"]]
            else:
                signer_vals = partner._esign_default_signers()
            signing_order = values.get("signing_order") or "parallel"
            # The caller's signers (the default ones come numbered by the contact's rules).
            problems = self._esign_api_signing_order_problems(
                signer_vals if values.get("signers") else [], signing_order)
            if signing_order not in ("parallel", "sequential"):
                signing_order = "parallel"  # refused above; a valid value for the checks below
            name = values.get("name") or self.env["o2s.esign.document"]._default_subject(
                [cmd[2].get("name") for cmd in doc_commands]) or _("Documents to sign")
            vals = {
                "name": name,
                "partner_id": partner.id,
                "document_ids": doc_commands,
                "signer_ids": [fields.Command.create(v) for v in signer_vals],
                "signing_order": signing_order,
                "message": values.get("message") or False,
                "origin_model": values.get("origin_model") or False,
                "origin_id": values.get("origin_id") or False,
            }
            if values.get("date_deadline"):
                vals["date_deadline"] = values["date_deadline"]
            if values.get("user_id"):
                vals["user_id"] = values["user_id"]
            placements = [self._esign_api_placements(document, values.get("anchors"))
                          for document in documents]
            return self._create_and_send(vals, problems=problems, placements=placements).id

    @api.model
    def _esign_api_placements(self, document, anchors=None):
        """What ``create_and_send`` places on one of its ``documents``: its ``fields`` (a list
        of ``{signer, type, page, x, y, width, height}``, optional ``required`` and ``label``),
        or its tags when ``anchors`` (the document's own, else the call's) is true, or nothing
        when it is false; by default, its tags when it has some."""
        document = document if isinstance(document, dict) else {}
        if document.get("fields") is not None:
            if not isinstance(document["fields"], list):
                raise UserError(_("The fields of a document are a list."))
            return document["fields"]
        anchors = document.get("anchors", anchors)
        if anchors is None:
            return None
        return "anchors" if anchors else []

    @api.model
    def _esign_api_signing_order_problems(self, signer_vals, signing_order):
        """The signing order of ``create_and_send``: in a sequential request, number the signers
        given without ``sequence`` in the order of the list (10, 20, ..., as the send wizard
        does; ``signer_vals`` is changed in place). Returns the problems, as translated
        sentences: a sequence that is not a whole number, an unknown order, or an ambiguous
        one (a sequence on some signers only, or two signers with the same sequence)."""
        problems = []
        if any(vals.get("sequence") not in (None, False) and (
                not isinstance(vals["sequence"], int) or isinstance(vals["sequence"], bool))
               for vals in signer_vals):
            problems.append(_("A signer's sequence must be a whole number."))
            for vals in signer_vals:  # left out, for the checks that follow
                vals.pop("sequence", None)
        if signing_order not in ("parallel", "sequential"):
            return problems + [_("The signing order must be “parallel” or “sequential” (not "
                                 "“%(order)s”).", order=signing_order)]
        if signing_order != "sequential" or problems:
            return problems
        given = [vals.get("sequence") for vals in signer_vals]
        missing = [sequence is None or sequence is False for sequence in given]  # 0 is one
        if all(missing):
            for index, vals in enumerate(signer_vals):
                vals["sequence"] = 10 * (index + 1)
            return []
        if any(missing):
            return [_("The signing order is ambiguous: give every signer a sequence, or none "
                      "(they then sign in the order of the list).")]
        by_sequence = {}
        for vals in signer_vals:
            by_sequence.setdefault(vals["sequence"], []).append(vals.get("partner_id"))
        for sequence, partner_ids in by_sequence.items():
            if len(partner_ids) > 1:
                names = self.env["res.partner"].browse(
                    [pid for pid in partner_ids if isinstance(pid, int)]).exists().mapped("display_name")
                problems.append(_(
                    "The signing order is ambiguous: %(names)s have the same sequence "
                    "(%(sequence)s); in a sequential request each signer needs a sequence of "
                    "their own.", names=", ".join(names), sequence=sequence))
        return problems

    @api.model
    def _create_and_send(self, vals, problems=(), placements=None, source="api"):
        """Create the request of ``vals`` (the values of ``create``, documents pointing to
        attachments of their own) and send it: the one way ``create_and_send`` and the send
        wizard both take. Every problem (``problems``, the caller's own, then every reason the
        request could not be sent) is raised in one UserError before anything is created.
        Callers run it in a savepoint with what they created for it (all or nothing).

        ``placements``: per document of ``vals`` (in their order), where its signers sign and
        fill (see :meth:`_esign_place_fields`)."""
        self._check_before_create(vals, problems=problems)
        request = self.create(vals)
        request._esign_place_fields(placements or [], source=source)
        request.action_send()
        return request

    def _esign_place_fields(self, placements, source="api"):
        """The fields of a new request's documents, before it is sent. ``placements`` has one
        item per document in their order: a list of placements (the editor's or the API's
        ``fields``: signer numbered from 1 in signing order, page from 1, PDF points from the
        page's bottom-left corner), ``"anchors"`` (the document's tags, required), or None /
        missing (its tags when it has some, else the fields saved for its type, else none:
        the signature page)."""
        self.ensure_one()
        signers = self.signer_ids.sorted(lambda signer: (signer.sequence, signer.id))
        documents = self.document_ids.sorted(lambda doc: (doc.sequence, doc.id))
        placements = list(placements) + [None] * (len(documents) - len(placements))
        for document, item in zip(documents, placements, strict=False):
            if isinstance(item, list) and item:
                document._esign_place(item, signers, source)
            elif item != []:  # an empty list: no field at all on this document
                document._esign_place_default(signers, require_anchors=item == "anchors")

    @api.model
    def _check_before_create(self, vals, problems=()):
        """Raise one UserError listing ``problems`` and every reason why a request made of
        ``vals`` (the values of ``create``, documents pointing to existing attachments) could
        not be sent. Nothing is created: the check runs on a new record in memory (with the
        defaults ``create`` would apply, which ``new`` does not)."""
        values = dict(self.default_get(list(self._fields)), **vals)
        for field_name in ("document_ids", "signer_ids"):
            comodel = self.env[self._fields[field_name].comodel_name]
            commands = []
            for command in values.get(field_name) or []:
                if isinstance(command, (list, tuple)) and command[0] == Command.CREATE:
                    line = dict(comodel.default_get(list(comodel._fields)), **command[2])
                    command = Command.create(line)
                commands.append(command)
            values[field_name] = commands
        request = self.new(values)
        problems = list(problems) + request._get_send_problems()
        if problems:
            self._raise_send_problems(problems)

    @api.model
    def _raise_send_problems(self, problems):
        """Raise the UserError that lists ``problems`` (translated sentences), one per line."""
        raise UserError(_("The request cannot be sent:") + "\n" + "\n".join(
            "• %s" % problem for problem in problems))

    @api.model
    def _get_origin_requests(self, record):
        """The signature requests asked by ``record`` (any model)."""
        return self.search([("origin_model", "=", record._name), ("origin_id", "in", record.ids)])

    def _get_origin_record(self):
        """The record that asked for this request, when its model uses the origin mixin."""
        self.ensure_one()
        if not (self.origin_model and self.origin_id) or self.origin_model not in self.env:
            return None
        Origin = self.env[self.origin_model]
        if not isinstance(Origin, self.env.registry["o2s.esign.origin.mixin"]):
            return None
        record = Origin.browse(self.origin_id).exists()
        return record or None

    # ---------------------------------------------------------------- tracking
    @api.model
    def _esign_involving_domain(self, contacts):
        """The requests ``contacts`` take part in: as the client, as a signer in any capacity
        (themselves, a company's or a protected person's representative), or represented."""
        return ["|", "|", ("partner_id", "in", contacts.ids),
                ("signer_ids.partner_id", "in", contacts.ids),
                ("signer_ids.represented_partner_id", "in", contacts.ids)]

    def _esign_roles_of(self, contact):
        """How ``contact`` takes part in this request, as translated labels: the client, each
        capacity they sign in (a representative: for whom), or represented (by whom)."""
        self.ensure_one()
        roles = [_("Client")] if self.partner_id == contact else []
        capacities = dict(self.env["o2s.esign.signer"]._fields["role"]._description_selection(self.env))
        for signer in self.signer_ids.sorted("sequence"):
            capacity = capacities.get(signer.role, signer.role)
            if signer.partner_id == contact:
                if signer.role == "legal_representative" and signer.represented_partner_id:
                    # "Legal representative of X", "Curator of X", "Agent of X (...)"
                    capacity = signer._esign_capacity_label()
                elif signer.represented_partner_id and signer.represented_partner_id != contact:
                    capacity = _("%(capacity)s of %(represented)s", capacity=capacity,
                                 represented=signer.represented_partner_id.display_name)
                roles.append(capacity)
            elif signer.represented_partner_id == contact:
                roles.append(_("Represented by %(signer)s",
                                signer=signer.name or signer.partner_id.display_name))
        return roles

    # -------------------------------------------------------------- home block
    @api.model
    def _esign_home_domain(self, states, signed_days):
        """The current user's requests in ``states``; signed ones only if completed within the
        last ``signed_days`` days (0: no limit). "The user's requests" are the ones they are the
        advisor of and those shared with them; record rules apply on top (other companies are
        never counted)."""
        uid = self.env.uid
        domain = [
            "|", ("user_id", "=", uid), ("shared_user_ids", "in", [uid]),
            ("state", "in", list(states)),
        ]
        if "signed" in states and signed_days:
            since = fields.Datetime.now() - timedelta(days=signed_days)
            domain += ["|", ("state", "!=", "signed"),
                       ("date_done", ">=", fields.Datetime.to_string(since))]
        return domain

    @api.model
    def get_esign_home_data(self):
        """Everything the E-signature home block shows, in a fixed number of queries whatever
        the number of requests: one grouped count per status, and the latest requests.

        Returns a dict: ``statuses`` (list of ``{state, label, count}`` in display order, only
        the statuses the user chose), ``latest`` (list of ``{id, reference, name, partner,
        state, state_label, date}``), ``signed_days``, ``on_dashboard``, ``total``.
        """
        settings = self.env.user._esign_home_settings()
        states = settings["states"]
        labels = dict(self._fields["state"]._description_selection(self.env))
        counts = dict.fromkeys(states, 0)
        latest = []
        if states:
            domain = self._esign_home_domain(states, settings["signed_days"])
            for state, count in self._read_group(domain, ["state"], ["__count"]):
                counts[state] = count
            requests = self.search_fetch(
                domain, ["reference", "name", "partner_id", "state", "date_sent", "date_done",
                         "write_date"],
                order="write_date desc, id desc", limit=HOME_LATEST_LIMIT)
            for request in requests:
                date = request.date_done or request.date_sent or request.write_date
                latest.append({
                    "id": request.id,
                    "reference": request.reference or "",
                    "name": request.name,
                    "partner": request.partner_id.display_name or "",
                    "state": request.state,
                    "state_label": labels.get(request.state, request.state),
                    "date": fields.Datetime.to_string(date) if date else False,
                })
        return {
            "statuses": [{"state": state, "label": labels[state], "count": counts[state]}
                         for state in states],
            "latest": latest,
            "signed_days": settings["signed_days"],
            "on_dashboard": settings["on_dashboard"],
            "total": sum(counts.values()),
        }

    # ----------------------------------------------------------------- sending
    def _get_send_problems(self):
        """Every reason this draft cannot be sent, as translated sentences."""
        self.ensure_one()
        problems = []
        if not self.document_ids:
            problems.append(_("Add at least one PDF document."))
        if not self.signer_ids:
            problems.append(_("Add at least one signer."))
        if self.date_deadline and self.date_deadline < fields.Date.context_today(self):
            problems.append(_("The expiry date is in the past."))
        for document in self.document_ids:
            problems += document._get_send_problems()
        seen = set()
        for signer in self.signer_ids:
            problems += signer._get_send_problems()
            if signer.partner_id.id in seen:
                problems.append(_("%(name)s is listed twice as a signer.", name=signer.partner_id.display_name))
            seen.add(signer.partner_id.id)
        return problems + self._get_capacity_problems() + self._get_text_problems()

    def _get_capacity_problems(self):
        """Who signs in what capacity: a company signs through its representative; a person
        under tutelle, habilitation familiale or a mandat de protection future through their
        representative; a minor through both parents (or one, as set on the contact); a person
        under curatelle together with their curator; every protected person's supporting
        document (judgment, mandate...) is on their contact. Returns translated sentences."""
        self.ensure_one()
        problems = []
        signers = self.signer_ids
        for signer in signers:
            partner = signer.partner_id
            if signer.role in ("legal_representative", "company_representative"):
                represented = signer.represented_partner_id
                if not represented:
                    problems.append(_(
                        "%(name)s signs as a representative: say on whose behalf.",
                        name=partner.display_name))
                elif signer.role == "legal_representative" and \
                        partner not in represented.esign_legal_representative_ids:
                    problems.append(_(
                        "%(name)s is not a legal representative of %(person)s (see the "
                        "E-signature tab of %(person)s).",
                        name=partner.display_name, person=represented.display_name))
                elif signer.role == "company_representative" and not represented.is_company:
                    problems.append(_(
                        "%(name)s signs for %(person)s, which is not a company.",
                        name=partner.display_name, person=represented.display_name))
            elif not partner.is_company and partner.esign_protection in REPRESENTED_PROTECTIONS:
                problems.append(self._esign_represented_problem(partner, signs_self=True))
        # The people the request is about: the client, whoever a signer represents, and every
        # protected person who signs.
        represented = self.partner_id | signers.represented_partner_id | signers.partner_id.filtered(
            lambda p: not p.is_company and p.esign_protection != "none")
        for person in represented:
            acting_for = signers.filtered(lambda s, p=person: s.represented_partner_id == p)
            representatives = acting_for.filtered(lambda s: s.role == "legal_representative")
            if person.is_company:
                if person == self.partner_id and not acting_for.filtered(
                        lambda s: s.role == "company_representative"):
                    problems.append(_(
                        "%(company)s is a company: add the person who signs on its behalf.",
                        company=person.display_name))
                continue
            protection = person.esign_protection
            if protection == "minor" and person.esign_minor_signature != "one":
                missing = person.esign_legal_representative_ids - representatives.partner_id
                if not representatives or missing:
                    problems.append(_(
                        "%(name)s is a minor (administration légale): both parents must sign on "
                        "their behalf (%(parents)s).", name=person.display_name,
                        parents=", ".join(person.esign_legal_representative_ids.mapped("display_name"))))
            elif protection in REPRESENTED_PROTECTIONS:
                if not representatives:
                    problems.append(self._esign_represented_problem(person))
            elif protection == "curatelle":
                signs_self = signers.filtered(
                    lambda s, p=person: s.partner_id == p and s.role == "signer")
                if not (signs_self and representatives):
                    problems.append(_(
                        "%(name)s is under curatorship (curatelle): they and their curator must "
                        "both sign.", name=person.display_name))
            if protection != "none" and not person._esign_protection_sudo()["sha256"]:
                problems.append(_(
                    "%(name)s is a protected person: add the supporting document of their "
                    "protection (the judgment, the mandate or, for a minor, the birth certificate) "
                    "on the contact.", name=person.display_name))
        return problems

    @api.model
    def _esign_represented_problem(self, person, signs_self=False):
        """The sentence saying who signs for ``person``, who is represented (tutelle, minor,
        habilitation familiale, mandat de protection future): ``signs_self`` when they were
        listed as a signer themselves, else when nobody signs on their behalf."""
        name = person.display_name
        if signs_self:
            messages = {
                "tutelle": _("%(name)s is under guardianship (tutelle): their legal representative "
                             "signs on their behalf.", name=name),
                "minor": _("%(name)s is a minor (administration légale): their parents sign on "
                           "their behalf.", name=name),
                "habilitation_familiale": _(
                    "%(name)s is under habilitation familiale: the person authorised by the judge "
                    "signs on their behalf.", name=name),
                "mandat_protection_future": _(
                    "%(name)s is under a mandat de protection future: their agent (mandataire) "
                    "signs on their behalf.", name=name),
            }
        else:
            messages = {
                "tutelle": _("%(name)s is under guardianship (tutelle): their legal representative "
                             "must sign on their behalf.", name=name),
                "minor": _("%(name)s is a minor (administration légale): a parent must sign on "
                           "their behalf.", name=name),
                "habilitation_familiale": _(
                    "%(name)s is under habilitation familiale: the person authorised by the judge "
                    "must sign on their behalf.", name=name),
                "mandat_protection_future": _(
                    "%(name)s is under a mandat de protection future: their agent (mandataire) "
                    "must sign on their behalf.", name=name),
            }
        return messages[person.esign_protection]

    def _get_text_problems(self):
        """What is wrong with the subject and the message, as translated sentences."""
        self.ensure_one()
        problems = []
        if len(self.name or "") > MAX_SUBJECT_LENGTH:
            problems.append(_("The subject is too long (%(max)s characters at most).",
                              max=MAX_SUBJECT_LENGTH))
        if has_control_chars(self.name):
            problems.append(_("The subject contains characters that cannot be used."))
        if len(self.message or "") > MAX_MESSAGE_LENGTH:
            problems.append(_("The message to the signers is too long (%(max)s characters at "
                              "most).", max=MAX_MESSAGE_LENGTH))
        if has_control_chars(self.message):
            problems.append(_("The message to the signers contains characters that cannot be used."))
        return problems

    def _do_send(self):
        self.ensure_one()
        # 1. Freeze signer data and documents, hash them before anyone can see them.
        self.signer_ids._snapshot_for_send()
        self.document_ids._freeze_for_send()
        now = fields.Datetime.now()
        with internal_write():
            self.write({"pades_level": self.company_id.esign_pades_level or "b_b"})
        self._log_event("created", payload={
            **self._actor_payload(),
            "reference": self.reference,
            "name": self.name,
            "client": {"id": self.partner_id.id, "name": self.partner_id.display_name},
            "advisor": {"id": self.user_id.id, "name": self.user_id.name},
            "shared_with": [{"id": user.id, "name": user.name}
                            for user in self.shared_user_ids.sorted("id")],
            "signing_order": self.signing_order,
            "date_deadline": fields.Date.to_string(self.date_deadline) if self.date_deadline else None,
            "origin": {"model": self.origin_model, "id": self.origin_id} if self.origin_model else None,
            "documents": [document._event_summary() for document in self.document_ids],
            "signers": [signer._event_summary() for signer in self.signer_ids],
        })
        self._set_state("in_progress", date_sent=now, sent_uid=self.env.user.id,
                        event_payload=self._actor_payload())
        self._log_event("sent", payload=self._actor_payload())
        # 2. Invite whoever may sign now (everyone, or the first in sequential order).
        self._advance_signers()
        self.message_post(
            body=_("Signature request sent to %(signers)s.",
                   signers=", ".join(self.signer_ids.mapped("name"))),
            subtype_xmlid="mail.mt_note")

    def _advance_signers(self):
        """Move waiting signers whose turn has come to pending, and invite them."""
        self.ensure_one()
        to_invite = self.env["o2s.esign.signer"]
        waiting = self.signer_ids.filtered(lambda s: s.state == "waiting").sorted("sequence")
        if not waiting:
            return to_invite
        if self.signing_order == "parallel":
            to_invite = waiting
        else:
            open_before = self.signer_ids.filtered(lambda s: s.state == "pending")
            if not open_before:
                first_seq = waiting[0].sequence
                to_invite = waiting.filtered(lambda s: s.sequence == first_seq)
        if to_invite:
            with internal_write():
                to_invite.write({"state": "pending", "date_invited": fields.Datetime.now()})
            self._log_events([{"event_type": "signer_invited", "signer": signer,
                               "payload": {"signer": signer.name}} for signer in to_invite])
            to_invite._send_invitation()
            self._esign_tell_in_person_turn(to_invite)
        return to_invite

    def _esign_tell_in_person_turn(self, signers):
        """Signers in person get no mail: when their turn comes after a remote signer signed
        (the advisor is not at the signing page then), the advisor gets a to-do."""
        in_person = signers.filtered(lambda signer: signer.presence == "in_person")
        last_signed = self.signer_ids.filtered(lambda signer: signer.state == "signed").sorted(
            lambda signer: (signer.date_signed, signer.id))[-1:]
        if in_person and last_signed and last_signed.presence != "in_person":
            self.activity_schedule(
                "mail.mail_activity_data_todo", user_id=self.user_id.id,
                summary=_("To sign in person: %(names)s", names=", ".join(in_person.mapped("name"))),
                note=_("Their turn has come: open their signing page with “Sign in person”."))

    # ----------------------------------------------------------- state machine
    def _esign_form_action(self):
        """The window action opening this request's form."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "o2s.esign.request",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def _esign_check_draft(self, message):
        """Refuse with ``message`` when this request (if any) was already sent: its documents
        and signers are then part of the evidence."""
        if self.filtered(lambda request: request.state != "draft"):
            raise UserError(message)

    def _check_transition(self, new_state):
        for request in self:
            if new_state not in ALLOWED_TRANSITIONS[request.state]:
                states = dict(self._fields["state"]._description_selection(self.env))
                raise UserError(_(
                    "The request %(ref)s cannot go from “%(old)s” to “%(new)s”.",
                    ref=request.reference, old=states[request.state], new=states[new_state]))

    def _set_state(self, new_state, event_payload=None, **values):
        """Move to ``new_state`` (checked against the state machine), write ``values`` and log
        a ``state_changed`` event. The only way the state ever changes. The origin record is
        then told (``_esign_on_request_state``), and once a request is over, the invitations
        and reminders still queued stay unsent."""
        old_states = {request.id: request.state for request in self}
        self._check_transition(new_state)
        for request in self:
            old_state = request.state
            with internal_write():
                request.write(dict(values, state=new_state))
            request._log_event("state_changed", payload=dict(
                event_payload or {}, old_state=old_state, new_state=new_state))
        for request in self:
            origin = request._get_origin_record()
            if origin is not None:
                origin._esign_on_request_state(request, old_states[request.id], new_state)
        if new_state != "error":
            self.filtered(lambda r: old_states[r.id] == "error")._esign_close_error_activities()
        if new_state in ("signed", "refused", "cancelled", "expired"):
            # sudo: the mails of the request, whoever (a signer on the portal, say) ended it
            self.sudo().mail_log_ids.filtered(lambda log: log.kind in ("invitation", "reminder"))._cancel_queued(
                _("Not sent: the request was over before the mail left."))

    @api.model
    def _esign_error_activity_type_xmlid(self):
        """The activity type of "Signature request in error" (Odoo's to-do if it was deleted)."""
        if self.env.ref("o2s_esign.mail_activity_type_esign_error", raise_if_not_found=False):
            return "o2s_esign.mail_activity_type_esign_error"
        return "mail.mail_activity_data_todo"

    def _esign_close_error_activities(self):
        """The requests left the error state: their "in error" activities are marked done.

        sudo: the activities are the module's own (scheduled for the advisor when the request
        went in error), closed by the state machine whoever moved the state (a signer on the
        portal, the scheduled retry...)."""
        activity_type = self.env.ref("o2s_esign.mail_activity_type_esign_error", raise_if_not_found=False)
        if not self or not activity_type:
            return
        activities = self.env["mail.activity"].sudo().search([
            ("res_model", "=", self._name), ("res_id", "in", self.ids),
            ("activity_type_id", "=", activity_type.id)])
        if activities:
            activities.action_feedback(feedback=_("The request is no longer in error."))

    # ----------------------------------------------------------------- events
    def _log_event(self, event_type, signer=None, payload=None, ip_address=None, user_agent=None):
        """Append one event to the request's hash-chained audit trail (see o2s.esign.event)."""
        self.ensure_one()
        return self.env["o2s.esign.event"]._append(
            self, event_type, signer=signer, payload=payload,
            ip_address=ip_address, user_agent=user_agent)

    def _log_events(self, entries):
        """Append several events at once, in order (dicts with the arguments of
        ``_log_event``): the same trail as one ``_log_event`` each, in a constant number of
        queries (see o2s.esign.event._append_many)."""
        self.ensure_one()
        return self.env["o2s.esign.event"]._append_many(self, entries)

    def _actor_payload(self):
        """Who did a backend action, for the event payload."""
        user = self.env.user
        return {"user_id": user.id, "user": user.name}

    def verify_event_chain(self):
        """Re-walk the audit trail of each request. Returns, per request id, a dict with ``ok``,
        ``count``, ``head``, ``first_broken`` (a sequence number) and ``reason``."""
        self.check_access("read")
        return {request.id: self.env["o2s.esign.event"]._verify_chain(request) for request in self}

    # ------------------------------------------------------------------- flow
    def _retry(self):
        self.ensure_one()
        self._set_state("in_progress", error_message=False, error_transient=False,
                        event_payload=self._actor_payload())
        self._log_event("retried", payload=self._actor_payload())
        self._resume_after_retry()

    def _resume_after_retry(self):
        """Re-do the step that failed.

        First the mails that failed for a passing reason go again, as they were. A failed
        invitation is not sent again: the signer gets a new one (flagged signers are invited
        below). Signers flagged because another of their mails failed (a reminder, say) get
        that mail again, not an invitation. Then the signatures that signers made while a
        service was down are applied (without asking them again); stop there if one still
        cannot be applied (back in error). Then the invitations, the next signers, the end."""
        # sudo: the mails of the request, whoever retries it (access was checked by the caller)
        failed = self.sudo().mail_log_ids.filtered(lambda log: log.state == "failed" and log.transient)
        invitations = failed.filtered(lambda log: log.kind == "invitation" and log.signer_id.invitation_failed)
        invitations._cancel_failed(_("Not sent again: a new invitation replaces it."))
        (failed - invitations)._requeue()
        flagged = (failed - invitations).signer_id.filtered("invitation_failed") - invitations.signer_id
        if flagged:
            with internal_write():
                flagged.write({"invitation_failed": False})
        self.ensure_one()
        for signer in self.signer_ids.filtered("sign_pending").sorted("sequence"):
            if not signer._apply_pending_signature():
                return False
        if self.state not in ("in_progress", "error"):
            return True  # the signatures completed (or closed) the request
        pending = self.signer_ids.filtered(lambda s: s.state == "pending" and s.invitation_failed)
        pending._send_invitation()
        self._advance_signers()
        self._check_completion()
        return None

    def _set_error(self, message, transient=True, signer=None):
        """Put the request in error with ``message`` (shown to the advisor), and schedule the
        automatic retry of a passing error (none for a lasting one)."""
        for request in self:
            if request.state not in OPEN_STATES:
                continue
            if request.state == "error":
                with internal_write():
                    request.write({"error_message": message, "error_transient": transient})
                request._log_event("error", signer=signer, payload={"message": message})
                continue
            request._set_state("error", error_message=message, error_transient=transient,
                               event_payload={"message": message})
            request._log_event("error", signer=signer, payload={"message": message})
            request.activity_schedule(
                request._esign_error_activity_type_xmlid(), user_id=request.user_id.id,
                summary=_("Signature request in error"), note=plaintext_note(message))
        max_attempts = self._esign_retry_max_attempts()
        now = fields.Datetime.now()
        for request in self.filtered(lambda r: r.state == "error"):
            next_retry = False
            if transient and request.retry_count < max_attempts:
                next_retry = now + RETRY_FIRST_DELAY * (2 ** request.retry_count)
            with internal_write():
                request.write({"next_retry_date": next_retry})

    def _check_completion(self):
        """Called after a signer signs or refuses: moves the request to its final state."""
        for request in self:
            if request.state not in OPEN_STATES:
                continue
            signers = request.signer_ids
            if signers.filtered(lambda s: s.state == "refused"):
                refused = signers.filtered(lambda s: s.state == "refused")[:1]
                request._set_state("refused", date_done=fields.Datetime.now(), event_payload={
                    "signer": refused.name, "reason": refused.refusal_reason or None})
                request._on_refused(refused)
            elif signers and all(s.state == "signed" for s in signers):
                request._on_all_signed()
            elif request.state == "in_progress":
                request._advance_signers()

    def _on_all_signed(self):
        """Every signer has signed: the request awaits its sealing (``sealing_pending``) and
        the sealing scheduled action is triggered; it runs as soon as this transaction commits,
        in the background (Odoo's cron workers), so that the last signer's "Sign" returns as
        fast as anyone's and a slow or failing timestamp authority never turns their signature
        into an error page. See :meth:`_esign_seal_and_close`."""
        self.ensure_one()
        if not self.sealing_pending:
            with internal_write():
                # not a tracked field: no need for the tracking's snapshot of the request
                self.with_context(mail_notrack=True).write({"sealing_pending": True})
        # by its xml id's record id (cached), without ``ref``'s query checking that it exists
        self.env["ir.cron"].browse(self.env["ir.model.data"]._xmlid_to_res_id(
            "o2s_esign.ir_cron_esign_seal_requests"))._trigger()
        return None

    def _esign_seal_and_close(self):
        """Seal every document, build the evidence, then mark the request signed and tell
        everyone (the sealing scheduled action, for a request whose signers all signed).

        All or nothing: when the timestamp authority (or anything else of the signing core)
        fails, nothing of it is kept (no document half-sealed) and the request goes in error
        (and not signed), still awaiting its sealing; retrying the request (``action_retry``,
        or the automatic retry of a passing error) triggers it again."""
        self.ensure_one()
        if self.state != "in_progress" or not self.sealing_pending:
            return False
        try:
            with self.env.cr.savepoint():
                self._esign_seal_documents()
                self._esign_build_evidence(state="signed", date_done=fields.Datetime.now())
        except EsignError as exc:
            _logger.info("o2s_esign: sealing %s failed: %r", self.reference, exc)
            self._set_error(self._esign_error_message(exc), transient=exc.transient)
            return False
        with internal_write():
            self.write({"sealing_pending": False})
        self._set_state("signed", date_done=fields.Datetime.now())
        self._notify_signed()
        return True

    def _mark_sealing_failure(self):
        """The sealing of this request failed unexpectedly (logged by the batch): in error,
        retried like any passing error."""
        self._set_error(_("The documents could not be sealed. The request will be retried."),
                        transient=True)

    def _on_refused(self, signer):
        self.ensure_one()
        self.signer_ids.filtered(lambda s: s.state == "pending")._notify_cancel(refused=True)
        self.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.user_id.id,
            summary=_("Signature refused by %(name)s", name=signer.name),
            note=plaintext_note(signer.refusal_reason))
        self._esign_send_advisor_mail("o2s_esign.mail_template_esign_refused_advisor", "refusal")

    def _notify_signed(self):
        """Everyone signed: a note on the request; the signers get the signed documents, the
        advisor too."""
        self.ensure_one()
        self.message_post(body=_("All signers have signed."), subtype_xmlid="mail.mt_note")
        self.signer_ids._notify_confirmation(self._get_confirmation_attachments())
        self._esign_send_advisor_mail(
            "o2s_esign.mail_template_esign_confirmation_advisor", "confirmation",
            attachments=self._get_confirmation_attachments(for_advisor=True))

    # ------------------------------------------------------------------ mails
    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + REQUEST_MAIL_EXPRESSIONS

    def _get_confirmation_attachments(self, for_advisor=False):
        """The files sent with the confirmation mail: the final signed PDFs (for the signers
        and, ``for_advisor``, the advisor alike)."""
        self.ensure_one()
        return self.document_ids.signed_attachment_id

    def _esign_send_advisor_mail(self, xmlid, kind, attachments=None):
        """Queue the advisor's copy of an end-of-request mail (template on the request)."""
        self.ensure_one()
        template = self.env.ref(xmlid, raise_if_not_found=False)
        advisor = self.user_id
        payload = {"kind": kind, "audience": "advisor", "to": advisor.email or None}
        if template and advisor.email:
            # From the company, not from whoever ended the request (a signer on the portal
            # would show as the public user in the chatter).
            email_values = {"author_id": self.company_id.partner_id.id}
            if attachments:
                email_values["attachment_ids"] = [fields.Command.link(a.id) for a in attachments]
                payload["attachments"] = attachments.mapped("name")
            payload["mail_id"] = template.sudo().with_context(
                lang=advisor.lang, o2s_esign_mail_kind=kind,
            ).send_mail(self.id, email_layout_xmlid="mail.mail_notification_light",
                        email_values=email_values)
        self._log_event("email_queued", payload=payload)

    # ------------------------------------------------------------- completion
    def _esign_seal_documents(self):
        """The company seal (an invisible approval signature, then at B-LTA a document
        timestamp) on each document not sealed yet. Every new revision is computed before
        any is stored. (sudo: runs when the last signer signs, in that signer's portal session,
        and writes the documents' protected revisions.)"""
        self.ensure_one()
        request_sudo = self.sudo()
        documents = request_sudo.document_ids.filtered(lambda d: not d.date_sealed)
        if not documents:
            return
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        documents = documents.sorted(lambda d: (d.sequence, d.id))
        # every document sealed in one call: their time-stamp requests run at once
        results = list(zip(documents, context.pades.seal_many(
            [document.signed_attachment_id.raw for document in documents],
            identity=context.material.seal, level=context.level, tsa=context.tsa,
            trust_roots=context.trust_roots, extra_crls=context.material.crls()), strict=True))
        now = fields.Datetime.now()
        for document, result in results:
            document._append_signed_revision(result.data, "seal", payload={
                "level": result.level,
                "level_requested": request_sudo.pades_level or result.level,
                "document_timestamp": result.level == "b_lta",
                "tsa": context.tsa_url or NO_TSA_NOTE,
                "signing_time": result.signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "certificate_sha256": hashlib.sha256(result.signer_cert_der).hexdigest(),
            })
            with internal_write():
                document.write({"pades_level_achieved": result.level, "date_sealed": now})
            if result.level == "b_lta":
                document._esign_set_archive_expiry(result.data, now)

    def _esign_error_message(self, exc):
        """A translated sentence for an error of the signing core (lib.errors)."""
        url = (exc.params or {}).get("url") or ""
        if isinstance(exc, TsaError):
            if exc.code == "tsa_timeout":
                return _("The timestamp authority %(url)s did not answer in time. Nothing was "
                         "signed or sealed; the request will be retried.", url=url)
            if exc.code == "tsa_bad_response":
                return _("The timestamp authority %(url)s gave an invalid answer. Nothing was "
                         "signed or sealed; the request will be retried.", url=url)
            return _("The timestamp authority %(url)s cannot be reached. Nothing was signed or "
                     "sealed; the request will be retried.", url=url)
        if isinstance(exc, SigningError):
            if exc.code == "tsa_required":
                return _("The signature level needs a timestamp authority: configure one in "
                         "the e-signature settings.")
            if exc.code == "chain_invalid":
                return _("The company's signing certificate could not be validated (its chain "
                         "or revocation data). Check the signing identity in the settings.")
            if exc.code == "timeout":
                return _("Signing took too long. Nothing was signed or sealed; the request will "
                         "be retried.")
            return _("The signature could not be produced (%(code)s).", code=exc.code)
        if isinstance(exc, PdfError):
            return _("A document could not be processed for signature (%(code)s).", code=exc.code)
        if isinstance(exc, PkiError):
            return _("The signing keys could not be used (%(code)s).", code=exc.code)
        if isinstance(exc, EvidenceError):
            return _("The evidence file could not be built (%(code)s).", code=exc.code)
        return _("The signature failed (%(code)s).", code=exc.code)

    # --------------------------------------------------------------- evidence
    def _esign_labels(self):
        """The evidence report's labels (lib.evidence.DEFAULT_LABELS keys), translated in the
        context's language."""
        # One source: lib.evidence.DEFAULT_LABELS (its English text is the term exported).
        labels = {key: self.env._(text) for key, text in lib_evidence.DEFAULT_LABELS.items()}
        for value, label in self.env["o2s.esign.request"]._fields["state"]._description_selection(self.env):
            labels["state_" + value] = label
        for value, label in self.env["o2s.esign.signer"]._fields["state"]._description_selection(self.env):
            labels.setdefault("state_" + value, label)
        labels["state_signed"] = self.env._("Signed")
        for value, label in self.env["o2s.esign.event"]._fields["event_type"]._description_selection(self.env):
            labels["event_" + value] = label
        return labels

    @api.model
    def _esign_opener(self, attachment_sudo):
        """A callable opening the attachment's content as a binary stream (from the filestore
        when it is there, so big files are streamed)."""
        def opener():
            if attachment_sudo.store_fname:
                return open(attachment_sudo._full_path(attachment_sudo.store_fname), "rb")
            return io.BytesIO(attachment_sudo.raw or b"")
        return opener

    def _esign_lang(self):
        self.ensure_one()
        return self.partner_id.lang or self.user_id.lang or self.env.lang or "en_US"

    def _esign_evidence_bundle(self, *, state=None, date_done=None, lang=None):
        """Everything the evidence states (lib.evidence.EvidenceBundle), read from the request
        (sudo: the evidence needs the signing identity and the stored files; the caller checked
        the user's access to the request)."""
        self.ensure_one()
        lang = lang or self._esign_lang()
        request_sudo = self.sudo().with_context(lang=lang)
        company = request_sudo.company_id
        context = company._esign_signing_context(request_sudo.pades_level)
        events = request_sudo.event_ids.sorted("sequence")
        exported = [event._export_record() for event in events]
        steps = evidence_bundle.hash_steps(exported, seal_label=request_sudo.env._("Company seal"))
        documents = []
        timestamps = {}
        for index, document in enumerate(request_sudo.document_ids.sorted(
                lambda d: (d.sequence, d.id)), start=1):
            signed = document.signed_attachment_id
            has_revisions = bool(signed) and signed != document.prepared_attachment_id
            documents.append(lib_evidence.EvidenceDocument(
                name=document.name,
                original=self._esign_opener(document.original_attachment_id.sudo()),
                original_sha256=document.original_sha256,
                doc_type=document.document_type_id.name or "",
                prepared_sha256=document.prepared_sha256,
                signed=self._esign_opener(signed.sudo()) if has_revisions else None,
                final_sha256=document.signed_sha256 if has_revisions else None,
                steps=steps.get(document.id, []),
                fields=self._esign_evidence_fields(document),
                **self._esign_evidence_source(document),
            ))
            if has_revisions:
                for name, token in evidence_bundle.timestamp_tokens(signed.sudo().raw):
                    timestamps["doc%d-%s.tst" % (index, name)] = token
        signers, signer_certs, extra_certs = self._esign_evidence_signers(
            request_sudo, exported, context)
        tsa_certs = []
        if context.tsa is not None:
            tsa_certs = list(context.pades.tsa_certificates(context.tsa))
        tsa_certs += company._esign_tsa_roots()
        certificates = evidence_bundle.certificate_set(
            ca=context.material.ca, seal=context.material.seal, signer_certs=signer_certs,
            extra_certs=extra_certs, tsa_certs=tsa_certs)
        consents = evidence_bundle.consent_texts(
            exported, {event.signer_id.id: event.signer_id.name for event in events if event.signer_id})
        achieved = evidence_bundle.lowest_level(
            [d.pades_level_achieved for d in request_sudo.document_ids])
        return lib_evidence.EvidenceBundle(
            request=lib_evidence.EvidenceRequest(
                reference=request_sudo.reference or "",
                name=request_sudo.name or "",
                company=company.name or "",
                advisor=request_sudo.user_id.name or "",
                state=state or request_sudo.state,
                lang=lang,
                date_created=request_sudo.create_date,
                date_sent=request_sudo.date_sent,
                date_deadline=request_sudo.date_deadline,
                date_done=date_done or request_sudo.date_done,
                pades_level_requested=request_sudo.pades_level or "",
                pades_level_achieved=achieved,
                tsa_url=context.tsa_url,
            ),
            documents=documents,
            signers=signers,
            events=exported,
            certificates=certificates,
            timestamps=timestamps,
            consent_texts=consents,
            labels=request_sudo._esign_labels(),
            lang=lang,
            verification_url="%s/esign/verify" % request_sudo.get_base_url(),
        )

    def _esign_evidence_source(self, document_sudo):
        """The EvidenceDocument fields of the uploaded file a document's PDF was made from
        (none when the PDF is signed as uploaded), in the context's language."""
        source = document_sudo.source_attachment_id
        if not source:
            return {}
        return {
            "source": self._esign_opener(source.sudo()),
            "source_name": source.name or "",
            "source_sha256": document_sudo.source_sha256,
            "source_mimetype": document_sudo.source_mimetype or "",
            "source_kind": document_sudo.source_kind or "",
            "removed": (document_sudo.conversion_removed or "").split(",")
            if document_sudo.conversion_removed else [],
            "repaired": document_sudo.conversion_repaired,
            "decrypted": document_sudo.conversion_decrypted,
            "conversion_note": document_sudo.conversion_note or "",
        }

    @api.model
    def _esign_evidence_signers(self, request_sudo, exported, context):
        """(EvidenceSigner list, one-time certificates in order, other CA certificates)."""
        env = request_sudo.env
        roles = dict(env["o2s.esign.signer"]._fields["role"]._description_selection(env))
        presences = dict(env["o2s.esign.signer"]._fields["presence"]._description_selection(env))
        id_types = dict(env["o2s.esign.id.document"]._fields["doc_type"]._description_selection(env))
        protections = dict(env["o2s.esign.signer"]._fields["protection"]._description_selection(env))
        signers, certs, extra = [], [], []
        for signer in request_sudo.signer_ids.sorted(lambda s: (s.sequence, s.id)):
            certificate = ""
            if signer.signing_certificate:
                certs.append(signer.signing_certificate)
                certificate = "signer-%d.pem" % len(certs)
                extra += evidence_bundle.pem_certs(signer.signing_certificate_chain)
            signers.append(lib_evidence.EvidenceSigner(
                name=signer.name or "",
                ref=signer.id,
                role=roles.get(signer.role, signer.role or ""),
                capacity=signer._esign_capacity_label(),
                represented_party=signer.represented_partner_id.display_name or "",
                email=signer.email or "",
                mobile=signer.mobile or "",
                presence=presences.get(signer.presence, ""),
                id_doc_type=id_types.get(signer.id_doc_type, signer.id_doc_type or ""),
                id_doc_number=signer.id_doc_number or "",
                id_doc_expiry=signer.id_doc_expiry or None,
                id_doc_sha256=signer.id_doc_sha256 or "",
                protection=protections.get(signer.protection, "") if signer.protection else "",
                protection_document=" – ".join(
                    part for part in (signer.protection_reference, signer.protection_doc_name) if part),
                protection_sha256=signer.protection_doc_sha256 or "",
                auth_method=env._("Personal link sent by email, then a one-time code sent by SMS "
                                  "to %(mobile)s", mobile=signer.mobile or "?"),
                **evidence_bundle.signer_trail(exported, signer.id),
                state=signer.state,
                date_signed=signer.date_signed or None,
                date_refused=signer.date_refused or None,
                refusal_reason=signer.refusal_reason or "",
                certificate=certificate,
                signature_image=base64.b64decode(signer.signature_image)
                if signer.signature_image else None,
            ))
        return signers, certs, extra

    @api.model
    def _esign_evidence_fields(self, document):
        """The boxes placed on ``document`` as the evidence states them (issue 17): page,
        rectangle, signer, type, value and the time it was filled; a signature box is
        "filled" when its signer signed."""
        result = []
        for field in document.field_ids.sorted(lambda f: (f.page, f.sequence, f.id)):
            signer = field.signer_id
            if field.field_type == "signature":
                value, filled = None, signer.date_signed or None
            elif field.field_type == "checkbox":
                value = field._esign_is_ticked() if field.date_filled else None
                filled = field.date_filled or None
            else:
                value, filled = field.value or None, field.date_filled or None
            result.append({
                "name": field.pdf_field_name or "", "type": field.field_type, "page": field.page,
                "rect": [round(v, 2) for v in field._esign_rect()], "signer": signer.id,
                "value": value, "filled_at": filled,
            })
        return result

    def _esign_build_evidence(self, *, state=None, date_done=None):
        """Build the evidence ZIP, store it as a new append-only attachment of the request and
        log ``evidence_generated``. Returns the attachment (sudo: the evidence attachment and
        the request's evidence fields are written by the module only, whoever triggered it; the
        callers checked the user's access to the request)."""
        self.ensure_one()
        request_sudo = self.sudo()
        bundle = self._esign_evidence_bundle(state=state, date_done=date_done)
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        bundle.validation, bundle.validated_at = self._esign_validation_reports(context)
        sealer = lib_evidence.PadesSealer(
            context.pades, identity=context.material.seal, level=context.level, tsa=context.tsa,
            trust_roots=context.trust_roots, extra_crls=context.material.crls())
        with tempfile.TemporaryFile() as out:
            result = lib_evidence.build_evidence_zip(out, bundle, sealer=sealer)
            out.seek(0)
            data = out.read()
        name = "%s-%s.zip" % (lib_evidence.safe_name(request_sudo.reference or "request"),
                              request_sudo.env._("evidence"))
        attachment = self.env["ir.attachment"].sudo().create({
            "name": name,
            "raw": data,
            "mimetype": "application/zip",
            "res_model": self._name,
            "res_id": self.id,
            "description": EVIDENCE_MARK,
        })
        now = fields.Datetime.now()
        with internal_write():
            self.sudo().write({"evidence_attachment_id": attachment.id,
                               "evidence_sha256": result.sha256, "evidence_date": now})
        self._log_event("evidence_generated", payload={
            "sha256": result.sha256, "size": result.size, "attachment_id": attachment.id,
            "chain_head": result.manifest["chain_head"],
            "event_count": result.manifest["event_count"],
            "state": bundle.request.state, "level": bundle.request.pades_level_achieved or None,
            "tsa": bundle.request.tsa_url or NO_TSA_NOTE,
        })
        return attachment

    def _esign_validation_reports(self, context):
        """``({document index: [lib.validation_report.SignatureValidation]}, validation time)``:
        pyHanko's AdES validation of each signed document as it stands now (at sealing time
        for the evidence), trusting the company's CA for signatures and seals and the
        timestamp authority's roots for time-stamp tokens only. sudo: reads the stored
        signed revisions (the caller builds the evidence as the module)."""
        self.ensure_one()
        request_sudo = self.sudo()
        company = request_sudo.company_id
        tsa_roots = list(company._esign_tsa_roots())
        if context.tsa is not None:
            tsa_roots += [cert for cert in context.pades.tsa_certificates(context.tsa)
                          if cert.self_signed != "no"]
        reports = {}
        for index, document in enumerate(request_sudo.document_ids.sorted(
                lambda d: (d.sequence, d.id)), start=1):
            signed = document.signed_attachment_id
            if not signed or signed == document.prepared_attachment_id:
                continue
            reports[index] = lib_validation.validate_pdf_signatures(
                signed.raw, trust_roots=context.material.trust_roots, tsa_roots=tsa_roots,
                crls=context.material.crls())
        return reports, fields.Datetime.now()

    def _esign_ensure_evidence(self):
        """The request's evidence (sudo attachment: its content is protected from the user's
        own reads and writes), built now if it has none yet. Only for signed, refused,
        cancelled and expired requests."""
        self.ensure_one()
        if self.state not in EVIDENCE_STATES:
            raise UserError(_("The evidence file is available once the request is signed, "
                              "refused, cancelled or expired."))
        if self.sudo().evidence_attachment_id:
            return self.sudo().evidence_attachment_id
        try:
            return self._esign_build_evidence()
        except EsignError as exc:
            raise UserError(self._esign_error_message(exc)) from exc

    def _esign_attach_to_partner_sudo(self, evidence_sudo):
        """Copy the evidence to the client contact as an attachment: ``(attachment, created)``.
        The copy is linked to the request (``esign_request_id``): only who may read the request
        reads it (see ir_attachment.py), not everyone who reads the contact.
        sudo: filing the evidence of a request one can read with the client it was sent from
        needs no right to edit the contact itself (advisors often have none)."""
        self.ensure_one()
        partner = self.partner_id
        attachments_sudo = self.env["ir.attachment"].sudo()
        existing = attachments_sudo.search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
            ("description", "=", PARTNER_FOLDER), ("checksum", "=", evidence_sudo.checksum)],
            limit=1)
        if existing:
            return existing, False
        with internal_write():
            return attachments_sudo.create({
                "name": "%s – %s – %s.zip" % (PARTNER_FOLDER, self.reference or "",
                                              self.env._("evidence file")),
                "raw": evidence_sudo.raw,
                "mimetype": "application/zip",
                "res_model": "res.partner",
                "res_id": partner.id,
                "description": PARTNER_FOLDER,
                "esign_request_id": self.id,
            }), True

    def _esign_build_attestation(self, signer):
        """The sealed attestation of one signer (no other signer's personal data), stored as an
        attachment of the request. Returns the attachment (sudo, as for the evidence: written
        by the module only; the caller checked the user's access to the signer)."""
        self.ensure_one()
        signer.ensure_one()
        if signer.request_id != self:
            raise UserError(_("This signer does not belong to this request."))
        if self.state not in EVIDENCE_STATES:
            raise UserError(_("The evidence file is available once the request is signed, "
                              "refused, cancelled or expired."))
        if self.date_personal_data_purged:
            raise UserError(_("The personal data of this request was purged at the end of its "
                              "retention period: no new attestation can be made. The evidence "
                              "file and the attestations already made stay available."))
        request_sudo = self.sudo()
        bundle = self._esign_evidence_bundle(lang=signer.lang or self._esign_lang())
        index = [s.ref for s in bundle.signers].index(signer.id)
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        sealer = lib_evidence.PadesSealer(
            context.pades, identity=context.material.seal, level=context.level, tsa=context.tsa,
            trust_roots=context.trust_roots, extra_crls=context.material.crls())
        try:
            data = lib_evidence.build_signer_attestation(bundle, index, sealer=sealer)
        except EsignError as exc:
            raise UserError(self._esign_error_message(exc)) from exc
        attachment = self.env["ir.attachment"].sudo().create({
            "name": "%s-%s-%s.pdf" % (lib_evidence.safe_name(self.reference or "request"),
                                      request_sudo.env._("attestation"),
                                      lib_evidence.safe_name(signer.name or "signer")),
            "raw": data,
            "mimetype": "application/pdf",
            "res_model": self._name,
            "res_id": self.id,
            "description": ATTESTATION_MARK,
        })
        with internal_write():
            signer.sudo().write({"attestation_attachment_id": attachment.id})
        self._log_event("attestation_generated", signer=signer, payload=dict(
            self._actor_payload(), sha256=hashlib.sha256(data).hexdigest(),
            attachment_id=attachment.id))
        return attachment

    # --------------------------------------------------------------- retention
    def _esign_purge_personal_data(self):
        """The company's retention period is over for this closed request: purge the signers'
        personal data (``o2s.esign.signer._esign_purge_personal_data``) and the scans of the
        identity documents that no request still keeping its data uses, and log
        ``personal_data_purged``. The evidence file is built first when the request has none
        (from the full data); it, the attestations already made, the hashes and the audit
        trail (append-only) stay.

        sudo: the signers, the identity documents and the request's retention field are written
        by the module's retention only (the cron, as superuser, or a caller that checked)."""
        self.ensure_one()
        request_sudo = self.sudo()
        if request_sudo.state not in EVIDENCE_STATES or request_sudo.date_personal_data_purged:
            return False
        evidence = request_sudo._esign_ensure_evidence()
        scans = request_sudo.signer_ids.id_document_id.filtered("file")
        keeping = self.env["o2s.esign.signer"].sudo().search([
            ("id_document_id", "in", scans.ids), ("request_id", "!=", request_sudo.id),
            ("request_id.date_personal_data_purged", "=", False)])
        scans -= keeping.id_document_id
        scan_summary = [{"id": document.id, "sha256": document.sha256} for document in scans]
        signers = [{"id": signer.id, "fields": signer._esign_purge_personal_data()}
                   for signer in request_sudo.signer_ids]
        scans.write({"file": False, "file_name": False})
        with internal_write():
            request_sudo.write({"date_personal_data_purged": fields.Datetime.now()})
        request_sudo._log_event("personal_data_purged", payload={
            "retention_years": request_sudo.company_id.esign_retention_years,
            "date_done": fields.Datetime.to_string(request_sudo.date_done),
            "signers": signers,
            "id_document_scans": scan_summary,
            "evidence_sha256": request_sudo.evidence_sha256,
            "evidence_attachment_id": evidence.id,
        })
        return True

    # ---------------------------------------------------------- expiry, retry
    def _esign_expire(self):
        """The request passed its deadline: it expires, its links stop working, the invited
        signers and the advisor are told, and the advisor gets an activity."""
        self.ensure_one()
        deadline = fields.Date.to_string(self.date_deadline) if self.date_deadline else None
        invited = self.signer_ids.filtered(lambda s: s.state in ("pending", "signed"))
        self._set_state("expired", date_done=fields.Datetime.now(), next_retry_date=False,
                        event_payload={"date_deadline": deadline})
        self._log_event("expired", payload={"date_deadline": deadline})
        invited._notify_expired()
        self._esign_send_advisor_mail("o2s_esign.mail_template_esign_expired_advisor", "expiry")
        self.activity_schedule(
            "o2s_esign.mail_activity_type_esign_expired", user_id=self.user_id.id,
            summary=_("Signature request expired"),
            note=_("%(signed)s of %(total)s signers had signed.",
                   signed=self.signed_count, total=self.signer_count))
        self.message_post(
            body=Markup("<p>%s</p>") % _("The signature request expired: its links no longer work."),
            subtype_xmlid="mail.mt_note")

    def _mark_expiry_failure(self):
        """Keep a request whose expiry crashed out of the cron's way for a day (logged)."""
        with internal_write():
            self.write({"expiry_blocked_until": fields.Datetime.now() + timedelta(days=1)})

    def _esign_auto_retry(self):
        """One automatic retry of a request in a passing error."""
        self.ensure_one()
        with internal_write():
            self.write({"retry_count": self.retry_count + 1, "next_retry_date": False})
        self._retry()

    def _mark_retry_failure(self):
        """The retry itself crashed (logged): count it and try later, as for a new error."""
        now = fields.Datetime.now()
        max_attempts = self._esign_retry_max_attempts()
        for request in self:
            count = request.retry_count + 1
            with internal_write():
                request.write({
                    "retry_count": count,
                    "next_retry_date": now + RETRY_FIRST_DELAY * (2 ** count) if count < max_attempts else False,
                })

    @api.model
    def _esign_retry_max_attempts(self):
        value = self.env["ir.config_parameter"].sudo().get_param("o2s_esign.retry_max_attempts")
        try:
            return max(int(value), 0) if value not in (None, False, "") else DEFAULT_RETRY_MAX_ATTEMPTS
        except ValueError:
            return DEFAULT_RETRY_MAX_ATTEMPTS

    # ------------------------------------------------------------------- crons
    @api.model
    def _cron_send_reminders(self, batch_size=None):
        """Remind, in one bounded batch, the signers whose next reminder is due.

        A signer is due while they may sign and have not (whether or not they opened the page
        or asked for a code), their request is in progress and not past its deadline, and they
        got fewer reminders than the maximum. The watermark (reminder_count,
        last_reminder_date -> next_reminder_date) makes a second run send nothing."""
        Signer = self.env["o2s.esign.signer"]
        self.env.flush_all()
        now = fields.Datetime.now()
        today = now.date()
        where = SQL("""
            s.state = 'pending' AND s.next_reminder_date <= %(today)s
            AND r.state = 'in_progress'
            AND (r.date_deadline IS NULL OR r.date_deadline >= %(today)s)
            AND (s.reminder_blocked_until IS NULL OR s.reminder_blocked_until <= %(now)s)
        """, today=today, now=now)
        return self._esign_cron_batch(
            "o2s_esign.ir_cron_esign_send_reminders", Signer,
            SQL("SELECT s.id FROM o2s_esign_signer s JOIN o2s_esign_request r ON r.id = s.request_id "
                "WHERE %s ORDER BY s.next_reminder_date, s.id", where), batch_size,
            lambda signer: signer._send_reminder(manual=False),
            lambda signer: signer._mark_reminder_failure())

    @api.model
    def _cron_expire_requests(self, batch_size=None):
        """Expire, in one bounded batch, the open requests whose deadline has passed (the
        deadline day itself is still valid). An expired request is no longer open: a second
        run finds nothing."""
        self.env.flush_all()
        now = fields.Datetime.now()
        where = SQL("""
            r.state IN ('in_progress', 'error') AND r.date_deadline < %(today)s
            AND r.sealing_pending IS NOT TRUE
            AND (r.expiry_blocked_until IS NULL OR r.expiry_blocked_until <= %(now)s)
        """, today=now.date(), now=now)
        due = SQL("SELECT r.id FROM o2s_esign_request r WHERE %s ORDER BY r.date_deadline, r.id", where)
        return self._esign_cron_batch("o2s_esign.ir_cron_esign_expire_requests", self, due, batch_size,
                                      lambda request: request._esign_expire(),
                                      lambda request: request._mark_expiry_failure())

    @api.model
    def _cron_retry_errors(self, batch_size=None):
        """Retry, in one bounded batch, the requests in a passing error (mail or SMS down)
        whose next automatic retry is due."""
        self.env.flush_all()
        now = fields.Datetime.now()
        due = SQL("""
            SELECT r.id FROM o2s_esign_request r
             WHERE r.state = 'error' AND r.error_transient AND r.next_retry_date <= %(now)s
             ORDER BY r.next_retry_date, r.id
        """, now=now)
        return self._esign_cron_batch(
            "o2s_esign.ir_cron_esign_retry_errors", self, due, batch_size,
            lambda request: request._esign_auto_retry(), lambda request: request._mark_retry_failure())

    @api.model
    def _cron_seal_requests(self, batch_size=None, cron_xmlid=SEAL_CRONS[0]):
        """Seal, in one bounded batch, the requests whose signers have all signed (triggered
        when the last one signs; see ``_on_all_signed``): seal, evidence, "signed", mails.

        The scheduled actions (``SEAL_CRONS``) call it with ``batch_size=1``: each request is
        sealed and committed on its own (Odoo runs the action again at once while some remain,
        see ``ir.cron._notify_progress``), so it is "signed" as soon as it is sealed and its row
        is locked only while it is; and while requests remain due, each run wakes the other
        sealing action up too, so that two cron workers seal two requests at a time (a burst
        of last signatures is sealed in half the time)."""
        self.env.flush_all()
        due = SQL("""
            SELECT r.id FROM o2s_esign_request r
             WHERE r.state = 'in_progress' AND r.sealing_pending
             ORDER BY r.id
        """)
        return self._esign_cron_batch(
            cron_xmlid, self, due, batch_size,
            lambda request: request._esign_seal_and_close(),
            lambda request: request._mark_sealing_failure(),
            also=[xmlid for xmlid in SEAL_CRONS if xmlid != cron_xmlid])

    @api.model
    def _cron_purge_personal_data(self, batch_size=None):
        """Purge, in one bounded batch, the personal data of the requests closed for longer than
        their company's retention period (``esign_retention_years``, at least one year). A
        purged request is dated: a second run finds nothing."""
        self.env.flush_all()
        due = SQL("""
            SELECT r.id FROM o2s_esign_request r JOIN res_company c ON c.id = r.company_id
             WHERE r.date_personal_data_purged IS NULL
               AND r.state IN ('signed', 'refused', 'cancelled', 'expired')
               AND r.date_done < %(now)s - make_interval(years => GREATEST(c.esign_retention_years, 1))
             ORDER BY r.date_done, r.id
        """, now=fields.Datetime.now())
        return self._esign_cron_batch(
            "o2s_esign.ir_cron_esign_purge_personal_data", self, due, batch_size,
            lambda request: request._esign_purge_personal_data(), lambda request: None)

    # --------------------------------------------------------- private helpers
    @api.model
    def _esign_cron_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param("o2s_esign.cron_batch_size")
        try:
            size = int(value or 0)
        except ValueError:
            size = 0
        return size if size > 0 else DEFAULT_CRON_BATCH_SIZE

    @api.model
    def _esign_cron_batch(self, cron_xmlid, model, due, batch_size, process, mark_failure,
                          also=()):
        """One bounded batch of a scheduled action. Locks the first ``batch_size`` ids of
        ``due`` (a SELECT of the due units' ids, in order; rows other workers hold are skipped),
        then processes each unit (a record of ``model``) in its own savepoint: a unit that fails
        is logged, marked by ``mark_failure`` (so it does not come back at once) and does not
        stop the others. Reports the progress to the cron and re-triggers it, and the
        scheduled actions of ``also`` (xml ids), while due units remain. Returns how many units
        it processed."""
        cr = self.env.cr
        cr.execute(SQL("%s LIMIT %s FOR NO KEY UPDATE SKIP LOCKED",
                       due, batch_size or self._esign_cron_batch_size()))
        units = model.browse([row[0] for row in cr.fetchall()])
        cr.execute(SQL("SELECT count(*) FROM (%s) AS due", due))
        remaining = max(cr.fetchone()[0] - len(units), 0)
        done = 0
        for unit in units:
            try:
                with self.env.cr.savepoint():
                    process(unit)
            except Exception:  # any failure of one unit must spare the others
                _logger.exception("o2s_esign: %s failed on %s", cron_xmlid, unit)
                mark_failure(unit)
            done += 1
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if remaining:
            self.env.ref(cron_xmlid)._trigger()
            for xmlid in also:
                other = self.env.ref(xmlid, raise_if_not_found=False)
                if other:
                    other._trigger()
        return done

    def _payload_json(self, payload):
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

