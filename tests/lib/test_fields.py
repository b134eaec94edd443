"""Issue 17 (signing core): text anchors, signature fields placed on the document's own pages,
form fields filled before the signer's signature, the drawn signature in the widget, checked
with pyHanko's validator, poppler's pdfsig / pdftotext / pdftoppm and the loopback TSA."""

import io
import os
import subprocess
import tempfile

import pdf_factory as pf
import pikepdf
import pytest
import sigcheck
from o2s_esign_lib import anchors, pdf, pki, signing
from o2s_esign_lib.errors import PdfError
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas


def _tagged_pdf(lines_per_page, *, split=()):
    """reportlab PDF: ``lines_per_page`` = [[(x, y, text), ...] per page]; texts whose index in
    ``split`` (page, line) are drawn one character per text object (one Tj each)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for page_ix, lines in enumerate(lines_per_page):
        for line_ix, (x, y, text) in enumerate(lines):
            c.setFont("Helvetica", 12)
            if (page_ix, line_ix) in split:
                for ch in text:
                    c.drawString(x, y, ch)
                    x += stringWidth(ch, "Helvetica", 12)
            else:
                c.drawString(x, y, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def _width(text):
    return stringWidth(text, "Helvetica", 12)


def _identity(company, n):
    return pki.issue_one_time_identity(company.ca, name=f"Signataire {n} Éloïse",
                                       email=f"s{n}@example.fr")


def _appearance(name, *, image=None, qr=True):
    return signing.Appearance(name, ["Signé électroniquement", f"par {name}", "le 04/12/2026"],
                              "https://esign.example.fr/v/8f3a2c" if qr else None, image=image)


def _widget_rects(data):
    """field name -> (0-based page, [x1, y1, x2, y2]) of every widget of the form."""
    result = {}
    with pikepdf.open(io.BytesIO(data)) as doc:
        for page_ix, page in enumerate(doc.pages):
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") == "/Widget" and "/T" in annot:
                    result[str(annot.T)] = (page_ix, [float(v) for v in annot.Rect])
    return result


def _pages(data):
    with pikepdf.open(io.BytesIO(data)) as doc:
        return len(doc.pages)


def _assert_close(actual, expected, tol=1.0):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert abs(a - e) <= tol, (actual, expected)


def _validate(data, roots, expected_names):
    checks = sigcheck.pyhanko_check(data, roots)
    assert [name for name, _, _ in checks] == expected_names
    for name, _kind, status in checks:
        assert status.intact and status.valid and status.trusted, (name, status.summary())
        assert status.bottom_line, (name, status.summary())
        assert status.modification_level in (ModificationLevel.NONE,
                                             ModificationLevel.FORM_FILLING), \
            (name, status.modification_level)
    entries = sigcheck.pdfsig(data)
    assert [e["field"] for e in entries] == expected_names
    for entry in entries:
        assert entry["validation"] == "Signature is Valid.", entry["raw"]
    return {name: status for name, _, status in checks}


# --- anchors ---------------------------------------------------------------------------------

def test_anchors_every_form_and_their_boxes():
    data = _tagged_pdf([
        [(72, 700, "Signature du client : {{signature:1}}"),
         (72, 650, "{{ Paraphe : 2 }} et {{INITIALS:3}} et {{initiales:4}}"),
         (72, 600, "«date:1» [[texte:2]] {{case:1}} {{checkbox:12}} {{text:99}}"),
         (72, 550, "ignored: {{signature:0}} {{signature:100}} {{sig:1}} {signature:1}")],
        [(300, 120, "{{Signature:2}}")],
    ], split={(1, 0)})
    found = anchors.find_anchors(data)
    summary = [(a.kind, a.signer, a.page, a.tag) for a in found]
    assert summary == [
        ("signature", 1, 0, "{{signature:1}}"),
        ("initials", 2, 0, "{{ Paraphe : 2 }}"),
        ("initials", 3, 0, "{{INITIALS:3}}"),
        ("initials", 4, 0, "{{initiales:4}}"),
        ("date", 1, 0, "«date:1»"),
        ("text", 2, 0, "[[texte:2]]"),
        ("checkbox", 1, 0, "{{case:1}}"),
        ("checkbox", 12, 0, "{{checkbox:12}}"),
        ("text", 99, 0, "{{text:99}}"),
        ("signature", 2, 1, "{{Signature:2}}"),   # one Tj per character
    ]
    first = found[0]
    x1 = 72 + _width("Signature du client : ")
    _assert_close(first.rect, (x1, 700 - 3, x1 + _width("{{signature:1}}"), 700 + 10), tol=1.5)
    split = found[-1]
    _assert_close(split.rect[::2], (300, 300 + _width("{{Signature:2}}")), tol=1.0)
    assert 115 < split.rect[1] < 120 < split.rect[3] < 132


def _edit(data, func):
    with pikepdf.open(io.BytesIO(data)) as doc:
        func(doc)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def test_anchors_are_in_user_space_on_rotated_pages_and_shifted_media_boxes():
    data = _tagged_pdf([[(100, 500, "{{signature:1}}")]] * 3)
    plain = anchors.find_anchors(data)[0].rect

    def transform(doc):
        doc.pages[1].Rotate = 90
        doc.pages[2].MediaBox = [-40, -60, 555.28, 781.89]
        doc.pages[2].Rotate = 270

    found = anchors.find_anchors(_edit(data, transform))
    assert [a.page for a in found] == [0, 1, 2]
    for anchor in found:
        _assert_close(anchor.rect, plain, tol=0.05)
    assert found[2].page_box == (-40.0, -60.0, 555.28, 781.89)


def test_field_box_defaults_and_clipping():
    tag = anchors.Anchor("signature", 1, 0, (100.0, 500.0, 180.0, 512.0), "{{signature:1}}")
    assert anchors.field_box(tag) == (100.0, 462.0, 270.0, 512.0)
    wide = anchors.Anchor("checkbox", 1, 0, (100.0, 500.0, 180.0, 512.0), "{{checkbox:1}}")
    assert anchors.field_box(wide) == (100.0, 498.0, 180.0, 512.0)  # never narrower than the tag
    for kind, (w, h) in anchors.DEFAULT_SIZES.items():
        box = anchors.field_box(anchors.Anchor(kind, 1, 0, (10.0, 700.0, 12.0, 702.0), "x"))
        assert (box[2] - box[0], box[3] - box[1]) == (w, h)
    corner = anchors.Anchor("signature", 1, 0, (500.0, 20.0, 580.0, 32.0), "{{signature:1}}")
    box = anchors.field_box(corner, (595.0, 842.0))
    assert box == (425.0, 0.0, 595.0, 50.0)
    shifted = anchors.Anchor("date", 1, 0, (-30.0, 10.0, 0.0, 20.0), "x",
                             page_box=(-40.0, -60.0, 555.0, 782.0))
    assert anchors.field_box(shifted, (595.0, 842.0)) == (-30.0, 2.0, 70.0, 20.0)


def test_anchors_bounded_and_corrupt_input(monkeypatch):
    data = _tagged_pdf([[(72, 700, f"{{{{signature:{n}}}}}")] for n in range(1, 6)])
    assert [a.signer for a in anchors.find_anchors(data, max_pages=2)] == [1, 2]
    with pytest.raises(PdfError) as info:
        anchors.find_anchors(data, timeout=0)
    assert info.value.code == "anchors_timeout"
    for bad in (b"", b"%PDF-1.7\n garbage", data[: len(data) // 3]):
        with pytest.raises(PdfError) as info:
            anchors.find_anchors(bad)
        assert info.value.code == "corrupt"
    assert anchors.find_anchors(pf.make_pdf(2)) == []

    monkeypatch.setattr(anchors, "MAX_STREAM_BYTES", 1024 * 1024)

    def bomb(doc):  # a content stream inflating beyond the limit
        import zlib

        stream = pikepdf.Stream(doc, zlib.compress(b" " * (anchors.MAX_STREAM_BYTES + 1024), 9))
        stream.Filter = pikepdf.Name.FlateDecode
        doc.pages[0].Contents = doc.make_indirect(stream)

    with pytest.raises(PdfError) as info:
        anchors.find_anchors(_edit(data, bomb))
    assert info.value.code == "decompression_bomb"


def test_page_sizes():
    data = pf.make_pdf(2)
    assert pdf.page_sizes(data) == [(595.2756, 841.8898)] * 2
    landscape = _edit(data, lambda doc: setattr(doc.pages[1], "MediaBox", [10, 20, 852, 615]))
    assert pdf.page_sizes(landscape)[1] == (842.0, 595.0)
    with pytest.raises(PdfError):
        pdf.page_sizes(b"%PDF-1.7 nothing")


# --- preparation -----------------------------------------------------------------------------

def test_prepare_refuses_boxes_outside_the_page_and_rotated_pages():
    data = pf.make_pdf(2)
    for page, box in ((1, (500, 10, 670, 60)), (2, (10, 10, 100, 60)), (0, (10, -5, 100, 60))):
        with pytest.raises(PdfError) as info:
            pdf.prepare_for_signing(data, [pdf.SignatureSlot("S1", "A", page=page, box=box)])
        assert info.value.code == "field_outside_page"
        assert "not inside page" in str(info.value)
    with pytest.raises(PdfError) as info:
        pdf.prepare_for_signing(data, [pdf.SignatureSlot("S1", "A")], form_fields=[
            pdf.FormField("T1", "text", 0, (590, 10, 700, 28))])
    assert info.value.code == "field_outside_page"
    rotated = _edit(data, lambda doc: setattr(doc.pages[0], "Rotate", 90))
    with pytest.raises(PdfError) as info:
        pdf.prepare_for_signing(rotated, [pdf.SignatureSlot("S1", "A", page=0,
                                                            box=(10, 10, 180, 60))])
    assert info.value.code == "field_on_rotated_page"
    with pytest.raises(ValueError):
        pdf.prepare_for_signing(data, [pdf.SignatureSlot("S1", "A")], form_fields=[
            pdf.FormField("S1", "text", 0, (10, 10, 100, 28))])
    with pytest.raises(ValueError):
        pdf.prepare_for_signing(data, [pdf.SignatureSlot("S1", "A")], form_fields=[
            pdf.FormField("T.1", "text", 0, (10, 10, 100, 28))])
    once = pdf.prepare_for_signing(data, [pdf.SignatureSlot("S1", "A")], form_fields=[
        pdf.FormField("City", "text", 0, (10, 10, 100, 28))])
    with pytest.raises(PdfError) as info:
        pdf.prepare_for_signing(once, [pdf.SignatureSlot("S2", "A")], form_fields=[
            pdf.FormField("City", "text", 0, (10, 40, 100, 58))])
    assert info.value.code == "field_exists"


def test_mixed_placed_and_fallback_slots():
    data = pf.make_pdf(1)
    out = pdf.prepare_for_signing(data, [
        pdf.SignatureSlot("S1", "A", page=0, box=(72, 80, 242, 130)),
        pdf.SignatureSlot("S2", "B"),
    ])
    assert _pages(out) == 2  # only the unplaced slot gets the appended page
    rects = _widget_rects(out)
    assert rects["S1"][0] == 0
    _assert_close(rects["S1"][1], (72, 80, 242, 130), tol=0.01)
    assert rects["S2"][0] == 1


# --- two signers, placed fields, form filling --------------------------------------------------

def test_placed_fields_and_form_filling_keep_earlier_signatures_valid(signer, company, tsa,
                                                                       roots):
    data = pf.make_pdf(2)
    box_a, box_b = (330.0, 36.0, 500.0, 86.0), (72.0, 90.0, 242.0, 140.0)
    text_box, check_box = (72.0, 200.0, 232.0, 218.0), (72.0, 230.0, 86.0, 244.0)
    prepared = pdf.prepare_for_signing(data, [
        pdf.SignatureSlot("SigA", "Signataire A", page=1, box=box_a),
        pdf.SignatureSlot("SigB", "Signataire B", page=0, box=box_b),
    ], form_fields=[
        pdf.FormField("CityB", "text", 0, text_box, "Fait à"),
        pdf.FormField("AgreeB", "checkbox", 0, check_box, "J'accepte"),
    ])
    assert _pages(prepared) == 2
    signed_a = signer.sign(prepared, field_name="SigA", identity=_identity(company, 1),
                           level="b_t", tsa=tsa, appearance=_appearance("Alice Émery"),
                           trust_roots=roots)
    signed_b = signer.sign(signed_a.data, field_name="SigB", identity=_identity(company, 2),
                           level="b_t", tsa=tsa, appearance=_appearance("Bruno Çelik"),
                           trust_roots=roots,
                           field_values={"CityB": "Paris", "AgreeB": True})
    statuses = _validate(signed_b.data, roots, ["SigA", "SigB"])
    assert statuses["SigA"].modification_level == ModificationLevel.FORM_FILLING
    assert _pages(signed_b.data) == 2
    rects = _widget_rects(signed_b.data)
    assert rects["SigA"][0] == 1 and rects["SigB"][0] == 0
    _assert_close(rects["SigA"][1], box_a)
    _assert_close(rects["SigB"][1], box_b)
    _assert_close(rects["CityB"][1], text_box)
    # the values are in B's signed revision: /V, read-only, and on the page
    reader = PdfFileReader(io.BytesIO(signed_b.data))
    fields = {str(f.get_object()["/T"]): f.get_object()
              for f in reader.root["/AcroForm"]["/Fields"]}
    assert str(fields["CityB"]["/V"]) == "Paris" and int(fields["CityB"]["/Ff"]) & 1
    assert fields["AgreeB"]["/V"] == "/Yes" and fields["AgreeB"]["/AS"] == "/Yes"
    assert statuses["SigB"].coverage.name == "ENTIRE_FILE"  # B's signature covers the values
    assert "Paris" in _pdftotext(signed_b.data)
    assert "Paris" not in _pdftotext(signed_a.data)


def _pdftotext(data):
    proc = subprocess.run([sigcheck.require_tool("pdftotext"), "-", "-"], input=data,
                          capture_output=True, check=True, timeout=60)
    return proc.stdout.decode("utf-8")


def test_field_values_are_checked(signer, company, roots):
    prepared = pdf.prepare_for_signing(pf.make_pdf(1), [
        pdf.SignatureSlot("SigA", "A", page=0, box=(72, 90, 242, 140)),
        pdf.SignatureSlot("SigB", "B", page=0, box=(300, 90, 470, 140)),
    ], form_fields=[pdf.FormField("City", "text", 0, (72, 200, 232, 218)),
                    pdf.FormField("Ok", "checkbox", 0, (72, 230, 86, 244))])
    for values in ({"Nope": "x"}, {"SigB": "x"}, {"City": "x" * 201}, {"City": True},
                   {"Ok": "yes"}):
        with pytest.raises(ValueError):
            signer.sign(prepared, field_name="SigA", identity=_identity(company, 1),
                        level="b_b", tsa=None, appearance=None, trust_roots=roots,
                        field_values=values)
    # accents outside cp1252 render with the embedded font; an unticked box is /Off
    result = signer.sign(prepared, field_name="SigA", identity=_identity(company, 1),
                         level="b_b", tsa=None, appearance=None, trust_roots=roots,
                         field_values={"City": "Łódź – Église", "Ok": False})
    _validate(result.data, [company.ca.cert], ["SigA"])
    assert b"/FontFile2" in result.data[len(prepared):]
    assert "Łódź – Église" in _pdftotext(result.data)
    reader = PdfFileReader(io.BytesIO(result.data))
    fields = {str(f.get_object()["/T"]): f.get_object()
              for f in reader.root["/AcroForm"]["/Fields"]}
    assert fields["Ok"]["/V"] == "/Off"


# --- anchors end to end ------------------------------------------------------------------------

def _render_gray(data, page_ix, dpi=72):
    """Page ``page_ix`` rendered by pdftoppm as a grayscale Pillow image (1 px = 1 pt)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.pdf")
        with open(path, "wb") as fh:
            fh.write(data)
        subprocess.run([sigcheck.require_tool("pdftoppm"), "-r", str(dpi), "-gray", "-f",
                        str(page_ix + 1), "-l", str(page_ix + 1), "-png", path,
                        os.path.join(tmp, "out")], check=True, timeout=60)
        name = next(n for n in os.listdir(tmp) if n.startswith("out"))
        return Image.open(os.path.join(tmp, name)).convert("L")


