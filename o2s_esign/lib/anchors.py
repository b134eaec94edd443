"""Text anchors: tags such as ``{{signature:1}}`` written in a document's text, that say where a
signer's field goes (signer 1, 2... in signing order).

Accepted forms (case-insensitive, spaces allowed inside, e.g. ``{{ Signature : 1 }}``):

* ``{{kind:N}}``, ``[[kind:N]]`` and Word's mail-merge chevrons ``«kind:N»``;
* kinds: ``signature``; ``initials`` / ``initiales`` / ``paraphe``; ``date``; ``text`` /
  ``texte``; ``checkbox`` / ``case``; ``N`` from 1 to 99.

:func:`find_anchors` reads the text with pdfminer.six, character by character in content-stream
order (a tag that the producer split into several text runs on one line is still found), and
gives each tag's box in the page's *user space* (bottom-left origin, the coordinates of
pyHanko's field boxes: pdfminer's rotation and MediaBox-origin shift are undone). Work is
bounded: at most ``max_pages`` pages are read, at most :data:`MAX_CHARS` characters, each
Flate stream inflates to at most :data:`MAX_STREAM_BYTES`, and ``timeout`` seconds.
"""

from __future__ import annotations

import io
import logging
import re
import time
import zlib
from dataclasses import dataclass

from .errors import PdfError

__all__ = ["DEFAULT_SIZES", "KINDS", "Anchor", "field_box", "find_anchors"]

KINDS = ("signature", "initials", "date", "text", "checkbox")
#: keyword (lower case) -> kind
_KEYWORDS = {
    "signature": "signature",
    "initials": "initials", "initiales": "initials", "paraphe": "initials",
    "date": "date",
    "text": "text", "texte": "text",
    "checkbox": "checkbox", "case": "checkbox",
}
#: default field size (width, height) in points per kind
DEFAULT_SIZES = {
    "signature": (170.0, 50.0),
    "initials": (60.0, 30.0),
    "date": (100.0, 18.0),
    "text": (160.0, 18.0),
    "checkbox": (14.0, 14.0),
}
MAX_CHARS = 2_000_000
MAX_STREAM_BYTES = 64 * 1024 * 1024

_WORDS = "|".join(sorted(_KEYWORDS, key=len, reverse=True))
_INNER = rf"\s*({_WORDS})\s*:\s*(\d{{1,2}})\s*"
TAG_RE = re.compile(rf"\{{\{{{_INNER}\}}\}}|\[\[{_INNER}\]\]|«{_INNER}»", re.IGNORECASE)


@dataclass(frozen=True)
class Anchor:
    """One tag found in the document.

    ``rect``: the tag's text box (x1, y1, x2, y2) in the page's user space, bottom-left origin;
    ``page_box``: that page's MediaBox (x1, y1, x2, y2), user space (optional extra)."""

    kind: str
    signer: int
    page: int
    rect: tuple[float, float, float, float]
    tag: str
    page_box: tuple[float, float, float, float] | None = None


class _Stop(Exception):
    """Internal: the time or character budget is spent."""

    def __init__(self, code, params):
        super().__init__(code)
        self.code = code
        self.params = params


class _BoundedZlib:
    """Stands in for the ``zlib`` module inside ``pdfminer.pdftypes``: ``decompress`` refuses
    to inflate a stream beyond :data:`MAX_STREAM_BYTES` (pdfminer has no limit of its own)."""

    def __getattr__(self, name):
        return getattr(zlib, name)

    @staticmethod
    def decompress(data, *args, **kwargs):
        if args or kwargs:
            return zlib.decompress(data, *args, **kwargs)
        obj = zlib.decompressobj()
        out = obj.decompress(data, MAX_STREAM_BYTES)
        if obj.unconsumed_tail:
            raise _Stop("decompression_bomb", {})
        return out + obj.flush()


_PATCHED = False


def _pdfminer():
    """Import pdfminer once: its inflate bounded, its log quiet (it warns on many real-world
    files; we report failures ourselves)."""
    global _PATCHED
    import pdfminer.pdftypes

    if not _PATCHED:
        pdfminer.pdftypes.zlib = _BoundedZlib()
        logging.getLogger("pdfminer").setLevel(logging.CRITICAL)
        _PATCHED = True
    return pdfminer


def _invert(m):
    a, b, c, d, e, f = m
    det = a * d - b * c
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def _apply(m, x, y):
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _page_ctm(page):
    """The matrix pdfminer applies to user space for ``page`` (pdfinterp.process_page)."""
    x0, y0, x1, y1 = page.mediabox
    if page.rotate == 90:
        return (0, -1, 1, 0, -y0, x1)
    if page.rotate == 180:
        return (-1, 0, 0, -1, x1, y1)
    if page.rotate == 270:
        return (0, 1, -1, 0, y1, -x0)
    return (1, 0, 0, 1, -x0, -y0)


def _collect_chars(item, out):
    from pdfminer.layout import LTChar, LTContainer

    stack = [item]
    while stack:
        node = stack.pop()
        if isinstance(node, LTChar):
            out.append(node)
        elif isinstance(node, LTContainer):
            stack.extend(reversed(list(node)))


def _runs(chars):
    """Split characters (content-stream order) into runs of neighbouring glyphs: a new run
    starts when the next glyph is not next to the previous one."""
    run = []
    prev = None
    for ch in chars:
        if prev is not None:
            size = max(ch.size, prev.size, 1.0)
            dx = max(0.0, ch.x0 - prev.x1, prev.x0 - ch.x1)
            dy = max(0.0, ch.y0 - prev.y1, prev.y0 - ch.y1)
            if dx > 1.5 * size or dy > 0.5 * size:
                yield run
                run = []
        run.append(ch)
        prev = ch
    if run:
        yield run


