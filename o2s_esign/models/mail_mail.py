# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The mail queue keeps the e-signature mail report (o2s.esign.mail.log) up to date and logs
each signer mail's delivery in the audit trail. The report is written by the module only
(nobody has write access to it), so these hooks reach it with sudo, for the mails of the
e-signature models only."""
import functools
import logging

import psycopg2

from odoo import SUPERUSER_ID, api, models

from ..tools import internal_write
from .o2s_esign_mail_log import ESIGN_MAIL_MODELS

_logger = logging.getLogger(__name__)


class MailMail(models.Model):
    _inherit = "mail.mail"

    @api.model_create_multi
    def create(self, vals_list):
        kind = self.env.context.get("o2s_esign_mail_kind")
        if kind:
            for vals in vals_list:
                vals["auto_delete"] = False  # kept for the mail report and "send again"
                if vals.get("model") == "o2s.esign.signer":
                    # The signer's mails hold their personal signing link: kept in the outgoing
                    # mail (body_html, administrators only) for "send again", never in the
                    # message that whoever reads the signer may read (the link is handed over
                    # by "Copy the signing link" only, which is logged).
                    vals["body"] = ""
        mails = super().create(vals_list)
        if kind:
            self.env["o2s.esign.mail.log"].sudo()._create_from_mails(mails, kind)
            mails._esign_send_soon()
        return mails

    def _esign_send_soon(self):
        """Send the module's new mails as soon as the transaction that queues them commits,
        instead of at the mail queue's next hourly run: trigger Odoo's mail queue (a trigger
        row written just before the commit, a NOTIFY to the cron workers right after it),
        whose run sends them and whose failures take the usual path (mail report, request in
        error, automatic retry). An invitation reaches the client while the advisor is still
        on the phone. Once per transaction (a batch of 200 reminders wakes the queue once),
        at commit time (a mail rolled back with its savepoint does not take the trigger of the
        others with it).

        sudo: the scheduled action belongs to administrators; whoever queues one of the
        module's mails (an advisor, a signer's portal session) may wake the queue up."""
        precommit = self.env.cr.precommit
        if not self or precommit.data.get("o2s_esign_send_soon"):
            return
        precommit.data["o2s_esign_send_soon"] = True
        cron_sudo = self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()
        precommit.add(cron_sudo._trigger)

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, alias_domain_id=False,
              mail_server=False, post_send_callback=None):
        if mail_server and any(model in ESIGN_MAIL_MODELS for model in self.mapped("model")):
            self.env["o2s.esign.mail.log"].sudo().search([("mail_id", "in", self.ids)]).write(
                {"mail_server_id": mail_server.id})
        return super()._send(auto_commit=auto_commit, raise_exception=raise_exception,
                             smtp_session=smtp_session, alias_domain_id=alias_domain_id,
                             mail_server=mail_server, post_send_callback=post_send_callback)

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        self.env["o2s.esign.mail.log"].sudo()._sync_from_mails(self, failure_type=failure_type)
        # Before super(): auto_delete removes the sent mails there.
        signer_mails = self.filtered(lambda mail: mail.model == "o2s.esign.signer" and mail.res_id)
        if signer_mails:
            signer_mails._esign_track_delivery(failure_reason, failure_type)
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type)

    def _esign_track_delivery(self, failure_reason, failure_type):
        """Log each signer mail's delivery in the audit trail (``_esign_log_delivery``). When a
        signer acts on the same request at this very moment (their transaction changed it after
        this one began: a serialization failure on the request's row), or another transaction
        holds the request's row (the sealing, which may be waiting for the mails this
        transaction holds: it never waits for it, NOWAIT), the delivery is logged right after
        this transaction commits, in a transaction of its own: the audit trail misses nothing,
        and the mail's state is kept either way."""
        nowait = self.with_context(o2s_esign_lock_nowait=True)
        for mail in self:
            delivery = {
                "mail_id": mail.id, "signer_id": mail.res_id, "subject": mail.subject,
                "failed": bool(failure_type) or mail.state == "exception",
                "reason": failure_reason or mail.failure_reason or failure_type or "",
                "failure_type": failure_type or None,
            }
            try:
                with self.env.cr.savepoint():
                    nowait._esign_log_delivery(delivery)
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
                _logger.info("o2s_esign: delivery of mail %s logged after commit (concurrent update)",
                             mail.id)
                self.env.cr.postcommit.add(functools.partial(
                    _esign_log_delivery_after_commit, self.env.registry, delivery))

    @api.model
    def _esign_log_delivery(self, delivery):
        """One signer mail's delivery (``delivery``: what ``_esign_track_delivery`` read of the
        mail, which may be deleted by now) as an ``email_sent`` or ``email_failed`` event. A mail
        that could not be sent to a signer who still has to sign puts the request in error
        (retrying sends the invitation again).

        sudo: the mail queue runs for any user; the events and the request state are written by
        the signature process itself."""
        signer_sudo = self.env["o2s.esign.signer"].sudo().browse(delivery["signer_id"]).exists()
        if not signer_sudo:
            return
        request_sudo = signer_sudo.request_id
        payload = {"mail_id": delivery["mail_id"], "subject": delivery["subject"],
                   "to": signer_sudo.email}
        if not delivery["failed"]:
            request_sudo._log_event("email_sent", signer=signer_sudo, payload=payload)
            return
        reason = delivery["reason"]
        failure_type = delivery["failure_type"]
        request_sudo._log_event("email_failed", signer=signer_sudo, payload=dict(
            payload, failure_type=failure_type, reason=reason[:500] or None))
        if signer_sudo.state == "pending" and request_sudo.state in ("in_progress", "error"):
            with internal_write():
                signer_sudo.write({"invitation_failed": True})
            # In the advisor's language: the queue runs as whoever triggered it.
            env_lang = self.with_context(lang=request_sudo.user_id.lang or self.env.lang).env
            request_sudo._set_error(
                env_lang._("The email to %(name)s (%(email)s) could not be sent: %(reason)s",
                           name=signer_sudo.name, email=signer_sudo.email,
                           reason=env_lang["o2s.esign.mail.log"]._esign_failure_text(
                               failure_type, reason[:300])),
                transient=failure_type not in ("mail_email_invalid", "mail_email_missing"),
                signer=signer_sudo)


def _esign_log_delivery_after_commit(registry, delivery, attempts=5):
    """Log a delivery whose logging met a concurrent update (``MailMail._esign_track_delivery``),
    once that transaction has committed: in a new transaction as the superuser (the mail queue's
    work, see ``_esign_log_delivery``), tried again while other transactions keep changing the
    request."""
    for _attempt in range(attempts):
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["mail.mail"]._esign_log_delivery(delivery)
            return
        except psycopg2.errors.SerializationFailure:
            continue
    _logger.warning("o2s_esign: delivery of mail %s not logged (the request kept changing)",
                    delivery["mail_id"])