def _darkest(image, rect, page_h):
    x1, y1, x2, y2 = rect
    crop = image.crop((int(x1), int(page_h - y2), int(x2) + 1, int(page_h - y1) + 1))
    return min(crop.getdata())


def test_anchor_tags_become_covered_signature_fields(signer, company, roots):
    data = _tagged_pdf([
        [(72, 720, "Lettre de mission"), (300, 160, "Le client : {{signature:1}}")],
        [(72, 720, "Page deux"), (72, 90, "Le cabinet : {{signature:2}}")],
    ])
    found = anchors.find_anchors(data)
    assert [(a.signer, a.page) for a in found] == [(1, 0), (2, 1)]
    sizes = pdf.page_sizes(data)
    boxes = {a.signer: anchors.field_box(a, sizes[a.page]) for a in found}
    prepared = pdf.prepare_for_signing(
        data, [pdf.SignatureSlot(f"Sig{a.signer}", f"S{a.signer}", page=a.page,
                                 box=boxes[a.signer]) for a in found],
        cover=[(a.page, a.rect) for a in found])
    assert _pages(prepared) == 2
    # the tags are painted over (pdftotext still extracts text under a white rectangle, so
    # we check what is drawn), the text beside them is not
    page_h = sizes[0][1]
    for anchor in found:
        before = _render_gray(data, anchor.page)
        after = _render_gray(prepared, anchor.page)
        assert _darkest(before, anchor.rect, page_h) < 100
        assert _darkest(after, anchor.rect, page_h) == 255
        label = (anchor.rect[0] - 60, anchor.rect[1], anchor.rect[0] - 5, anchor.rect[3])
        assert _darkest(after, label, page_h) < 100
    result = prepared
    for n in (1, 2):
        result = signer.sign(result, field_name=f"Sig{n}", identity=_identity(company, n),
                             level="b_b", tsa=None, appearance=_appearance(f"Signataire {n}"),
                             trust_roots=[company.ca.cert]).data
    _validate(result, [company.ca.cert], ["Sig1", "Sig2"])
    rects = _widget_rects(result)
    for anchor in found:
        page, rect = rects[f"Sig{anchor.signer}"]
        assert page == anchor.page
        _assert_close(rect, boxes[anchor.signer])
        # the widget covers the tag, its top-left corner at the tag's
        assert rect[0] <= anchor.rect[0] + 0.01 and rect[3] >= anchor.rect[3] - 0.01
        assert rect[2] >= anchor.rect[2] and rect[1] <= anchor.rect[1]