def _find_in_page(chars, page_ix, inverse, page_box):
    found = []
    for run in _runs(chars):
        text_parts = []
        owners = []
        for index, ch in enumerate(run):
            piece = ch.get_text()
            text_parts.append(piece)
            owners.extend([index] * len(piece))
        text = "".join(text_parts)
        if "{{" not in text and "[[" not in text and "«" not in text:
            continue
        for match in TAG_RE.finditer(text):
            groups = [g for g in match.groups() if g is not None]
            keyword, number = groups[0], int(groups[1])
            if not 1 <= number <= 99:
                continue
            glyphs = run[owners[match.start()]:owners[match.end() - 1] + 1]
            xs, ys = [], []
            for ch in glyphs:
                for x, y in ((ch.x0, ch.y0), (ch.x1, ch.y1), (ch.x0, ch.y1), (ch.x1, ch.y0)):
                    ux, uy = _apply(inverse, x, y)
                    xs.append(ux)
                    ys.append(uy)
            rect = (round(min(xs), 2), round(min(ys), 2), round(max(xs), 2), round(max(ys), 2))
            found.append(Anchor(kind=_KEYWORDS[keyword.lower()], signer=number, page=page_ix,
                                rect=rect, tag=match.group(0), page_box=page_box))
    return found


def find_anchors(data: bytes, *, max_pages: int = 500, timeout: float | None = None
                 ) -> list[Anchor]:
    """The tags of ``data`` (see the module docstring), in page order then reading order of
    the content stream. Only the first ``max_pages`` pages are read. Raises
    ``PdfError("corrupt")`` for an unreadable file, ``PdfError("encrypted")``,
    ``PdfError("decompression_bomb")`` and ``PdfError("anchors_timeout", {"seconds"})`` when
    reading takes longer than ``timeout`` seconds (or the text exceeds :data:`MAX_CHARS`
    characters: ``PdfError("anchors_too_much_text")``)."""
    _pdfminer()
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    deadline = None if timeout is None else time.monotonic() + timeout
    budget = {"chars": MAX_CHARS}

    class _Device(PDFPageAggregator):
        def render_char(self, *args, **kwargs):
            budget["chars"] -= 1
            if budget["chars"] < 0:
                raise _Stop("anchors_too_much_text", {"max_chars": MAX_CHARS})
            if deadline is not None and not budget["chars"] % 256 and time.monotonic() > deadline:
                raise _Stop("anchors_timeout", {"seconds": timeout})
            return super().render_char(*args, **kwargs)

        def paint_path(self, *args, **kwargs):  # shapes are not needed
            return None

        def render_image(self, *args, **kwargs):
            return None

    found: list[Anchor] = []
    try:
        parser = PDFParser(io.BytesIO(bytes(data)))
        document = PDFDocument(parser)
        manager = PDFResourceManager(caching=True)
        device = _Device(manager, laparams=None)
        interpreter = PDFPageInterpreter(manager, device)
        for page_ix, page in enumerate(PDFPage.create_pages(document)):
            if page_ix >= max_pages:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise _Stop("anchors_timeout", {"seconds": timeout})
            interpreter.process_page(page)
            layout = device.get_result()
            chars: list = []
            _collect_chars(layout, chars)
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            page_box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            found.extend(_find_in_page(chars, page_ix, _invert(_page_ctm(page)), page_box))
    except _Stop as stop:
        raise PdfError(stop.code, stop.params) from None
    except (PDFEncryptionError, PDFPasswordIncorrect):
        raise PdfError("encrypted") from None
    except RecursionError:
        raise PdfError("corrupt", {"reason": "nesting_too_deep"}) from None
    except MemoryError:
        raise PdfError("decompression_bomb") from None
    except Exception as exc:  # pdfminer raises a wide variety on damaged files
        raise PdfError("corrupt", {"reason": type(exc).__name__}) from None
    return found


def field_box(anchor: Anchor, page_size: tuple | None = None) -> tuple:
    """The default box (x1, y1, x2, y2) of the field placed at ``anchor``: its top-left corner
    at the tag's top-left corner, :data:`DEFAULT_SIZES` for its kind but never smaller than
    the tag (it covers it). ``page_size``: (width, height) of the page, counted from the
    page's MediaBox origin (``anchor.page_box``, else 0, 0), or a box (x1, y1, x2, y2): the
    field is then moved (and if needed shrunk) to stay inside it."""
    tx1, ty1, tx2, ty2 = anchor.rect
    width, height = DEFAULT_SIZES.get(anchor.kind, DEFAULT_SIZES["text"])
    width = max(width, tx2 - tx1)
    height = max(height, ty2 - ty1)
    x1, y2 = tx1, ty2
    x2, y1 = x1 + width, y2 - height
    if page_size:
        if len(page_size) == 4:
            px1, py1, px2, py2 = (float(v) for v in page_size)
        else:
            ox, oy = (anchor.page_box[0], anchor.page_box[1]) if anchor.page_box else (0.0, 0.0)
            px1, py1 = ox, oy
            px2, py2 = ox + float(page_size[0]), oy + float(page_size[1])
        if x2 > px2:
            x1, x2 = max(px1, x1 - (x2 - px2)), px2
        if x1 < px1:
            x1, x2 = px1, min(px2, x2 + (px1 - x1))
        if y1 < py1:
            y1, y2 = py1, min(py2, y2 + (py1 - y1))
        if y2 > py2:
            y1, y2 = max(py1, y1 - (y2 - py2)), py2
    return (round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2))
