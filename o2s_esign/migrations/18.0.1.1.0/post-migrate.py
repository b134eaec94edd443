# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.1.0: evidence copies saved on contacts before they were linked to their request get
linked, so that only who may read the request reads them (see models/ir_attachment.py)."""
import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    linked = env["ir.attachment"]._esign_link_saved_evidence()
    _logger.info("o2s_esign: %s saved evidence copies linked to their request", linked)
