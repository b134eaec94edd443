# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The evidence ZIP built by the models: layout, verify.py with and without pyHanko, tamper
detection, evidence of refused/cancelled/expired requests, attestations, saving to the client."""
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..tools import internal_write
from .common_signing import O2sEsignSigningCommon, sha256

SYSTEM_PYTHON = "/usr/bin/python3"   # the machine's Python 3, without pyHanko
VENV_PYTHON = sys.executable         # the virtualenv's, with pyHanko


def run_verify(python, target, *args, cwd=None, script_from=None):
    """(exit status, output) of ``python verify.py [target] args``, with the verify.py of the
    unpacked folder ``cwd``, or of the ZIP ``script_from`` (default: ``target``)."""
    script = os.path.join(cwd, "verify.py") if cwd else None
    if script is None:
        folder = tempfile.mkdtemp(prefix="o2s-verify-")
        with zipfile.ZipFile(script_from or target) as zf, \
                open(os.path.join(folder, "verify.py"), "wb") as fh:
            fh.write(zf.read("verify.py"))
        script = os.path.join(folder, "verify.py")
    command = [python, script, *([str(target)] if target else []), *args]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300,
                          check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout


def statuses(output):
    result = {}
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL", "SKIP"):
            result[parts[1]] = parts[0]
    return result


def failed_checks(output):
    last = output.strip().splitlines()[-1]
    if last.startswith("RESULT: PASS"):
        return []
    return last.split(": ", 2)[2].split(", ")


@tagged("post_install", "-at_install")
class TestEsignEvidence(O2sEsignSigningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_lt")
        cls.request = cls._send(documents=2)
        for signer in cls.request.signer_ids.sorted("sequence"):
            cls.request._log_event("consent_given", signer=signer, payload={
                "consent_text": "J'accepte la convention de preuve.",
                "consent_sha256": sha256(b"J'accepte la convention de preuve.")})
            cls._portal_sign(signer)
        cls.zip_data = cls.request.evidence_attachment_id.raw
        cls.folder = tempfile.mkdtemp(prefix="o2s-evidence-")
        cls.zip_path = os.path.join(cls.folder, "EVIDENCE.zip")
        with open(cls.zip_path, "wb") as fh:
            fh.write(cls.zip_data)

    def _unpack(self, data=None):
        folder = tempfile.mkdtemp(prefix="o2s-unpacked-")
        with zipfile.ZipFile(io.BytesIO(data or self.zip_data)) as zf:
            zf.extractall(folder)
        return folder

    def test_layout_manifest_and_records(self):
        request = self.request
        self.assertEqual(request.state, "signed")
        self.assertEqual(request.evidence_sha256, sha256(self.zip_data))
        first, second = request.signer_ids.sorted("sequence")
        documents = request.document_ids.sorted(lambda d: (d.sequence, d.id))
        with zipfile.ZipFile(io.BytesIO(self.zip_data)) as zf:
            names = set(zf.namelist())
            manifest = json.loads(zf.read("manifest.json"))
            audit = json.loads(zf.read("audit_trail.json"))
            evidence_pdf = zf.read("evidence.pdf")
            signed = {n: zf.read(n) for n in names if n.startswith("signed/")}
            originals = {n: zf.read(n) for n in names if n.startswith("original/")}
            consent = zf.read("consent.txt").decode()
        expected = {
            "original/1-doc0.pdf", "original/2-doc1.pdf", "signed/1-doc0.pdf", "signed/2-doc1.pdf",
            "evidence.pdf", "audit_trail.json", "manifest.json", "manifest.json.p7s",
            "timestamps/manifest.json.tsr", "consent.txt", "verify.py", "README.txt",
            "certificates/company-ca.pem", "certificates/company-seal.pem",
            "certificates/signer-1.pem", "certificates/signer-2.pem", "certificates/tsa-1.pem",
            "certificates/tsa-root-1.pem",
            "timestamps/doc1-%s.tst" % first._esign_field_name(),
            "timestamps/doc2-%s.tst" % second._esign_field_name(),
        }
        self.assertLessEqual(expected, names)
        # original/ = as uploaded; signed/ = the final files stored on the documents
        for index, document in enumerate(documents, start=1):
            self.assertEqual(originals["original/%d-doc%d.pdf" % (index, index - 1)],
                             document.original_attachment_id.raw)
            self.assertEqual(signed["signed/%d-doc%d.pdf" % (index, index - 1)],
                             document.signed_attachment_id.raw)
            meta = manifest["documents"][index - 1]
            self.assertEqual(meta["original_sha256"], document.original_sha256)
            self.assertEqual(meta["final_sha256"], document.signed_sha256)
            self.assertTrue(meta["original_is_prefix"])
        self.assertEqual(manifest["request"]["pades_level_achieved"], "b_lt")
        self.assertEqual(manifest["request"]["tsa_url"], self.pki.tsa_url)
        self.assertEqual(manifest["request"]["state"], "signed")
        # the chain in the ZIP is the request's, up to the evidence generation
        generated = request.event_ids.filtered(lambda e: e.event_type == "evidence_generated")
        self.assertEqual(len(generated), 1)
        before = request.event_ids.filtered(lambda e: e.sequence < generated.sequence)
        self.assertEqual(audit["events"], [e._export_record() for e in before.sorted("sequence")])
        self.assertEqual(manifest["chain_head"], before.sorted("sequence")[-1].hash)
        self.assertIn('"sha256":"%s"' % request.evidence_sha256, generated.payload)
        # the report is sealed, and it states the prepared hashes too
        self.assertAllValid(evidence_pdf, 1)
        self.assertIn("J'accepte la convention de preuve.", consent)
        text = subprocess.run(["pdftotext", "-", "-"], input=evidence_pdf, capture_output=True,
                              check=True, timeout=60).stdout.decode()
        for document in documents:
            self.assertIn(document.prepared_sha256[:32], text.replace("\n", ""))
        self.assertIn(first.name, text)
        self.assertIn(first.id_doc_number, text)

    def test_verify_py_passes_with_and_without_pyhanko(self):
        rc, output = run_verify(SYSTEM_PYTHON, self.zip_path)
        self.assertEqual(rc, 0, output)
        result = statuses(output)
        self.assertEqual(result["chain"], "PASS")
        self.assertEqual(result["hash:signed/1-doc0.pdf"], "PASS")
        self.assertEqual(result["pdf_signatures:signed/1-doc0.pdf"], "SKIP")
        # unpacked, as the README says
        folder = self._unpack()
        rc, output = run_verify(SYSTEM_PYTHON, None, cwd=folder)
        self.assertEqual(rc, 0, output)
        # with pyHanko every check runs and passes (a SKIP would fail under --strict)
        rc, output = run_verify(VENV_PYTHON, self.zip_path, "--strict")
        self.assertEqual(rc, 0, output)
        result = statuses(output)
        self.assertEqual(set(result.values()), {"PASS"}, output)
        for name in ("manifest_seal", "manifest_timestamp", "pdf_signatures:signed/1-doc0.pdf",
                     "pdf_trust:signed/2-doc1.pdf", "pdf_signatures:evidence.pdf"):
            self.assertEqual(result[name], "PASS", name)

    def test_one_flipped_byte_in_any_file_fails_naming_it(self):
        """Unpacked folder: a flipped byte in any file fails the check that covers it (the
        manifest's seal and timestamp need pyHanko: there the venv's Python is used)."""
        folder = self._unpack()
        seal_checks = {"manifest.json.p7s": "manifest_seal",
                       "timestamps/manifest.json.tsr": "manifest_timestamp"}
        checked = []
        for root, _dirs, files in os.walk(folder):
            for file_name in files:
                path = os.path.join(root, file_name)
                relative = os.path.relpath(path, folder)
                if relative == "verify.py":
                    continue  # the verifier itself: see the ZIP test below
                with open(path, "rb") as fh:
                    pristine = fh.read()
                data = bytearray(pristine)
                data[len(data) // 2] ^= 0x01
                with open(path, "wb") as fh:
                    fh.write(bytes(data))
                python = VENV_PYTHON if relative in seal_checks else SYSTEM_PYTHON
                try:
                    rc, output = run_verify(python, None, cwd=folder)
                finally:
                    with open(path, "wb") as fh:
                        fh.write(pristine)
                self.assertEqual(rc, 1, (relative, output))
                names = failed_checks(output)
                if relative in seal_checks:
                    self.assertIn(seal_checks[relative], names, output)
                elif relative == "manifest.json":
                    self.assertTrue(names, output)
                else:
                    self.assertIn("hash:%s" % relative, names, output)
                checked.append(relative)
        self.assertIn("audit_trail.json", checked)
        self.assertIn("signed/1-doc0.pdf", checked)
        self.assertGreaterEqual(len(checked), 20)

    def test_one_flipped_byte_in_the_zip_fails(self):
        """The ZIP as received: a flipped byte in any member fails, naming it; verify.py is
        taken from the untouched ZIP."""
        with zipfile.ZipFile(io.BytesIO(self.zip_data)) as zf:
            infos = zf.infolist()
        path = os.path.join(self.folder, "tampered.zip")
        for info in infos:
            member = info.filename
            data = bytearray(self.zip_data)
            data[info.header_offset + 30 + len(member) + info.compress_size // 2] ^= 0x01
            with open(path, "wb") as fh:
                fh.write(bytes(data))
            rc, output = run_verify(SYSTEM_PYTHON, path, script_from=self.zip_path)
            self.assertEqual(rc, 1, (member, output))
            names = failed_checks(output)
            if member.startswith("manifest.json") or member == "timestamps/manifest.json.tsr":
                # not listed in the manifest: the ZIP's own checks (CRC, layout) catch it
                self.assertTrue({"manifest", "zip_structure"} & set(names), output)
            else:
                self.assertIn("hash:%s" % member, names, output)
        rc, output = run_verify(SYSTEM_PYTHON, self.zip_path)
        self.assertEqual(rc, 0, output)

    def test_signed_pdf_modified_fails_signature_check(self):
        """A signed PDF changed after the fact (a new incremental update, as an editor does)
        fails the hash check, and pyHanko names the signature problem too."""
        folder = self._unpack()
        path = os.path.join(folder, "signed", "1-doc0.pdf")
        with open(path, "rb") as fh:
            data = fh.read()
        # one byte of the original part, which every signature covers
        original = self.request.document_ids.sorted(lambda d: (d.sequence, d.id))[0]
        tampered = bytearray(data)
        tampered[len(original.original_attachment_id.raw) // 2] ^= 0x01
        with open(path, "wb") as fh:
            fh.write(bytes(tampered))
        rc, output = run_verify(VENV_PYTHON, None, cwd=folder)
        self.assertEqual(rc, 1, output)
        names = failed_checks(output)
        self.assertIn("hash:signed/1-doc0.pdf", names)
        self.assertIn("pdf_signatures:signed/1-doc0.pdf", names)

    def test_download_save_and_attestation(self):
        request = self.request.with_user(self.advisor)
        action = request.action_download_evidence()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["url"], "/esign/evidence/%d/download" % request.id)
        # the download itself (its route) is logged, not the button (test_esign_downloads.py)
        self.assertFalse(request.event_ids.filtered(lambda e: e.event_type == "evidence_downloaded"))
        # saved to the client's documents, in the "O2S – Signature électronique" folder, even
        # by an advisor who may not edit contacts
        self.advisor.groups_id -= self.env.ref("base.group_partner_manager")
        request.action_save_evidence_to_partner()
        saved = self.env["ir.attachment"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.client.id),
            ("description", "=", "O2S – Signature électronique")])
        self.assertEqual(len(saved), 1)
        self.assertEqual(saved.raw, self.zip_data)
        self.assertTrue(saved.name.startswith("O2S – Signature électronique – "))
        request.action_save_evidence_to_partner()
        self.assertEqual(len(saved.search([("description", "=", "O2S – Signature électronique"),
                                           ("res_id", "=", self.client.id)])), 1, "saved once")
        self.assertEqual(len(request.event_ids.filtered(lambda e: e.event_type == "evidence_saved")), 1)
        # someone who cannot read the request gets nothing
        with self.assertRaises(AccessError):
            self.request.with_user(self.advisor2).action_download_evidence()
        # per-signer attestation: that signer's data only, sealed
        first, second = self.request.signer_ids.sorted("sequence")
        first.with_user(self.advisor).action_download_attestation()
        attestation = first.attestation_attachment_id.raw
        self.assertAllValid(attestation, 1)
        text = subprocess.run(["pdftotext", "-", "-"], input=attestation, capture_output=True,
                              check=True, timeout=60).stdout.decode()
        self.assertIn(first.name, text)
        self.assertIn(first.email, text)
        self.assertNotIn(second.email, text)
        self.assertNotIn(second.mobile, text)
        self.assertNotIn(second.name, text)

    def test_evidence_is_append_only(self):
        admin = self.env.ref("base.user_admin")
        evidence = self.request.evidence_attachment_id.with_user(admin)
        with self.assertRaises(UserError):
            evidence.unlink()
        with self.assertRaises(UserError):
            evidence.write({"raw": b"PK forged"})
        with self.assertRaises(UserError):
            evidence.write({"res_id": self.request.id + 1})
        revision = self.request.document_ids[:1].signed_attachment_id.with_user(admin)
        with self.assertRaises(UserError):
            revision.unlink()
        with self.assertRaises(UserError):
            revision.write({"raw": b"%PDF-1.7 forged"})
        with self.assertRaises(UserError):
            self.request.with_user(admin).write({"evidence_sha256": "0" * 64})
        self.assertEqual(self.request.evidence_attachment_id.raw, self.zip_data)


@tagged("post_install", "-at_install")
class TestEsignEvidenceOtherEnds(O2sEsignSigningCommon):
    """Refused, cancelled and expired requests: an evidence file of what happened."""

    def setUp(self):
        super().setUp()
        self._configure("b_t")

    def _evidence(self, request):
        request.with_user(self.advisor).action_download_evidence()
        data = request.evidence_attachment_id.raw
        path = os.path.join(tempfile.mkdtemp(prefix="o2s-ends-"), "EVIDENCE.zip")
        with open(path, "wb") as fh:
            fh.write(data)
        return path, zipfile.ZipFile(io.BytesIO(data))

    def test_not_available_while_in_progress(self):
        request = self._send(documents=1)
        with self.assertRaisesRegex(UserError, "available once"):
            request.with_user(self.advisor).action_download_evidence()
        with self.assertRaisesRegex(UserError, "available once"):
            request.with_user(self.advisor).action_save_evidence_to_partner()

    def test_refused_after_one_signature(self):
        request = self._send(documents=1)
        first, second = request.signer_ids.sorted("sequence")
        self._portal_sign(first)
        with internal_write():
            second.sudo().write({"state": "refused", "date_refused": fields.Datetime.now(),
                                 "refusal_reason": "Je ne suis pas d'accord."})
        request._log_event("refused", signer=second, payload={"reason": "Je ne suis pas d'accord."})
        request._check_completion()
        self.assertEqual(request.state, "refused")
        self.assertFalse(request.evidence_attachment_id, "built on demand")
        path, zf = self._evidence(request)
        manifest = json.loads(zf.read("manifest.json"))
        self.assertEqual(manifest["request"]["state"], "refused")
        self.assertIn("signed/1-doc0.pdf", zf.namelist(), "partially signed document")
        self.assertAllValid(zf.read("signed/1-doc0.pdf"), 1)
        rc, output = run_verify(SYSTEM_PYTHON, path)
        self.assertEqual(rc, 0, output)
        rc, output = run_verify(VENV_PYTHON, path)
        self.assertEqual(rc, 0, output)
        text = subprocess.run(["pdftotext", "-", "-"], input=zf.read("evidence.pdf"),
                              capture_output=True, check=True, timeout=60).stdout.decode()
        self.assertIn("Je ne suis pas d'accord.", text)

    def test_cancelled_and_expired(self):
        cancelled = self._send(documents=1)
        cancelled.with_user(self.advisor).action_cancel(reason="Erreur de document")
        path, zf = self._evidence(cancelled)
        self.assertFalse([n for n in zf.namelist() if n.startswith("signed/")], "nothing signed")
        self.assertEqual(json.loads(zf.read("manifest.json"))["request"]["state"], "cancelled")
        rc, output = run_verify(SYSTEM_PYTHON, path)
        self.assertEqual(rc, 0, output)

        expired = self._send(documents=1)
        expired._set_state("expired", date_done=fields.Datetime.now())
        path, zf = self._evidence(expired)
        self.assertEqual(json.loads(zf.read("manifest.json"))["request"]["state"], "expired")
        rc, output = run_verify(SYSTEM_PYTHON, path)
        self.assertEqual(rc, 0, output)

    def test_tsa_down_when_building_on_demand_is_a_clear_error(self):
        request = self._send(documents=1)
        request.with_user(self.advisor).action_cancel()
        self.pki.stop()
        try:
            with self.assertRaisesRegex(UserError, "cannot be reached"):
                request.with_user(self.advisor).action_download_evidence()
        finally:
            self.pki.start()
        self.assertFalse(request.evidence_attachment_id)
        self.assertFalse(request.event_ids.filtered(lambda e: e.event_type == "evidence_generated"))
