"""Whatever the advisor has, as the PDF that is signed (plain Python, no ORM).

:func:`normalise` takes the bytes of an uploaded file and returns the PDF to sign:

* a PDF that :func:`.pdf.inspect_pdf` accepts comes back **unchanged** (same bytes: the
  original stays a byte prefix of every signed revision);
* images (JPEG, PNG, TIFF with several pages, HEIC/HEIF photos when ``pillow_heif`` is
  installed) become one A4 page per image, fitted with a margin, turned as their EXIF
  orientation says, on a landscape page when the image is wider than high;
* Office documents (DOC, DOCX, ODT, RTF, XLSX, ODS...) are converted by LibreOffice
  (``soffice --headless --convert-to pdf``) in a subprocess with a time limit, a throwaway
  profile in a temporary folder (never the server user's), macros disabled in that profile,
  links not updated, a minimal environment; the PDF it makes then goes the PDF way below;
* a PDF with active content is **neutralised** rather than refused: JavaScript (document
  level and in actions), additional actions (/AA) everywhere, open actions that are not a
  plain destination, Launch / SubmitForm / ImportData / ResetForm / GoToR / GoToE /
  RichMediaExecute / Rendition / Movie / Sound actions, URI actions with a ``javascript:``,
  ``file:``, ``data:`` or ``vbscript:`` address, XFA forms, embedded files (the
  /EmbeddedFiles name tree and file-attachment annotations: what is signed is what is seen on
  the pages, and an attached file is neither seen nor bound to the signature's meaning),
  rich media / 3D / movie / sound / screen annotations; fillable fields are flattened into the
  page content with the values they hold (appearance streams generated first), and the form
  removed; the codes of what was removed are returned (:data:`REMOVED_LABELS`);
* a PDF encrypted with an owner password only (it opens without a password, and printing is
  allowed) is decrypted; one that needs a password to open gives ``PdfError("encrypted")``;
* a damaged PDF that qpdf (through pikepdf) can rebuild is rewritten (``repaired``); one with
  no readable page keeps the ``corrupt`` refusal.

Whatever was rewritten is checked again by :func:`.pdf.inspect_pdf`, with the same bounds
(size, pages, decode limits), so nothing active can remain. Images are bounded in pixels
per frame (:data:`MAX_IMAGE_PIXELS`) before they are decoded, in frames by ``max_pages``;
Office files in archive size (:data:`MAX_ARCHIVE_RATIO`) before LibreOffice sees them, and in
time by ``timeout``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from . import pdf as lib_pdf
from .errors import PdfError

__all__ = [
    "REMOVED_LABELS",
    "Normalised",
    "detect_kind",
    "normalise",
    "soffice_path",
]

#: pixels of one image (a frame of a TIFF): 60 MP, a 9000 x 6700 scan; more is refused
MAX_IMAGE_PIXELS = 60_000_000
#: an image is scaled down to this many pixels on its longer side (A4 at 300 dpi)
MAX_IMAGE_SIDE = 3508
#: an Office archive (DOCX, ODT...) may not expand more than this many times its size, nor
#: hold more than MAX_ARCHIVE_ENTRIES entries
MAX_ARCHIVE_RATIO = 100
MAX_ARCHIVE_ENTRIES = 5000
A4 = (595.2756, 841.8898)
MARGIN = 28.35  # 1 cm

#: what neutralisation may remove, with the English words the screens and evidence use
REMOVED_LABELS = {
    "javascript": "scripts (JavaScript)",
    "open_action": "an action run when the document opens",
    "additional_actions": "actions triggered by events (page opened, field changed...)",
    "launch": "commands launching programs",
    "submit_form": "form submission to a web address",
    "import_data": "data import actions",
    "reset_form": "form reset actions",
    "remote_goto": "links opening other files",
    "uri_script": "links running scripts or opening local files",
    "multimedia": "multimedia or 3D content",
    "xfa": "a dynamic XFA form",
    "embedded_files": "attached files",
    "fields_flattened": "fillable fields, flattened into the page with their values",
}

_ACTION_CODES = {
    "/JavaScript": "javascript", "/Launch": "launch", "/SubmitForm": "submit_form",
    "/ImportData": "import_data", "/ResetForm": "reset_form", "/GoToR": "remote_goto",
    "/GoToE": "remote_goto", "/RichMediaExecute": "multimedia", "/Rendition": "multimedia",
    "/Movie": "multimedia", "/Sound": "multimedia",
}
_DANGEROUS_SCHEMES = ("javascript:", "file:", "data:", "vbscript:")
_MEDIA_ANNOTS = {"/RichMedia", "/3D", "/Movie", "/Sound", "/Screen"}

_OFFICE = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
    "odt": ("application/vnd.oasis.opendocument.text", ".odt"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ".ods"),
    "odp": ("application/vnd.oasis.opendocument.presentation", ".odp"),
    "doc": ("application/msword", ".doc"),
    "xls": ("application/vnd.ms-excel", ".xls"),
    "rtf": ("application/rtf", ".rtf"),
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True)
class Normalised:
    """The PDF to sign made from an upload, and what was done to get it."""

    pdf: bytes
    source_kind: str                       # "pdf" | "image" | "office"
    source_mimetype: str                   # detected from the bytes, never from the name
    converted: bool                        # ``pdf`` differs from the uploaded bytes
    removed: tuple[str, ...] = ()          # codes of REMOVED_LABELS, in a stable order
    removed_details: tuple[str, ...] = ()  # short English details (counts, field names)
    repaired: bool = False                 # qpdf rebuilt a damaged structure
    decrypted: bool = False                # an owner-password-only encryption was removed


# --- what is it ------------------------------------------------------------------------------

def detect_kind(data: bytes, filename: str = "") -> tuple[str, str]:
    """``(kind, mimetype)`` of ``data`` from its first bytes (the name only tells a PDF
    without header from any other unknown file): kind is ``pdf``, ``image`` or ``office``.
    Raises ``PdfError("empty")``, ``not_pdf`` (a ``.pdf`` name on something else) or
    ``unsupported_type``."""
    if not data:
        raise PdfError("empty")
    head = bytes(data[:lib_pdf.HEADER_WINDOW])
    if b"%PDF-" in head:
        return "pdf", "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image", "image/tiff"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image", "image/heic"
    if head.startswith(b"{\\rtf"):
        return "office", _OFFICE["rtf"][0]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        ext = Path(filename or "").suffix.lower()
        return "office", _OFFICE["xls" if ext in (".xls", ".xlt") else "doc"][0]
    if head.startswith(b"PK\x03\x04"):
        sub = _zip_office_kind(data)
        if sub:
            return "office", _OFFICE[sub][0]
    if (filename or "").lower().endswith(".pdf"):
        raise PdfError("not_pdf")
    raise PdfError("unsupported_type")


def _zip_office_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if "mimetype" in names:
                mimetype = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
                for key in ("odt", "ods", "odp"):
                    if mimetype == _OFFICE[key][0]:
                        return key
                return None
            if "[Content_Types].xml" in names:
                for prefix, key in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
                    if any(name.startswith(prefix) for name in names):
                        return key
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError,
            NotImplementedError):
        return None
    return None


def _office_extension(mimetype: str) -> str:
    for value, ext in _OFFICE.values():
        if value == mimetype:
            return ext
    return ".bin"


# --- entry point -----------------------------------------------------------------------------

_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4


def normalise(data: bytes, filename: str, *, max_bytes: int, max_pages: int = 2000,
              timeout: float = 60.0, soffice: str | None = None) -> Normalised:
    """The PDF to sign made from the uploaded ``data`` (see the module docstring).

    Raises :class:`~.errors.PdfError`: ``empty``, ``too_large`` (the upload or the PDF made
    from it), ``not_pdf``, ``unsupported_type``, ``corrupt``, ``encrypted``,
    ``too_many_pages``, ``decompression_bomb``, ``image_too_large``, ``image_corrupt``,
    ``heic_unavailable``,
    ``office_unavailable`` (no LibreOffice), ``conversion_failed``, ``conversion_timeout``.

    The last few results are kept in memory per process (keyed by the content's SHA-256 and
    the limits), so that the preview the advisor saw and the request sent from it are the
    same bytes, without converting twice."""
    if data is None or len(data) == 0:
        raise PdfError("empty")
    if len(data) > max_bytes:
        raise PdfError("too_large", {"size": len(data), "max_bytes": max_bytes})
    key = (hashlib.sha256(data).hexdigest(), max_bytes, max_pages)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    result = _normalise(bytes(data), filename, max_bytes=max_bytes, max_pages=max_pages,
                        timeout=timeout, soffice=soffice)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _normalise(data, filename, *, max_bytes, max_pages, timeout, soffice) -> Normalised:
    kind, mimetype = detect_kind(data, filename)
    if kind == "image":
        pdf = _image_to_pdf(data, mimetype, max_pages=max_pages)
        _check_output(pdf, max_bytes, max_pages)
        return Normalised(pdf=pdf, source_kind=kind, source_mimetype=mimetype, converted=True)
    if kind == "office":
        made = _office_to_pdf(data, mimetype, soffice=soffice or soffice_path(),
                              timeout=timeout)
        result = _pdf(made, max_bytes=max_bytes, max_pages=max_pages)
        return Normalised(pdf=result.pdf, source_kind=kind, source_mimetype=mimetype,
                          converted=True, removed=result.removed,
                          removed_details=result.removed_details, repaired=result.repaired,
                          decrypted=result.decrypted)
    return _pdf(data, max_bytes=max_bytes, max_pages=max_pages)


def _check_output(pdf: bytes, max_bytes: int, max_pages: int):
    if len(pdf) > max_bytes:
        raise PdfError("too_large", {"size": len(pdf), "max_bytes": max_bytes})
    lib_pdf.inspect_pdf(pdf, max_bytes=max_bytes, max_pages=max_pages)


# --- PDF -------------------------------------------------------------------------------------

def _pdf(data: bytes, *, max_bytes: int, max_pages: int) -> Normalised:
    try:
        lib_pdf.inspect_pdf(data, max_bytes=max_bytes, max_pages=max_pages)
        return Normalised(pdf=data, source_kind="pdf", source_mimetype="application/pdf",
                          converted=False)
    except PdfError as exc:
        if exc.code not in ("active_content", "encrypted", "corrupt"):
            raise
        reason = exc
    if reason.code == "corrupt" and (reason.params or {}).get("reason") in (
            "no_page_tree", "no_pages", "no_catalog", "page_tree_loop", "page_tree_too_deep"):
        raise reason
    pdf, removed, details, repaired, decrypted = _rewrite(data, max_pages=max_pages)
    # a PDF our intake checks could not read but qpdf could: rewritten by qpdf, i.e. repaired
    repaired = repaired or reason.code == "corrupt"
    try:
        _check_output(pdf, max_bytes, max_pages)
    except PdfError as exc:
        if exc.code == "corrupt":
            raise reason from None
        raise
    return Normalised(pdf=pdf, source_kind="pdf", source_mimetype="application/pdf",
                      converted=True, removed=removed, removed_details=details,
                      repaired=repaired, decrypted=decrypted)


def _rewrite(data: bytes, *, max_pages: int):
    """Open with pikepdf (qpdf: rebuilds damaged cross-references), decrypt, neutralise and
    save. Returns ``(pdf, removed codes, details, repaired, decrypted)``."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data), password="")
    except pikepdf.PasswordError:
        raise PdfError("encrypted") from None
    except (pikepdf.PdfError, ValueError, RuntimeError, OSError) as exc:
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    with pdf:
        try:
            repaired = any(_is_repair_warning(w) for w in pdf.get_warnings())
            decrypted = bool(pdf.is_encrypted)
            if decrypted and not (pdf.allow.print_lowres or pdf.allow.print_highres):
                raise PdfError("encrypted")
            if len(pdf.pages) == 0:
                raise PdfError("corrupt", {"reason": "no_pages"})
            if len(pdf.pages) > max_pages:
                raise PdfError("too_many_pages", {"max_pages": max_pages})
            out = io.BytesIO()
            with warnings.catch_warnings():
                # pikepdf's advice on widgets of a form we removed on purpose
                warnings.simplefilter("ignore")
                removed, details = _Neutraliser(pdf).run()
                pdf.save(out, encryption=False, fix_metadata_version=True,
                         object_stream_mode=pikepdf.ObjectStreamMode.preserve)
        except PdfError:
            raise
        except (pikepdf.PdfError, ValueError, RuntimeError, KeyError, TypeError,
                AttributeError, OSError, RecursionError) as exc:
            raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    return out.getvalue(), removed, details, repaired, decrypted