# --- the drawn signature ---------------------------------------------------------------------

def _appearance_images(data, field_name):
    """(width, height) of the image XObjects reachable from the field's normal appearance."""
    reader = PdfFileReader(io.BytesIO(data))
    es = next(es for es in reader.embedded_signatures if es.field_name == field_name)
    found, stack, seen = [], [es.sig_field["/AP"]["/N"]], 0
    while stack and seen < 50:
        seen += 1
        form = stack.pop()
        for ref in (form.get("/Resources", {}).get("/XObject") or {}).values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                found.append((int(obj["/Width"]), int(obj["/Height"])))
            else:
                stack.append(obj)
    return found


def _has_qr(data, field_name):
    reader = PdfFileReader(io.BytesIO(data))
    es = next(es for es in reader.embedded_signatures if es.field_name == field_name)
    stack, names = [es.sig_field["/AP"]["/N"]], set()
    while stack:
        form = stack.pop()
        xobjects = form.get("/Resources", {}).get("/XObject") or {}
        names.update(str(k) for k in xobjects)
        stack.extend(ref.get_object() for ref in xobjects.values()
                     if ref.get_object().get("/Subtype") == "/Form")
    return "/QR" in names


@pytest.mark.parametrize("box,qr", [((72, 90, 242, 140), True), ((72, 90, 392, 190), True),
                                    ((72, 90, 132, 120), False)])
