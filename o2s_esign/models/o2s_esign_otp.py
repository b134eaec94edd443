# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""SMS one-time codes of a signer.

Only a keyed hash of the code is stored (HMAC with a key derived from the master key, bound to
the database, the request, the signer and a per-code nonce), with its issue time, the count of
wrong attempts and the recent send times. The code itself exists only in memory while the SMS
is built; it is never logged, stored or put in an event. The policy (10 minutes, single use,
5 wrong attempts, 60 s between sends, 5 sends an hour) is ``lib.otp.OtpPolicy``.
"""
import json
import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import crypto as lib_crypto
from ..lib import errors as lib_errors
from ..lib import otp as lib_otp
from ..tools import get_master_key, internal_write, is_internal_write

_logger = logging.getLogger(__name__)

OTP_PURPOSE = "o2s-esign-otp"
OTP_POLICY = lib_otp.OtpPolicy()
#: how long a verified code lets the page sign (from the verification)
VERIFIED_TTL = timedelta(minutes=30)
#: how long the session that signed may still download the documents of a closed request
AFTER_SIGNING_TTL = timedelta(hours=1)

OTP_PROTECTED_FIELDS = {
    "otp_hash", "otp_nonce", "otp_issued_at", "otp_attempts", "otp_used", "otp_send_times",
    "otp_verified_hash", "otp_verified_at",
}


class O2sEsignOtpMixin(models.AbstractModel):
    """SMS codes of a signer (mixed into ``o2s.esign.signer``, which provides ``request_id``,
    ``mobile``, ``name``, ``_esign_dbuuid``, ``_log_portal_event`` and the SMS sending of
    ``o2s.esign.sms.mixin``)."""

    _name = "o2s.esign.otp.mixin"
    _description = "Signer SMS codes"

    otp_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_nonce = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_issued_at = fields.Datetime(string="Last code sent on", readonly=True, copy=False)
    otp_attempts = fields.Integer(string="Wrong code attempts", readonly=True, copy=False)
    otp_used = fields.Boolean(readonly=True, copy=False)
    otp_send_times = fields.Text(readonly=True, copy=False, groups="base.group_system")
    otp_verified_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_verified_at = fields.Datetime(string="Code verified on", readonly=True, copy=False)

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write():
            for vals in vals_list:
                if OTP_PROTECTED_FIELDS.intersection(vals):
                    raise UserError(_("The SMS codes of a signer are managed by the signature process."))
        return super().create(vals_list)

    def write(self, vals):
        if not is_internal_write() and OTP_PROTECTED_FIELDS.intersection(vals):
            raise UserError(_("The SMS codes of a signer are managed by the signature process."))
        return super().write(vals)

    # ----------------------------------------------------------------- helpers
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

    # -------------------------------------------------------------------- send
    def _otp_send(self, ip_address=None, user_agent=None):
        """Send a new code to the signer's mobile (it voids the previous one).

        Returns ``{"ok": True, "masked_mobile": ..., "retry_after": seconds}``, or
        ``{"error": message, "retry_after": seconds}`` when nothing was sent (limits, SMS
        transport failure; a failure also puts the request in error)."""
        self.ensure_one()
        now = fields.Datetime.now()
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
                "purpose": "otp", "transport": transport, "error": self._esign_sms_error_code(exc),
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
        self._on_sms_sent(transport, provider_id)
        return {
            "ok": True,
            "masked_mobile": self._masked_mobile(),
            "retry_after": OTP_POLICY.resend_cooldown,
            "message": _("A code was sent by SMS to %(number)s. It is valid for 10 minutes.",
                         number=self._masked_mobile()),
        }

    # ------------------------------------------------------------------ verify
    def _otp_verify(self, code, ip_address=None, user_agent=None):
        """Check a typed code. Returns ``{"ok": True, "secret": ...}`` (the secret goes in the
        browser session: with it, and only within VERIFIED_TTL, the page may sign), or
        ``{"error": message, "remaining": n, "locked": bool}``."""
        self.ensure_one()
        now = fields.Datetime.now()
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
            self._otp_write({"otp_attempts": result.attempts})
            self._log_portal_event("otp_failed", {
                "reason": "invalid", "attempt": result.attempts, "remaining": result.remaining,
            }, ip_address=ip_address, user_agent=user_agent)
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
                or not self.otp_verified_at or not signer_sudo.otp_nonce:
            return False
        if fields.Datetime.now() - self.otp_verified_at > max_age:
            return False
        return lib_otp.check_token(
            self._otp_key(), signer_sudo.otp_verified_hash, "verified", self._esign_dbuuid(),
            str(self.id), signer_sudo.otp_nonce, secret)
