# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What keeps a request moving without anyone watching: reminders, expiry, automatic retry of
passing errors (scheduled actions), and the mails of the end of a request."""
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, create_index, format_date

from ..tools import internal_write, is_internal_write
from .o2s_esign_signer_reminder import mail_button

_logger = logging.getLogger(__name__)

# Written by the automation only.
REQUEST_AUTOMATION_FIELDS = {"retry_count", "next_retry_date", "expiry_blocked_until"}
# Used when the ir.config_parameter o2s_esign.cron_batch_size is missing or not a positive number.
DEFAULT_CRON_BATCH_SIZE = 200
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
)


class O2sEsignRequest(models.Model):
    _inherit = "o2s.esign.request"  # pylint: disable=consider-merging-classes-inherited

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

    def init(self):
        res = super().init()
        # The expiry cron looks for open requests past their deadline.
        create_index(self.env.cr, "o2s_esign_request_open_deadline_idx", self._table,
                     ["date_deadline"], where="state IN ('in_progress', 'error')")
        return res

    # ---------------------------------------------------------------- computes
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

    @api.constrains("reminder_first_days", "reminder_interval_days", "reminder_max")
    def _check_reminder_settings(self):
        for request in self:
            if request.reminder_max < 0 or request.reminder_max > 50:
                raise ValidationError(_("The number of reminders must be between 0 and 50."))
            if request.reminder_max and (request.reminder_first_days < 1 or request.reminder_interval_days < 1):
                raise ValidationError(_("Reminders are at least one day apart."))

    # -------------------------------------------------------------------- CRUD
    def write(self, vals):
        if not is_internal_write() and REQUEST_AUTOMATION_FIELDS.intersection(vals):
            raise UserError(_("The automatic retries of a request are managed by the signature process."))
        return super().write(vals)

    # ----------------------------------------------------------------- actions
    def action_retry(self):
        """A manual retry starts the automatic retries afresh."""
        res = super().action_retry()
        with internal_write():
            self.write({"retry_count": 0})
        return res

    def action_view_mail_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_mail_log_action")
        action["domain"] = [("request_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------- mail hooks
    def mail_allowed_qweb_expressions(self):
        return super().mail_allowed_qweb_expressions() + REQUEST_MAIL_EXPRESSIONS

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

    def _get_confirmation_attachments(self, for_advisor=False):
        """The files sent with the confirmation mail: the final signed PDFs. The evidence part of
        the module extends this to add the evidence file when ``for_advisor`` is set."""
        self.ensure_one()
        return self.document_ids.signed_attachment_id

    def _esign_send_advisor_mail(self, xmlid, kind, attachments=None):
        """Queue the advisor's copy of an end-of-request mail (template on the request)."""
        self.ensure_one()
        template = self.env.ref(xmlid, raise_if_not_found=False)
        advisor = self.user_id
        payload = {"kind": kind, "audience": "advisor", "to": advisor.email or None}
        if template and advisor.email:
            email_values = None
            if attachments:
                email_values = {"attachment_ids": [fields.Command.link(a.id) for a in attachments]}
                payload["attachments"] = attachments.mapped("name")
            payload["mail_id"] = template.sudo().with_context(
                lang=advisor.lang, o2s_esign_mail_kind=kind,
            ).send_mail(self.id, email_layout_xmlid="mail.mail_notification_light",
                        email_values=email_values)
        self._log_event("email_queued", payload=payload)

    def _notify_signed(self):
        """Everyone signed: the signers get the signed documents, the advisor too (and the
        evidence, once the evidence part adds it to _get_confirmation_attachments)."""
        res = super()._notify_signed()
        self.signer_ids._notify_confirmation(self._get_confirmation_attachments())
        self._esign_send_advisor_mail(
            "o2s_esign.mail_template_esign_confirmation_advisor", "confirmation",
            attachments=self._get_confirmation_attachments(for_advisor=True))
        return res

    def _on_refused(self, signer):
        res = super()._on_refused(signer)
        self._esign_send_advisor_mail("o2s_esign.mail_template_esign_refused_advisor", "refusal")
        return res

    def _set_state(self, new_state, event_payload=None, **values):
        """Once a request is over, the invitations and reminders still queued stay unsent."""
        res = super()._set_state(new_state, event_payload=event_payload, **values)
        if new_state in ("signed", "refused", "cancelled", "expired"):
            # sudo: the mails of the request, whoever (a signer on the portal, say) ended it
            self.sudo().mail_log_ids.filtered(lambda log: log.kind in ("invitation", "reminder"))._cancel_queued(
                _("Not sent: the request was over before the mail left."))
        return res

    def _set_error(self, message, transient=True, signer=None):
        """Schedule the automatic retry of a passing error (none for a lasting one)."""
        res = super()._set_error(message, transient=transient, signer=signer)
        max_attempts = self._esign_retry_max_attempts()
        now = fields.Datetime.now()
        for request in self.filtered(lambda r: r.state == "error"):
            next_retry = False
            if transient and request.retry_count < max_attempts:
                next_retry = now + RETRY_FIRST_DELAY * (2 ** request.retry_count)
            with internal_write():
                request.write({"next_retry_date": next_retry})
        return res

    def _resume_after_retry(self):
        """Send again, as they were, the mails that failed for a passing reason; then the other
        steps. A failed invitation is not sent again: the signer gets a new one (the signer page
        part flags the signer, and the core invites flagged signers). Signers flagged because
        another of their mails failed (a reminder, say) get that mail again, not an invitation."""
        # sudo: the mails of the request, whoever retries it (access was checked by the caller)
        failed = self.sudo().mail_log_ids.filtered(lambda log: log.state == "failed" and log.transient)
        invitations = failed.filtered(lambda log: log.kind == "invitation" and log.signer_id.invitation_failed)
        invitations._cancel_failed(_("Not sent again: a new invitation replaces it."))
        (failed - invitations)._requeue()
        flagged = (failed - invitations).signer_id.filtered("invitation_failed") - invitations.signer_id
        if flagged:
            with internal_write():
                flagged.write({"invitation_failed": False})
        return super()._resume_after_retry()

    # ------------------------------------------------------------------ expiry
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

    # ------------------------------------------------------------------- retry
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

    # ----------------------------------------------------------- cron helpers
    @api.model
    def _esign_cron_batch_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param("o2s_esign.cron_batch_size")
        try:
            size = int(value or 0)
        except ValueError:
            size = 0
        return size if size > 0 else DEFAULT_CRON_BATCH_SIZE

    @api.model
    def _esign_lock_units(self, select, count, limit):
        """Run ``select`` (ending in ``LIMIT %s FOR ... SKIP LOCKED``, given ``limit``) and
        ``count``: the ids this worker now holds, and how many due units it leaves to others."""
        cr = self.env.cr
        cr.execute(SQL("%s LIMIT %s FOR NO KEY UPDATE SKIP LOCKED", select, limit))
        ids = [row[0] for row in cr.fetchall()]
        cr.execute(count)
        total = cr.fetchone()[0]
        return ids, max(total - len(ids), 0)

    @api.model
    def _esign_run_units(self, cron_xmlid, units, remaining, process, mark_failure):
        """Process each unit in its own savepoint: a unit that fails is logged, marked by
        ``mark_failure`` (so it does not come back at once) and does not stop the others.
        Reports the progress to the cron and re-triggers it while work remains."""
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
        return done

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
        ids, remaining = self._esign_lock_units(
            SQL("""SELECT s.id FROM o2s_esign_signer s JOIN o2s_esign_request r ON r.id = s.request_id
                   WHERE %s ORDER BY s.next_reminder_date, s.id""", where),
            SQL("""SELECT count(*) FROM o2s_esign_signer s JOIN o2s_esign_request r ON r.id = s.request_id
                   WHERE %s""", where),
            batch_size or self._esign_cron_batch_size())
        return self._esign_run_units(
            "o2s_esign.ir_cron_esign_send_reminders", Signer.browse(ids), remaining,
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
            AND (r.expiry_blocked_until IS NULL OR r.expiry_blocked_until <= %(now)s)
        """, today=now.date(), now=now)
        ids, remaining = self._esign_lock_units(
            SQL("SELECT r.id FROM o2s_esign_request r WHERE %s ORDER BY r.date_deadline, r.id", where),
            SQL("SELECT count(*) FROM o2s_esign_request r WHERE %s", where),
            batch_size or self._esign_cron_batch_size())
        return self._esign_run_units(
            "o2s_esign.ir_cron_esign_expire_requests", self.browse(ids), remaining,
            lambda request: request._esign_expire(),
            lambda request: request._mark_expiry_failure())

    @api.model
    def _cron_retry_errors(self, batch_size=None):
        """Retry, in one bounded batch, the requests in a passing error (mail or SMS down)
        whose next automatic retry is due."""
        self.env.flush_all()
        now = fields.Datetime.now()
        where = SQL("""
            r.state = 'error' AND r.error_transient AND r.next_retry_date <= %(now)s
        """, now=now)
        ids, remaining = self._esign_lock_units(
            SQL("SELECT r.id FROM o2s_esign_request r WHERE %s ORDER BY r.next_retry_date, r.id", where),
            SQL("SELECT count(*) FROM o2s_esign_request r WHERE %s", where),
            batch_size or self._esign_cron_batch_size())
        return self._esign_run_units(
            "o2s_esign.ir_cron_esign_retry_errors", self.browse(ids), remaining,
            lambda request: request._esign_auto_retry(),
            lambda request: request._mark_retry_failure())
