"""PDF intake checks and preparation for signing.

* :func:`inspect_pdf` decides whether an uploaded file is a PDF we accept for signature:
  bounded in time and memory, it never trusts ``/Count``, never decodes page content streams,
  caps what object and cross-reference streams may inflate to, and refuses encrypted files and
  active content (JavaScript, Launch, SubmitForm, ImportData actions, XFA forms).
* :func:`prepare_for_signing` appends, as an incremental update (the original bytes stay a
  byte-for-byte prefix), a signature page or a band on the last page with one labelled box and
  one empty signature field per signer.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import (
    DEFAULT_PURPOSE_LIMITS,
    DecodeLimits,
    DecodePurpose,
    DocumentDecodeBudget,
    StreamDecodeLimits,
)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfDecodeLimitError
from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject
from pyhanko.sign import fields as sig_fields

from .errors import PdfError

__all__ = [
    "DEFAULT_LABELS",
    "FORM_FIELD_KINDS",
    "FormField",
    "PdfInfo",
    "SignatureSlot",
    "inspect_pdf",
    "page_sizes",
    "prepare_for_signing",
    "revision_prefixes_ok",
]

MiB = 1024 * 1024

#: Limits applied while inspecting untrusted uploads. Only object streams and cross-reference
#: streams are ever decoded by :func:`inspect_pdf`; they compress text-like data, so 100:1 beyond
#: 1 MiB of output, or more than 32 MiB for one stream, is treated as a decompression bomb.
INSPECT_DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_ratio=1100, ratio_floor=MiB, max_output_size=64 * MiB),
    per_purpose={
        **DEFAULT_PURPOSE_LIMITS,
        DecodePurpose.OBJECT_STREAM: StreamDecodeLimits(
            max_ratio=100, ratio_floor=MiB, max_output_size=32 * MiB),
        DecodePurpose.XREF_STREAM: StreamDecodeLimits(
            max_ratio=100, ratio_floor=MiB, max_output_size=32 * MiB),
    },
    document_budget=DocumentDecodeBudget(base_allowance=64 * MiB, max_ratio=20),
)

#: the page tree may not be deeper than this (real files use 2 to 6 levels)
MAX_TREE_DEPTH = 64
#: what PdfInspector._visit returns for an indirect object already walked
_SEEN = object()
#: cap on annotations, form fields, outline items and action chains examined
MAX_STRUCTURE_NODES = 200_000
HEADER_WINDOW = 1024

ACTIVE_ACTIONS = {"/JavaScript": "javascript", "/Launch": "launch",
                  "/SubmitForm": "submit_form", "/ImportData": "import_data"}


def revision_prefixes_ok(older: bytes, newer: bytes) -> bool:
    """True when ``newer`` extends ``older`` (append-only incremental update invariant)."""
    return len(newer) >= len(older) and newer[: len(older)] == older


# --- inspection ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PdfInfo:
    """What :func:`inspect_pdf` learnt about an accepted PDF."""

    page_count: int
    pdf_version: str
    has_signatures: bool


def _resolve(obj):
    """Dereference once (indirect -> direct object)."""
    if isinstance(obj, generic.IndirectObject):
        return obj.get_object()
    return obj


def _ref_key(obj):
    if isinstance(obj, generic.IndirectObject):
        return (obj.idnum, obj.generation)
    return None


class _Inspector:
    def __init__(self, reader: PdfFileReader, max_pages: int):
        self.reader = reader
        self.max_pages = max_pages
        self.budget = MAX_STRUCTURE_NODES
        self.pages: list = []

    def _spend(self, n=1):
        self.budget -= n
        if self.budget < 0:
            raise PdfError("corrupt", {"reason": "structure_too_large"})

    # page tree: iterative, loop-safe, depth- and size-capped; /Count is ignored
    def walk_pages(self):
        """Collect the leaf pages; returns their number."""
        root = _resolve(self.reader.root)
        if not isinstance(root, generic.DictionaryObject):
            raise PdfError("corrupt", {"reason": "no_catalog"})
        pages_ref = root.raw_get("/Pages") if "/Pages" in root else None
        if pages_ref is None:
            raise PdfError("corrupt", {"reason": "no_page_tree"})
        seen = set()
        node_cap = self.max_pages * 2 + 1000
        nodes = 0
        stack = [(pages_ref, 0)]
        while stack:
            ref, depth = stack.pop()
            key = _ref_key(ref)
            if key is not None:
                if key in seen:
                    raise PdfError("corrupt", {"reason": "page_tree_loop"})
                seen.add(key)
            if depth > MAX_TREE_DEPTH:
                raise PdfError("corrupt", {"reason": "page_tree_too_deep"})
            nodes += 1
            if nodes > node_cap:
                raise PdfError("too_many_pages", {"max_pages": self.max_pages})
            node = _resolve(ref)
            if not isinstance(node, generic.DictionaryObject):
                raise PdfError("corrupt", {"reason": "bad_page_node"})
            node_type = node.get("/Type")
            kids = node.get("/Kids") if "/Kids" in node else None
            if node_type == "/Pages" or (node_type is None and kids is not None):
                kids = _resolve(kids)
                if not isinstance(kids, generic.ArrayObject):
                    raise PdfError("corrupt", {"reason": "bad_kids"})
                if len(kids) > node_cap:
                    raise PdfError("too_many_pages", {"max_pages": self.max_pages})
                # reversed so pages come out in document order
                for kid in reversed(kids):
                    stack.append((kid, depth + 1))
            elif node_type == "/Page" or node_type is None:
                self.pages.append(node)
                if len(self.pages) > self.max_pages:
                    raise PdfError("too_many_pages", {"max_pages": self.max_pages})
            else:
                raise PdfError("corrupt", {"reason": "bad_page_node"})
        if not self.pages:
            raise PdfError("corrupt", {"reason": "no_pages"})
        return len(self.pages)

    def _visit(self, ref, seen):
        """``ref`` resolved, counted against the walk's budget; ``_SEEN`` when this indirect
        object was visited before (``seen``: the walk's keys), so that loops in a hostile file
        end."""
        key = _ref_key(ref)
        if key is not None:
            if key in seen:
                return _SEEN
            seen.add(key)
        self._spend()
        return _resolve(ref)

    def check_action(self, action, where: str):
        """Follow an action and its /Next chain; raise on active content."""
        todo = [action]
        seen = set()
        while todo:
            item = self._visit(todo.pop(), seen)
            if item is _SEEN:
                continue
            if isinstance(item, generic.ArrayObject):
                todo.extend(item)
                continue
            if not isinstance(item, generic.DictionaryObject):
                continue
            kind = item.get("/S")
            if kind in ACTIVE_ACTIONS:
                raise PdfError("active_content", {"kind": ACTIVE_ACTIONS[kind], "where": where})
            if "/JS" in item:
                raise PdfError("active_content", {"kind": "javascript", "where": where})
            if "/Next" in item:
                todo.append(item.raw_get("/Next"))

    def check_aa(self, holder, where: str):
        """Check the additional-actions dictionary of ``holder``."""
        if "/AA" not in holder:
            return
        aa = _resolve(holder.raw_get("/AA"))
        if isinstance(aa, generic.DictionaryObject):
            for key in list(aa.keys()):
                self.check_action(aa.raw_get(key), f"{where}/AA{key}")

    def check_catalog(self):
        """Open action, catalog actions, JavaScript names, XFA, fields and outlines;
        returns whether a signed signature field exists."""
        root = _resolve(self.reader.root)
        if "/OpenAction" in root:
            self.check_action(root.raw_get("/OpenAction"), "OpenAction")
        self.check_aa(root, "Catalog")
        if "/Names" in root:
            names = _resolve(root.raw_get("/Names"))
            if isinstance(names, generic.DictionaryObject) and "/JavaScript" in names:
                raise PdfError("active_content", {"kind": "javascript", "where": "Names"})
        has_signatures = False
        if "/AcroForm" in root:
            form = _resolve(root.raw_get("/AcroForm"))
            if isinstance(form, generic.DictionaryObject):
                if "/XFA" in form:
                    raise PdfError("active_content", {"kind": "xfa", "where": "AcroForm"})
                if "/Fields" in form:
                    has_signatures = self.check_fields(form.raw_get("/Fields"))
        if "/Outlines" in root:
            self.check_outlines(root.raw_get("/Outlines"))
        return has_signatures

    def check_fields(self, fields_ref) -> bool:
        """Walk the form field tree (loop-safe); returns whether a signature is present."""
        has_signatures = False
        seen = set()
        stack = [(fields_ref, None, 0)]
        while stack:
            ref, inherited_ft, depth = stack.pop()
            key = _ref_key(ref)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            if depth > MAX_TREE_DEPTH:
                raise PdfError("corrupt", {"reason": "field_tree_too_deep"})
            self._spend()
            node = _resolve(ref)
            if isinstance(node, generic.ArrayObject):
                stack.extend((kid, inherited_ft, depth + 1) for kid in node)
                continue
            if not isinstance(node, generic.DictionaryObject):
                continue
            ft = node.get("/FT", inherited_ft)
            if ft == "/Sig" and "/V" in node and _resolve(node.raw_get("/V")) is not None \
                    and not isinstance(_resolve(node.raw_get("/V")), generic.NullObject):
                has_signatures = True
            if "/A" in node:
                self.check_action(node.raw_get("/A"), "Field")
            self.check_aa(node, "Field")
            if "/Kids" in node:
                stack.append((node.raw_get("/Kids"), ft, depth + 1))
        return has_signatures

    def check_outlines(self, outlines_ref):
        """Walk the outline items (loop-safe) and check their actions."""
        seen = set()
        stack = [outlines_ref]
        while stack:
            node = self._visit(stack.pop(), seen)
            if node is _SEEN:
                continue
            if not isinstance(node, generic.DictionaryObject):
                continue
            if "/A" in node:
                self.check_action(node.raw_get("/A"), "Outline")
            for link in ("/First", "/Next"):
                if link in node:
                    stack.append(node.raw_get(link))

    def check_pages(self):
        """Check page additional actions and annotation actions."""
        for index, page in enumerate(self.pages):
            self.check_aa(page, f"Page{index + 1}")
            if "/Annots" not in page:
                continue
            annots = _resolve(page.raw_get("/Annots"))
            if not isinstance(annots, generic.ArrayObject):
                continue
            self._spend(len(annots))
            for annot_ref in annots:
                annot = _resolve(annot_ref)
                if not isinstance(annot, generic.DictionaryObject):
                    continue
                if "/A" in annot:
                    self.check_action(annot.raw_get("/A"), f"Page{index + 1}/Annot")
                self.check_aa(annot, f"Page{index + 1}/Annot")


def _format_version(version) -> str:
    try:
        major, minor = version
        return f"{int(major)}.{int(minor)}"
    except (TypeError, ValueError):
        return ""


def inspect_pdf(data: bytes, *, max_bytes: int, max_pages: int = 2000) -> PdfInfo:
    """Check an uploaded file before it is accepted for signature.

    Raises :class:`~.errors.PdfError` with code ``empty``, ``too_large``, ``not_pdf`` (no
    ``%PDF-`` header within the first 1024 bytes), ``corrupt`` (unreadable, truncated, broken
    cross-references, page-tree loops or absurd depth; ``params["reason"]`` says more),
    ``encrypted``, ``too_many_pages`` (the real page tree is walked with a cap; ``/Count`` is
    never trusted), ``active_content`` (JavaScript, Launch, SubmitForm or ImportData actions in
    the open action, additional actions, annotations, form fields, outlines or the JavaScript
    name tree; XFA forms; ``params["kind"]``) or ``decompression_bomb`` (an object or
    cross-reference stream inflating beyond :data:`INSPECT_DECODE_LIMITS`).

    Page content streams are never decoded. Work is proportional to the size of the document
    structure (pages, annotations, fields, outlines), not to page content.
    """
    if data is None or len(data) == 0:
        raise PdfError("empty")
    size = len(data)
    if size > max_bytes:
        raise PdfError("too_large", {"size": size, "max_bytes": max_bytes})
    header_at = bytes(data[:HEADER_WINDOW]).find(b"%PDF-")
    if header_at < 0:
        raise PdfError("not_pdf")
    if header_at > 0:
        # tolerated by some viewers, but offsets then no longer match: we cannot sign it
        raise PdfError("corrupt", {"reason": "header_offset"})
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False,
                               decode_limits=INSPECT_DECODE_LIMITS)
        if reader.encrypted or "/Encrypt" in reader.trailer:
            raise PdfError("encrypted")
        inspector = _Inspector(reader, max_pages)
        page_count = inspector.walk_pages()
        has_signatures = inspector.check_catalog()
        inspector.check_pages()
        version = _format_version(reader.input_version)
    except PdfError:
        raise
    except PdfDecodeLimitError:
        raise PdfError("decompression_bomb") from None
    except RecursionError:
        raise PdfError("corrupt", {"reason": "nesting_too_deep"}) from None
    except MemoryError:
        raise PdfError("decompression_bomb") from None
    except (PyHankoPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            AssertionError, OverflowError, UnicodeError, NotImplementedError,
            EOFError) as exc:
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    except Exception as exc:
        if "zlib" in type(exc).__module__ or type(exc).__name__ == "error":
            raise PdfError("corrupt", {"reason": "stream_error"}) from None
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    return PdfInfo(page_count=page_count, pdf_version=version, has_signatures=has_signatures)


def count_pages(data: bytes) -> int:
    """The page count a viewer shows for ``data`` (the page tree's ``/Count``), e.g. of a
    prepared PDF: the original's pages and the signature page(s) appended."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=INSPECT_DECODE_LIMITS)
        return int(reader.root["/Pages"]["/Count"])
    except (PyHankoPdfError, PdfDecodeLimitError, ValueError, TypeError, KeyError) as exc:
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None


def page_sizes(data: bytes, *, max_pages: int = 100_000) -> list[tuple[float, float]]:
    """(width, height) in points of each page's MediaBox, in the page's user space (the space
    of field boxes; a page's ``/Rotate`` is not applied). Raises ``PdfError("corrupt")``."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=INSPECT_DECODE_LIMITS)
        inspector = _Inspector(reader, max_pages=max_pages)
        inspector.walk_pages()
        return [_page_geometry(page)[2:4] for page in inspector.pages]
    except PdfError:
        raise
    except (PyHankoPdfError, PdfDecodeLimitError, ValueError, TypeError, KeyError,
            AttributeError, IndexError) as exc:
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None


# --- preparation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureSlot:
    """One signature to collect: the empty field to create and the text of its box.

    With ``page`` (0-based) and ``box`` (x1, y1, x2, y2 in points, that page's user space,
    bottom-left origin) the field is placed there; without, it goes to the signature page or
    band of :func:`prepare_for_signing`."""

    field_name: str
    signer_name: str
    capacity_label: str = ""
    page: int | None = None
    box: tuple | None = None


FORM_FIELD_KINDS = ("text", "checkbox", "date", "initials")


@dataclass(frozen=True)
class FormField:
    """An empty form field a signer fills before signing (see ``field_values`` of
    ``lib.signing.PadesSigner.sign``): ``kind`` "text", "date" and "initials" make a text field
    (/Tx), "checkbox" a check box (/Btn, states /Yes and /Off). ``label``: its tooltip."""

    field_name: str
    kind: str
    page: int
    box: tuple
    label: str = ""


#: English defaults; the Odoo layer passes translated strings with the same keys
DEFAULT_LABELS = {
    "title": "Signature page",
    "document_label": "Document",
    "document_name": "",
    "reference_label": "Request reference",
    "reference": "",
    "signer_label": "Signer",
    "intro": "This page was added to the document to receive its electronic signatures.",
}

A4 = (595.2756, 841.8898)
FONT_REGULAR = "O2sVera"
FONT_BOLD = "O2sVeraBd"


@lru_cache(maxsize=1)
def _register_fonts():
    """Register reportlab's bundled Bitstream Vera (covers French and most Latin text)."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font_dir = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    pdfmetrics.registerFont(TTFont(FONT_REGULAR, os.path.join(font_dir, "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, os.path.join(font_dir, "VeraBd.ttf")))
    return True


def _fit(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    return simpleSplit(" ".join((text or "").split()), font, size, width) or [""]


def _ellipsize(text: str, font: str, size: float, width: float) -> str:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = " ".join((text or "").split())
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


# signature page geometry (points)
_MARGIN = 50
_SLOT_H = 130
_SLOT_GAP = 12
_FIELD_W = 245
_FIRST_SLOT_TOP = 700
_SLOTS_PER_PAGE = (_FIRST_SLOT_TOP - _MARGIN) // (_SLOT_H + _SLOT_GAP)
# band geometry (last-page placement)
_BAND_H = 92
_BAND_PER_ROW = 3
_BAND_GAP = 8
_BAND_MARGIN = 24


def _draw_signature_pages(slots, labels) -> tuple[bytes, list[tuple[int, tuple]]]:
    """Render the signature page(s) with reportlab; return (pdf bytes, [(page, field box)])."""
    from reportlab.pdfgen import canvas

    _register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1, invariant=1)
    width, height = A4
    boxes = []
    chunks = [slots[i:i + _SLOTS_PER_PAGE] for i in range(0, len(slots), _SLOTS_PER_PAGE)]
    number = 0
    for page_no, chunk in enumerate(chunks):
        text_w = width - 2 * _MARGIN
        y = height - _MARGIN - 16
        c.setFillGray(0)
        c.setFont(FONT_BOLD, 16)
        c.drawString(_MARGIN, y, _ellipsize(labels["title"], FONT_BOLD, 16, text_w))
        y -= 24
        c.setFont(FONT_REGULAR, 10)
        for label_key, value_key in (("document_label", "document_name"),
                                     ("reference_label", "reference")):
            value = labels.get(value_key) or ""
            if not value:
                continue
            line = f"{labels[label_key]}: {value}"
            for part in _fit(line, FONT_REGULAR, 10, text_w)[:3]:
                c.drawString(_MARGIN, y, part)
                y -= 13
        if labels.get("intro"):
            c.setFillGray(0.35)
            c.setFont(FONT_REGULAR, 8.5)
            for part in _fit(labels["intro"], FONT_REGULAR, 8.5, text_w)[:2]:
                c.drawString(_MARGIN, y, part)
                y -= 11
        top = min(_FIRST_SLOT_TOP, y - 8)
        for slot in chunk:
            number += 1
            bottom = top - _SLOT_H
            c.setStrokeGray(0.6)
            c.setLineWidth(0.8)
            c.rect(_MARGIN, bottom, width - 2 * _MARGIN, _SLOT_H)
            left_w = width - 2 * _MARGIN - _FIELD_W - 30
            ty = top - 16
            c.setFillGray(0.35)
            c.setFont(FONT_REGULAR, 8.5)
            c.drawString(_MARGIN + 10, ty, f"{labels['signer_label']} {number}")
            ty -= 16
            c.setFillGray(0)
            c.setFont(FONT_BOLD, 12)
            for part in _fit(slot.signer_name, FONT_BOLD, 12, left_w)[:2]:
                c.drawString(_MARGIN + 10, ty, part)
                ty -= 15
            c.setFont(FONT_REGULAR, 9.5)
            for part in _fit(slot.capacity_label, FONT_REGULAR, 9.5, left_w)[:4]:
                c.drawString(_MARGIN + 10, ty, part)
                ty -= 12
            field_box = (width - _MARGIN - 10 - _FIELD_W, bottom + 10,
                         width - _MARGIN - 10, top - 10)
            c.setStrokeGray(0.85)
            c.setDash(2, 2)
            c.rect(field_box[0], field_box[1], _FIELD_W, field_box[3] - field_box[1])
            c.setDash()
            boxes.append((page_no, field_box))
            top = bottom - _SLOT_GAP
        c.showPage()
    c.save()
    return buf.getvalue(), boxes


def _band_layout(n: int, page_w: float, page_h: float):
    """Boxes (x1, y1, x2, y2) of ``n`` slots in a band at the bottom of a page, or None when
    the band would cover more than a third of the page."""
    rows = (n + _BAND_PER_ROW - 1) // _BAND_PER_ROW
    band_h = rows * _BAND_H + (rows - 1) * _BAND_GAP
    if band_h + 2 * _BAND_MARGIN > page_h / 3 or page_w < 200:
        return None
    per_row = min(n, _BAND_PER_ROW)
    slot_w = (page_w - 2 * _BAND_MARGIN - (per_row - 1) * _BAND_GAP) / per_row
    boxes = []
    for i in range(n):
        row, col = divmod(i, _BAND_PER_ROW)
        x1 = _BAND_MARGIN + col * (slot_w + _BAND_GAP)
        y2 = _BAND_MARGIN + band_h - row * (_BAND_H + _BAND_GAP)
        boxes.append((x1, y2 - _BAND_H, x1 + slot_w, y2))
    return boxes


def _draw_band(slots, page_w, page_h, boxes) -> tuple[bytes, list[tuple]]:
    from reportlab.pdfgen import canvas

    _register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(page_w, page_h), pageCompression=1, invariant=1)
    field_boxes = []
    for slot, (x1, y1, x2, y2) in zip(slots, boxes, strict=True):
        w = x2 - x1
        c.setStrokeGray(0.6)
        c.setLineWidth(0.6)
        c.rect(x1, y1, w, y2 - y1)
        c.setFillGray(0)
        c.setFont(FONT_BOLD, 8.5)
        c.drawString(x1 + 5, y2 - 11, _ellipsize(slot.signer_name, FONT_BOLD, 8.5, w - 10))
        c.setFont(FONT_REGULAR, 7)
        c.drawString(x1 + 5, y2 - 20, _ellipsize(slot.capacity_label, FONT_REGULAR, 7, w - 10))
        field_boxes.append((x1 + 4, y1 + 4, x2 - 4, y2 - 24))
    c.showPage()
    c.save()
    return buf.getvalue(), field_boxes


def _page_geometry(page) -> tuple[float, float, float, float, int]:
    node = page
    box = None
    rotate = 0
    depth = 0
    while node is not None and depth < MAX_TREE_DEPTH:
        if box is None and "/MediaBox" in node:
            box = _resolve(node.raw_get("/MediaBox"))
        if "/Rotate" in node and not rotate:
            rotate = int(_resolve(node.raw_get("/Rotate"))) % 360
        node = _resolve(node.raw_get("/Parent")) if "/Parent" in node else None
        depth += 1
    if box is None:
        box = [0, 0, *A4]
    x1, y1, x2, y2 = (float(v) for v in box)
    return min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1), rotate


