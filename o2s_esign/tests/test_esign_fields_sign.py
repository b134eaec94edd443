# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 17: signers sign where the document says. Fields placed over the API (explicit boxes,
text anchors), frozen into the PDF at send, filled and signed: each signer's PAdES signature
widget is the placed box, no page is appended, every signature stays valid (pdfsig and
pyHanko), and the values are in the PDF."""
import base64
import io
import json
import zipfile

import pikepdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..tools import internal_write
from .common import make_pdf
from .common_signing import O2sEsignSigningCommon
from .esign_portal_common import signature_png


def tagged_pdf(tags_by_page):
    """A PDF whose pages hold the texts ``tags_by_page`` ([(page text, x, y), ...] per page)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for texts in tags_by_page:
        pdf.drawString(72, 780, "Lettre de mission")
        for text, x, y in texts:
            pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def widgets(data):
    """{field name: (page index, [x1, y1, x2, y2])} of the PDF's form field widgets."""
    found = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for index, page in enumerate(pdf.pages):
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Widget":
                    continue
                name = annot.get("/T") if "/T" in annot else annot.Parent.get("/T")
                found[str(name)] = (index, [float(v) for v in annot.Rect])
    return found


def field_value(data, name):
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for field in pdf.Root.AcroForm.Fields:
            if str(field.get("/T")) == name:
                value = field.get("/V")
                return None if value is None else str(value)
    raise KeyError(name)


