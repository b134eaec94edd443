# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.2.0: the sealing scheduled action seals one request per run (its record is noupdate:
the new code is set here when it still has the former one; the second sealing action is a new
record, created by the update)."""
import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("o2s_esign.ir_cron_esign_seal_requests", raise_if_not_found=False)
    if cron and cron.code.strip() == "model._cron_seal_requests()":
        cron.code = "model._cron_seal_requests(batch_size=1)"
        _logger.info("o2s_esign: the sealing scheduled action seals one request per run")