def _is_repair_warning(text) -> bool:
    text = str(text).lower()
    return any(word in text for word in ("damaged", "reconstruct", "xref", "recover",
                                         "startxref", "trailer"))


class _Neutraliser:
    """Removes active content from a pikepdf document in place (see the module docstring)."""

    def __init__(self, pdf):
        import pikepdf

        self.pikepdf = pikepdf
        self.pdf = pdf
        self.removed: set[str] = set()
        self.details: list[str] = []
        self.budget = lib_pdf.MAX_STRUCTURE_NODES

    def _spend(self, n=1):
        self.budget -= n
        if self.budget < 0:
            raise PdfError("corrupt", {"reason": "structure_too_large"})

    def run(self):
        Name = self.pikepdf.Name
        root = self.pdf.Root
        if Name.OpenAction in root:
            action = root.OpenAction
            codes = self._action_codes(action) if isinstance(action, self.pikepdf.Dictionary) \
                else set()
            if codes:  # a plain destination (page to show) stays
                del root.OpenAction
                self.removed.update(codes | {"open_action"})
        self._drop_aa(root)
        if Name.Names in root:
            names = root.Names
            if Name.JavaScript in names:
                del names.JavaScript
                self.removed.add("javascript")
            if Name.EmbeddedFiles in names:
                del names.EmbeddedFiles
                self.removed.add("embedded_files")
        if Name.Outlines in root:
            self._outlines(root.Outlines)
        for page in self.pdf.pages:
            self._page(page)
        if Name.AcroForm in root:
            self._form(root)
        order = list(REMOVED_LABELS)
        return tuple(sorted(self.removed, key=order.index)), tuple(self.details)

    # actions
    def _action_codes(self, action, seen=None):
        """The codes of the dangerous actions of ``action`` and its /Next chain."""
        Name = self.pikepdf.Name
        codes = set()
        todo = [action]
        seen = seen if seen is not None else set()
        while todo:
            item = todo.pop()
            self._spend()
            if isinstance(item, self.pikepdf.Array):
                todo.extend(item)
                continue
            if not isinstance(item, self.pikepdf.Dictionary):
                continue
            key = item.objgen if item.is_indirect else None
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            kind = str(item.get(Name.S, ""))
            if kind in _ACTION_CODES:
                codes.add(_ACTION_CODES[kind])
            if Name.JS in item:
                codes.add("javascript")
            if kind == "/URI":
                uri = str(item.get(Name.URI, "")).strip().lower()
                if uri.startswith(_DANGEROUS_SCHEMES):
                    codes.add("uri_script")
            if Name.Next in item:
                todo.append(item.Next)
        return codes

    def _drop_action(self, holder, key="/A"):
        if key not in holder:
            return
        codes = self._action_codes(holder[key])
        if codes:
            del holder[key]
            self.removed.update(codes)

    def _drop_aa(self, holder):
        if "/AA" in holder:
            del holder["/AA"]
            self.removed.add("additional_actions")

    # structure
    def _walk(self, start, children):
        """The dictionaries reachable from ``start`` (a list of nodes) through ``children(node)``,
        each once (loop-safe), counted against the structure budget."""
        found = []
        seen = set()
        todo = list(start)
        while todo:
            node = todo.pop()
            self._spend()
            if not isinstance(node, self.pikepdf.Dictionary):
                continue
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            found.append(node)
            todo.extend(children(node))
        return found

    def _outlines(self, outlines):
        for node in self._walk([outlines], lambda node: [
                node[link] for link in ("/First", "/Next") if link in node]):
            self._drop_action(node)

    def _page(self, page):
        obj = page.obj
        self._drop_aa(obj)
        if "/Annots" not in obj:
            return
        annots = obj.Annots
        if not isinstance(annots, self.pikepdf.Array):
            return
        kept = []
        for annot in annots:
            self._spend()
            if not isinstance(annot, self.pikepdf.Dictionary):
                continue
            subtype = str(annot.get("/Subtype", ""))
            if subtype == "/FileAttachment":
                self.removed.add("embedded_files")
                continue
            if subtype in _MEDIA_ANNOTS:
                self.removed.add("multimedia")
                continue
            self._drop_action(annot)
            self._drop_aa(annot)
            kept.append(annot)
        if len(kept) != len(annots):
            obj.Annots = self.pikepdf.Array(kept)

    def _form(self, root):
        form = root.AcroForm
        if "/XFA" in form:
            del form.XFA
            self.removed.add("xfa")
        all_fields = self._fields(form)  # walked once: each walk spends the budget
        fields = [f for f in all_fields if str(f.get("/FT", "")) != "/Sig"]
        has_signatures = len(fields) != len(all_fields)
        for field in all_fields:
            self._drop_action(field)
            self._drop_aa(field)
        if not fields:
            return
        if has_signatures:
            # a form that already carries signature fields keeps its fields (flattening would
            # change what those signatures cover); its scripts and actions are gone above
            return
        self.details.append("%d field(s)" % len(fields))
        self.pdf.generate_appearance_streams()
        self.pdf.flatten_annotations(mode="all")
        if "/AcroForm" in root:
            del root.AcroForm
        # widgets left (buttons without appearance): dead once the form is gone
        for page in self.pdf.pages:
            annots = page.obj.get("/Annots")
            if isinstance(annots, self.pikepdf.Array):
                kept = [a for a in annots if not (isinstance(a, self.pikepdf.Dictionary)
                                                  and str(a.get("/Subtype", "")) == "/Widget")]
                if len(kept) != len(annots):
                    page.obj.Annots = self.pikepdf.Array(kept)
        self.removed.add("fields_flattened")

    def _fields(self, form):
        return self._walk(form.get("/Fields", []),
                          lambda node: list(node.Kids) if "/Kids" in node else [])