def test_drawn_signature_in_the_widget(signer, company, box, qr):
    png = pf.signature_png(300, 100)
    prepared = pdf.prepare_for_signing(pf.make_pdf(1), [
        pdf.SignatureSlot("Sig1", "A", page=0, box=box)])
    result = signer.sign(prepared, field_name="Sig1", identity=_identity(company, 1),
                         level="b_b", tsa=None, appearance=_appearance("Alice", image=png),
                         trust_roots=[company.ca.cert])
    _validate(result.data, [company.ca.cert], ["Sig1"])
    assert (300, 100) in _appearance_images(result.data, "Sig1")
    assert _has_qr(result.data, "Sig1") is qr
    # the image is drawn: the upper-left part of the box has ink, the page around it none
    image = _render_gray(result.data, 0)
    page_h = A4[1]
    x1, y1, x2, y2 = box
    assert _darkest(image, (x1 + 2, (y1 + y2) / 2, (x1 + x2) / 2, y2 - 2), page_h) < 120
    assert _darkest(image, (x2 + 5, y1, x2 + 40, y2), page_h) == 255


def test_small_box_without_image_drops_the_qr_code(signer, company):
    prepared = pdf.prepare_for_signing(pf.make_pdf(1), [
        pdf.SignatureSlot("Sig1", "A", page=0, box=(72, 90, 132, 120))])
    result = signer.sign(prepared, field_name="Sig1", identity=_identity(company, 1),
                         level="b_b", tsa=None, appearance=_appearance("Alice"),
                         trust_roots=[company.ca.cert])
    assert not _has_qr(result.data, "Sig1")
    assert "Alice" in _pdftotext(result.data)


