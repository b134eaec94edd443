# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from ..lib import sms as lib_sms

OPTIONS_GROUP = "o2s_esign.group_esign_options"


class ResCompany(models.Model):
    _inherit = "res.company"

    # SMS transport -------------------------------------------------------------------------
    esign_sms_transport = fields.Selection(
        [("iap", "Odoo SMS (IAP)"), ("twilio", "Twilio"), ("webhook", "JSON webhook"),
         ("outbox", "Outbox (sends nothing)")],
        string="SMS transport", default="iap", required=True, groups=OPTIONS_GROUP)
    esign_sms_sender = fields.Char(string="SMS sender name", groups=OPTIONS_GROUP)
    esign_twilio_base_url = fields.Char(
        string="Twilio base URL", default="https://api.twilio.com", groups=OPTIONS_GROUP)
    esign_twilio_account_sid = fields.Char(string="Twilio account SID", groups=OPTIONS_GROUP)
    esign_twilio_auth_token = fields.Char(string="Twilio auth token", groups=OPTIONS_GROUP)
    esign_twilio_from = fields.Char(string="Twilio sender number", groups=OPTIONS_GROUP)
    esign_webhook_url = fields.Char(string="SMS webhook URL", groups=OPTIONS_GROUP)
    esign_webhook_token = fields.Char(string="SMS webhook token", groups=OPTIONS_GROUP)
    # Signature -----------------------------------------------------------------------------
    esign_tsa_url = fields.Char(string="Timestamp authority URL", groups=OPTIONS_GROUP)
    esign_tsa_username = fields.Char(string="Timestamp authority user", groups=OPTIONS_GROUP)
    esign_tsa_password = fields.Char(string="Timestamp authority password", groups=OPTIONS_GROUP)
    esign_pades_level = fields.Selection(
        [("b_b", "PAdES B-B (no trusted time)"), ("b_t", "PAdES B-T (timestamped)"),
         ("b_lt", "PAdES B-LT (long-term validation data)"),
         ("b_lta", "PAdES B-LTA (archival timestamp)")],
        string="Signature level", default="b_b", required=True)
    esign_signature_placement = fields.Selection(
        [("signature_page", "On a signature page added at the end"),
         ("last_page", "On the last page of the document")],
        string="Signature placement", default="signature_page", required=True)
    # Workflow ------------------------------------------------------------------------------
    esign_validity_days = fields.Integer(string="Default validity (days)", default=30)
    esign_reminder_first_days = fields.Integer(string="First reminder after (days)", default=2)
    esign_reminder_interval_days = fields.Integer(string="Then remind every (days)", default=3)
    esign_reminder_max = fields.Integer(string="Maximum number of reminders", default=3)
    esign_max_upload_mb = fields.Integer(string="Maximum file size (MB)", default=20)
    esign_signing_page_text = fields.Html(
        string="Signing page text", translate=True, sanitize=True, groups=OPTIONS_GROUP)

    def _esign_post_init(self):
        """Run at install for every company. The signing part of the module creates each
        company's signing identity here."""
        return True

    def _esign_sms_config(self):
        """The company's SMS settings, as ``lib.sms`` expects them per transport.

        sudo: the settings fields are restricted to the options-management group, and a code is
        sent for any visitor of a signing page. The one place that reads them (their storage
        may change)."""
        self.ensure_one()
        company_sudo = self.sudo()
        sender = (company_sudo.esign_sms_sender or "").strip()
        return {
            "transport": company_sudo.esign_sms_transport or "iap",
            "sender": sender,
            "twilio": {
                "base_url": company_sudo.esign_twilio_base_url or lib_sms.TWILIO_BASE_URL,
                "account_sid": company_sudo.esign_twilio_account_sid or "",
                "auth_token": company_sudo._esign_get_secret("twilio_auth_token") or "",
                "from": company_sudo.esign_twilio_from or sender,
            },
            "webhook": {
                "url": company_sudo.esign_webhook_url or "",
                "token": company_sudo._esign_get_secret("webhook_token") or "",
                "sender": sender,
            },
            "outbox": {},
        }