@tagged("post_install", "-at_install")
class TestEsignFieldsSigned(O2sEsignSigningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")

    def _create_and_send(self, data, **document):
        Request = self.env["o2s.esign.request"].with_user(self.advisor)
        request_id = Request.create_and_send({
            "partner_id": self.client.id, "name": "Lettre de mission",
            "signers": [{"partner_id": self.client.id}, {"partner_id": self.client2.id}],
            "signing_order": "sequential",
            "documents": [dict({"name": "lettre.pdf",
                                "datas": base64.b64encode(data).decode()}, **document)],
        })
        return self.env["o2s.esign.request"].browse(request_id)

    def assertRectNear(self, actual, expected):
        for a, e in zip(actual, expected, strict=True):
            self.assertAlmostEqual(a, e, delta=1.0, msg=(actual, expected))

    def test_explicit_fields_from_the_api(self):
        box_1 = {"signer": 1, "type": "signature", "page": 2, "x": 320, "y": 40,
                 "width": 200, "height": 70}
        box_2 = {"signer": 2, "type": "signature", "page": 1, "x": 60, "y": 100,
                 "width": 180, "height": 60}
        text = {"signer": 2, "type": "text", "page": 1, "x": 60, "y": 200, "width": 150,
                "height": 18, "label": "Lieu"}
        tick = {"signer": 2, "type": "checkbox", "page": 1, "x": 60, "y": 230, "width": 14,
                "height": 14}
        date = {"signer": 1, "type": "date", "page": 2, "x": 320, "y": 120, "width": 100,
                "height": 18}
        request = self._create_and_send(make_pdf("Lettre", pages=2),
                                         fields=[box_1, box_2, text, tick, date])
        document = request.document_ids
        first, second = request.signer_ids.sorted("sequence")
        self.assertEqual(document.prepared_page_count, 2, "no page appended")
        self.assertEqual(len(document.field_ids), 5)
        self.assertEqual(set(document.field_ids.mapped("source")), {"api"})
        with internal_write():  # what the signing page keeps (the drawing, as a PNG)
            for signer in (first, second):
                signer.sudo().signature_image = signature_png(signer.name)
        prepared = widgets(document.prepared_attachment_id.raw)
        self.assertEqual(prepared[first._esign_field_name()][0], 1)
        self.assertRectNear(prepared[first._esign_field_name()][1], [320, 40, 520, 110])

        self._portal_sign(first)
        after_first = document.signed_attachment_id.raw
        self.assertAllValid(after_first, 1)
        date_field = document.field_ids.filtered(lambda f: f.field_type == "date")
        self.assertTrue(date_field.value and date_field.date_filled)
        self.assertEqual(field_value(after_first, date_field.pdf_field_name), date_field.value)

        text_field = document.field_ids.filtered(lambda f: f.field_type == "text")
        tick_field = document.field_ids.filtered(lambda f: f.field_type == "checkbox")
        with internal_write():  # what the signing page stores (tested over HTTP elsewhere)
            (text_field | tick_field).write({"value": False})
            text_field.write({"value": "Paris", "date_filled": fields.Datetime.now()})
            tick_field.write({"value": "1", "date_filled": fields.Datetime.now()})
        self._portal_sign(second)
        self.assertEqual(request.state, "signed")
        final = document.signed_attachment_id.raw
        self.assertTrue(final.startswith(after_first), "append-only")
        # both signatures (and the company seal) valid: the form filling after the first
        # signature is allowed by it
        self.assertAllValid(final, 3)
        placed = widgets(final)
        self.assertEqual(placed[first._esign_field_name()][0], 1)
        self.assertRectNear(placed[first._esign_field_name()][1], [320, 40, 520, 110])
        self.assertEqual(placed[second._esign_field_name()][0], 0)
        self.assertRectNear(placed[second._esign_field_name()][1], [60, 100, 240, 160])
        self.assertEqual(field_value(final, text_field.pdf_field_name), "Paris")
        self.assertEqual(field_value(final, tick_field.pdf_field_name), "/Yes")
        with pikepdf.open(io.BytesIO(final)) as pdf:
            self.assertEqual(len(pdf.pages), 2)
        # the evidence states each box: page, rectangle, signer, type, value, time filled
        with zipfile.ZipFile(io.BytesIO(request.evidence_attachment_id.raw)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            report = archive.read("evidence.pdf")
        [doc_meta] = manifest["documents"]
        by_name = {item["name"]: item for item in doc_meta["fields"]}
        self.assertEqual(by_name[text_field.pdf_field_name]["value"], "Paris")
        self.assertEqual(by_name[text_field.pdf_field_name]["signer"], second.id)
        self.assertEqual(by_name[text_field.pdf_field_name]["page"], 1)
        self.assertEqual(by_name[tick_field.pdf_field_name]["value"], True)
        self.assertEqual(by_name[first._esign_field_name()]["rect"], [320, 40, 520, 110])
        self.assertTrue(by_name[date_field.pdf_field_name]["filled_at"])
        # evidence.pdf shows the signatures drawn (an image per signer)
        with pikepdf.open(io.BytesIO(report)) as pdf:
            images = sum(len(page.get_images()) for page in pdf.pages)
        self.assertGreaterEqual(images, 2)

    def test_anchors_place_each_signature_where_its_tag_is(self):
        data = tagged_pdf([[("Signature du client : {{signature:1}}", 72, 300)],
                           [("{{signature:2}}", 300, 150)]])
        request = self._create_and_send(data, anchors=True)
        document = request.document_ids
        first, second = request.signer_ids.sorted("sequence")
        self.assertEqual(set(document.field_ids.mapped("source")), {"anchor"})
        self.assertEqual(document.prepared_page_count, 2)
        self._portal_sign(first)
        self._portal_sign(second)
        final = document.signed_attachment_id.raw
        self.assertAllValid(final, 3)
        placed = widgets(final)
        page_1, rect_1 = placed[first._esign_field_name()]
        page_2, rect_2 = placed[second._esign_field_name()]
        self.assertEqual((page_1, page_2), (0, 1))
        # the box's top-left corner is the tag's: the tag is on the box's first line
        tag_x = 72 + canvas.Canvas(io.BytesIO()).stringWidth("Signature du client : ",
                                                             "Helvetica", 12)
        self.assertAlmostEqual(rect_1[0], tag_x, delta=1.5)
        self.assertTrue(rect_1[1] < 300 < rect_1[3], rect_1)
        self.assertAlmostEqual(rect_2[0], 300, delta=1.5)
        self.assertTrue(rect_2[1] < 150 < rect_2[3], rect_2)

    def test_without_fields_the_signature_page_stays(self):
        request = self._create_and_send(make_pdf("Sans balise", pages=1))
        document = request.document_ids
        self.assertFalse(document.field_ids)
        self.assertEqual(document.prepared_page_count, 2)

    def test_bad_fields_are_refused_with_nothing_created(self):
        Request = self.env["o2s.esign.request"]
        before = Request.search_count([])
        box = {"signer": 1, "type": "signature", "page": 1, "x": 60, "y": 100, "width": 180,
               "height": 60}
        cases = {
            "signer 3": [dict(box, signer=3)],
            "page 4": [dict(box, page=4)],
            "outside": [dict(box, x=500)],
            "two boxes": [box, dict(box, y=300)],
        }
        for label, fields_ in cases.items():
            with self.subTest(label), self.assertRaises(UserError):
                self._create_and_send(make_pdf("Lettre", pages=1), fields=fields_)
        with self.assertRaises(UserError) as caught:
            self._create_and_send(make_pdf("Sans balise"), anchors=True)
        self.assertIn("{{signature:1}}", str(caught.exception))
        self.assertEqual(Request.search_count([]), before)

    def test_drawn_signature_is_in_the_signed_widget(self):
        request = self._create_and_send(make_pdf("Lettre"), fields=[
            {"signer": 1, "type": "signature", "page": 1, "x": 60, "y": 100, "width": 200,
             "height": 70},
            {"signer": 2, "type": "signature", "page": 1, "x": 300, "y": 100, "width": 200,
             "height": 70}])
        first = request.signer_ids.sorted("sequence")[0]
        self._portal_sign(first)
        data = request.document_ids.signed_attachment_id.raw
        with pikepdf.open(io.BytesIO(data)) as pdf:
            annot = next(a for a in pdf.pages[0].obj.Annots
                         if str(a.get("/T", "")) == first._esign_field_name())
            images = []

            def collect(xobject, depth=0):
                for child in (xobject.get("/Resources", {}).get("/XObject", {}) or {}).values():
                    if child.get("/Subtype") == "/Image":
                        images.append(child)
                    elif depth < 5:
                        collect(child, depth + 1)
            collect(annot.AP.N)
        self.assertTrue(images, "the drawn signature is shown in the signature box")
