# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The mail report: one line per mail the module sent, kept in step with mail.mail.

Why a model of its own rather than a view on mail.mail: mail.mail is readable by system
administrators only and Odoo deletes it once sent; advisors must see the mails of their own
requests (record rules as on the requests) and the line must outlive the mail. The module's mails
are kept (auto_delete off) so that a failed one can be sent again as it was.
"""
import logging

import psycopg2.errors
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from ..tools import internal_write

_logger = logging.getLogger(__name__)

MAIL_KINDS = [
    ("invitation", "Invitation"),
    ("reminder", "Reminder"),
    ("cancellation", "Cancellation"),
    ("confirmation", "Confirmation"),
    ("refusal", "Refusal"),
    ("expiry", "Expiry"),
    ("signer_locked", "Signer locked"),
    ("other", "Other"),
]
# Failures that will not go away by sending again (Odoo's mail.mail failure types).
LASTING_FAILURES = {"mail_email_invalid", "mail_email_missing", "mail_from_invalid", "mail_bounce"}
ESIGN_MAIL_MODELS = ("o2s.esign.signer", "o2s.esign.request")


class O2sEsignMailLog(models.Model):
    _name = "o2s.esign.mail.log"
    _description = "E-signature mail"
    _order = "date desc, id desc"
    _rec_name = "subject"

    request_id = fields.Many2one(
        "o2s.esign.request", required=True, index=True, ondelete="cascade",
        readonly=True)
    signer_id = fields.Many2one("o2s.esign.signer", index=True, readonly=True,
                                ondelete="set null")
    # Copied from the request when the mail is queued (the record rules use them).
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Advisor", readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True, index=True)
    kind = fields.Selection(MAIL_KINDS, string="Type", required=True, readonly=True, default="other")
    subject = fields.Char(readonly=True)
    email_from = fields.Char(string="Sender", readonly=True)
    email_to = fields.Char(string="Recipient", readonly=True)
    date = fields.Datetime(string="Queued on", required=True, readonly=True,
                           default=fields.Datetime.now)
    date_sent = fields.Datetime(string="Sent on", readonly=True)
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("bounced", "Bounced"), ("failed", "Failed"),
         ("cancelled", "Not sent")],
        string="Status", required=True, default="queued", readonly=True, index=True)
    failure_type = fields.Char(readonly=True)
    failure_reason = fields.Text(string="Technical detail", readonly=True)
    failure_message = fields.Char(
        string="Failure reason", compute="_compute_failure_message",
        help="Why the mail was not sent, in plain words (the technical detail is kept too).")
    transient = fields.Boolean(
        string="Passing failure", readonly=True,
        help="The failure came from the mail server (down, refused the connection...): the "
             "request is retried automatically.")
    send_count = fields.Integer(string="Sendings", readonly=True, default=1)
    mail_id = fields.Many2one("mail.mail", string="Outgoing mail", readonly=True, index="btree_not_null",
                              ondelete="set null")
    mail_message_id = fields.Many2one("mail.message", readonly=True, index="btree_not_null",
                                      ondelete="set null")
    mail_server_id = fields.Many2one("ir.mail_server", string="Sent through", readonly=True,
                                     ondelete="set null")

    # ---------------------------------------------------------------- computes
    @api.depends("state", "failure_type", "failure_reason")
    @api.depends_context("lang")
    def _compute_failure_message(self):
        for log in self:
            if log.state in ("failed", "bounced"):
                log.failure_message = log._esign_failure_text(log.failure_type, log.failure_reason)
            elif log.state == "cancelled":
                log.failure_message = log.failure_reason
            else:
                log.failure_message = False

    @api.model
    def _esign_failure_text(self, failure_type, detail):
        """A failure in words an advisor reads (in the current language), from Odoo's failure
        type and the technical detail (an SMTP or socket error such as "111 Connection
        refused")."""
        detail = " ".join((detail or "").split())
        lowered = detail.lower()
        if failure_type == "mail_email_invalid":
            return self.env._("The recipient's address is not valid.")
        if failure_type == "mail_email_missing":
            return self.env._("The recipient has no email address.")
        if failure_type in ("mail_from_invalid", "mail_from_missing"):
            return self.env._("The mail server refused the sender's address: check the outgoing "
                              "mail server and the sender address.")
        if failure_type == "mail_bounce":
            return self.env._("The recipient's mail server returned the mail: the address does "
                              "not receive mail.")
        server_causes = [
            ("connection refused", self.env._("the server refused the connection")),
            ("timed out", self.env._("the server did not answer")),
            ("name or service not known", self.env._("the server's name is unknown")),
            ("temporary failure in name resolution", self.env._("the server's name is unknown")),
            ("authentication", self.env._("the server refused the login")),
            ("certificate", self.env._("the server's certificate was refused")),
        ]
        for marker, cause in server_causes:
            if marker in lowered:
                return self.env._("The outgoing mail server could not be reached (%(cause)s). "
                                  "The mail is sent again automatically.", cause=cause)
        if failure_type == "mail_smtp":
            return self.env._("The outgoing mail server could not be reached. The mail is sent "
                              "again automatically.")
        return self.env._("The mail could not be sent (%(detail)s).",
                          detail=detail or self.env._("unknown error"))

    # ----------------------------------------------------------------- actions
    def action_resend(self):
        """Send the failed or bounced mails again, as they were. A request held in error by a
        passing failure is retried as a whole (its other failed mails go again too)."""
        resendable = self.filtered(lambda log: log.state in ("failed", "bounced"))
        if not resendable:
            raise UserError(_("Only a failed or bounced mail can be sent again."))
        resendable.request_id.check_access("write")
        stale = resendable.filtered(lambda log: log.kind in ("invitation", "reminder") and (
            log.request_id.state not in ("in_progress", "error")
            or (log.signer_id and log.signer_id.state != "pending")))
        if stale:
            raise UserError(_("An invitation or a reminder is sent again only while its signer "
                              "may still sign: the request is over or the signer has answered."))
        if resendable.filtered(lambda log: not log.mail_id):
            raise UserError(_("This mail was deleted from the outgoing mails: it cannot be sent again."))
        requests = resendable.request_id.filtered(lambda r: r.state == "error" and r.error_transient)
        for request in requests:
            request._retry()
        resendable.filtered(lambda log: log.state in ("failed", "bounced"))._requeue()
        return True

    def action_open_request(self):
        self.ensure_one()
        return self.request_id._esign_form_action()

    # --------------------------------------------------------------- private
    def _requeue(self):
        """Put the mails back in Odoo's outgoing queue and wake the queue up (sudo: the mail
        queue belongs to administrators; access to the request was checked by the caller)."""
        if not self:
            return
        self.mail_id.sudo().mark_outgoing()
        for log in self.sudo():
            log.write({"state": "queued", "failure_type": False, "failure_reason": False,
                       "transient": False, "send_count": log.send_count + 1})
        self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()

    def _cancel_failed(self, reason):
        """Close failed mails that another mail replaces (they stay in the report; sudo: only
        the module writes the report)."""
        for log in self.sudo():
            log.write({"state": "cancelled", "transient": False,
                       "failure_reason": "\n".join(filter(None, [reason, log.failure_reason]))})

    def _cancel_queued(self, reason):
        """Withdraw mails still waiting in the queue (sudo: the queue belongs to administrators;
        called by the request's own state changes).

        The mail queue may be sending one of them at this very moment (another cron worker: its
        row locked, or changed since this transaction began). Such a mail is leaving: it is not
        withdrawn, its log follows its delivery, and this transaction (the sealing, say) goes
        on instead of failing on it or waiting for it (the queue may be waiting for the request
        this transaction holds)."""
        queued = self.filtered(lambda log: log.state == "queued")
        mails = self.env["mail.mail"].sudo()
        leaving = self.browse()
        for log in queued:
            mail = log.sudo().mail_id
            if not mail or mail.state != "outgoing":
                continue
            try:
                with self.env.cr.savepoint():
                    self.env.cr.execute(
                        "SELECT id FROM mail_mail WHERE id = %s FOR NO KEY UPDATE NOWAIT",
                        [mail.id], log_exceptions=False)
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
                leaving |= log
                continue
            mails |= mail
        mails.cancel()
        (queued - leaving).sudo().write({"state": "cancelled", "failure_reason": reason})

    @api.model
    def _create_from_mails(self, mails, kind):
        """Log the module's newly created mails and show them on the contacts' chatter."""
        values = []
        for mail in mails:
            signer = request = partner = None
            if mail.model == "o2s.esign.signer" and mail.res_id:
                signer = self.env["o2s.esign.signer"].browse(mail.res_id)
                request, partner = signer.request_id, signer.partner_id
            elif mail.model == "o2s.esign.request" and mail.res_id:
                request = self.env["o2s.esign.request"].browse(mail.res_id)
                partner = mail.recipient_ids[:1]
            if not request:
                continue
            values.append({
                "request_id": request.id,
                "company_id": request.company_id.id,
                "user_id": request.user_id.id,
                "signer_id": signer.id if signer else False,
                "partner_id": partner.id if partner else False,
                "kind": kind if kind in dict(MAIL_KINDS) else "other",
                "subject": mail.subject,
                "email_from": mail.email_from,
                "email_to": mail.email_to or ", ".join(p.email_formatted for p in mail.recipient_ids),
                "mail_id": mail.id,
                "mail_message_id": mail.mail_message_id.id,
            })
        logs = self.create(values)
        for log in logs.filtered("signer_id"):
            log._post_on_contacts(_("E-signature mail to %(email)s: “%(subject)s” (%(kind)s, request %(reference)s).",
                                    email=log.email_to, subject=log.subject or "",
                                    kind=log._kind_label(), reference=log.request_id.reference))
        return logs

    def _kind_label(self):
        return dict(self._fields["kind"]._description_selection(self.env)).get(self.kind, self.kind)

    def _post_on_contacts(self, text):
        """A note on the chatter of the request's client (and of the signer, if someone else)."""
        self.ensure_one()
        partners = self.request_id.partner_id | self.signer_id.partner_id
        for partner in partners:
            partner._message_log(body=Markup("<p>%s</p>") % text)

    @api.model
    def _sync_from_mails(self, mails, failure_type=None):
        """Follow the status of sent or failed mails; a failure puts the open request in error
        (a passing one is retried by the scheduled action)."""
        if not any(model in ESIGN_MAIL_MODELS for model in mails.mapped("model")):
            return
        logs = self.search([("mail_id", "in", mails.ids)])
        now = fields.Datetime.now()
        for log in logs:
            mail = log.mail_id
            if mail.state == "sent":
                log.write({"state": "sent", "date_sent": now, "failure_type": False,
                           "failure_reason": False, "transient": False})
                if log.request_id.retry_count:
                    with internal_write():
                        log.request_id.write({"retry_count": 0})
            elif mail.state == "exception":
                transient = failure_type not in LASTING_FAILURES
                reason = mail.failure_reason or _("Unknown error")
                log.write({"state": "failed", "failure_type": failure_type or "unknown",
                           "failure_reason": reason, "transient": transient})
                # In the advisor's language: the mail queue runs as whoever triggered it.
                log_lang = log.with_context(lang=log.user_id.lang or self.env.lang)
                log._on_failure(log_lang.env._(
                    "The mail to %(email)s could not be sent: %(reason)s", email=log.email_to,
                    reason=log_lang._esign_failure_text(failure_type, reason)), transient)

    def _on_failure(self, message, transient, bounced=False):
        """A mail failed: the contacts' chatter says so, and the open request goes in error.
        For a mail to a signer that could not be sent, the delivery tracking of mail.mail
        (mail_mail.py) does the latter (and flags the signer for a new invitation)."""
        self.ensure_one()
        if bounced or not self.signer_id:
            self.request_id._set_error(message, transient=transient, signer=self.signer_id or None)
        if self.signer_id:
            self._post_on_contacts(message)

    @api.model
    def _on_bounce(self, bounced_message, message_dict):
        """A mail of the module bounced: the address does not work, which no retry will fix."""
        logs = self.search([("mail_message_id", "=", bounced_message.id)])
        reason = html2plaintext(message_dict.get("body") or "").strip()[:1000]
        for log in logs:
            log.write({"state": "bounced", "failure_type": "mail_bounce", "transient": False,
                       "failure_reason": reason or _("The recipient's mail server returned the mail.")})
            log._on_failure(_("The mail to %(email)s bounced: the address does not receive mail.",
                              email=log.email_to), transient=False, bounced=True)

