"""Builds good and hostile PDF files for tests, from scratch (no fixtures on disk).

Good documents come from reportlab (what real generators produce). Hostile ones are written
object by object with :class:`RawPdf`, which computes the cross-reference offsets itself, so
each file is exactly the malformed structure a test wants: lying ``/Count``, page-tree loops,
absurd depth, JavaScript in various places, object-stream and xref-stream decompression bombs,
truncation, encryption (through pyHanko) and non-PDF data.
"""

from __future__ import annotations

import io
import struct
import zlib

__all__ = [
    "RawPdf",
    "active_content_pdfs",
    "bad_pdfs",
    "encrypted_pdf",
    "make_pdf",
    "raw_pages_pdf",
]


def make_pdf(pages: int = 1, *, text: str = "Lettre de mission – page {n} (éèàç)",
             pagesize=None, image_bytes: int = 0) -> bytes:
    """A normal PDF from reportlab with ``pages`` pages of text (and optionally an
    incompressible image-like stream of ``image_bytes`` random bytes on page 1)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=pagesize or A4, invariant=1)
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 12)
        c.drawString(72, 750, text.format(n=n))
        for i in range(20):
            c.drawString(72, 720 - 14 * i, f"Line {i} of page {n}: lorem ipsum dolor sit amet.")
        if n == 1 and image_bytes:
            import os

            from PIL import Image
            from reportlab.lib.utils import ImageReader

            side = max(1, int((image_bytes / 3) ** 0.5))
            img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
            c.drawImage(ImageReader(img), 72, 300, width=200, height=200)
        c.showPage()
    c.save()
    return buf.getvalue()


class RawPdf:
    """Minimal PDF writer for hand-made structures.

    ``add(body)`` reserves the next object number for ``body`` (bytes, without
    ``obj``/``endobj``); ``stream(dict_body, data)`` adds a stream object. ``build(root)`` writes
    header, objects, a classic xref table and the trailer.
    """

    def __init__(self, version: str = "1.7"):
        self.version = version
        self.objects: list[bytes | None] = []

    def reserve(self) -> int:
        """Allocate an object number whose body is set later."""
        self.objects.append(None)
        return len(self.objects)

    def set(self, num: int, body: bytes):
        """Set the body of a reserved object."""
        self.objects[num - 1] = body

    def add(self, body: bytes) -> int:
        """Add an object; returns its number."""
        self.objects.append(body)
        return len(self.objects)

    @staticmethod
    def stream_body(dict_body: bytes, data: bytes) -> bytes:
        """Body of a stream object (dictionary entries + raw data)."""
        return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dict_body, len(data), data)

    def stream(self, dict_body: bytes, data: bytes) -> int:
        """Add a stream object; returns its number."""
        return self.add(self.stream_body(dict_body, data))

    def build(self, root: int, *, trailer_extra: bytes = b"") -> bytes:
        """Serialise with a classic xref table and trailer."""
        out = io.BytesIO()
        out.write(b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % self.version.encode())
        offsets = []
        for num, body in enumerate(self.objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n%s\nendobj\n" % (num, body or b"null"))
        xref_at = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1))
        for off in offsets:
            out.write(b"%010d 00000 n \n" % off)
        out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
                  % (len(self.objects) + 1, root, trailer_extra, xref_at))
        return out.getvalue()


def raw_pages_pdf(n_pages: int, *, count: int | None = None, fan_out: int = 0) -> bytes:
    """A valid PDF with ``n_pages`` distinct empty pages. ``count`` overrides the root's
    ``/Count`` (a lie); ``fan_out`` > 0 builds a balanced tree with that many kids per node."""
    pdf = RawPdf()
    catalog = pdf.reserve()
    content = pdf.stream(b"", b"BT /F1 12 Tf 72 720 Td (x) Tj ET")
    pages_root = pdf.reserve()
    page_nums = []
    for _ in range(n_pages):
        page_nums.append(pdf.reserve())
    if fan_out <= 0:
        for num in page_nums:
            pdf.set(num, b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>" % (pages_root,
                                                                            content))
        kids = b" ".join(b"%d 0 R" % n for n in page_nums)
        pdf.set(pages_root, b"<< /Type /Pages /MediaBox [0 0 595 842] /Kids [%s] /Count %d >>"
                % (kids, n_pages if count is None else count))
    else:
        level = page_nums
        parents: dict[int, int] = {}
        while len(level) > fan_out:
            groups = [level[i:i + fan_out] for i in range(0, len(level), fan_out)]
            next_level = []
            for group in groups:
                node = pdf.reserve()
                for kid in group:
                    parents[kid] = node
                next_level.append(node)
                pdf.set(node, b"<< /Type /Pages /Kids [%s] /Count %d >>"
                        % (b" ".join(b"%d 0 R" % k for k in group), len(group) * 1))
            level = next_level
        for kid in level:
            parents[kid] = pages_root
        for num in page_nums:
            pdf.set(num, b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>"
                    % (parents[num], content))
        # fix /Parent of intermediate nodes: rewrite bodies with their parent
        for node, parent in parents.items():
            body = pdf.objects[node - 1]
            if body.startswith(b"<< /Type /Pages"):
                pdf.set(node, body[:-2] + b"/Parent %d 0 R >>" % parent)
        pdf.set(pages_root, b"<< /Type /Pages /MediaBox [0 0 595 842] /Kids [%s] /Count %d >>"
                % (b" ".join(b"%d 0 R" % k for k in level), n_pages if count is None else count))
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_root)
    return pdf.build(catalog)


def _one_page(pdf: RawPdf, *, catalog_extra: bytes = b"", page_extra: bytes = b"",
              pages_extra: bytes = b"") -> int:
    catalog = pdf.reserve()
    content = pdf.stream(b"", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")
    pages = pdf.reserve()
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R %s>>"
                   % (pages, content, page_extra))
    pdf.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 %s>>" % (page, pages_extra))
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R %s>>" % (pages, catalog_extra))
    return catalog


def _simple(catalog_extra=b"", page_extra=b"", pages_extra=b"") -> bytes:
    pdf = RawPdf()
    root = _one_page(pdf, catalog_extra=catalog_extra, page_extra=page_extra,
                     pages_extra=pages_extra)
    return pdf.build(root)


def looping_page_tree() -> bytes:
    """/Pages whose /Kids contains an intermediate node pointing back to the root."""
    pdf = RawPdf()
    catalog = pdf.reserve()
    root = pdf.reserve()
    mid = pdf.reserve()
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % mid)
    pdf.set(mid, b"<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R %d 0 R] /Count 2 >>"
            % (root, page, root))
    pdf.set(root, b"<< /Type /Pages /Kids [%d 0 R] /Count 1000000000 >>" % mid)
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % root)
    return pdf.build(catalog)


def deep_page_tree(depth: int = 5000) -> bytes:
    """A chain of ``depth`` nested /Pages nodes above a single page, with a lying /Count."""
    pdf = RawPdf()
    catalog = pdf.reserve()
    nodes = [pdf.reserve() for _ in range(depth)]
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % nodes[-1])
    for i, node in enumerate(nodes):
        kid = nodes[i + 1] if i + 1 < depth else page
        parent = b"/Parent %d 0 R " % nodes[i - 1] if i else b""
        pdf.set(node, b"<< /Type /Pages %s/Kids [%d 0 R] /Count 999999999 >>" % (parent, kid))
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % nodes[0])
    return pdf.build(catalog)


def wide_shared_kids(refs: int = 30_000) -> bytes:
    """One /Pages node whose /Kids repeats the same page ``refs`` times (/Count agrees)."""
    pdf = RawPdf()
    catalog = pdf.reserve()
    root = pdf.reserve()
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % root)
    pdf.set(root, b"<< /Type /Pages /Kids [%s] /Count %d >>"
            % (b" ".join([b"%d 0 R" % page] * refs), refs))
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % root)
    return pdf.build(catalog)


def _deflate(prefix: bytes, zeros: int = 0) -> bytes:
    """zlib-compress ``prefix`` followed by ``zeros`` zero bytes, without materialising them."""
    comp = zlib.compressobj(9)
    parts = [comp.compress(prefix)]
    chunk = b"\0" * (1 << 20)
    while zeros > 0:
        parts.append(comp.compress(chunk[: min(zeros, len(chunk))]))
        zeros -= len(chunk)
    parts.append(comp.flush())
    return b"".join(parts)


def _xref_stream_pdf(objects: dict[int, bytes], in_objstm: dict[int, bytes], root: int, *,
                     objstm_bomb: int = 0, objstm_filters: int = 1,
                     xref_bomb: int = 0) -> bytes:
    """PDF 1.5 with an object stream holding ``in_objstm`` and a cross-reference stream.

    ``objstm_bomb`` appends that many zero bytes to the object stream's decoded data;
    ``objstm_filters`` stacks that many FlateDecode layers; ``xref_bomb`` appends that many
    zero bytes to the xref stream's decoded data."""
    out = io.BytesIO()
    out.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, tuple] = {}
    for num, body in sorted(objects.items()):
        offsets[num] = (1, out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (num, body))
    objstm_num = max([*objects, *in_objstm]) + 1
    header_parts, data_parts, pos = [], [], 0
    for idx, (num, body) in enumerate(sorted(in_objstm.items())):
        header_parts.append(b"%d %d" % (num, pos))
        data_parts.append(body + b"\n")
        pos += len(body) + 1
        offsets[num] = (2, objstm_num, idx)
    header = b" ".join(header_parts) + b"\n"
    encoded = _deflate(header + b"".join(data_parts), objstm_bomb)
    for _ in range(objstm_filters - 1):
        encoded = zlib.compress(encoded, 9)
    filters = b"[" + b" ".join([b"/FlateDecode"] * objstm_filters) + b"]"
    offsets[objstm_num] = (1, out.tell())
    out.write(b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter %s /Length %d >>\nstream\n"
              % (objstm_num, len(in_objstm), len(header), filters, len(encoded)))
    out.write(encoded + b"\nendstream\nendobj\n")
    xref_num = objstm_num + 1
    size = xref_num + 1
    xref_at = out.tell()
    offsets[xref_num] = (1, xref_at)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for num in range(1, size):
        entry = offsets.get(num)
        if entry is None:
            rows.append(struct.pack(">BIH", 0, 0, 0))
        elif entry[0] == 1:
            rows.append(struct.pack(">BIH", 1, entry[1], 0))
        else:
            rows.append(struct.pack(">BIH", 2, entry[1], entry[2]))
    xdata = _deflate(b"".join(rows), xref_bomb)
    out.write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Filter /FlateDecode "
              b"/Length %d >>\nstream\n" % (xref_num, size, root, len(xdata)))
    out.write(xdata + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at)
    return out.getvalue()


