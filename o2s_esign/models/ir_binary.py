# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every stream of an evidence file, of a saved copy of one or of an attestation is logged.

Odoo streams attachments through ``ir.binary`` whatever the route: ``/web/content`` and
``/web/image`` (the chatter's download of a saved copy), and the module's own download routes
(``/esign/evidence/...``, behind the request's buttons). Logging here, once the stream is made
(the route checked access first), makes each of them an event of the request."""
from odoo import http, models

from .ir_attachment import CONTENT_FIELDS


class IrBinary(models.AbstractModel):
    _inherit = "ir.binary"

    def _record_to_stream(self, record, field_name):
        stream = super()._record_to_stream(record, field_name)
        if record._name == "ir.attachment" and field_name in CONTENT_FIELDS:
            route = http.request.httprequest.path if http.request else "server"
            record._esign_log_downloads(route)
        return stream
