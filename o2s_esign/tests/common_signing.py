# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared set-up for the signing tests: a real certomancer PKI (TSA, OCSP, CRL) on a loopback
port configured as the company's timestamp authority, and the signing page's steps."""
import base64
import hashlib
import sys
from pathlib import Path

from odoo import fields
from odoo.tools import mute_logger

from ..tools import internal_write
from .common import O2sEsignCommon, make_pdf
from .esign_portal_common import signature_png

SUPPORT = Path(__file__).resolve().parents[2] / "tests" / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

import validation  # noqa: E402  (test support shipped in the repository, like the two below)
from pki_server import PkiServer  # noqa: E402
from sigcheck import pdfsig  # noqa: E402

#: pyHanko's validator logs at WARNING what our reports carry anyway
PYHANKO_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "pyhanko.sign.validation",
                   "pyhanko.sign.validation.generic_cms", "pyhanko.sign.diff_analysis")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class O2sEsignSigningCommon(O2sEsignCommon):
    """Requests of 2 documents and 2 signers, signed through the models with the real PKI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = PkiServer().start()
        cls.addClassCleanup(cls.pki.close)
        cls.tsa_root_pem = cls._pem(cls.pki.root_cert)
        cls.material = cls.env["o2s.esign.signing.identity"]._get_signing_material_sudo(cls.company)
        cls.roots = [cls.material.ca.cert, cls.pki.root_cert]
        cls.signer_vals = [
            {"partner_id": cls.client.id, "role": "signer", "sequence": 10},
            {"partner_id": cls.client2.id, "role": "signer", "sequence": 20},
        ]

    @staticmethod
    def _pem(cert):
        body = base64.b64encode(cert.dump()).decode()
        return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
            body[i:i + 64] for i in range(0, len(body), 64))

    @classmethod
    def _configure(cls, level, tsa=True):
        """The company signs at ``level``, with the test TSA (or none)."""
        cls.company.sudo().write({
            "esign_tsa_url": cls.pki.tsa_url if tsa else False,
            "esign_tsa_ca_cert": cls.tsa_root_pem if tsa else False,
            "esign_pades_level": level,
        })

    @classmethod
    def _send(cls, documents=2):
        """A request of ``documents`` PDFs for the two clients, sent by the advisor."""
        env = cls.env(user=cls.advisor)
        docs = []
        for index in range(documents):
            attachment = env["ir.attachment"].create({
                "name": "doc%d.pdf" % index, "raw": make_pdf("Document %d" % index),
                "mimetype": "application/pdf"})
            docs.append(fields.Command.create({"name": "doc%d.pdf" % index,
                                               "original_attachment_id": attachment.id}))
        request = env["o2s.esign.request"].create({
            "name": "Test request", "partner_id": cls.client.id, "document_ids": docs,
            "signer_ids": [fields.Command.create(vals) for vals in cls.signer_vals],
        })
        request.action_send()
        return request

    @classmethod
    def _signature(cls, signer):
        """The signature as the signing page hands it to ``_sign_documents``."""
        image = base64.b64decode(signature_png("Signer %d" % signer.id))
        return {
            "name": signer.sudo().name, "type": "drawn", "image": image,
            "image_sha256": hashlib.sha256(image).hexdigest(), "date": fields.Datetime.now(),
            "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (test)",
            "consent_sha256": None, "otp_verified_at": None, "in_person": False}

    @classmethod
    def _portal_sign(cls, signer, signature=None):
        """What the signing page does once the SMS code and the consent are checked: apply the
        signature (``_sign_documents``), then mark the signer signed and check completion."""
        signer_sudo = signer.sudo()
        signer_sudo._sign_documents(signature or cls._signature(signer))
        with internal_write():
            signer_sudo.write({"state": "signed", "date_signed": fields.Datetime.now()})
        request = signer_sudo.request_id
        if not request.event_ids.filtered(
                lambda e: e.event_type == "signed" and e.signer_id == signer_sudo):
            # the portal part logs it from _sign_documents; without it, the test does
            request._log_event("signed", signer=signer_sudo, ip_address="203.0.113.7",
                               user_agent="Mozilla/5.0 (test)")
        signer_sudo.env["o2s.esign.consumption"]._record_signature(signer_sudo)
        request._check_completion()
        cls.esign_run_sealing()

    @classmethod
    def _sign_all(cls, request):
        for signer in request.signer_ids.sorted("sequence"):
            cls._portal_sign(signer)

    def _validate(self, data):
        with mute_logger(*PYHANKO_LOGGERS):
            return validation.validate_pdf(data, trust_roots=self.roots)

    def _document_bytes(self, request):
        return {document.id: document.signed_attachment_id.raw for document in request.document_ids}

    def assertAllValid(self, data, expected_signatures):
        """pdfsig and pyHanko (with the company CA and the TSA root as roots) both accept every
        signature; returns pyHanko's reports."""
        reports = self._validate(data)
        signatures = [r for r in reports if r.kind == "signature"]
        self.assertEqual(len(signatures), expected_signatures)
        checked = pdfsig(data)
        self.assertEqual(len(checked), len(reports), [c["raw"] for c in checked])
        for entry in checked:
            if entry["type"] == "ETSI.CAdES.detached":
                self.assertEqual(entry["validation"], "Signature is Valid.", entry["raw"])
            else:  # pdfsig does not verify document timestamps (pyHanko does, above)
                self.assertTrue(entry["field"].startswith("Timestamp"), entry["raw"])
        self.assertEqual(len([e for e in checked if e["type"] == "ETSI.CAdES.detached"]),
                         expected_signatures)
        for report in reports:
            self.assertTrue(report.intact and report.valid and report.trusted,
                            (report.field_name, report.summary, report.error))
            if report.kind == "signature":
                self.assertTrue(report.bottom_line, (report.field_name, report.summary))
                self.assertIsNot(report.docmdp_ok, False, report.field_name)
        return reports