def objstm_pdf(*, bomb_bytes: int = 0, layers: int = 1) -> bytes:
    """A one-page PDF whose catalog and page tree live in an object stream; with
    ``bomb_bytes`` the stream inflates by that many extra zero bytes."""
    objects = {3: RawPdf.stream_body(b"", b"BT /F1 12 Tf 72 720 Td (x) Tj ET")}
    in_objstm = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>",
    }
    return _xref_stream_pdf(objects, in_objstm, 1, objstm_bomb=bomb_bytes,
                            objstm_filters=layers)


def xref_bomb_pdf(bomb_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A PDF whose cross-reference stream inflates far beyond its declared size."""
    objects = {3: RawPdf.stream_body(b"", b"BT ET")}
    in_objstm = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>",
    }
    return _xref_stream_pdf(objects, in_objstm, 1, xref_bomb=bomb_bytes)


def encrypted_pdf(user_password: str = "", owner_password: str = "owner") -> bytes:
    """A one-page PDF encrypted with AES-256 by pyHanko (empty user password by default:
    opens without a prompt, as many "protected" PDFs do)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    w = PdfFileWriter()
    content = generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 720 Td (secret) Tj ET")
    page = PageObject(contents=w.add_object(content), media_box=(0, 0, 595, 842))
    w.insert_page(page)
    w.encrypt(owner_password, user_password)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def active_content_pdfs() -> dict[str, bytes]:
    """PDFs with active content in the places a viewer would run it, by name."""
    js = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    pdf = RawPdf()
    catalog = pdf.reserve()
    pages = pdf.reserve()
    js_tree = pdf.add(b"<< /Names [(init) %s] >>" % js)
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % pages)
    pdf.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R /Names << /JavaScript %d 0 R >> >>"
            % (pages, js_tree))
    names_js = pdf.build(catalog)

    # JavaScript hidden at the end of a /Next chain of an innocent GoTo open action
    pdf = RawPdf()
    catalog = pdf.reserve()
    pages = pdf.reserve()
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % pages)
    hidden = pdf.add(js)
    middle = pdf.add(b"<< /S /GoTo /D [%d 0 R /Fit] /Next [%d 0 R] >>" % (page, hidden))
    pdf.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R /OpenAction << /S /GoTo /D [%d 0 R /Fit] "
            b"/Next %d 0 R >> >>" % (pages, page, middle))
    next_chain = pdf.build(catalog)

    # outline item running JavaScript
    pdf = RawPdf()
    catalog = pdf.reserve()
    pages = pdf.reserve()
    outlines = pdf.reserve()
    page = pdf.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % pages)
    item = pdf.add(b"<< /Title (Go) /Parent %d 0 R /A %s >>" % (outlines, js))
    pdf.set(outlines, b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count 1 >>" % (item, item))
    pdf.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R /Outlines %d 0 R >>" % (pages, outlines))
    outline_js = pdf.build(catalog)

    # form field (widget) submitting the form on a button press
    pdf = RawPdf()
    catalog = pdf.reserve()
    pages = pdf.reserve()
    page = pdf.reserve()
    widget = pdf.add(b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) "
                     b"/Rect [10 10 100 40] /P %d 0 R /A << /S /SubmitForm "
                     b"/F (http://127.0.0.1/collect) >> >>" % page)
    pdf.set(page, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Annots [%d 0 R] >>"
            % (pages, widget))
    pdf.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    pdf.set(catalog, b"<< /Type /Catalog /Pages %d 0 R /AcroForm << /Fields [%d 0 R] >> >>"
            % (pages, widget))
    submit_form = pdf.build(catalog)

    return {
        "openaction_javascript": _simple(catalog_extra=b"/OpenAction " + js),
        "openaction_launch": _simple(
            catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
        "catalog_aa_js": _simple(catalog_extra=b"/AA << /WC << /S /JavaScript /JS (1) >> >>"),
        "page_aa_js": _simple(page_extra=b"/AA << /O " + js + b" >>"),
        "annot_launch": _simple(
            page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
                       b"/A << /S /Launch /F (evil.exe) >> >>]"),
        "annot_import_data": _simple(
            page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
                       b"/A << /S /ImportData /F (data.fdf) >> >>]"),
        "names_javascript": names_js,
        "next_chain_javascript": next_chain,
        "outline_javascript": outline_js,
        "submit_form": submit_form,
        "xfa_form": _simple(catalog_extra=b"/AcroForm << /Fields [] /XFA [(x) 1 0 R] >>"),
    }


def bad_pdfs(good: bytes) -> dict[str, tuple[bytes, str]]:
    """Every hostile input with the ``PdfError`` code :func:`inspect_pdf` must raise."""
    cases = {
        "zero_bytes": (b"", "empty"),
        "truncated_half": (good[: len(good) // 2], "corrupt"),
        "truncated_tail": (good[:-40], "corrupt"),
        "header_only": (b"%PDF-1.7\n", "corrupt"),
        "garbage_after_header": (b"%PDF-1.4\n" + bytes(range(256)) * 20, "corrupt"),
        "encrypted_empty_user_password": (encrypted_pdf(), "encrypted"),
        "encrypted_with_password": (encrypted_pdf(user_password="user"), "encrypted"),
        "png_named_pdf": (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "not_pdf"),
        "html_named_pdf": (b"<!doctype html><html><body>Invoice</body></html>" + b" " * 2000,
                           "not_pdf"),
        "header_not_at_start": (b"junk\n" + good, "corrupt"),
        "zip_named_pdf": (b"PK\x03\x04" + b"\0" * 100, "not_pdf"),
        "header_after_1024_bytes": (b" " * 1100 + good, "not_pdf"),
        "looping_page_tree": (looping_page_tree(), "corrupt"),
        "deep_page_tree": (deep_page_tree(), "corrupt"),
        "wide_shared_kids": (wide_shared_kids(), "too_many_pages"),
        "too_many_real_pages": (raw_pages_pdf(2500, count=1), "too_many_pages"),
        "objstm_bomb": (objstm_pdf(bomb_bytes=64 * 1024 * 1024), "decompression_bomb"),
        "objstm_stacked_bomb": (objstm_pdf(bomb_bytes=256 * 1024 * 1024, layers=2),
                                "decompression_bomb"),
        "xref_stream_bomb": (xref_bomb_pdf(), "decompression_bomb"),
    }
    for name, data in active_content_pdfs().items():
        cases[name] = (data, "active_content")
    return cases


def signature_png(width: int = 300, height: int = 100) -> bytes:
    """A PNG of a drawn signature (a stroke on a transparent background), ``width`` x
    ``height`` pixels: what the signing page sends."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    ImageDraw.Draw(image).line((10, height - 20, width // 3, 20, width - 10, height // 2),
                               fill=(0, 0, 90, 255), width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