# --- images ----------------------------------------------------------------------------------

def _open_image(data: bytes, mimetype: str):
    from PIL import Image

    if mimetype == "image/tiff":
        # Odoo loads only a few Pillow plugins (odoo.tools.image): TIFF is registered here
        from PIL import TiffImagePlugin  # noqa: F401
    if mimetype == "image/heic":
        try:
            import pillow_heif
        except ImportError:
            raise PdfError("heic_unavailable") from None
        pillow_heif.register_heif_opener()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PdfError("image_too_large", {"max_pixels": MAX_IMAGE_PIXELS}) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise PdfError("image_corrupt", {"reason": type(exc).__name__}) from None
    return image


def _frames(image, max_pages: int):
    from PIL import ImageSequence

    count = getattr(image, "n_frames", 1) or 1
    if count > max_pages:
        raise PdfError("too_many_pages", {"max_pages": max_pages})
    for frame in ImageSequence.Iterator(image):
        width, height = frame.size
        if width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS:
            raise PdfError("image_too_large", {"max_pixels": MAX_IMAGE_PIXELS})
        yield frame


def _prepared_frame(frame, exif_transpose: bool):
    """An RGB or greyscale copy of ``frame``, upright, at most MAX_IMAGE_SIDE pixels long."""
    from PIL import Image, ImageOps

    frame.load()
    if exif_transpose:
        frame = ImageOps.exif_transpose(frame)
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        frame = white
    elif frame.mode in ("1", "L"):
        frame = frame.convert("L")
    else:
        frame = frame.convert("RGB")
    if max(frame.size) > MAX_IMAGE_SIDE:
        frame = frame.copy()
        frame.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.LANCZOS)
    return frame


