# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 16: any document the advisor has (phone photos, scans, Office files, insurers'
fillable forms with scripts, protected or damaged PDFs) becomes the PDF that is signed; the
evidence keeps the uploaded file and says what was done."""
import base64
import hashlib
import http.server
import io
import json
import os
import subprocess
import tempfile
import threading
import zipfile
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from ..lib import convert
from ..lib.errors import PdfError
from . import samples_convert as samples
from .common import make_pdf
from .common_signing import O2sEsignSigningCommon

MAX = 20 * 1024 * 1024


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def pdftotext(data):
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True,
                          timeout=60).stdout.decode()


def page_sizes(data):
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [(round(float(p.MediaBox[2])), round(float(p.MediaBox[3]))) for p in pdf.pages]


@tagged("post_install", "-at_install")
class TestConvertLibrary(TransactionCase):
    """lib/convert.py alone: what each kind of file becomes, and the hostile ones."""

    def normalise(self, data, name, **kwargs):
        kwargs.setdefault("max_bytes", MAX)
        convert._cache.clear()
        return convert.normalise(data, name, **kwargs)

    def assertRefused(self, code, data, name, **kwargs):
        with self.assertRaises(PdfError) as caught:
            self.normalise(data, name, **kwargs)
        self.assertEqual(caught.exception.code, code, caught.exception.params)

    def test_clean_pdf_is_signed_as_uploaded(self):
        data = make_pdf("Contrat")
        result = self.normalise(data, "contrat.pdf")
        self.assertIs(result.pdf, data)
        self.assertFalse(result.converted or result.removed or result.repaired)

    def test_images(self):
        result = self.normalise(samples.phone_jpeg(1200, 800, orientation=6), "IMG_0001.JPG")
        self.assertEqual((result.source_kind, result.source_mimetype), ("image", "image/jpeg"))
        self.assertEqual(page_sizes(result.pdf), [(595, 842)], "upright photo: portrait A4")
        result = self.normalise(samples.phone_jpeg(1200, 800, orientation=1), "wide.jpg")
        self.assertEqual(page_sizes(result.pdf), [(842, 595)], "a wide image: landscape A4")
        result = self.normalise(samples.png_with_alpha(), "scan.png")
        self.assertEqual(result.source_mimetype, "image/png")
        self.assertEqual(len(page_sizes(result.pdf)), 1)
        result = self.normalise(samples.tiff_pages(3), "scan.tif")
        self.assertEqual(len(page_sizes(result.pdf)), 3, "one page per TIFF page")
        result = self.normalise(samples.heic_photo(), "photo.heic")
        self.assertEqual(result.source_mimetype, "image/heic")
        heic = samples.heic_photo()
        with patch.dict("sys.modules", {"pillow_heif": None}):
            self.assertRefused("heic_unavailable", heic, "photo.heic")

    def test_hostile_images(self):
        bomb = samples.bomb_png()
        self.assertLess(len(bomb), 100_000)
        self.assertRefused("image_too_large", bomb, "bomb.png")
        self.assertRefused("too_many_pages", samples.tiff_pages(5, (40, 40)), "many.tif",
                           max_pages=4)
        self.assertRefused("image_corrupt", samples.phone_jpeg()[:200], "cut.jpg")

    def test_office_document_without_fetching_links(self):
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = "http://127.0.0.1:%d/tracker.png" % server.server_address[1]
        result = self.normalise(samples.docx("Lettre de mission Dupont", link_url=url), "m.docx")
        self.assertEqual(result.source_kind, "office")
        self.assertIn("wordprocessingml", result.source_mimetype)
        self.assertIn("Lettre de mission Dupont", pdftotext(result.pdf))
        self.assertEqual(hits, [], "LibreOffice fetched an external link of the document")

    def test_hostile_office_documents(self):
        bomb = samples.zip_bomb_docx()
        self.assertLess(len(bomb), 2 * 1024 * 1024)
        self.assertRefused("decompression_bomb", bomb, "bomb.docx")
        with patch.object(convert, "soffice_path", return_value=None):
            self.assertRefused("office_unavailable", samples.docx(), "m.docx")
        self.assertRefused("conversion_timeout", samples.docx("slow"), "m.docx", timeout=0.01)

    def test_office_macro_does_not_run(self):
        with tempfile.TemporaryDirectory() as folder:
            marker = os.path.join(folder, "macro-ran")
            result = self.normalise(samples.odt_with_macro(marker), "macro.odt")
            self.assertEqual(result.source_mimetype, "application/vnd.oasis.opendocument.text")
            self.assertIn("Document with a macro", pdftotext(result.pdf))
            self.assertFalse(os.path.exists(marker), "the document's macro ran")

    def test_form_with_scripts_is_neutralised(self):
        form = samples.form_with_scripts()
        self.assertTrue(samples.dangerous_keys(form))
        result = self.normalise(form, "bulletin.pdf")
        self.assertTrue(result.converted)
        self.assertEqual(result.source_kind, "pdf")
        for code in ("javascript", "open_action", "additional_actions", "submit_form",
                     "fields_flattened"):
            self.assertIn(code, result.removed)
        self.assertEqual(samples.dangerous_keys(result.pdf), set())
        self.assertIn("150000 EUR", pdftotext(result.pdf), "the pre-filled value stays visible")

    def test_protected_and_damaged_pdfs(self):
        result = self.normalise(samples.encrypted(make_pdf("Protégé")), "owner.pdf")
        self.assertTrue(result.decrypted)
        self.assertIn("Prot", pdftotext(result.pdf))
        self.assertRefused("encrypted", samples.encrypted(make_pdf(), user="open-me"), "user.pdf")
        result = self.normalise(samples.damaged_xref(), "damaged.pdf")
        self.assertTrue(result.repaired)
        self.assertIn("réparé", pdftotext(result.pdf))
        self.assertRefused("corrupt", samples.no_page_tree(), "broken.pdf")

    def test_unknown_files(self):
        self.assertRefused("unsupported_type", b"hello, world", "notes.txt")
        self.assertRefused("not_pdf", b"hello, world", "contrat.pdf")
        self.assertRefused("empty", b"", "empty.pdf")
        self.assertRefused("too_large", samples.phone_jpeg(), "big.jpg", max_bytes=1000)


@tagged("post_install", "-at_install")
class TestEsignAnyDocument(O2sEsignSigningCommon):
    """Through the models and the API: converted files are signed end to end and the
    evidence keeps the uploaded file."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")
        cls.env["res.lang"]._activate_lang("en_US")
        cls.advisor.lang = "en_US"

    def _send_files(self, files):
        convert._cache.clear()
        api = self.env["o2s.esign.request"].with_user(self.advisor)
        request_id = api.create_and_send({
            "partner_id": self.client.id,
            "documents": [{"name": name, "datas": base64.b64encode(data).decode()}
                          for name, data in files],
            "signers": [{"partner_id": self.client.id}, {"partner_id": self.client2.id}],
        })
        return self.env["o2s.esign.request"].browse(request_id)

    def _manifest(self, request):
        with zipfile.ZipFile(io.BytesIO(request.evidence_attachment_id.raw)) as zf:
            return json.loads(zf.read("manifest.json")), {n: zf.read(n) for n in zf.namelist()}

    def test_photo_png_and_docx_signed_end_to_end(self):
        files = [("IMG_2024.jpg", samples.phone_jpeg()), ("scan.png", samples.png_with_alpha()),
                 ("Lettre de mission.docx", samples.docx("Lettre de mission"))]
        request = self._send_files(files)
        documents = request.document_ids.sorted(lambda d: (d.sequence, d.id))
        self.assertEqual(documents.mapped("source_kind"), ["image", "image", "office"])
        self.assertEqual(documents.mapped("name"),
                         ["IMG_2024.pdf", "scan.pdf", "Lettre de mission.pdf"])
        for document, (_name, data) in zip(documents, files, strict=True):
            self.assertEqual(document.source_sha256, sha256(data))
            self.assertEqual(document.source_attachment_id.raw, data, "the upload is kept")
            self.assertEqual(document.original_attachment_id.mimetype, "application/pdf")
            self.assertTrue(document.conversion_note)
        self._sign_all(request)
        self.assertEqual(request.state, "signed")
        for document in documents:
            self.assertAllValid(document.signed_attachment_id.raw, 3)
        manifest, entries = self._manifest(request)
        for document, entry, (_name, data) in zip(documents, manifest["documents"], files,
                                                   strict=True):
            self.assertEqual(entry["source"]["sha256"], sha256(data))
            self.assertEqual(entries[entry["source"]["file"]], data)
            self.assertEqual(entry["original_sha256"], document.original_sha256)
            self.assertEqual(entry["final_sha256"], document.signed_sha256)
            self.assertIn(entry["source"]["file"], manifest["files"])
        # the public page recognises our PDFs, never a file as uploaded (a template, a photo)
        Document = self.env["o2s.esign.document"]
        self.assertEqual(Document._esign_match_content(files[0][1])["revision"], None)
        self.assertEqual(Document._esign_match_content(documents[0].original_attachment_id.raw)[
            "revision"], None)
        self.assertEqual(Document._esign_match_content(documents[0].signed_attachment_id.raw)[
            "revision"], "final")
        text = pdftotext(entries["evidence.pdf"])
        self.assertIn("SHA-256 of the file uploaded", text)
        self.assertIn("LibreOffice", text)

    def test_form_with_scripts_signed_after_neutralisation(self):
        request = self._send_files([("Bulletin de souscription.pdf", samples.form_with_scripts())])
        document = request.document_ids
        self.assertEqual(document.source_kind, "pdf")
        self.assertIn("submit_form", document.conversion_removed)
        self.assertIn("form submission to a web address", document.conversion_note)
        self._sign_all(request)
        signed = document.signed_attachment_id.raw
        self.assertAllValid(signed, 3)
        self.assertEqual(samples.dangerous_keys(signed), set())
        self.assertIn("150000 EUR", pdftotext(signed))
        manifest, _entries = self._manifest(request)
        self.assertIn("javascript", manifest["documents"][0]["source"]["removed"])

    def test_corpus_of_producers(self):
        """PDFs of several producers, repaired and protected ones, are all accepted and signed
        by two signers; pdfsig and pyHanko validate each."""
        libreoffice = convert.normalise(samples.docx("Produit par LibreOffice"), "lo.docx",
                                        max_bytes=MAX).pdf
        files = [
            ("libreoffice.pdf", libreoffice), ("reportlab.pdf", samples.reportlab_rich()),
            ("pillow.pdf", samples.pillow_pdf()), ("repaired.pdf", samples.damaged_xref()),
            ("owner-password.pdf", samples.encrypted(make_pdf("Protégé"))),
        ]
        request = self._send_files(files)
        documents = request.document_ids.sorted(lambda d: (d.sequence, d.id))
        self.assertEqual(len(documents), len(files))
        self.assertTrue(documents[3].conversion_repaired)
        self.assertTrue(documents[4].conversion_decrypted)
        self.assertFalse(documents[1].source_attachment_id, "outlines, links, attachments: as is")
        self._sign_all(request)
        for document in documents:
            self.assertAllValid(document.signed_attachment_id.raw, 3)

    def test_bad_input_is_refused_with_nothing_left(self):
        Attachment = self.env["ir.attachment"].sudo()
        before = (Attachment.search_count([]), self.env["o2s.esign.request"].search_count([]))
        cases = [
            ("broken.pdf", samples.no_page_tree(), "damaged PDF"),
            ("notes.txt", b"just text", "cannot be signed: send a PDF, an image"),
            ("bomb.png", samples.bomb_png(), "too many pixels"),
            ("locked.pdf", samples.encrypted(make_pdf(), user="open-me"), "password"),
        ]
        for name, data, message in cases:
            with self.subTest(name=name), self.assertRaisesRegex((UserError, ValidationError),
                                                                 message):
                self._send_files([("ok.pdf", make_pdf()), (name, data)])
        with patch.object(convert, "soffice_path", return_value=None), \
                self.assertRaisesRegex(UserError, "LibreOffice"):
            self._send_files([("m.docx", samples.docx())])
        self.assertEqual(
            (Attachment.search_count([]), self.env["o2s.esign.request"].search_count([])), before)

    def test_wizard_shows_and_previews_what_will_be_signed(self):
        env = self.env(user=self.advisor)
        upload = env["ir.attachment"].create({
            "name": "bulletin.pdf", "raw": samples.form_with_scripts(),
            "res_model": "o2s.esign.request.wizard", "res_id": 0})
        action = self.client.with_user(self.advisor).action_esign_sign()
        wizard = env["o2s.esign.request.wizard"].with_context(**action["context"]).create({
            "partner_ids": [(6, 0, self.client.ids)], "partner_id": self.client.id,
            "upload_attachment_ids": [(6, 0, upload.ids)]})
        line = wizard.document_line_ids
        self.assertEqual(len(line), 1)
        self.assertIn("scripts (JavaScript)", line.conversion_note)
        action = line.action_esign_preview()
        preview = env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertEqual(preview.mimetype, "application/pdf")
        self.assertEqual(samples.dangerous_keys(preview.raw), set())
        self.assertIn("150000 EUR", pdftotext(preview.raw))
        other = self.env(user=self.advisor2)["ir.attachment"].browse(preview.id)
        with self.assertRaises(AccessError):  # another advisor cannot read my preview
            other.check("read")
