"""TEMPORARY minimal PDF checks, replaced by the lib-pades branch's pdf.py on merge."""
import hashlib

from .errors import PdfError


class PdfInfo:
    def __init__(self, page_count):
        self.page_count = page_count
        self.pdf_version = None
        self.has_signatures = False


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def inspect_pdf(data, *, max_bytes, max_pages=2000):
    if not data:
        raise PdfError("empty")
    if len(data) > max_bytes:
        raise PdfError("too_large")
    if b"%PDF-" not in data[:1024]:
        raise PdfError("not_pdf")
    return PdfInfo(page_count=max(1, data.count(b"/Type /Page") - data.count(b"/Type /Pages")))