def _xobject_from(writer, rendered: bytes, page_ix: int):
    rl_reader = PdfFileReader(io.BytesIO(rendered), strict=False)
    return writer.import_page_as_xobject(rl_reader, page_ix=page_ix)


def _content_stream(writer, data: bytes):
    stream = generic.StreamObject(stream_data=data)
    stream.compress()
    return writer.add_object(stream)


def prepare_for_signing(data: bytes, slots: list[SignatureSlot], *,
                        placement: str = "signature_page", labels: dict | None = None,
                        form_fields: list[FormField] = (),
                        cover: list[tuple[int, tuple]] = ()) -> bytes:
    """Return ``data`` plus one incremental update that holds an empty signature field per slot.

    A slot with ``page`` and ``box`` gets its field (a /Sig field whose widget is at ``box``)
    on that page of the document. The other slots go to the fallback: ``placement=
    "signature_page"`` appends A4 signature page(s) (four boxes per page) showing
    ``labels["title"]``, the document name, the request reference and, per slot,
    "<signer_label> n", the signer's name and capacity line, with the field on the right of the
    box. ``placement="last_page"`` draws the boxes in a band at the bottom of the last page
    instead (three per row); when such a band would cover more than a third of that page, or
    the page is rotated, signature page(s) are appended instead. When every slot is placed,
    nothing is appended or drawn.

    ``form_fields``: empty form fields (:class:`FormField`) created in the same update.
    ``cover``: ``(page, (x1, y1, x2, y2))`` areas painted white over that page's content (e.g.
    the anchor tags under the fields).

    Raises ``PdfError("field_outside_page")`` for a box (slot, form field) not inside its page
    (or a page that does not exist) and ``PdfError("field_on_rotated_page")`` for a placed
    field on a page with ``/Rotate`` (its appearance would show turned).

    ``labels`` keys (missing keys take :data:`DEFAULT_LABELS`): ``title``, ``document_label``,
    ``document_name``, ``reference_label``, ``reference``, ``signer_label``, ``intro``.
    Text uses the embedded Bitstream Vera font (accents supported).
    """
    if placement not in ("signature_page", "last_page"):
        raise ValueError(f"unknown placement {placement!r}")
    if not slots:
        raise ValueError("at least one signature slot is required")
    form_fields = list(form_fields or ())
    names = [slot.field_name for slot in slots] + [f.field_name for f in form_fields]
    if len(set(names)) != len(names) or any(not n or "." in n for n in names):
        raise ValueError("field names must be unique, non-empty and without dots")
    for form_field in form_fields:
        if form_field.kind not in FORM_FIELD_KINDS:
            raise ValueError(f"unknown form field kind {form_field.kind!r}")
    for slot in slots:
        if (slot.page is None) != (slot.box is None):
            raise ValueError("a placed slot needs both page and box")
    labels = {**DEFAULT_LABELS, **(labels or {})}
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        if writer.security_handler is not None:
            raise PdfError("encrypted")
        existing = {name for name, _, _ in sig_fields.enumerate_sig_fields(writer.prev)}
        existing |= _top_field_names(writer.prev)
        clash = existing.intersection(names)
        if clash:
            raise PdfError("field_exists", {"field_name": min(clash)})
        inspector = _Inspector(writer.prev, max_pages=100_000)
        page_count = inspector.walk_pages()
        placed = [slot for slot in slots if slot.page is not None]
        rest = [slot for slot in slots if slot.page is None]
        field_specs = []
        for slot in placed:
            box = _checked_box(inspector.pages, slot.page, slot.box, slot.field_name)
            field_specs.append(sig_fields.SigFieldSpec(slot.field_name, on_page=slot.page,
                                                       box=box))
        form_boxes = [_checked_box(inspector.pages, f.page, f.box, f.field_name)
                      for f in form_fields]
        _add_covers(writer, inspector.pages, cover)
        if rest:
            band_boxes = None
            if placement == "last_page":
                x0, y0, page_w, page_h, rotate = _page_geometry(inspector.pages[-1])
                if not rotate:
                    band_boxes = _band_layout(len(rest), page_w, page_h)
            if band_boxes is not None:
                field_specs += _add_band(writer, rest, page_count - 1, x0, y0, page_w, page_h,
                                         band_boxes)
            else:
                field_specs += _add_signature_pages(writer, rest, labels, page_count)
        for spec in field_specs:
            sig_fields.append_signature_field(writer, spec)
        for form_field, box in zip(form_fields, form_boxes, strict=True):
            _add_form_field(writer, form_field, box)
        out = io.BytesIO()
        writer.write(out)
    except PdfError:
        raise
    except PdfDecodeLimitError:
        raise PdfError("decompression_bomb") from None
    except (PyHankoPdfError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    result = out.getvalue()
    if not revision_prefixes_ok(data, result):  # pragma: no cover - pyHanko guarantees this
        raise PdfError("corrupt", {"reason": "not_incremental"})
    return result


def _top_field_names(reader) -> set:
    """Names (/T) of the form's top-level fields."""
    try:
        fields = _resolve(_resolve(reader.root["/AcroForm"]).raw_get("/Fields"))
    except KeyError:
        return set()
    names = set()
    if isinstance(fields, generic.ArrayObject):
        for index in range(min(len(fields), MAX_STRUCTURE_NODES)):
            item = _resolve(fields.raw_get(index))
            if isinstance(item, generic.DictionaryObject) and "/T" in item:
                names.add(str(_resolve(item.raw_get("/T"))))
    return names


#: how far (points) a box may stick out of its page (rounding of callers' coordinates)
_BOX_TOLERANCE = 0.5


def _checked_box(pages, page_ix, box, field_name) -> tuple:
    """``box`` normalised (x1 < x2, y1 < y2) after checking it lies inside page ``page_ix``."""
    params = {"field_name": field_name, "page": page_ix, "box": list(box or ())}
    try:
        x1, y1, x2, y2 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise PdfError("field_outside_page", params) from None
    x1, x2 = min(x1, x2), max(x1, x2)
    y1, y2 = min(y1, y2), max(y1, y2)
    if not isinstance(page_ix, int) or not 0 <= page_ix < len(pages) or x2 - x1 < 1 \
            or y2 - y1 < 1:
        raise PdfError("field_outside_page", params)
    px, py, pw, ph, rotate = _page_geometry(pages[page_ix])
    t = _BOX_TOLERANCE
    if x1 < px - t or y1 < py - t or x2 > px + pw + t or y2 > py + ph + t:
        raise PdfError("field_outside_page", {**params, "page_box": [px, py, px + pw, py + ph]})
    if rotate:
        raise PdfError("field_on_rotated_page", {**params, "rotate": rotate})
    return (x1, y1, x2, y2)


#: how much (points) a cover rectangle is grown on each side
_COVER_BLEED = 1.0


def _add_covers(writer, pages, cover):
    """Paint the ``cover`` rectangles, grown by :data:`_COVER_BLEED` on each side (glyph
    edges and anti-aliasing), white over their pages' content (one stream per page, after
    the content, whose graphics state is isolated first)."""
    by_page: dict[int, list] = {}
    for page_ix, rect in cover or ():
        if not isinstance(page_ix, int) or not 0 <= page_ix < len(pages):
            raise PdfError("field_outside_page", {"field_name": "cover", "page": page_ix,
                                                 "box": list(rect or ())})
        x1, y1, x2, y2 = (float(v) for v in rect)
        b = _COVER_BLEED
        by_page.setdefault(page_ix, []).append(
            (min(x1, x2) - b, min(y1, y2) - b, abs(x2 - x1) + 2 * b, abs(y2 - y1) + 2 * b))
    for page_ix, rects in sorted(by_page.items()):
        ops = b"Q q 1 g " + b" ".join(b"%.2f %.2f %.2f %.2f re" % r for r in rects) + b" f Q"
        writer.add_stream_to_page(page_ix, _content_stream(writer, b"q"), prepend=True)
        writer.add_stream_to_page(page_ix, _content_stream(writer, ops))


#: font resource name of the form's default appearance (Helvetica, WinAnsi)
FORM_FONT = "/O2sHelv"
FORM_DA = f"{FORM_FONT} 10 Tf 0 g"


def _helvetica():
    name = generic.NameObject
    return generic.DictionaryObject({
        name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
        name("/BaseFont"): name("/Helvetica"), name("/Encoding"): name("/WinAnsiEncoding"),
    })


def _form_resources(writer):
    """The AcroForm (created if absent) with :data:`FORM_FONT` in its /DR; returns its
    /Fields array."""
    root = writer.root
    if "/AcroForm" not in root:
        form = generic.DictionaryObject({generic.pdf_name("/Fields"): generic.ArrayObject()})
        root[generic.pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    form = root["/AcroForm"]
    writer.update_container(form)
    if "/Fields" not in form:
        form[generic.pdf_name("/Fields")] = generic.ArrayObject()
    if "/DR" not in form:
        form[generic.pdf_name("/DR")] = generic.DictionaryObject()
    resources = form["/DR"]
    writer.update_container(resources)
    if "/Font" not in resources:
        resources[generic.pdf_name("/Font")] = generic.DictionaryObject()
    fonts = resources["/Font"]
    writer.update_container(fonts)
    if FORM_FONT not in fonts:
        fonts[generic.NameObject(FORM_FONT)] = writer.add_object(_helvetica())
    fields = form["/Fields"]
    writer.update_container(fields)
    return fields


def _form_xobject(writer, ops: bytes, width: float, height: float, resources=None):
    from pyhanko.pdf_utils.writer import init_xobject_dictionary

    return writer.add_object(init_xobject_dictionary(ops, width, height, resources))


def checkbox_appearances(writer, width: float, height: float) -> generic.DictionaryObject:
    """/AP /N of a check box: /Yes (frame and tick) and /Off (frame), drawn as paths."""
    frame = b"0.4 G 0.6 w 0.3 0.3 %.2f %.2f re S" % (width - 0.6, height - 0.6)
    tick = b"0 g 0 G %.2f w 1 J 1 j %.2f %.2f m %.2f %.2f l %.2f %.2f l S" % (
        max(1.0, min(width, height) / 8),
        width * 0.2, height * 0.52, width * 0.42, height * 0.25, width * 0.8, height * 0.78)
    name = generic.NameObject
    return generic.DictionaryObject({name("/N"): generic.DictionaryObject({
        name("/Yes"): _form_xobject(writer, frame + b" " + tick, width, height),
        name("/Off"): _form_xobject(writer, frame, width, height),
    })})


def _add_form_field(writer, form_field: FormField, box):
    """One empty field with its widget (merged) on its page."""
    name = generic.NameObject
    x1, y1, x2, y2 = box
    width, height = x2 - x1, y2 - y1
    page_ref = writer.find_page_for_modification(form_field.page)[0]
    field = generic.DictionaryObject({
        name("/Type"): name("/Annot"), name("/Subtype"): name("/Widget"),
        name("/T"): generic.TextStringObject(form_field.field_name),
        name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in box),
        name("/F"): generic.NumberObject(4),
        name("/P"): page_ref,
    })
    if form_field.label:
        field[name("/TU")] = generic.TextStringObject(form_field.label)
    if form_field.kind == "checkbox":
        field[name("/FT")] = name("/Btn")
        field[name("/V")] = name("/Off")
        field[name("/AS")] = name("/Off")
        field[name("/AP")] = checkbox_appearances(writer, width, height)
    else:
        field[name("/FT")] = name("/Tx")
        field[name("/DA")] = generic.TextStringObject(FORM_DA)
        field[name("/AP")] = generic.DictionaryObject({
            name("/N"): _form_xobject(writer, b"", width, height)})
    fields = _form_resources(writer)
    field_ref = writer.add_object(field)
    fields.append(field_ref)
    writer.register_annotation(page_ref, field_ref)
    return field_ref


def _add_signature_pages(writer, slots, labels, page_count):
    rendered, boxes = _draw_signature_pages(slots, labels)
    n_pages = max(page for page, _ in boxes) + 1
    for i in range(n_pages):
        xobj = _xobject_from(writer, rendered, i)
        resources = generic.DictionaryObject({
            generic.pdf_name("/XObject"): generic.DictionaryObject(
                {generic.pdf_name("/O2sSigPage"): xobj}),
        })
        page = PageObject(contents=_content_stream(writer, b"q /O2sSigPage Do Q"),
                          media_box=(0, 0, *A4), resources=resources)
        writer.insert_page(page, after=page_count - 1 + i)
    return [
        sig_fields.SigFieldSpec(slot.field_name, on_page=page_count + page, box=box)
        for slot, (page, box) in zip(slots, boxes, strict=True)
    ]


def _add_band(writer, slots, page_ix, x0, y0, page_w, page_h, boxes):
    rendered, field_boxes = _draw_band(slots, page_w, page_h, boxes)
    xobj = _xobject_from(writer, rendered, 0)
    resources = generic.DictionaryObject({
        generic.pdf_name("/XObject"): generic.DictionaryObject(
            {generic.pdf_name("/O2sSigBand"): xobj}),
    })
    # isolate the existing content's graphics state, then draw the band in page coordinates
    writer.add_stream_to_page(page_ix, _content_stream(writer, b"q"), prepend=True)
    band = b"Q q 1 0 0 1 %g %g cm /O2sSigBand Do Q" % (x0, y0)
    writer.add_stream_to_page(page_ix, _content_stream(writer, band), resources=resources)
    return [
        sig_fields.SigFieldSpec(slot.field_name, on_page=page_ix,
                                box=(b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0))
        for slot, b in zip(slots, field_boxes, strict=True)
    ]
