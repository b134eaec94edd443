# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Records nobody changes, administrators included: the audit trail and the consumption."""
from odoo import api, models
from odoo.exceptions import UserError

from ..tools import is_internal_write


class O2sEsignAppendOnlyMixin(models.AbstractModel):
    """Only the module's own code creates these records (inside ``internal_write()``); nobody
    writes, deletes or duplicates them. Models say why in ``_append_only_messages``."""

    _name = "o2s.esign.append.only.mixin"
    _description = "E-signature append-only records"

    def _append_only_messages(self):
        """``{"create" | "write" | "unlink" | "copy": translated refusal}``."""
        raise NotImplementedError

    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write():
            self.check_access("create")  # nobody has the right: an AccessError for every user
            raise UserError(self._append_only_messages()["create"])
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self._append_only_messages()["write"])

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self._append_only_messages()["unlink"])

    def copy(self, default=None):  # pylint: disable=method-required-super
        raise UserError(self._append_only_messages()["copy"])
