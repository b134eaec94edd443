# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Files uploaded in the send wizard (the many2many_binary widget): a file over the company's
size limit is refused before Odoo stores it, so that nothing is left in the filestore."""
import json
import os

from odoo import http
from odoo.http import request

from odoo.addons.web.controllers.binary import Binary, clean


class O2sEsignUpload(Binary):

    @http.route()
    def upload_attachment(self, model, id, ufile, callback=None):  # pylint: disable=redefined-builtin
        Attachment = request.env["ir.attachment"]
        errors = []
        for upload in request.httprequest.files.getlist("ufile"):
            upload.stream.seek(0, os.SEEK_END)
            size = upload.stream.tell()
            upload.stream.seek(0)
            problem = Attachment._esign_upload_problem(model, upload.filename, size)
            if problem:
                errors.append({"error": problem})
        if errors:
            out = """<script language="javascript" type="text/javascript">
                    var win = window.top.window;
                    win.jQuery(win).trigger(%s, %s);
                </script>"""
            return out % (json.dumps(clean(callback)), json.dumps(errors)) if callback else json.dumps(errors)
        return super().upload_attachment(model, id, ufile, callback=callback)
