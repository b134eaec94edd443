# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class O2sEsignSigner(models.Model):
    """Consumption: every completed signature and every SMS sent leaves one immutable row."""

    # Each part of the module extends the model in a file of its own (TEAM.md).
    _inherit = "o2s.esign.signer"  # pylint: disable=consider-merging-classes-inherited

    def _on_sms_sent(self, transport, provider_id=None):
        result = super()._on_sms_sent(transport, provider_id=provider_id)
        self.env["o2s.esign.consumption"]._record_sms(self, transport, provider_id)
        return result

    def _on_signed(self):
        result = super()._on_signed()
        self.env["o2s.esign.consumption"]._record_signature(self)
        return result
