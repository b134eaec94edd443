# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sending the SMS of the module through the transport chosen in the company settings.

``twilio``, ``webhook`` and ``outbox`` go through ``lib.sms``; ``iap`` through Odoo's SMS
service (``sms`` module), called directly so that no ``sms.sms`` row keeps the text (it holds
the code).
"""
import logging
import uuid

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError

from ..lib import errors as lib_errors
from ..lib import sms as lib_sms

_logger = logging.getLogger(__name__)

IAP_SUCCESS_STATES = ("success", "processing", "delivered", "sent")


class O2sEsignSmsMixin(models.AbstractModel):
    """Sending a signer's SMS (mixed into ``o2s.esign.signer``)."""

    _name = "o2s.esign.sms.mixin"
    _description = "Signer SMS sending"

    def _get_otp_sms_body(self, code):
        """The text of the code SMS, from the editable template, in the signer's language.

        The code reaches the template through the rendering context only. A template whose
        text lost the code falls back to the default text."""
        self.ensure_one()
        lang = self._esign_lang()
        template = self.env.ref("o2s_esign.sms_template_esign_otp", raise_if_not_found=False)
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
        see res_company_esign.py): a refused one fails like a gateway that cannot be reached,
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
            if self._esign_sms_unreachable(exc):
                _logger.info("SMS via %s not sent: %s", transport, exc.code)
            raise

    @api.model
    def _esign_sms_unreachable(self, exc):
        """Whether an SmsError is one of the gateway's network outcomes (no answer, refused
        connection, an HTTP error, an unexpected answer), which are all reported alike."""
        return exc.code in ("timeout", "connection", "bad_response") or exc.code.startswith("http_")

    @api.model
    def _esign_sms_error_code(self, exc):
        """The code of an SmsError as the audit trail records it: one ``unreachable`` for
        every network outcome (the server log keeps the exact one)."""
        return "unreachable" if self._esign_sms_unreachable(exc) else exc.code

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
        if self._esign_sms_unreachable(exc):
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