def test_unreadable_signature_image_is_refused(signer, company):
    prepared = pdf.prepare_for_signing(pf.make_pdf(1), [pdf.SignatureSlot("Sig1", "A")])
    with pytest.raises(ValueError):
        signer.sign(prepared, field_name="Sig1", identity=_identity(company, 1), level="b_b",
                    tsa=None, appearance=_appearance("Alice", image=b"\x89PNG not really"),
                    trust_roots=[company.ca.cert])


def test_browser_key_signature_fills_fields_and_shows_the_drawing(signer, company, tsa, roots):
    """prepare_external / finish_external (the signer's browser key) write the same values and
    drawn signature as sign()."""
    from test_external_key import Browser, _certified

    prepared_pdf = pdf.prepare_for_signing(pf.make_pdf(1), [
        pdf.SignatureSlot("SigA", "A", page=0, box=(300, 90, 470, 140))],
        form_fields=[pdf.FormField("City", "text", 0, (72, 200, 232, 218)),
                     pdf.FormField("Ok", "checkbox", 0, (72, 230, 86, 244))])
    browser = Browser()
    step = signer.prepare_external(prepared_pdf, field_name="SigA",
                                   identity=_certified(company, browser), level="b_t", tsa=tsa,
                                   appearance=_appearance("Jeanne Dupré", image=pf.signature_png(200, 60)),
                                   field_values={"City": "Lyon", "Ok": True})
    result = signer.finish_external(step.state, browser.sign(step.to_be_signed), tsa=tsa,
                                    trust_roots=roots)
    _validate(result.data, roots, ["SigA"])
    assert "Lyon" in _pdftotext(result.data)
    assert (200, 60) in _appearance_images(result.data, "SigA")
    with pikepdf.open(io.BytesIO(result.data)) as doc:
        fields = {str(f.T): f for f in doc.Root.AcroForm.Fields}
        assert str(fields["City"].V) == "Lyon" and fields["Ok"].V == "/Yes"
