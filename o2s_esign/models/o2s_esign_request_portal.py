# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class O2sEsignRequest(models.Model):
    _inherit = "o2s.esign.request"

    def _resume_after_retry(self):
        """Apply first the signatures that signers made while a service was down (without
        asking them again); stop there if one still cannot be applied (back in error)."""
        self.ensure_one()
        for signer in self.signer_ids.filtered("sign_pending").sorted("sequence"):
            if not signer._apply_pending_signature():
                return False
        if self.state not in ("in_progress", "error"):
            return True  # the signatures completed (or closed) the request
        return super()._resume_after_retry()