def _image_to_pdf(data: bytes, mimetype: str, *, max_pages: int) -> bytes:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = _open_image(data, mimetype)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1, invariant=1)
    pages = 0
    try:
        for frame in _frames(image, max_pages):
            frame = _prepared_frame(frame, exif_transpose=True)
            width, height = frame.size
            page_w, page_h = A4 if height >= width else (A4[1], A4[0])
            scale = min((page_w - 2 * MARGIN) / width, (page_h - 2 * MARGIN) / height)
            draw_w, draw_h = width * scale, height * scale
            encoded = io.BytesIO()
            if mimetype in ("image/jpeg", "image/heic") and frame.mode == "RGB":
                frame.save(encoded, "JPEG", quality=88, optimize=True)
            else:
                frame.save(encoded, "PNG", optimize=False)
            encoded.seek(0)
            c.setPageSize((page_w, page_h))
            c.drawImage(ImageReader(encoded), (page_w - draw_w) / 2, (page_h - draw_h) / 2,
                        width=draw_w, height=draw_h)
            c.showPage()
            pages += 1
    except PdfError:
        raise
    except MemoryError:
        raise PdfError("image_too_large", {"max_pixels": MAX_IMAGE_PIXELS}) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PdfError("image_corrupt", {"reason": type(exc).__name__}) from None
    finally:
        image.close()
    if not pages:
        raise PdfError("image_corrupt", {"reason": "no_image"})
    c.save()
    return buf.getvalue()


