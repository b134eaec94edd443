# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Signers: the reminder watermark, the mails the automation sends them, and the placeholders
their mail templates may use."""
import logging
from datetime import timedelta

from markupsafe import Markup
from werkzeug.urls import url_join

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..tools import internal_write, is_internal_write

_logger = logging.getLogger(__name__)

# Written by the automation only (the reminder watermark and the cron's failure mark).
SIGNER_AUTOMATION_FIELDS = {"reminder_count", "last_reminder_date", "next_reminder_date",
                            "reminder_blocked_until"}

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
    "object.esign_sms_code",
)

BUTTON_STYLE = ("display: inline-block; padding: 10px 16px; text-decoration: none; font-size: 13px; "
                "background-color: #1f5f8b; color: #ffffff; border-radius: 5px;")


def mail_button(url, label):
    """A link styled as a button, for mail bodies (``url`` and ``label`` are escaped)."""
    return Markup('<a href="%s" style="%s">%s</a>') % (url, BUTTON_STYLE, label)


class O2sEsignSigner(models.Model):
    _inherit = "o2s.esign.signer"  # pylint: disable=consider-merging-classes-inherited

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
        string="Signing link (mails)", compute="_compute_esign_mail_link",
        help="The absolute link to the signing page, as the mails give it (share it only with the signer).")
    esign_mail_sign_button = fields.Html(
        string="Sign button (mails)", compute="_compute_esign_mail_link", sanitize=False)
    esign_mail_documents = fields.Char(string="Documents (mails)", compute="_compute_esign_mail_texts")
    esign_mail_deadline = fields.Char(string="Expiry day (mails)", compute="_compute_esign_mail_texts")
    esign_mail_deadline_sentence = fields.Char(string="Expiry sentence (mails)",
                                               compute="_compute_esign_mail_texts")
    esign_mail_cancel_reason_sentence = fields.Char(string="Cancellation reason (mails)",
                                                    compute="_compute_esign_mail_texts")
    esign_mail_refused_by = fields.Char(string="Refused by (mails)", compute="_compute_esign_mail_texts")
    esign_mail_mobile_hint = fields.Char(string="Mobile hint (mails)", compute="_compute_esign_mail_texts",
                                         help="e.g. “ending in 78”: which phone the code goes to.")
    esign_sms_code = fields.Char(
        string="Code (SMS)", compute="_compute_esign_sms_code",
        help="The one-time code, in the SMS template only (it exists only while the SMS is "
             "rendered, never stored).")

    # ---------------------------------------------------------------- computes
    @api.depends("state", "date_invited", "last_reminder_date", "reminder_count", "request_id.state",
                 "request_id.reminder_first_days", "request_id.reminder_interval_days",
                 "request_id.reminder_max")
    def _compute_next_reminder_date(self):
        """First reminder N days after the invitation, then every M days, at most K; a manual
        reminder also pushes the next one M days away."""
        for signer in self:
            request = signer.request_id
            if (signer.state != "pending" or not signer.date_invited
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

    # -------------------------------------------------------------------- CRUD
    def write(self, vals):
        if not is_internal_write() and SIGNER_AUTOMATION_FIELDS.intersection(vals):
            raise UserError(_("The reminders of a signer are counted by the signature process."))
        return super().write(vals)

    # ------------------------------------------------------------- templates
    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + SIGNER_MAIL_EXPRESSIONS

    def _esign_signing_link(self):
        """The absolute link to this signer's signing page, for mails (it carries the signer's
        access token when the signer has one). The signer page part may override this."""
        self.ensure_one()
        if "access_token" in self._fields and hasattr(self, "get_portal_url"):
            path = self.get_portal_url()
        else:
            path = self.access_url or "/"
        return url_join(self.request_id.get_base_url(), path)

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

    @api.depends_context("esign_otp_code")
    def _compute_esign_sms_code(self):
        # The SMS code is given to the template's rendering in the context (see o2s_esign_sms).
        code = self.env.context.get("esign_otp_code") or False
        for signer in self:
            signer.esign_sms_code = code

    # ---------------------------------------------------------- notifications
    def _send_template_mail(self, xmlid, kind, extra_payload=None, email_values=None):
        # The mail report (o2s.esign.mail.log) recognises the module's mails by this key.
        return super(O2sEsignSigner, self.with_context(o2s_esign_mail_kind=kind))._send_template_mail(
            xmlid, kind, extra_payload=extra_payload, email_values=email_values)

    def _send_reminder(self, manual=False):
        """Send the reminder, log it in the audit trail and move the watermark (an automatic
        reminder counts towards the maximum; a manual one only pushes the next one away)."""
        res = super()._send_reminder(manual=manual)
        now = fields.Datetime.now()
        for signer in self:
            values = {"last_reminder_date": now}
            if not manual:
                values["reminder_count"] = signer.reminder_count + 1
            with internal_write():
                signer.write(values)
            signer.request_id._log_event("reminder_sent", signer=signer, payload={
                "manual": manual, "count": signer.reminder_count})
        return res

    def _notify_cancel(self, refused=False):
        """When another signer refused, the signers left are told with the refusal template."""
        if refused:
            self._send_template_mail("o2s_esign.mail_template_esign_refused", "refusal",
                                     extra_payload={"because_refused": True})
            return
        super()._notify_cancel(refused=refused)

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

    def _mark_reminder_failure(self):
        """Keep a signer whose reminder crashed out of the cron's way for a day (the error is
        logged): a broken unit must not hold the others back, nor be retried in a loop."""
        with internal_write():
            self.write({"reminder_blocked_until": fields.Datetime.now() + timedelta(days=1)})
