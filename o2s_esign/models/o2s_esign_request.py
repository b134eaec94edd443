# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import internal_write, is_internal_write, plaintext_note

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
    "state", "reference", "date_sent", "date_done", "error_message", "error_transient", "cancel_reason",
    "pades_level", "event_head",
}


class O2sEsignRequest(models.Model):
    _name = "o2s.esign.request"
    _description = "Signature request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

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
        [("b_b", "PAdES B-B"), ("b_t", "PAdES B-T"), ("b_lt", "PAdES B-LT"),
         ("b_lta", "PAdES B-LTA")],
        string="Signature level", readonly=True, copy=False,
        help="The PAdES level requested when the request was sent.")
    event_head = fields.Char(string="Audit trail head", readonly=True, copy=False,
                             help="Hash of the last event of the audit trail.")
    signer_count = fields.Integer(compute="_compute_signer_stats", string="Signers count")
    signed_count = fields.Integer(compute="_compute_signer_stats", string="Signatures")
    document_count = fields.Integer(compute="_compute_document_count", string="Documents count")
    origin_display = fields.Char(compute="_compute_origin_display", string="Origin")
    may_change_access = fields.Boolean(
        string="May change who has the request", compute="_compute_may_change_access",
        help="The current user may change the advisor and whom the request is shared with.")

    _sql_constraints = [
        ("reference_company_uniq", "unique(reference, company_id)",
         "A request reference must be unique per company."),
    ]

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

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            illegal = INTERNAL_FIELDS.intersection(vals) - {"state", "reference"}
            if vals.get("state", "draft") != "draft" and not is_internal_write():
                raise UserError(_("A signature request is always created as a draft, then sent."))
            if illegal and not is_internal_write():
                raise UserError(_("These fields are set by the signature process: %(fields)s",
                                  fields=", ".join(sorted(illegal))))
            if vals.get("origin_model") and vals["origin_model"] not in self.env:
                raise ValidationError(_("Unknown origin model: %(model)s", model=vals["origin_model"]))
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
        if not is_internal_write():
            internal = INTERNAL_FIELDS.intersection(vals)
            if internal:
                raise UserError(_(
                    "The status and the dates of a signature request follow its signature "
                    "process and cannot be edited (%(fields)s).", fields=", ".join(sorted(internal))))
            frozen = FROZEN_AFTER_SEND.intersection(vals)
            if frozen and self.filtered(lambda r: r.state != "draft"):
                raise UserError(_(
                    "A signature request cannot be changed once sent (%(fields)s). Cancel it and "
                    "send a new one.", fields=", ".join(sorted(frozen))))
            if "date_deadline" in vals and self.filtered(lambda r: r.state in FINAL_STATES):
                raise UserError(_("The expiry date of a completed request cannot be changed."))
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

    def _check_transition(self, new_state):
        for request in self:
            if new_state not in ALLOWED_TRANSITIONS[request.state]:
                states = dict(self._fields["state"]._description_selection(self.env))
                raise UserError(_(
                    "The request %(ref)s cannot go from “%(old)s” to “%(new)s”.",
                    ref=request.reference, old=states[request.state], new=states[new_state]))

    def _set_state(self, new_state, event_payload=None, **values):
        """Move to ``new_state`` (checked against the state machine), write ``values`` and log
        a ``state_changed`` event. The only way the state ever changes."""
        self._check_transition(new_state)
        for request in self:
            old_state = request.state
            with internal_write():
                request.write(dict(values, state=new_state))
            request._log_event("state_changed", payload=dict(
                event_payload or {}, old_state=old_state, new_state=new_state))

    # ----------------------------------------------------------------- events
    def _log_event(self, event_type, signer=None, payload=None, ip_address=None, user_agent=None):
        """Append one event to the request's hash-chained audit trail (see o2s.esign.event)."""
        self.ensure_one()
        return self.env["o2s.esign.event"]._append(
            self, event_type, signer=signer, payload=payload,
            ip_address=ip_address, user_agent=user_agent)

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

    def _actor_payload(self):
        """Who did a backend action, for the event payload."""
        user = self.env.user
        return {"user_id": user.id, "user": user.name}

    def verify_event_chain(self):
        """Re-walk the audit trail of each request. Returns, per request id, a dict with ``ok``,
        ``count``, ``head``, ``first_broken`` (a sequence number) and ``reason``."""
        self.check_access("read")
        return {request.id: self.env["o2s.esign.event"]._verify_chain(request) for request in self}

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
            raise UserError(_("The request cannot be sent:") + "\n" + "\n".join(
                "• %s" % problem for problem in problems))
        for request in self:
            request._do_send()
        return True

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
        self._set_state("in_progress", date_sent=now, event_payload=self._actor_payload())
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
            for signer in to_invite:
                self._log_event("signer_invited", signer=signer, payload={"signer": signer.name})
            to_invite._send_invitation()
        return to_invite

    def action_cancel(self, reason=None):
        """Cancel open requests (signers are told); ``reason`` is optional free text."""
        self.check_access("write")
        reason = (reason or "").strip() or False
        if reason and len(reason) > 2000:
            raise UserError(_("The cancellation reason is too long (2,000 characters at most)."))
        for request in self:
            if request.state not in OPEN_STATES:
                request._check_transition("cancelled")
            request._set_state(
                "cancelled", cancel_reason=reason, date_done=fields.Datetime.now(),
                event_payload=dict(self._actor_payload(), reason=reason or None))
            request._log_event("cancelled", payload=dict(self._actor_payload(), reason=reason or None))
            request.signer_ids.filtered(lambda s: s.state in ("pending", "waiting"))._notify_cancel()
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
        for request in self:
            if request.state != "in_progress":
                raise UserError(_("Only a request in progress can be reminded."))
            signers = request.signer_ids.filtered(lambda s: s.state == "pending")
            signers._send_reminder(manual=True)
        return True

    def action_retry(self):
        """Retry what failed (mail, SMS, timestamp, seal) for requests in error."""
        self.check_access("write")
        for request in self:
            if request.state != "error":
                raise UserError(_("Only a request in error can be retried."))
            request._retry()
        return True

    def _retry(self):
        self.ensure_one()
        self._set_state("in_progress", error_message=False, error_transient=False,
                        event_payload=self._actor_payload())
        self._log_event("retried", payload=self._actor_payload())
        self._resume_after_retry()

    def _resume_after_retry(self):
        """Re-do the step that failed. Other parts of the module extend this."""
        self.ensure_one()
        pending = self.signer_ids.filtered(lambda s: s.state == "pending" and s.invitation_failed)
        pending._send_invitation()
        self._advance_signers()
        self._check_completion()

    def _set_error(self, message, transient=True, signer=None):
        """Put the request in error with ``message`` (shown to the advisor)."""
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
                "mail.mail_activity_data_todo", user_id=request.user_id.id,
                summary=_("Signature request in error"), note=plaintext_note(message))

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
        """Every signer has signed: seal, build the evidence, mark as signed.

        The evidence part of the module overrides this to seal the documents first; it must
        leave the request in error (and not signed) if sealing fails."""
        self.ensure_one()
        self._set_state("signed", date_done=fields.Datetime.now())
        self._notify_signed()

    def _on_refused(self, signer):
        self.ensure_one()
        self.signer_ids.filtered(lambda s: s.state in ("pending", "waiting"))._notify_cancel(refused=True)
        self.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.user_id.id,
            summary=_("Signature refused by %(name)s", name=signer.name),
            note=plaintext_note(signer.refusal_reason))

    def _notify_signed(self):
        """Hook: tell the signers and the advisor that everything is signed (mail templates)."""
        self.ensure_one()
        self.message_post(body=_("All signers have signed."), subtype_xmlid="mail.mt_note")

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

    # ------------------------------------------------------------ integration
    @api.model
    def create_and_send(self, values):
        """Create a signature request and send it, in one call (for other modules and RPC).

        ``values``: a dict with
          - ``partner_id`` (int, required): the client contact;
          - ``name`` (str): the subject (default: the documents' names);
          - ``documents``: a list of dicts, each with either ``attachment_id`` (an
            ir.attachment the caller can read) or ``name`` + ``datas`` (base64 PDF), and an
            optional ``document_type_id``;
          - ``signers`` (optional): a list of dicts with ``partner_id`` and optional ``role``,
            ``represented_partner_id``, ``presence``; default: the client's signers
            (``res.partner._esign_default_signers``);
          - optional ``signing_order``, ``date_deadline``, ``message``, ``user_id``,
            ``origin_model`` and ``origin_id`` (the business record asking for the signature).
        Returns the new request's id. Raises UserError listing every problem, in which case
        nothing is created.
        """
        if not self.env.user.has_group("o2s_esign.group_esign_user"):
            raise AccessError(_("You need the “E-signature access” right to send documents for signature."))
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
        name = values.get("name") or ", ".join(
            cmd[2]["name"] for cmd in doc_commands if cmd[2].get("name")) or _("Documents to sign")
        vals = {
            "name": name,
            "partner_id": partner.id,
            "document_ids": doc_commands,
            "signer_ids": [fields.Command.create(v) for v in signer_vals],
            "signing_order": values.get("signing_order") or "parallel",
            "message": values.get("message") or False,
            "origin_model": values.get("origin_model") or False,
            "origin_id": values.get("origin_id") or False,
        }
        if values.get("date_deadline"):
            vals["date_deadline"] = values["date_deadline"]
        if values.get("user_id"):
            vals["user_id"] = values["user_id"]
        self._check_before_create(vals)  # every problem in one error, before anything is created
        request = self.create(vals)
        request.action_send()
        return request.id

    @api.model
    def _get_origin_requests(self, record):
        """The signature requests asked by ``record`` (any model)."""
        return self.search([("origin_model", "=", record._name), ("origin_id", "in", record.ids)])

    # -------------------------------------------------------------- utilities
    def _payload_json(self, payload):
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