# --- Office ----------------------------------------------------------------------------------

def soffice_path() -> str | None:
    """LibreOffice's ``soffice`` (``O2S_SOFFICE`` in the environment, else on the PATH), or
    None when it is not installed."""
    configured = os.environ.get("O2S_SOFFICE")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


#: the throwaway profile's settings: macros never run, links are never updated, no first-run
_PROFILE_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "2"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
)
_PROFILE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/'
    'registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join('<item oor:path="%s"><prop oor:name="%s" oor:op="fuse"><value>%s</value></prop>'
              '</item>\n' % setting for setting in _PROFILE_SETTINGS)
    + "</oor:items>\n")


def _check_archive(data: bytes):
    """Refuse zip bombs before LibreOffice opens an Office archive."""
    if not data.startswith(b"PK\x03\x04"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as exc:
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise PdfError("decompression_bomb")
    total = sum(max(info.file_size, 0) for info in infos)
    if total > max(len(data), 1024 * 1024) * MAX_ARCHIVE_RATIO:
        raise PdfError("decompression_bomb")


def _office_to_pdf(data: bytes, mimetype: str, *, soffice: str | None, timeout: float) -> bytes:
    if not soffice:
        raise PdfError("office_unavailable")
    _check_archive(data)
    with tempfile.TemporaryDirectory(prefix="o2s-esign-office-") as tmp:
        folder = Path(tmp)
        source = folder / ("document" + _office_extension(mimetype))
        source.write_bytes(data)
        profile = folder / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        out_dir = folder / "out"
        out_dir.mkdir()
        command = [
            soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
            "--norestore", "--nolockcheck", "--nodefault", "--nologo", "--nofirststartwizard",
            "--convert-to", "pdf", "--outdir", str(out_dir), str(source),
        ]
        env = {"HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        # no shell; the configured/found soffice and files of our own temporary folder
        proc = subprocess.Popen(  # noqa: S603
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=tmp, env=env, start_new_session=True)
        try:
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise PdfError("conversion_timeout", {"seconds": timeout}) from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        made = out_dir / "document.pdf"
        if proc.returncode != 0 or not made.is_file() or made.stat().st_size == 0:
            raise PdfError("conversion_failed", {"returncode": proc.returncode})
        return made.read_bytes()


def _kill_group(proc):
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
